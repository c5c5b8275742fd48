"""Exit rules: remove a contact at once from every campaign whose exit rule now holds.

Checked when an event about the contact is processed (exit events and conditions) and when a
campaign step changes the contact (conditions only), so "exit when tagged VIP" does not wait for
the enrollment's next wake-up. The rules themselves (including ``cart_recovered``: an order that
recovers an abandoned checkout ends every run about that cart) are
:func:`relance.automation.matching.exit_reason`'s.

Exit rules read the contact's facts with the enrollment's own context as ``event``; an exit
event's ``where`` reads the new event's context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from relance.automation.engine import TraceEntry
from relance.automation.matching import exit_reason
from relance.store.models import Contact, Store
from relance.store.repositories.enrollments import (
    active_enrollments_of,
    add_trace,
    definition_of,
    end_enrollment,
)
from relance.store.repositories.facts import load_facts, sending_policy


def apply_exit_rules(
    session: Session,
    store: Store,
    contact: Contact,
    *,
    event_type: str | None,
    event_context: Mapping[str, object] | None,
    now: datetime,
    skip: UUID | None = None,
) -> int:
    """End every active enrollment of ``contact`` that an exit rule removes now; returns how
    many. ``skip`` leaves one enrollment alone (the one whose step made the change). Idempotent.
    """
    active = [
        (enrollment, version)
        for enrollment, version in active_enrollments_of(session, store.id, contact.id)
        if enrollment.id != skip
    ]
    if not active:
        return 0
    definitions = {version.id: definition_of(version) for _, version in active}
    if event_type is None and not any(
        d.exit_when_filter_fails or any(r.type == "condition" for r in d.exit_rules)
        for d in definitions.values()
    ):
        return 0
    base = load_facts(
        session,
        contact,
        definitions=list(definitions.values()),
        policy=sending_policy(store),
        event=None,
        now=now,
    )
    ended = 0
    for enrollment, version in active:
        facts = replace(base, event=enrollment.context)
        reason = exit_reason(
            definitions[version.id], event_type, facts, now, event_context=event_context
        )
        if reason is None:
            continue
        end_enrollment(session, enrollment, reason=reason, exited=True, now=now)
        add_trace(
            session, enrollment, [TraceEntry(enrollment.step_id or "", "exited", reason)], now
        )
        ended += 1
    return ended
