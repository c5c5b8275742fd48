"""Who is calling: turns request headers into a :class:`~relance.graphql.context.Principal`.

Two credentials are accepted; each makes the caller an admin of exactly one store.

- **Saleor Dashboard** (the admin page embedded in the Dashboard, app-sdk's ``fetch``): headers
  ``authorization-bearer: <JWT>`` and ``saleor-api-url: <store API URL>``. The store is the one
  installed from that URL; it must be ACTIVE and know its App id. The JWT is verified by
  :func:`relance.plugin.saleor.dashboard_auth.verify_dashboard_token` against the store's saved
  JWKS. When the JWT's ``kid`` is unknown (Saleor rotated its key) the JWKS is fetched again once
  from ``<origin>/.well-known/jwks.json``, saved, and the JWT checked again; to keep forged
  ``kid`` values from turning relance into a request amplifier, a store's JWKS is refetched at
  most once per :data:`JWKS_REFETCH_INTERVAL`. The caller may mutate only with the
  :data:`MANAGE_PERMISSION` permission in the token's ``user_permissions``.
- **API token** (embedded mode, scripts): ``Authorization: Bearer rl_…``. The token's store is
  the caller's; a token of an UNINSTALLED store is refused. API tokens are full admins of their
  store (they may mutate).

When ``authorization-bearer`` is present the Dashboard rule alone decides, whatever
``Authorization`` holds (a proxy's Basic auth, say). Any failure means "anonymous" (None): the
schema's permission classes then answer UNAUTHENTICATED. Failures are logged with their reason
code and the store id only, never the token or the user's email.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from relance.graphql.context import AuthMethod, Principal
from relance.plugin.saleor.dashboard_auth import (
    DashboardAuthError,
    DashboardUser,
    UnknownDashboardKey,
    verify_dashboard_token,
)
from relance.plugin.saleor.jwks import fetch_jwks
from relance.plugin.saleor.jwt_verify import JWKS_REFETCH_INTERVAL as JWKS_REFETCH_INTERVAL
from relance.plugin.saleor.jwt_verify import JwksFetcher as JwksFetcher
from relance.plugin.saleor.jwt_verify import may_refetch_jwks, refetch_store_jwks
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import StoreStatus
from relance.store.repositories.api_tokens import authenticate_api_token
from relance.store.repositories.stores import get_store, get_store_by_api_url

logger = logging.getLogger(__name__)

#: Header carrying the Dashboard's JWT (app-sdk ``src/app-bridge/fetch.ts``).
DASHBOARD_TOKEN_HEADER = "authorization-bearer"  # noqa: S105 (a header name)
#: Header naming the store the Dashboard token belongs to.
SALEOR_API_URL_HEADER = "saleor-api-url"
#: Header carrying an API token as ``Bearer rl_…``.
AUTHORIZATION_HEADER = "authorization"
#: Saleor permission a Dashboard user needs to change campaigns.
MANAGE_PERMISSION = "MANAGE_USERS"


def fetch_store_jwks(api_url: str) -> dict[str, Any]:
    """The default :data:`JwksFetcher`: one GET of ``<origin>/.well-known/jwks.json``.

    Raises:
        relance.plugin.saleor.errors.JwksUnavailable: unreachable, non-2xx, or not a JWKS.
    """
    with httpx.Client() as client:
        return fetch_jwks(api_url, client)


@dataclass(frozen=True, slots=True)
class _StoreKeys:
    store_id: UUID
    api_url: str
    app_id: str
    jwks: Mapping[str, Any]
    fetched_at: datetime | None


def authenticate(
    runtime: Runtime, headers: Mapping[str, str], *, jwks_fetcher: JwksFetcher = fetch_store_jwks
) -> Principal | None:
    """The caller these headers prove, or None (anonymous). Blocking: call it off the event loop.

    ``headers`` must look names up case-insensitively (Starlette's ``Headers`` does). May write:
    an API token's ``last_used_at``, a store's refreshed JWKS.
    """
    dashboard_token = headers.get(DASHBOARD_TOKEN_HEADER)
    if dashboard_token:
        return _from_dashboard(
            runtime, dashboard_token.strip(), headers.get(SALEOR_API_URL_HEADER), jwks_fetcher
        )
    scheme, _, credentials = headers.get(AUTHORIZATION_HEADER, "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return _from_api_token(runtime, credentials.strip())
    return None


def _from_api_token(runtime: Runtime, token: str) -> Principal | None:
    with transaction(runtime.sessions) as session:
        row = authenticate_api_token(session, token, runtime.clock())
        if row is None:
            logger.info("API token refused: unknown token")
            return None
        store = get_store(session, row.store_id)
        if store is None or store.status == StoreStatus.UNINSTALLED:
            logger.info("API token refused: store %s is uninstalled", row.store_id)
            return None
        return Principal(
            store_id=store.id,
            method=AuthMethod.API_TOKEN,
            can_manage=True,
            subject=f"api-token:{row.id}",
        )


def _from_dashboard(
    runtime: Runtime, token: str, api_url: str | None, jwks_fetcher: JwksFetcher
) -> Principal | None:
    if not api_url:
        logger.info("Dashboard token refused: no %s header", SALEOR_API_URL_HEADER)
        return None
    keys = _store_keys(runtime, api_url)
    if keys is None:
        return None
    now = runtime.clock()
    user: DashboardUser | None
    try:
        user = _verify(token, keys, keys.jwks, now)
    except UnknownDashboardKey:
        user = _verify_with_fresh_keys(runtime, token, keys, now, jwks_fetcher)
    except DashboardAuthError as error:
        logger.info("Dashboard token refused for store %s: %s", keys.store_id, error.code)
        return None
    if user is None:
        return None
    return Principal(
        store_id=keys.store_id,
        method=AuthMethod.DASHBOARD,
        can_manage=MANAGE_PERMISSION in user.permissions,
        subject=user.user_id,
    )


def _store_keys(runtime: Runtime, api_url: str) -> _StoreKeys | None:
    with transaction(runtime.sessions) as session:
        store = get_store_by_api_url(session, api_url)
        if store is None or store.status != StoreStatus.ACTIVE or not store.app_id:
            logger.info("Dashboard token refused: no active installation for the API URL")
            return None
        return _StoreKeys(
            store_id=store.id,
            api_url=store.api_url,
            app_id=store.app_id,
            jwks=store.jwks or {"keys": []},
            fetched_at=store.jwks_fetched_at,
        )


def _verify(token: str, keys: _StoreKeys, jwks: Mapping[str, Any], now: datetime) -> DashboardUser:
    return verify_dashboard_token(
        token,
        jwks=jwks,
        app_id=keys.app_id,
        api_url=keys.api_url,
        required_permissions=(),
        now=now,
    )


def _verify_with_fresh_keys(
    runtime: Runtime, token: str, keys: _StoreKeys, now: datetime, jwks_fetcher: JwksFetcher
) -> DashboardUser | None:
    """Refetch the JWKS once (rate-limited per store), save it, and verify again."""
    if not may_refetch_jwks(keys.fetched_at, now):
        logger.info("Dashboard token refused for store %s: unknown key, JWKS fresh", keys.store_id)
        return None
    jwks = refetch_store_jwks(runtime, keys.store_id, keys.api_url, now, jwks_fetcher)
    if jwks is None:
        return None
    try:
        return _verify(token, keys, jwks, now)
    except DashboardAuthError as error:
        logger.info("Dashboard token refused for store %s: %s", keys.store_id, error.code)
        return None
