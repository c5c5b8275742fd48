"""Storefront callers: a Saleor customer proven by their own access token.

Storefront operations (``pushSubscribe``, ``pushUnsubscribe``…) are called from the shop's
front end, not from the Dashboard: they name the store by its API URL and carry the customer's
access JWT as an argument — the ``token`` Saleor's ``tokenCreate`` returned
(``saleor/core/jwt.py::create_access_token``: RS256, header ``kid``, claims ``iat``, ``exp``
(5 minutes by default), ``iss`` (the API URL), ``owner``, ``token``, ``email``, ``type``
("access"), ``user_id``, ``is_staff``).

:func:`verify_customer_token` checks, in order:

1. the header says ``alg: RS256`` and names a ``kid``; no other algorithm is accepted;
2. the ``kid`` is in the store's JWKS (else, as for Dashboard tokens, the JWKS is fetched again
   once, at most every :data:`~relance.plugin.saleor.jwt_verify.JWKS_REFETCH_INTERVAL` per store);
3. the signature verifies with that key;
4. ``exp`` is present and after now; ``nbf``, when present, is not after now;
5. ``iss`` is present and equals the store's API URL;
6. ``type`` is "access": refresh tokens, app tokens ("thirdparty") and anything else are refused;
7. ``email`` is an address: it names the contact.

Steps 1 to 4 and the refetch are shared with the Dashboard check
(:mod:`relance.plugin.saleor.jwt_verify`). Saleor's own ``token`` claim (revoked by
``tokenDeactivateAll``) cannot be checked from outside Saleor: a token stays usable until its
``exp``. Failures are answered as storefront errors (:class:`StorefrontError`) that never say
whether the email is a known contact; they are logged with their reason and the store id only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry

from relance.automation.contacts import normalise_email
from relance.graphql.auth import fetch_store_jwks
from relance.plugin.saleor.jwt_verify import (
    InvalidJwt,
    JwksFetcher,
    JwtExpired,
    UnknownJwtKey,
    may_refetch_jwks,
    refetch_store_jwks,
    verify_rs256,
)
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import StoreStatus
from relance.store.repositories.stores import get_store_by_api_url

logger = logging.getLogger(__name__)

#: ``type`` claim of a customer's access token (``saleor.core.jwt.JWT_ACCESS_TYPE``).
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value, not a secret)


@strawberry.enum(description="Why a storefront operation was refused.")
class StorefrontErrorCode(Enum):
    NOT_FOUND = "not_found"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code)
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (an error code)
    INVALID = "invalid"
    TOO_LONG = "too_long"
    NOT_CONFIGURED = "not_configured"


@strawberry.type(description="One reason a storefront operation did not happen.")
class StorefrontError:
    field: str | None = strawberry.field(
        description=(
            "The argument at fault: `storeApiUrl`, `token`, `subscription.endpoint`, "
            "`subscription.keys.p256dh`…; null when none is."
        )
    )
    code: StorefrontErrorCode
    message: str


class CustomerTokenError(Exception):
    """A customer token refused; ``code`` and ``message`` are what the caller is told."""

    def __init__(self, code: StorefrontErrorCode, message: str, field: str | None = "token"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_error(self) -> StorefrontError:
        return StorefrontError(field=self.field, code=self.code, message=self.message)


def _invalid(message: str) -> CustomerTokenError:
    return CustomerTokenError(StorefrontErrorCode.INVALID_TOKEN, message)


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer of a store, as a verified token says. ``email`` is normalised; personal data:
    never log it."""

    store_id: UUID
    email: str
    user_id: str | None


def verify_customer_token(
    token: str, *, jwks: Mapping[str, Any], api_url: str, now: datetime
) -> tuple[str, str | None]:
    """Verify a customer's access token (see the module docstring); pure apart from ``now``.

    Returns:
        The normalised ``email`` and the ``user_id`` (Saleor's global id, when present).

    Raises:
        UnknownJwtKey: the ``kid`` is not in ``jwks`` (refetch it once and call again).
        CustomerTokenError: any other reason to refuse.
    """
    try:
        claims = verify_rs256(token, jwks=jwks, now=now)  # UnknownJwtKey goes to the caller
    except JwtExpired as error:
        raise CustomerTokenError(StorefrontErrorCode.TOKEN_EXPIRED, error.message) from None
    except InvalidJwt as error:
        raise _invalid(error.message) from None
    if claims.get("iss") != api_url:
        raise _invalid("the token was not issued by this store")
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise _invalid("the token is not a customer's access token")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise _invalid("the token names no customer")
    user_id = claims.get("user_id")
    return normalise_email(email), user_id if isinstance(user_id, str) and user_id else None


@dataclass(frozen=True, slots=True)
class _StoreKeys:
    store_id: UUID
    api_url: str
    jwks: Mapping[str, Any]
    fetched_at: datetime | None


def _store_keys(runtime: Runtime, api_url: str) -> _StoreKeys:
    with transaction(runtime.sessions) as session:
        store = get_store_by_api_url(session, api_url)
        if store is None or store.status != StoreStatus.ACTIVE:
            raise CustomerTokenError(
                StorefrontErrorCode.NOT_FOUND, "no store is installed from this URL", "storeApiUrl"
            )
        return _StoreKeys(
            store.id, store.api_url, store.jwks or {"keys": []}, store.jwks_fetched_at
        )


def authenticate_customer(
    runtime: Runtime,
    api_url: str,
    token: str,
    *,
    jwks_fetcher: JwksFetcher = fetch_store_jwks,
) -> Customer:
    """The customer ``token`` proves, for the store installed from ``api_url``. Blocking: call it
    off the event loop. May save a refetched JWKS.

    Raises:
        CustomerTokenError: unknown or inactive store (``storeApiUrl``), refused token
            (``token``).
    """
    keys = _store_keys(runtime, api_url.strip())
    now = runtime.clock()
    try:
        try:
            email, user_id = verify_customer_token(
                token.strip(), jwks=keys.jwks, api_url=keys.api_url, now=now
            )
        except UnknownJwtKey:
            jwks = _refetched(runtime, keys, now, jwks_fetcher)
            if jwks is None:
                raise _invalid("the token's key is unknown") from None
            email, user_id = verify_customer_token(
                token.strip(), jwks=jwks, api_url=keys.api_url, now=now
            )
    except UnknownJwtKey:
        logger.info("customer token refused for store %s: unknown key", keys.store_id)
        raise _invalid("the token's key is unknown") from None
    except CustomerTokenError as error:
        logger.info("customer token refused for store %s: %s", keys.store_id, error.code.value)
        raise
    return Customer(store_id=keys.store_id, email=email, user_id=user_id)


def _refetched(
    runtime: Runtime, keys: _StoreKeys, now: datetime, jwks_fetcher: JwksFetcher
) -> dict[str, Any] | None:
    """The store's JWKS fetched again and saved, unless it was fetched too recently."""
    if not may_refetch_jwks(keys.fetched_at, now):
        return None
    return refetch_store_jwks(runtime, keys.store_id, keys.api_url, now, jwks_fetcher)
