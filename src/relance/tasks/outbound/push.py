"""The push channel: a ``send_push`` step's notification, to every browser of the contact.

``prepare`` decides, in this order (each outcome recorded on the ledger row):

1. the store has no VAPID keys → skipped ("no push keys configured for this store"); keys that
   cannot be read (the private key no longer decrypts) → failed;
2. a marketing push to a contact who has unsubscribed from push since the step ran → skipped;
3. the contact has no push subscription → skipped ("no push subscription");
4. the title, rendered for the contact's language (``pt-BR`` → ``pt`` → the campaign's
   default), is empty → skipped; the body is rendered in the same language (or its own
   fallback), the URL too (without one, the storefront's home page); a URL that is not
   absolute ``http(s)`` nor a path, or a payload over 3,993 bytes, → failed;
5. otherwise, after the claim commits, the JSON ``{title, body, url, tag}`` (``tag`` = the
   message id) goes to each subscription, encrypted for it, signed with the store's key
   (:mod:`relance.channels.webpush`), with a TTL of one day and the message id as ``Topic``.

After the sends, in one transaction: subscriptions answered 404/410 are deleted, the others that
accepted get ``last_success_at``, and the message's ``subject`` becomes
``push · <accepted> of <tried> devices``. The message is SENT when at least one push service
accepted it (a retry would repeat it on those devices). When none did: retried later if any
answer was temporary (429, 5xx, no answer), else failed — "every push subscription is gone"
when all of them were. ``response_status`` is the first accepting (else the last) answer's and
``response_body`` one line per device: ``device 1: HTTP 201 Created``.

Calls follow the webhook channel's address rules and allow-list
(``RELANCE_WEBHOOK_ALLOWED_NETWORKS``), checked again at every send: an endpoint accepted at
registration may resolve elsewhere later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy import update

from relance.automation.definitions import SendPushStep
from relance.channels.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from relance.channels.webhooks import AddressPolicy
from relance.channels.webpush import (
    DEFAULT_TTL,
    MAX_PAYLOAD_BYTES,
    PushClient,
    PushCredentials,
    PushOutcome,
    PushRequest,
    PushResult,
    PushTarget,
    UnreadablePushSettings,
    notification_payload,
    read_push_settings,
)
from relance.runtime import Runtime
from relance.store.models import Message
from relance.store.repositories.push import mark_delivered, remove_gone, subscriptions_of
from relance.tasks.outbound import DeliveryReceipt, Prepared, SendJob, Skipped
from relance.templates.locales import resolve_language
from relance.templates.text import render_text

logger = logging.getLogger(__name__)

NO_KEYS = "no push keys configured for this store"
NO_SUBSCRIPTION = "no push subscription"
UNSUBSCRIBED = "unsubscribed from push"
EMPTY_TITLE = "the push title is empty"


@lru_cache(maxsize=8)
def client_for(allowed: tuple[str, ...]) -> PushClient:
    """The client of an allow-list (``RELANCE_WEBHOOK_ALLOWED_NETWORKS``), built once."""
    return PushClient(AddressPolicy(allowed))


def _failing(error: str, to_address: str | None = None, **recorded: Any) -> Prepared:
    def deliver() -> str | None:
        raise PermanentDeliveryError(error)

    return Prepared(deliver=deliver, to_address=to_address, **recorded)


def _summary(accepted: int, tried: int) -> str:
    return f"push · {accepted} of {tried} device{'s' if tried != 1 else ''}"


def _services(targets: list[tuple[UUID, PushTarget]]) -> str | None:
    """The push services reached (host names, in order), never the endpoints themselves."""
    hosts: list[str] = []
    for _, target in targets:
        host = urlsplit(target.endpoint).hostname or "?"
        if host not in hosts:
            hosts.append(host)
    return ", ".join(hosts)[:320] or None


def _click_url(rendered: str, fallback: str) -> str | None:
    """The URL a click opens; raises ValueError when it is neither absolute http(s) nor a path."""
    url = rendered or fallback
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    if not parts.scheme and not parts.netloc and url.startswith("/"):
        return url
    raise ValueError("the push URL must be an absolute http(s) URL or a path (/…)")


def prepare(job: SendJob) -> Prepared | Skipped:
    step = job.step
    if not isinstance(step, SendPushStep):
        return Skipped("the campaign version has no such push step")
    store, contact, message = job.store, job.contact, job.message
    try:
        credentials = read_push_settings(store.channel_settings, job.runtime.secrets.decrypt)
    except UnreadablePushSettings as error:
        return _failing(str(error))
    if credentials is None:
        return Skipped(NO_KEYS)
    consent = (contact.consents or {}).get("push")
    if (
        not step.transactional
        and isinstance(consent, dict)
        and consent.get("status") == "unsubscribed"
    ):
        return Skipped(UNSUBSCRIBED)
    rows = subscriptions_of(job.session, store.id, contact.id)
    if not rows:
        return Skipped(NO_SUBSCRIPTION)
    targets = [(row.id, PushTarget(row.endpoint, row.p256dh, row.auth)) for row in rows]

    default_language = job.definition.default_language or store.default_language
    language = resolve_language(contact.language, step.title.keys(), default_language)
    body_language = resolve_language(language, step.body.keys(), default_language)
    context = {**job.context, "message": {"id": str(message.id)}}
    title = render_text(step.title[language], context, language)
    if not title:
        return Skipped(EMPTY_TITLE)
    body = render_text(step.body[body_language], context, body_language)
    recorded: dict[str, Any] = {
        "subject": f"push · {len(targets)} device{'s' if len(targets) != 1 else ''}",
        "language": language,
    }
    to_address = _services(targets)
    home = str(job.context.get("store", {}).get("url") or "")
    try:
        url = _click_url(render_text(step.url, context, language) if step.url else "", home)
    except ValueError as error:
        return _failing(str(error), to_address, **recorded)
    payload = notification_payload(title, body, url, str(message.id))
    if len(payload) > MAX_PAYLOAD_BYTES:
        return _failing(
            f"the push payload is {len(payload)} bytes; push services take at most "
            f"{MAX_PAYLOAD_BYTES}",
            to_address,
            **recorded,
        )
    sender = _Sender(
        runtime=job.runtime,
        store_id=store.id,
        message_id=message.id,
        credentials=credentials,
        targets=targets,
        payload=payload,
        urgency="high" if step.transactional else "normal",
    )
    return Prepared(deliver=sender.deliver, to_address=to_address, **recorded)


@dataclass(frozen=True)
class _Sender:
    """The I/O half: one push per subscription, then the bookkeeping."""

    runtime: Runtime
    store_id: UUID
    message_id: UUID
    credentials: PushCredentials
    targets: list[tuple[UUID, PushTarget]]
    payload: bytes
    urgency: str

    def deliver(self) -> DeliveryReceipt:
        client = client_for(tuple(self.runtime.settings.webhook_allowed_networks))
        results: list[tuple[UUID, PushResult]] = []
        for subscription_id, target in self.targets:
            request = PushRequest(
                target=target,
                payload=self.payload,
                ttl=DEFAULT_TTL,
                urgency=self.urgency,
                topic=self.message_id.hex,
            )
            results.append(
                (subscription_id, client.send(request, self.credentials, self.runtime.clock()))
            )
        accepted = [sid for sid, result in results if result.outcome is PushOutcome.DELIVERED]
        gone = [sid for sid, result in results if result.outcome is PushOutcome.GONE]
        self._record(accepted, gone, len(results))
        lines = [
            f"device {number}: {result.detail}"
            + (" (subscription removed)" if result.outcome is PushOutcome.GONE else "")
            for number, (_, result) in enumerate(results, start=1)
        ]
        answered = [result for _, result in results if result.status is not None]
        first_ok = next((r for _, r in results if r.outcome is PushOutcome.DELIVERED), None)
        shown = first_ok or (answered[-1] if answered else None)
        receipt: dict[str, Any] = {
            "response_status": shown.status if shown else None,
            "response_body": "\n".join(lines)[:2000],
        }
        if accepted:
            location = first_ok.location if first_ok else None
            return DeliveryReceipt(provider_id=location, **receipt)
        outcomes = {result.outcome for _, result in results}
        if PushOutcome.RETRY in outcomes:
            failure: DeliveryError = TransientDeliveryError(
                "no push service accepted the message yet: " + "; ".join(lines)
            )
        elif outcomes == {PushOutcome.GONE}:
            failure = PermanentDeliveryError(
                f"every push subscription is gone ({len(gone)} removed)"
            )
        else:
            failure = PermanentDeliveryError("the push services refused: " + "; ".join(lines))
        return DeliveryReceipt(failure=failure, **receipt)

    def _record(self, accepted: list[UUID], gone: list[UUID], tried: int) -> None:
        """Forget gone subscriptions, date the others' success, count the devices reached.
        A failure here is logged: it must not turn a delivered message into an unknown one."""
        now = self.runtime.clock()
        try:
            with self.runtime.sessions() as session, session.begin():
                removed = remove_gone(session, self.store_id, gone)
                mark_delivered(session, self.store_id, accepted, now)
                session.execute(
                    update(Message)
                    .where(Message.id == self.message_id)
                    .values(subject=_summary(len(accepted), tried), updated_at=now)
                )
        except Exception:
            logger.exception("push message %s: delivery bookkeeping failed", self.message_id)
            return
        if removed:
            logger.info(
                "push message %s: %d gone subscription(s) removed", self.message_id, removed
            )
