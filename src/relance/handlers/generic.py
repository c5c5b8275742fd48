"""``POST /api/webhooks/generic/{store}``: signed JSON events from a generic store.

Thin: reads the signature header and the body, calls :mod:`relance.plugin.generic` in a worker
thread (the database blocks) and translates outcomes to status codes:

- 200 ``{"accepted": true, "duplicate": …}``: recorded (or recorded before: a retry is safe);
- 400 ``INVALID_JSON`` / 422 ``INVALID_EVENT`` with ``error.problems`` [{field, message}];
- 401 ``MISSING_SIGNATURE`` / ``MALFORMED_SIGNATURE`` / ``STALE_TIMESTAMP`` /
  ``INVALID_SIGNATURE``; 404 ``UNKNOWN_STORE``; 413 ``BODY_TOO_LARGE``;
- 503 ``DATABASE_UNAVAILABLE``: nothing recorded, send it again later.

Error bodies are ``{"error": {"code", "message"[, "problems"]}}``; messages never echo values.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from relance.plugin.generic.errors import (
    InvalidEvent,
    MalformedJson,
    SignatureRefused,
    UnknownGenericStore,
)
from relance.plugin.generic.receive import receive_generic_event
from relance.plugin.generic.signature import SIGNATURE_HEADER
from relance.runtime import Runtime

logger = logging.getLogger(__name__)

#: Largest body accepted (a cart of 500 lines fits many times over).
MAX_BODY_BYTES = 1_000_000
PATH = "/api/webhooks/generic/{store}"


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


async def _body(request: Request) -> bytes | None:
    """The body, or ``None`` if it is larger than :data:`MAX_BODY_BYTES`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def generic_webhook(request: Request) -> JSONResponse:
    store_key: str = request.path_params["store"]
    body = await _body(request)
    if body is None:
        return _error(413, "BODY_TOO_LARGE", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    runtime: Runtime = request.app.state.runtime
    try:
        outcome = await run_in_threadpool(
            receive_generic_event,
            runtime,
            store_key=store_key,
            signature=request.headers.get(SIGNATURE_HEADER),
            body=body,
        )
    except UnknownGenericStore as exc:
        logger.warning("generic webhook for unknown store %r: %s", store_key[:64], exc)
        return _error(404, exc.code, str(exc))
    except SignatureRefused as exc:
        logger.warning("generic webhook for %r: %s", store_key, exc.code)
        return _error(401, exc.code, str(exc))
    except InvalidEvent as exc:
        problems = [{"field": p.field, "message": p.message} for p in exc.problems]
        status = 400 if isinstance(exc, MalformedJson) else 422
        return _error(status, exc.code, str(exc), problems=problems)
    except DBAPIError as exc:
        # the driver error's class only: its message may hold personal SQL parameters
        logger.error(
            "generic webhook for %r: database unavailable (%s)", store_key, type(exc.orig).__name__
        )
        return _error(503, "DATABASE_UNAVAILABLE", "relance's database is unavailable; retry.")
    answer: dict[str, Any] = {"accepted": True, "duplicate": outcome.duplicate}
    if outcome.event_id is not None:
        answer["event_id"] = str(outcome.event_id)
    if outcome.checkout is not None:
        answer["cart"] = outcome.checkout
    return JSONResponse(answer)


def routes() -> list[BaseRoute]:
    """The generic-store webhook route."""
    return [Route(PATH, generic_webhook, methods=["POST"])]
