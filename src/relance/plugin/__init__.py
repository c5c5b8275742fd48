"""Platform plugins: one subpackage per store platform.

A plugin turns a platform's installation handshake and webhooks into relance's vocabulary
(:class:`relance.automation.events.DomainEvent`) and talks back to the platform's API. It never
decides anything about campaigns: that is :mod:`relance.automation`'s job.

- :mod:`relance.plugin.saleor`: the Saleor App (manifest, install, JWS/JWKS, payload mapping,
  gql client).
"""

__all__: list[str] = []
