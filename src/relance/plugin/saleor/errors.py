"""Errors raised by the Saleor plugin. One root, a shallow tree::

    SaleorPluginError
    ├── SignatureError              a webhook's Saleor-Signature does not prove it came from Saleor
    │   ├── UnknownKeyId            the JWS names a key (kid) the store's JWKS does not hold
    │   └── InvalidSignature        the signature does not match the body
    │       └── MalformedSignature  the header is not a detached, unencoded-payload RS256 JWS
    ├── JwksUnavailable             Saleor's jwks.json cannot be fetched or is not a JWKS
    ├── SaleorUnreachable           the Saleor API did not answer (network error, 5xx, not GraphQL)
    ├── UnknownStore                no active Saleor store is installed for a webhook's API URL
    ├── PayloadError                a webhook body does not have the shape relance subscribed to
    │   └── MalformedBody           the body is not a JSON object at all
    └── InstallRefused              the install handshake failed; ``code`` says why

Messages never contain tokens or personal data: they may be logged and shown to merchants.
"""

from __future__ import annotations

from enum import StrEnum


class SaleorPluginError(Exception):
    """Root of every error raised by :mod:`relance.plugin.saleor`."""


class SignatureError(SaleorPluginError):
    """The webhook cannot be proven to come from the store's Saleor."""


class UnknownKeyId(SignatureError):
    """The JWS header names a ``kid`` that is not in the JWKS (Saleor may have rotated its key)."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"signing key {kid!r} is not in the store's JWKS")
        self.kid = kid


class InvalidSignature(SignatureError):
    """The signature does not verify against the raw body with the named key."""


class MalformedSignature(InvalidSignature):
    """The header value is not a detached, unencoded-payload (``b64: false``) RS256 JWS."""


class VerificationDeferred(SaleorPluginError):
    """The signature did not verify with the stored keys, and fetching fresh ones is not allowed
    yet (rate limit): the delivery may be genuine, signed with a key rotated meanwhile. Answered
    with a 5xx so that Saleor retries once the keys can be refetched; never recorded."""


class JwksUnavailable(SaleorPluginError):
    """Saleor's JWKS could not be fetched, or what came back is not a usable JWKS."""


class SaleorUnreachable(SaleorPluginError):
    """The Saleor GraphQL API could not be reached or did not answer as a GraphQL server."""


class UnknownStore(SaleorPluginError):
    """No active Saleor store is installed for the API URL a webhook names."""


class PayloadError(SaleorPluginError):
    """A webhook body does not fit what relance subscribed to. The message names the field."""


class MalformedBody(PayloadError):
    """The webhook body is not a JSON object."""


class InstallErrorCode(StrEnum):
    """Why an installation was refused. Same codes as Saleor's app-sdk register handler."""

    SALEOR_URL_PROHIBITED = "SALEOR_URL_PROHIBITED"
    UNKNOWN_APP_ID = "UNKNOWN_APP_ID"
    JWKS_NOT_AVAILABLE = "JWKS_NOT_AVAILABLE"


class InstallRefused(SaleorPluginError):
    """The install handshake failed. ``message`` is meant for the merchant (Saleor shows it)."""

    def __init__(self, code: InstallErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
