"""The Saleor App: manifest, install handshake, webhook signatures (JWS/JWKS), payload mapping and
a gql client with Saleor's schema loaded.

Modules, one concept each:

- ``manifest``: :func:`build_manifest`; ``subscriptions/``: the declared webhook queries.
- ``install``: :func:`install` (token exchange, app-sdk's checks).
- ``signature`` / ``jwks``: :func:`verify_webhook_signature`, :func:`fetch_jwks`.
- ``payloads`` / ``mapping``: pydantic bodies → :class:`~relance.automation.events.DomainEvent`.
- ``webhooks``: :func:`receive_webhook`, one delivery end to end.
- ``client`` / ``schema``: :func:`saleor_client`, :func:`fetch_app_id`, :func:`saleor_schema`.
- ``headers``, ``errors``: header names; the exception tree (root :class:`SaleorPluginError`).

HTTP routes live in :mod:`relance.handlers.saleor`; this package has no web framework imports.
"""

from relance.plugin.saleor.client import fetch_app_id, saleor_client
from relance.plugin.saleor.errors import (
    InstallErrorCode,
    InstallRefused,
    InvalidSignature,
    JwksUnavailable,
    MalformedBody,
    MalformedSignature,
    PayloadError,
    SaleorPluginError,
    SaleorUnreachable,
    SignatureError,
    UnknownKeyId,
    UnknownStore,
)
from relance.plugin.saleor.install import install
from relance.plugin.saleor.jwks import fetch_jwks, jwks_url
from relance.plugin.saleor.manifest import build_manifest
from relance.plugin.saleor.mapping import MAPPERS, order_created_event
from relance.plugin.saleor.schema import saleor_schema
from relance.plugin.saleor.signature import verify_webhook_signature
from relance.plugin.saleor.webhooks import JwksRefreshLimiter, WebhookOutcome, receive_webhook

__all__ = [
    "MAPPERS",
    "InstallErrorCode",
    "InstallRefused",
    "InvalidSignature",
    "JwksRefreshLimiter",
    "JwksUnavailable",
    "MalformedBody",
    "MalformedSignature",
    "PayloadError",
    "SaleorPluginError",
    "SaleorUnreachable",
    "SignatureError",
    "UnknownKeyId",
    "UnknownStore",
    "WebhookOutcome",
    "build_manifest",
    "fetch_app_id",
    "fetch_jwks",
    "install",
    "jwks_url",
    "order_created_event",
    "receive_webhook",
    "saleor_client",
    "saleor_schema",
    "verify_webhook_signature",
]
