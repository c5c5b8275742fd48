"""Outbound channels: turning one claimed ledger message into one delivery attempt.

Each channel module exposes ``prepare(job) -> Prepared | Skipped``, called inside the send
task's claim transaction with everything loaded (:class:`SendJob`). It renders the message and
returns a :class:`Prepared` whose ``deliver()`` performs the network call *after* that
transaction has committed (never holding a database lock during I/O), a :class:`Skipped`
when the message must not go (no phone number, no push subscription…), recorded with its reason,
or a :class:`Deferred` when it must wait (SMS quiet hours in the contact's local time).

``deliver()`` returns the provider's message id (or None) and raises the errors of
:mod:`relance.channels.errors`: transient (retried with back-off), permanent (failed), or
outcome unknown (recorded as unknown, never resent). It may instead return a
:class:`DeliveryReceipt`: the id plus the provider's answer to record on the message (a webhook's
HTTP status and body), with ``failure`` set when that answer was a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relance.automation.definitions import AnyStep, CampaignDefinition
from relance.channels.errors import DeliveryError
from relance.runtime import Runtime
from relance.store.models import CampaignVersion, Contact, Enrollment, Message, Store


@dataclass(frozen=True)
class SendJob:
    """A claimed message and everything around it (rows are attached to ``session``)."""

    runtime: Runtime
    session: Session
    message: Message
    enrollment: Enrollment
    contact: Contact
    store: Store
    version: CampaignVersion
    definition: CampaignDefinition
    step: AnyStep | None
    #: What templates may read (docs/designs: contact, store, order, cart, discount, links).
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A rendered message ready to go. ``deliver`` does the I/O; the other fields are recorded
    on the ledger row before it runs."""

    deliver: Callable[[], str | DeliveryReceipt | None]
    to_address: str | None
    subject: str | None = None
    language: str | None = None
    #: An id known before sending (an email's Message-ID); ``deliver``'s answer replaces it.
    provider_message_id: str | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """What ``deliver`` may return instead of a bare provider id: the id and the answer recorded
    on the message. With ``failure`` set the answer was a refusal: it is handled exactly as if
    ``deliver`` had raised ``failure`` (retried, failed or unknown), the answer recorded too."""

    provider_id: str | None = None
    response_status: int | None = None
    #: At most 2,000 characters (the column's size).
    response_body: str | None = None
    failure: DeliveryError | None = None

    def recorded(self) -> dict[str, Any]:
        """The message columns this receipt sets (the answer's, when there was one)."""
        values: dict[str, Any] = {}
        if self.response_status is not None:
            values["response_status"] = self.response_status
            values["response_body"] = (self.response_body or "")[:2000]
        return values


@dataclass(frozen=True)
class Skipped:
    """Not sent, on purpose: ``reason`` is short, stable and holds no personal data."""

    reason: str


@dataclass(frozen=True)
class Deferred:
    """Not now: try again at ``until`` (UTC), e.g. after SMS quiet hours. Not an attempt: the
    message goes back to pending without counting toward its retry limit."""

    until: datetime
    reason: str


Preparer = Callable[[SendJob], Prepared | Skipped | Deferred]
