"""Date triggers: raise ``date.reached`` for contacts whose date comes up today.

For each published campaign with a :class:`~relance.automation.definitions.DateTrigger`, once the
store's local time has passed the trigger's ``at``, the contacts whose date field plus
``offset_days`` is today (in the store's time zone) each get a ``date.reached`` event through the
inbox. Its idempotency key names the campaign, the contact and the local date, so scanning again
— every few minutes, from any number of processes — records nothing new: each date enrolls a
contact at most once. Yearly triggers match month and day; a 29 February date fires on 28
February in other years.

Dates in custom fields are read as ISO 8601 strings (``1990-05-17`` or a full timestamp), compared
as text; ``created_at`` / ``first_order_at`` / ``last_order_at`` are timestamps compared in the
store's time zone.
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from relance.automation.contacts import ContactUpdate
from relance.automation.definitions import DateTrigger
from relance.automation.events import DomainEvent, EventType
from relance.automation.schedule import resolve_timezone
from relance.runtime import Runtime
from relance.store.models import Contact, Store
from relance.store.repositories.enrollments import definition_of, published_versions_of_all
from relance.tasks.intake import accept_event

logger = logging.getLogger(__name__)

#: Most contacts one campaign raises per scan (the next scan continues: keys make it safe).
MAX_PER_SCAN = 10_000


def raise_date_events(runtime: Runtime) -> int:
    """Raise today's ``date.reached`` events for every date-triggered campaign. Idempotent.

    Returns how many events were recorded (duplicates of earlier scans included).
    """
    now = runtime.clock()
    raised = 0
    with runtime.sessions() as session:
        plans: list[tuple[Store, UUID, DateTrigger, date, list[str]]] = []
        for version, store in published_versions_of_all(session):
            trigger = definition_of(version).trigger
            if not isinstance(trigger, DateTrigger):
                continue
            zone = resolve_timezone(None, store.timezone or "UTC")
            local_now = now.astimezone(zone)
            if local_now.time() < trigger.at:
                continue
            today = local_now.date()
            emails = _due_emails(session, store, trigger, today, zone)
            plans.append((store, version.campaign_id, trigger, today, emails))
    for store, campaign_id, trigger, today, emails in plans:
        for email in emails:
            event = DomainEvent(
                type=EventType.DATE_REACHED,
                idempotency_key=f"date:{campaign_id}:{email}:{today.isoformat()}"[:255],
                occurred_at=now,
                contact=ContactUpdate(email=email),
                properties={
                    "campaign_id": str(campaign_id),
                    "field": trigger.field,
                    "date": today.isoformat(),
                },
            )
            accept_event(runtime, store.id, event)
            raised += 1
    if raised:
        logger.info("date triggers: %d events recorded", raised)
    return raised


def _due_emails(
    session: Session, store: Store, trigger: DateTrigger, today: date, zone: ZoneInfo
) -> list[str]:
    """Emails of the store's contacts whose ``trigger.field`` + offset falls on ``today``."""
    target = today - timedelta(days=trigger.offset_days)
    condition = _matches(session, trigger, target, zone)
    return list(
        session.scalars(
            select(Contact.email)
            .where(Contact.store_id == store.id, condition)
            .order_by(Contact.id)
            .limit(MAX_PER_SCAN)
        )
    )


def _month_days(target: date) -> list[str]:
    days = [f"{target.month:02d}-{target.day:02d}"]
    if target.month == 2 and target.day == 28 and not calendar.isleap(target.year):
        days.append("02-29")
    return days


def _matches(session: Session, trigger: DateTrigger, target: date, zone: ZoneInfo) -> Any:
    if trigger.field.startswith("custom:"):
        text = Contact.custom_fields[trigger.field.removeprefix("custom:")].as_string()
        if trigger.yearly:
            return func.substr(text, 6, 5).in_(_month_days(target))
        return func.substr(text, 1, 10) == target.isoformat()
    column: ColumnElement[datetime] = getattr(Contact, trigger.field)
    if not trigger.yearly:
        start = datetime.combine(target, time(0), zone).astimezone(UTC)
        end = datetime.combine(target + timedelta(days=1), time(0), zone).astimezone(UTC)
        return (column >= start) & (column < end)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        local = func.to_char(func.timezone(str(zone), column), "MM-DD")
    else:  # SQLite keeps UTC text: shift by the zone's current offset
        offset = datetime.now(zone).utcoffset() or timedelta(0)
        local = func.strftime("%m-%d", column, f"{int(offset.total_seconds())} seconds")
    return or_(*(local == month_day for month_day in _month_days(target)))
