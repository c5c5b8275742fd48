"""The sweep: the database is the timer and the outbox.

Every :attr:`~relance.settings.Settings.sweep_interval` seconds each worker process (and the
embedded web process) hands out the work that is due: pending events, enrollments whose wake-up
time has come, messages due for (re)sending — each only when its lease has expired, so the fast
path's own dispatches are not duplicated. It also turns messages stuck in SENDING into UNKNOWN.
Any number of sweeps may run at once: on PostgreSQL rows are claimed with
``FOR UPDATE SKIP LOCKED``, and everything handed out is idempotent anyway. Losing every queued
broker message loses no work.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from relance.runtime import Runtime
from relance.store.models import (
    Enrollment,
    EnrollmentStatus,
    Event,
    EventStatus,
    Message,
    MessageStatus,
)
from relance.tasks.checkouts import raise_abandoned_checkouts
from relance.tasks.dates import raise_date_events
from relance.tasks.leases import LEASE, SENDING_TIMEOUT, SWEEP_BATCH
from relance.tasks.saleor_sync import sync_with_saleor

#: Seconds between two passes of the Saleor sync (consent write-back, customer details).
SALEOR_SYNC_INTERVAL = 30.0
#: Seconds between two scans for date triggers (each process; duplicates are harmless).
DATE_SCAN_INTERVAL = 300.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """How many ids of each kind were handed out, and messages marked UNKNOWN."""

    events: int = 0
    enrollments: int = 0
    messages: int = 0
    unknown: int = 0


def _lease(session: Session, model: Any, query: Select[UUID], now: datetime) -> list[UUID]:
    ids = list(session.scalars(query.limit(SWEEP_BATCH).with_for_update(skip_locked=True)))
    if ids:
        session.execute(update(model).where(model.id.in_(ids)).values(lease_until=now + LEASE))
    return ids


def _expired(model: Any, now: datetime) -> Any:
    return or_(model.lease_until.is_(None), model.lease_until < now)


def sweep(runtime: Runtime) -> SweepReport:
    """Hand out everything due now. Idempotent; safe to run concurrently from many processes."""
    now = runtime.clock()
    with runtime.sessions() as session, session.begin():
        events = _lease(
            session,
            Event,
            select(Event.id)
            .where(Event.status == EventStatus.PENDING, _expired(Event, now))
            .order_by(Event.received_at),
            now,
        )
        enrollments = _lease(
            session,
            Enrollment,
            select(Enrollment.id)
            .where(
                Enrollment.status == EnrollmentStatus.ACTIVE,
                Enrollment.wake_at <= now,
                _expired(Enrollment, now),
            )
            .order_by(Enrollment.wake_at),
            now,
        )
        messages = _lease(
            session,
            Message,
            select(Message.id)
            .where(
                Message.status == MessageStatus.PENDING,
                or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
                _expired(Message, now),
            )
            .order_by(Message.created_at),
            now,
        )
        unknown = session.execute(
            update(Message)
            .where(
                Message.status == MessageStatus.SENDING,
                Message.claimed_at < now - SENDING_TIMEOUT,
            )
            .values(status=MessageStatus.UNKNOWN, error="worker stopped mid-send", updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
    for event_id in events:
        runtime.dispatcher.process_event(event_id)
    for enrollment_id in enrollments:
        runtime.dispatcher.advance_enrollment(enrollment_id)
    for message_id in messages:
        runtime.dispatcher.send_message(message_id)
    return SweepReport(len(events), len(enrollments), len(messages), int(unknown or 0))


class SweepThread(threading.Thread):
    """Runs :func:`sweep` every ``interval`` seconds until :meth:`stop` is called."""

    def __init__(
        self, runtime: Runtime, interval: float, *, date_interval: float = DATE_SCAN_INTERVAL
    ) -> None:
        super().__init__(name="relance-sweep", daemon=True)
        self._runtime = runtime
        self._interval = interval
        self._date_interval = date_interval
        self._stopped = threading.Event()

    def run(self) -> None:
        next_date_scan = next_saleor_sync = 0.0
        while not self._stopped.is_set():
            try:
                sweep(self._runtime)
                raise_abandoned_checkouts(self._runtime)
            except Exception:  # the next tick tries again; never let the timer die
                logger.exception("sweep failed")
            if time.monotonic() >= next_date_scan:
                next_date_scan = time.monotonic() + self._date_interval
                try:
                    raise_date_events(self._runtime)
                except Exception:
                    logger.exception("date trigger scan failed")
            if time.monotonic() >= next_saleor_sync:
                next_saleor_sync = time.monotonic() + SALEOR_SYNC_INTERVAL
                try:
                    sync_with_saleor(self._runtime)
                except Exception:
                    logger.exception("Saleor sync failed")
            self._stopped.wait(self._interval)

    def stop(self) -> None:
        self._stopped.set()
