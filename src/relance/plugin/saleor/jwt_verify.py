"""RS256 JWTs signed by a Saleor store: the checks every Saleor token relance accepts must pass.

Saleor signs its tokens (the Dashboard's app tokens, a customer's access token) with the key it
publishes in its JWKS. :func:`verify_rs256` checks, in order:

1. the header says ``alg: RS256`` and names a ``kid``; no other algorithm is ever accepted;
2. the ``kid`` is in the store's JWKS, else :class:`UnknownJwtKey` (Saleor publishes only its
   current key: the caller refetches the JWKS once, at most every :data:`JWKS_REFETCH_INTERVAL`
   per store, and tries again);
3. the signature verifies with that key;
4. ``exp`` is present and after ``now``; ``nbf``, when present, is not after ``now``.

What the claims must then say (issuer, token type, app, user) is each caller's own rule:
:mod:`relance.plugin.saleor.dashboard_auth`, :mod:`relance.graphql.storefront_auth`.

Errors, each with a human ``message`` naming the token as the caller does (``noun``)::

    JwtError (a SaleorPluginError)
    ├── InvalidJwt     malformed, not RS256, no kid, unusable key, bad signature, bad exp/nbf
    ├── UnknownJwtKey  the kid is not in the JWKS (refetch it once, then retry)
    └── JwtExpired     exp passed (or nbf not reached)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from relance.plugin.saleor.errors import SaleorPluginError
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.repositories.stores import get_store, update_jwks

logger = logging.getLogger(__name__)

#: The only signing algorithm Saleor uses for its tokens, and the only one accepted.
ALGORITHM = "RS256"
#: Least time between two JWKS fetches for one store, triggered by unknown key ids (so forged
#: ``kid`` values cannot turn relance into a request amplifier).
JWKS_REFETCH_INTERVAL = timedelta(seconds=30)

#: Fetches a store's JWKS from its API URL; raises SaleorPluginError (JwksUnavailable) on failure.
JwksFetcher = Callable[[str], dict[str, Any]]


class JwtError(SaleorPluginError):
    """Root of every refusal of a Saleor-signed token; ``message`` is for humans."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidJwt(JwtError):
    """Malformed, wrongly signed, or with unusable ``exp``/``nbf`` claims."""


class UnknownJwtKey(JwtError):
    """The token's ``kid`` is not in the JWKS given; ``kid`` is the key id asked for."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"no key {kid!r} in the store's JWKS")
        self.kid = kid


class JwtExpired(JwtError):
    """``exp`` has passed, or ``nbf`` is not reached yet."""


def signing_key(jwks: Mapping[str, Any], kid: str) -> jwt.PyJWK:
    """The RS256 key ``kid`` of ``jwks`` (``{"keys": [...]}``).

    Raises:
        UnknownJwtKey: no key has that id.
        InvalidJwt: the key is not an RSA key for RS256, or is unusable.
    """
    keys = jwks.get("keys")
    for candidate in keys if isinstance(keys, list) else ():
        if not isinstance(candidate, Mapping) or candidate.get("kid") != kid:
            continue
        if candidate.get("kty") != "RSA" or candidate.get("alg", ALGORITHM) != ALGORITHM:
            raise InvalidJwt(f"key {kid!r} is not an RS256 key")
        try:
            return jwt.PyJWK(dict(candidate), algorithm=ALGORITHM)
        except jwt.PyJWKError as error:
            raise InvalidJwt(f"key {kid!r} is unusable") from error
    raise UnknownJwtKey(kid)


def numeric_claim(claims: Mapping[str, Any], name: str) -> float | None:
    """The time claim ``name`` (seconds since the epoch), or None when absent.

    Raises:
        InvalidJwt: present but not a number.
    """
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidJwt(f"the {name} claim is not a number")
    return float(value)


def verify_rs256(
    token: str, *, jwks: Mapping[str, Any], now: datetime, noun: str = "the token"
) -> dict[str, Any]:
    """Check the header, key, signature and lifetime of ``token`` (see the module docstring).

    Parameters:
        token(str): the compact JWT.
        jwks(Mapping): the store's JWKS, ``{"keys": [...]}``.
        now(datetime): the time to check ``exp``/``nbf`` against (timezone-aware).
        noun(str): how messages name the token, e.g. ``"the Dashboard token"``.

    Returns:
        The token's claims, signature verified; nothing but ``exp``/``nbf`` is checked.

    Raises:
        UnknownJwtKey: refetch the JWKS once and call again.
        JwtExpired: ``exp`` passed or ``nbf`` not reached.
        InvalidJwt: any other reason to refuse.

    Pure; safe to call repeatedly.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidJwt(f"{noun} is not a JWT") from error
    if header.get("alg") != ALGORITHM:
        raise InvalidJwt(f"{noun} must be signed with {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidJwt(f"{noun} names no key (kid)")
    key = signing_key(jwks, kid)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            # Times are checked below against ``now``; aud and iss are the callers' own checks.
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError as error:
        raise InvalidJwt(f"{noun}'s signature is invalid") from error

    moment = now.timestamp()
    expires = numeric_claim(claims, "exp")
    if expires is None:
        raise InvalidJwt(f"{noun} has no expiry (exp)")
    if expires <= moment:
        raise JwtExpired(f"{noun} has expired")
    not_before = numeric_claim(claims, "nbf")
    if not_before is not None and not_before > moment:
        raise JwtExpired(f"{noun} is not valid yet")
    return claims


def may_refetch_jwks(fetched_at: datetime | None, now: datetime) -> bool:
    """Whether a store's JWKS, last fetched at ``fetched_at``, may be fetched again at ``now``
    after an unknown key id (at most once per :data:`JWKS_REFETCH_INTERVAL`)."""
    return fetched_at is None or now - fetched_at >= JWKS_REFETCH_INTERVAL


def refetch_store_jwks(
    runtime: Runtime, store_id: UUID, api_url: str, now: datetime, jwks_fetcher: JwksFetcher
) -> dict[str, Any] | None:
    """Fetch the store's JWKS again and save it (with ``now`` as its fetch time).

    Call it after an unknown key id, once :func:`may_refetch_jwks` allows. Returns the new JWKS,
    or None when the fetch failed (logged) or the store is gone. Blocking.
    """
    try:
        jwks = jwks_fetcher(api_url)
    except SaleorPluginError as error:
        logger.warning("JWKS refetch failed for store %s: %s", store_id, error)
        return None
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        if store is None:
            return None
        update_jwks(session, store, jwks, now)
    logger.info("JWKS refetched for store %s after an unknown key id", store_id)
    return jwks
