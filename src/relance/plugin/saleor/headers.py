"""HTTP header names Saleor sends to apps (``saleor:saleor/app/headers.py``).

Header lookups in Starlette and httpx are case-insensitive, so these are the canonical spellings.
Webhook deliveries carry ``Saleor-Event``, ``Saleor-Domain``, ``Saleor-Signature`` and
``Saleor-Api-Url`` plus the deprecated ``X-`` names; ``Saleor-Schema-Version`` is sent only on the
manifest fetch and the token exchange, never on webhooks.
"""

from __future__ import annotations

#: Detached JWS (RS256, ``b64: false``) over the raw body, or a legacy hex HMAC-SHA256.
SALEOR_SIGNATURE = "Saleor-Signature"
#: The event name in lower case, e.g. ``order_created``.
SALEOR_EVENT = "Saleor-Event"
#: The store's domain, e.g. ``shop.example.com``.
SALEOR_DOMAIN = "Saleor-Domain"
#: The full GraphQL API URL, e.g. ``https://shop.example.com/graphql/``: identifies the store.
SALEOR_API_URL = "Saleor-Api-Url"
#: ``major.minor`` of the Saleor sending the request (manifest fetch and token exchange only).
SALEOR_SCHEMA_VERSION = "Saleor-Schema-Version"

#: Deprecated names, still sent alongside the ones above.
DEPRECATED_SALEOR_SIGNATURE = "X-Saleor-Signature"
DEPRECATED_SALEOR_EVENT = "X-Saleor-Event"
DEPRECATED_SALEOR_DOMAIN = "X-Saleor-Domain"

#: The header a new name falls back to when a (older) Saleor sends only the deprecated one.
DEPRECATED_FALLBACKS = {
    SALEOR_SIGNATURE: DEPRECATED_SALEOR_SIGNATURE,
    SALEOR_EVENT: DEPRECATED_SALEOR_EVENT,
    SALEOR_DOMAIN: DEPRECATED_SALEOR_DOMAIN,
}
