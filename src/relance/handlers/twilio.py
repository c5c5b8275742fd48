"""``POST /api/webhooks/twilio/status/{store_id}``: Twilio's message status callbacks.

relance sends every SMS with ``StatusCallback`` set to this URL under RELANCE_PUBLIC_URL; Twilio
POSTs form parameters (``MessageSid``, ``MessageStatus``, ``ErrorCode``…) here each time the
message's status changes, signed in ``X-Twilio-Signature`` with the store's auth token over that
same URL (:func:`relance.channels.twilio.signature_matches`).

Answers: 403 when the store has no SMS settings or the signature does not verify; 404 for an
unknown store; 413 for an oversized body; 503 when the database is unavailable (nothing was
recorded); 200 otherwise — including for a message relance does not know (sent by other software
on the same account) and for a repeated or stale report, which change nothing.

What a report changes on the message (found by store and ``provider_message_id``):
``delivery_status`` moves forward only — ``accepted``/``scheduled``/``queued`` → ``sending`` →
``sent`` → a final ``delivered``, ``undelivered``, ``failed``, ``read`` or ``canceled``, which a
later report never replaces (callbacks may arrive out of order). ``delivered`` sets
``delivered_at``; ``undelivered``/``failed`` record Twilio's error code in ``error``. The
message's own status stays ``sent``: Twilio accepted it, the carrier did not deliver it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from relance.channels.twilio import (
    SIGNATURE_HEADER,
    STATUS_CALLBACK_PATH,
    UnreadableSettings,
    read_settings,
    signature_matches,
)
from relance.runtime import Runtime
from relance.store.models import Message, Store

logger = logging.getLogger(__name__)

PATH = STATUS_CALLBACK_PATH
#: Status callbacks are a few hundred bytes.
MAX_BODY_BYTES = 64_000

#: How far along each status is; a report never moves a message backwards.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 3,
    "canceled": 3,
}
_FINAL = 3
#: What the commonest delivery errors mean (Twilio's error dictionary, 30001-30010).
_ERRORS = {
    "30001": "queue overflow",
    "30002": "account suspended",
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier",
    "30008": "unknown error",
    "30009": "missing segment",
    "30010": "message price exceeds max price",
}


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """``status``: the HTTP status to answer; ``changed``: whether a message was updated."""

    status: int
    changed: bool = False


def _error_text(status: str, code: str | None) -> str:
    if not code:
        return f"{status} (Twilio gave no error code)"
    meaning = _ERRORS.get(code)
    return f"{status}: Twilio error {code}" + (f" ({meaning})" if meaning else "")


def _apply(session: Session, store: Store, params: dict[str, str], runtime: Runtime) -> bool:
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not sid or status not in _RANK:
        return False
    message = session.scalars(
        select(Message)
        .where(
            Message.store_id == store.id,
            Message.channel == "sms",
            Message.provider_message_id == sid,
        )
        .with_for_update()
    ).first()
    if message is None:
        return False
    current = _RANK.get(message.delivery_status or "", -1)
    if current >= _FINAL or _RANK[status] <= current:
        return False  # a repeat, or an older report arriving late
    now = runtime.clock()
    message.delivery_status = status
    message.updated_at = now
    if status == "delivered":
        message.delivered_at = now
    elif status in ("undelivered", "failed"):
        message.error = _error_text(status, params.get("ErrorCode"))[:1000]
    return True


def record_status(
    runtime: Runtime,
    store_id: str,
    query: str,
    params: list[tuple[str, str]],
    signature: str | None,
) -> CallbackOutcome:
    """Verify and apply one status callback (blocking: call it in a worker thread)."""
    try:
        store_uuid = UUID(store_id)
    except ValueError:
        return CallbackOutcome(404)
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_uuid)
        if store is None:
            return CallbackOutcome(404)
        try:
            settings = read_settings(store.channel_settings, runtime.secrets.decrypt)
        except UnreadableSettings:
            settings = None
        if settings is None:
            return CallbackOutcome(403)
        # Twilio signs the URL relance gave it: the public URL, this path and any query string
        url = runtime.settings.public_url.rstrip("/") + PATH.format(store_id=store_id)
        if query:
            url += "?" + query
        if not signature_matches(url, params, signature, settings.account.auth_token):
            return CallbackOutcome(403)
        values = dict(params)
        if values.get("AccountSid") not in (None, settings.account.account_sid):
            return CallbackOutcome(200)  # another account's report: not ours to record
        return CallbackOutcome(200, changed=_apply(session, store, values, runtime))


async def twilio_status(request: Request) -> Response:
    store_id: str = request.path_params["store_id"]
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return PlainTextResponse("body too large", status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return PlainTextResponse("body too large", status_code=413)
    try:
        params = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return PlainTextResponse("not a form", status_code=400)
    runtime: Runtime = request.app.state.runtime
    try:
        outcome = await run_in_threadpool(
            record_status,
            runtime,
            store_id,
            request.url.query,
            params,
            request.headers.get(SIGNATURE_HEADER),
        )
    except DBAPIError as exc:
        logger.error("Twilio status callback: database unavailable (%s)", type(exc.orig).__name__)
        return PlainTextResponse("database unavailable", status_code=503)
    if outcome.status == 403:
        logger.warning(
            "Twilio status callback for store %s refused: not signed by it", store_id[:64]
        )
        return PlainTextResponse("invalid signature", status_code=403)
    if outcome.status == 404:
        return PlainTextResponse("unknown store", status_code=404)
    return Response(status_code=200)


def routes() -> list[BaseRoute]:
    """The Twilio status-callback route."""
    return [Route(PATH, twilio_status, methods=["POST"])]
