"""Sending a ledger message: claim it, render it, hand it to the provider, record the outcome.

At most once: a message is claimed by moving it from PENDING to SENDING in one conditional update,
so only one worker ever sends it. A provider that refuses for now (SMTP 4xx, timeouts) puts it back
to PENDING with a later ``next_attempt_at`` (the sweep retries it, with backoff); a permanent
refusal marks it FAILED; a worker that dies mid-send leaves it SENDING, which the sweep turns
into UNKNOWN after :data:`~relance.tasks.leases.SENDING_TIMEOUT` — never into a second send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from relance.channels.errors import (
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from relance.runtime import Runtime
from relance.store.models import (
    CampaignVersion,
    Contact,
    Enrollment,
    Message,
    MessageStatus,
    Store,
    StoreStatus,
)
from relance.store.repositories.enrollments import definition_of
from relance.tasks.outbound import (
    Deferred,
    DeliveryReceipt,
    Prepared,
    Preparer,
    SendJob,
    Skipped,
    unavailable,
)
from relance.tasks.outbound import email as email_channel
from relance.tasks.outbound import push as push_channel
from relance.tasks.outbound import sms as sms_channel
from relance.tasks.outbound import webhook as webhook_channel
from relance.templates.errors import TemplatesError

logger = logging.getLogger(__name__)

#: Sends tried before a message that keeps meeting temporary refusals is given up.
MAX_ATTEMPTS = 8
#: First retry delay; doubles on each attempt.
FIRST_RETRY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The status the message ended in (``None`` when it was not ours to send)."""

    status: MessageStatus | None


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failed try: 1, 2, 4 … minutes, at most 2 hours."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, timedelta(hours=2))


def _claim(session: Session, message_id: UUID, now: datetime) -> bool:
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.PENDING,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        )
        .values(
            status=MessageStatus.SENDING,
            claimed_at=now,
            attempts=Message.attempts + 1,
            lease_until=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _render_context(store: Store, contact: Contact, enrollment: Enrollment) -> dict[str, Any]:
    """What a design may read (docs/designs.md): contact, store, the trigger's order or cart,
    a discount code created by an earlier step, and links."""
    home = ""
    urls = store.storefront_urls or {}
    for channel_urls in urls.values():
        if isinstance(channel_urls, dict) and channel_urls.get("home"):
            home = str(channel_urls["home"])
            break
    context: dict[str, Any] = {
        "contact": {
            "email": contact.email,
            "first_name": contact.first_name or "",
            "last_name": contact.last_name or "",
            "language": contact.language or "",
            "gender": contact.gender or "",
            "country": contact.country or "",
            "custom_fields": dict(contact.custom_fields or {}),
        },
        "store": {"name": store.name or "", "url": home},
        "links": {"unsubscribe": "", "preferences": ""},
    }
    for key in ("order", "cart", "discount"):
        if key in enrollment.context:
            context[key] = enrollment.context[key]
    return context


def _finish(runtime: Runtime, message_id: UUID, **values: Any) -> None:
    with runtime.sessions() as session, session.begin():
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(updated_at=runtime.clock(), **values)
        )


#: How each channel's messages are prepared (see :mod:`relance.tasks.outbound`).
PREPARERS: dict[str, Preparer] = {
    "email": email_channel.prepare,
    "sms": sms_channel.prepare,
    "push": push_channel.prepare,
    "webhook": webhook_channel.prepare,
}


def send_message(runtime: Runtime, message_id: UUID) -> SendOutcome:
    """Send one message if it is due and nobody else has. Idempotent; never sends twice."""
    now = runtime.clock()
    with runtime.sessions() as session, session.begin():
        if not _claim(session, message_id, now):
            return SendOutcome(status=None)
        message, enrollment, contact, store, version = session.execute(
            select(Message, Enrollment, Contact, Store, CampaignVersion)
            .join(Enrollment, Enrollment.id == Message.enrollment_id)
            .join(Contact, Contact.id == Message.contact_id)
            .join(Store, Store.id == Message.store_id)
            .join(CampaignVersion, CampaignVersion.id == Enrollment.version_id)
            .where(Message.id == message_id)
            .execution_options(populate_existing=True)
        ).one()
        if store.status == StoreStatus.UNINSTALLED:
            message.status = MessageStatus.CANCELLED
            message.error = "cancelled: the app was uninstalled from the store"
            return SendOutcome(status=MessageStatus.CANCELLED)
        definition = definition_of(version)
        try:
            step = definition.step(message.step_id)
        except KeyError:
            step = None
        job = SendJob(
            runtime=runtime,
            session=session,
            message=message,
            enrollment=enrollment,
            contact=contact,
            store=store,
            version=version,
            definition=definition,
            step=step,
            context=_render_context(store, contact, enrollment),
        )
        prepare = PREPARERS.get(message.channel, unavailable.prepare)
        try:
            prepared = prepare(job)
        except TemplatesError as error:
            message.status = MessageStatus.FAILED
            message.error = f"render: {error}"[:1000]
            logger.warning("message %s not rendered: %s", message_id, type(error).__name__)
            return SendOutcome(status=MessageStatus.FAILED)
        if isinstance(prepared, Deferred):
            message.status = MessageStatus.PENDING
            message.attempts = max(message.attempts - 1, 0)  # waiting is not an attempt
            message.next_attempt_at = prepared.until
            message.error = prepared.reason[:1000]
            logger.info("message %s deferred: %s", message_id, prepared.reason)
            return SendOutcome(status=MessageStatus.PENDING)
        if isinstance(prepared, Skipped):
            message.status = MessageStatus.SKIPPED
            message.error = prepared.reason[:1000]
            logger.info("message %s skipped: %s", message_id, prepared.reason)
            return SendOutcome(status=MessageStatus.SKIPPED)
        message.to_address = prepared.to_address
        message.subject = prepared.subject[:500] if prepared.subject else None
        message.language = prepared.language
        message.provider_message_id = prepared.provider_message_id
    return _deliver(runtime, message_id, prepared, attempts=message.attempts)


def _deliver(
    runtime: Runtime, message_id: UUID, prepared: Prepared, *, attempts: int
) -> SendOutcome:
    receipt = DeliveryReceipt()
    try:
        answer = prepared.deliver()
        receipt = answer if isinstance(answer, DeliveryReceipt) else DeliveryReceipt(answer)
        if receipt.failure is not None:
            raise receipt.failure  # a refusal that came with an answer to record
    except TransientDeliveryError as error:
        if attempts >= MAX_ATTEMPTS:
            _finish(
                runtime,
                message_id,
                status=MessageStatus.FAILED,
                error=str(error)[:1000],
                **receipt.recorded(),
            )
            return SendOutcome(status=MessageStatus.FAILED)
        _finish(
            runtime,
            message_id,
            status=MessageStatus.PENDING,
            next_attempt_at=runtime.clock() + retry_delay(attempts),
            error=str(error)[:1000],
            **receipt.recorded(),
        )
        logger.info("message %s deferred after attempt %d", message_id, attempts)
        return SendOutcome(status=MessageStatus.PENDING)
    except PermanentDeliveryError as error:
        _finish(
            runtime,
            message_id,
            status=MessageStatus.FAILED,
            error=str(error)[:1000],
            **receipt.recorded(),
        )
        logger.info("message %s refused permanently", message_id)
        return SendOutcome(status=MessageStatus.FAILED)
    except DeliveryOutcomeUnknown as error:
        _finish(
            runtime,
            message_id,
            status=MessageStatus.UNKNOWN,
            error=str(error)[:1000],
            **receipt.recorded(),
        )
        logger.warning("message %s: delivery outcome unknown", message_id)
        return SendOutcome(status=MessageStatus.UNKNOWN)
    except Exception:
        _finish(runtime, message_id, status=MessageStatus.UNKNOWN, error="send outcome unknown")
        logger.exception("message %s: send outcome unknown", message_id)
        raise
    values: dict[str, Any] = {
        "status": MessageStatus.SENT,
        "sent_at": runtime.clock(),
        "error": None,
        **receipt.recorded(),
    }
    if receipt.provider_id is not None:
        values["provider_message_id"] = receipt.provider_id[:500]
    _finish(runtime, message_id, **values)
    return SendOutcome(status=MessageStatus.SENT)
