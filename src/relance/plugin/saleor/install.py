"""Installing relance in a Saleor store: the token exchange behind ``POST /api/register``.

Saleor's request is not signed, so nothing in it is trusted until checked, in app-sdk's order
(``register-action-handler.ts``): the API URL must be allowed; the token must work *against that
URL* (``query { app { id } }``), which proves whoever sent it holds a real app token for that
store; Saleor's JWKS must be fetchable from the URL's origin. Only then is the store saved.
"""

from __future__ import annotations

import logging

import httpx

from relance.plugin.saleor.client import fetch_app_id
from relance.plugin.saleor.errors import (
    InstallErrorCode,
    InstallRefused,
    JwksUnavailable,
    SaleorUnreachable,
)
from relance.plugin.saleor.jwks import fetch_jwks, jwks_url
from relance.runtime import Runtime
from relance.store.models import Store, StoreKind
from relance.store.repositories.stores import save_installation

logger = logging.getLogger(__name__)


def _check_url(runtime: Runtime, api_url: str) -> None:
    try:
        jwks_url(api_url)
    except ValueError as exc:
        raise InstallRefused(
            InstallErrorCode.SALEOR_URL_PROHIBITED,
            f"relance can only be installed from an http(s) Saleor API URL, not {api_url!r}.",
        ) from exc
    if not runtime.settings.saleor_url_allowed(api_url):
        raise InstallRefused(
            InstallErrorCode.SALEOR_URL_PROHIBITED,
            "This relance instance only accepts installations from allowed Saleor instances.",
        )


def _app_id(api_url: str, auth_token: str) -> str:
    try:
        app_id = fetch_app_id(api_url, auth_token)
    except SaleorUnreachable as exc:
        raise InstallRefused(
            InstallErrorCode.UNKNOWN_APP_ID,
            f"relance could not reach {api_url} to check the app token ({exc}).",
        ) from exc
    if app_id is None:
        raise InstallRefused(
            InstallErrorCode.UNKNOWN_APP_ID,
            f"{api_url} did not recognise the app token relance received.",
        )
    return app_id


def install(runtime: Runtime, *, api_url: str, auth_token: str, http: httpx.Client) -> Store:
    """Check the handshake, then save (or re-activate) the store for ``api_url`` and commit.

    Idempotent: installing again replaces the token and keys of the same store row. The token
    is stored encrypted (``runtime.secrets``) and never logged.

    Raises:
        InstallRefused: ``SALEOR_URL_PROHIBITED`` (URL not http(s) or not allowed by
            ``RELANCE_ALLOWED_SALEOR_URLS``), ``UNKNOWN_APP_ID`` (the token does not work against
            ``api_url``, or it cannot be reached), ``JWKS_NOT_AVAILABLE``. Nothing is stored.
        sqlalchemy.exc.DBAPIError: the database cannot be reached. Nothing is stored.

    Returns:
        The saved store, ACTIVE, readable after the session closed.
    """
    _check_url(runtime, api_url)
    app_id = _app_id(api_url, auth_token)
    try:
        jwks = fetch_jwks(api_url, http)
    except JwksUnavailable as exc:
        raise InstallRefused(
            InstallErrorCode.JWKS_NOT_AVAILABLE, f"relance could not fetch Saleor's keys: {exc}."
        ) from exc
    with runtime.sessions() as session, session.begin():
        store = save_installation(
            session,
            kind=StoreKind.SALEOR,
            api_url=api_url,
            app_id=app_id,
            auth_token=auth_token,
            jwks=jwks,
            secrets=runtime.secrets,
            now=runtime.clock(),
        )
    logger.info("saleor store %s installed from %s", store.id, api_url)
    return store
