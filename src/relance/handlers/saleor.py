"""Saleor App HTTP edges: ``GET /api/manifest``, ``POST /api/register`` and
``POST /api/webhooks/saleor``.

Thin: they read headers and body, call :mod:`relance.plugin.saleor` in a worker thread (database
and HTTP calls block) and translate outcomes to status codes. Saleor retries only 5xx, timeouts
and connection errors (never 3xx/4xx), so a delivery that can never succeed gets a 4xx and one
that may succeed later (database down) gets a 503.

Error bodies are ``{"error": {"code": …, "message": …}}``; Saleor shows ``error.message`` to the
merchant when an install fails. Messages never carry tokens or emails.

Needs ``app.state.runtime`` (:class:`relance.runtime.Runtime`). If ``app.state.http`` holds an
``httpx.Client`` it is used for the (rare) JWKS fetches and the install's JWKS fetch; otherwise a
client is made for each such call and closed after it. The gql call proving the token opens its
own connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, State
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from relance.plugin.saleor import headers as saleor_headers
from relance.plugin.saleor.errors import (
    InstallErrorCode,
    InstallRefused,
    PayloadError,
    SignatureError,
    UnknownStore,
    VerificationDeferred,
)
from relance.plugin.saleor.install import install
from relance.plugin.saleor.jwks import fetch_jwks
from relance.plugin.saleor.manifest import build_manifest
from relance.plugin.saleor.webhooks import (
    JWKS_REFRESH_INTERVAL,
    JwksRefreshLimiter,
    receive_webhook,
)
from relance.runtime import Runtime

logger = logging.getLogger(__name__)

#: HTTP status for each install refusal (app-sdk's choices).
INSTALL_STATUS = {
    InstallErrorCode.SALEOR_URL_PROHIBITED: 403,
    InstallErrorCode.UNKNOWN_APP_ID: 401,
    InstallErrorCode.JWKS_NOT_AVAILABLE: 401,
}
DATABASE_UNAVAILABLE = "relance's database is unavailable; try again later."


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """``{"error": {"code", "message"}}`` (plus ``extra`` top-level keys) with ``status``."""
    return JSONResponse({**extra, "error": {"code": code, "message": message}}, status_code=status)


def _header(headers: Headers, name: str) -> str | None:
    value = headers.get(name) or headers.get(saleor_headers.DEPRECATED_FALLBACKS.get(name, ""))
    return value.strip() if value and value.strip() else None


def _kind(exc: DBAPIError) -> str:
    """The driver error's class name: never the message, whose SQL parameters may be personal."""
    return type(exc.orig).__name__


@contextmanager
def _http_client(state: State) -> Iterator[httpx.Client]:
    shared = getattr(state, "http", None)
    if isinstance(shared, httpx.Client):
        yield shared
        return
    with httpx.Client() as client:
        yield client


class SaleorEndpoints:
    """The three endpoints, sharing one JWKS refetch limiter (one per ``routes()`` call)."""

    def __init__(self) -> None:
        self.limiter = JwksRefreshLimiter()

    async def manifest(self, request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        return JSONResponse(build_manifest(runtime.settings))

    async def register(self, request: Request) -> JSONResponse:
        api_url = _header(request.headers, saleor_headers.SALEOR_API_URL)
        if api_url is None:
            return error(400, "MISSING_SALEOR_API_URL", "The Saleor-Api-Url header is missing.")
        try:
            data = await request.json()
        except ValueError:
            return error(400, "INVALID_REQUEST", "The body is not JSON.")
        token = data.get("auth_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            return error(400, "MISSING_AUTH_TOKEN", "The body has no auth_token.")
        runtime: Runtime = request.app.state.runtime
        try:
            await run_in_threadpool(self._install, runtime, request.app.state, api_url, token)
        except InstallRefused as refused:
            logger.warning("saleor install from %s refused: %s", api_url, refused.code)
            return error(
                INSTALL_STATUS[refused.code], refused.code.value, refused.message, success=False
            )
        except DBAPIError as exc:
            logger.error("saleor install from %s: database unavailable (%s)", api_url, _kind(exc))
            return error(503, "DATABASE_UNAVAILABLE", DATABASE_UNAVAILABLE, success=False)
        return JSONResponse({"success": True})

    @staticmethod
    def _install(runtime: Runtime, state: State, api_url: str, token: str) -> None:
        with _http_client(state) as http:
            install(runtime, api_url=api_url, auth_token=token, http=http)

    async def webhook(self, request: Request) -> JSONResponse:
        api_url = _header(request.headers, saleor_headers.SALEOR_API_URL)
        event_name = _header(request.headers, saleor_headers.SALEOR_EVENT)
        signature = _header(request.headers, saleor_headers.SALEOR_SIGNATURE)
        if api_url is None or event_name is None:
            return error(400, "MISSING_HEADER", "Saleor-Api-Url and Saleor-Event are required.")
        if signature is None:
            return error(401, "MISSING_SIGNATURE", "The Saleor-Signature header is missing.")
        body = await request.body()
        state = request.app.state

        def fetch_keys(url: str) -> dict[str, Any]:
            with _http_client(state) as http:
                return fetch_jwks(url, http)

        try:
            outcome = await run_in_threadpool(
                receive_webhook,
                state.runtime,
                api_url=api_url,
                event_name=event_name,
                signature=signature,
                body=body,
                fetch_keys=fetch_keys,
                limiter=self.limiter,
            )
        except UnknownStore:
            logger.warning("saleor webhook %s from unknown store %s", event_name, api_url)
            return error(401, "UNKNOWN_STORE", "relance is not installed for this Saleor.")
        except VerificationDeferred:
            # maybe a key rotated since the last refetch: let Saleor retry (10 s, 20 s, 40 s…)
            logger.warning("saleor webhook %s from %s: verification deferred", event_name, api_url)
            response = error(
                503, "SIGNATURE_NOT_VERIFIABLE_YET", "The signature cannot be verified yet."
            )
            response.headers["Retry-After"] = str(int(JWKS_REFRESH_INTERVAL.total_seconds()))
            return response
        except SignatureError as exc:
            logger.warning("saleor webhook %s from %s: bad signature: %s", event_name, api_url, exc)
            return error(401, "INVALID_SIGNATURE", "The Saleor-Signature does not verify.")
        except PayloadError as exc:
            logger.warning("saleor webhook %s from %s: %s", event_name, api_url, exc)
            return error(400, "INVALID_PAYLOAD", str(exc))
        except DBAPIError as exc:
            logger.error("saleor webhook from %s: database unavailable (%s)", api_url, _kind(exc))
            return error(503, "DATABASE_UNAVAILABLE", DATABASE_UNAVAILABLE)
        if not outcome.accepted:
            return JSONResponse({"accepted": False, "reason": outcome.reason})
        answer: dict[str, Any] = {"accepted": True, "duplicate": outcome.duplicate}
        if outcome.checkout is not None:
            answer["checkout"] = outcome.checkout
        return JSONResponse(answer)


def routes() -> list[BaseRoute]:
    """The Saleor App routes. Each call has its own JWKS refetch limiter: mount them once."""
    endpoints = SaleorEndpoints()
    return [
        Route("/api/manifest", endpoints.manifest, methods=["GET"]),
        Route("/api/register", endpoints.register, methods=["POST"]),
        Route("/api/webhooks/saleor", endpoints.webhook, methods=["POST"]),
    ]
