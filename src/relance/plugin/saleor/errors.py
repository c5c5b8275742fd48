"""Errors raised by the Saleor plugin. One root, a shallow tree::

    SaleorPluginError
    ├── SignatureError              a webhook's Saleor-Signature does not prove it came from Saleor
    │   ├── UnknownKeyId            the JWS names a key (kid) the store's JWKS does not hold
    │   └── InvalidSignature        the signature does not match the body
    │       └── MalformedSignature  the header is not a detached, unencoded-payload RS256 JWS
    ├── JwksUnavailable             Saleor's jwks.json cannot be fetched or is not a JWKS
    ├── SaleorApiError              a call to the store's Saleor GraphQL API failed (``transient``)
    │   ├── SaleorUnreachable       no answer: network error, timeout, 5xx (after the retries)
    │   ├── SaleorTokenRefused      the app token is refused: mark the store disconnected
    │   ├── SaleorPermissionDenied  the token works, but the app lacks a permission for this object
    │   ├── SaleorQueryError        Saleor answered GraphQL errors (or a 4xx) to a valid document
    │   │   └── SaleorMutationError a mutation answered its ``errors`` field: the input was refused
    │   └── UnexpectedAnswer        the answer is not GraphQL, or not in the shape the document asks
    ├── UnknownStore                no active Saleor store is installed for a webhook's API URL
    ├── PayloadError                a webhook body does not have the shape relance subscribed to
    │   └── MalformedBody           the body is not a JSON object at all
    └── InstallRefused              the install handshake failed; ``code`` says why

Messages never contain tokens or personal data: they may be logged and shown to merchants.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple


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


class SaleorApiError(SaleorPluginError):
    """A call to a store's Saleor GraphQL API failed. ``transient``: worth trying again later
    (the client has already retried what it retries)."""

    transient: bool = False


class SaleorUnreachable(SaleorApiError):
    """The Saleor GraphQL API could not be reached: network error, timeout or HTTP 5xx, still so
    after the client's retries (or, for the install check, any answer that is not GraphQL)."""

    transient = True


class SaleorTokenRefused(SaleorApiError):
    """Saleor refused the app token: HTTP 401/403, a JWT error, or a ``PermissionDenied`` that a
    follow-up ``{ app { id } }`` confirmed (the app was removed or its token revoked). Callers
    record it with :func:`relance.store.repositories.stores.mark_disconnected`."""


class SaleorPermissionDenied(SaleorApiError):
    """Saleor answered ``PermissionDenied`` although the token still works: the app lacks a
    permission for this object (e.g. a staff user's metadata needs MANAGE_STAFF). Not a
    disconnection."""


class GraphQLErrorDetail(NamedTuple):
    """One entry of a GraphQL ``errors`` list or of a mutation's ``errors`` field."""

    message: str
    code: str | None = None
    field: str | None = None


class SaleorQueryError(SaleorApiError):
    """Saleor answered a (locally valid) document with GraphQL errors, or with an HTTP 4xx that
    is not a token refusal. Sending the same document again will not help."""

    def __init__(self, message: str, errors: Sequence[GraphQLErrorDetail] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors)


class SaleorMutationError(SaleorQueryError):
    """A mutation answered with its ``errors`` field (``DiscountError``, ``MetadataError``…):
    Saleor refused the input. ``errors`` holds each entry's field, code and message."""


class UnexpectedAnswer(SaleorApiError):
    """Saleor answered, but not as GraphQL, or with data that does not fit the document's
    result model (a Saleor older or newer than the shipped schema)."""


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
