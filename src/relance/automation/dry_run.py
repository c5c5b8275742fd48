"""Dry run: the path a contact would take through a campaign now, if every wait elapsed. Pure.

:func:`dry_run` plays an enrollment from its entry to its end with the real entry rules
(:func:`~relance.automation.matching.decide_entry`, with no earlier enrollment) and the real
engine (:func:`~relance.automation.engine.advance`), standing in for the outer layers:

- a :class:`~relance.automation.engine.ScheduleWakeup` jumps the clock to its instant;
- a :class:`~relance.automation.engine.Deliver` counts as sent at that instant: a
  :class:`~relance.automation.conditions.MessageRecord` joins the facts, so the frequency cap
  and message-count conditions of later steps see it;
- an :class:`~relance.automation.engine.ApplyContactActions` is reflected into the facts as the
  engine itself does (:func:`~relance.automation.engine.reflect_contact_actions`);
- a :class:`~relance.automation.engine.CreateDiscount` succeeds with the placeholder code
  :data:`PLACEHOLDER_CODE`, stored in the context as ``discount`` like the tasks layer does.

Nothing is sent, written or created; the merchant sees each decision with its instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, assert_never

from relance.automation.conditions import Facts, MessageRecord
from relance.automation.definitions import CampaignDefinition, CreateDiscountStep
from relance.automation.engine import (
    ApplyContactActions,
    Complete,
    CreateDiscount,
    Deliver,
    EnrollmentState,
    ScheduleWakeup,
    Situation,
    TraceEntry,
    advance,
    reflect_contact_actions,
)
from relance.automation.matching import EnrollmentHistory, EntryDecision, decide_entry

#: The discount code a dry run pretends the platform created.
PLACEHOLDER_CODE = "DRY-RUN"

#: How a dry run ends: refused at entry, ran to its end, removed by a rule or an exit step,
#: stopped by a malformed definition, or still going after ``max_steps`` decisions.
Outcome = Literal["not_entered", "completed", "exited", "error", "unfinished"]


@dataclass(frozen=True, slots=True)
class DryRunStep:
    """One decision of the dry run: a :class:`~relance.automation.engine.TraceEntry` and when
    it would happen (UTC)."""

    step_id: str
    action: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DryRun:
    """The path a contact would take.

    ``outcome`` says how it ends and ``reason`` why: the entry decision's code when
    ``not_entered``, the :class:`~relance.automation.engine.Complete` reason otherwise, or
    ``max_steps`` when ``unfinished``. ``ended_at`` is the instant of the last decision.
    """

    outcome: Outcome
    reason: str
    steps: tuple[DryRunStep, ...]
    ended_at: datetime
    entry: EntryDecision | None = None  #: None when no event was given (entry assumed)


def dry_run(
    definition: CampaignDefinition,
    situation: Situation,
    now: datetime,
    *,
    event_type: str | None = None,
    max_steps: int = 200,
) -> DryRun:
    """The path ``situation``'s contact would take from ``now`` if every wait elapsed. Pure.

    Parameters:
        definition(CampaignDefinition): the version to try (a draft may be tried too; an
            invalid one shows where it goes wrong).
        situation(Situation): the contact's facts (``facts.event`` the trigger's context),
            keys, store time zone and sending policy.
        now(datetime): aware; the instant the contact would enter.
        event_type(str | None): when given, the entry rules decide first (as for a contact
            with no earlier enrollment); otherwise the contact is assumed to enter.
        max_steps(int): most decisions (trace entries) before the run is cut as ``unfinished``.

    Returns:
        DryRun: the ordered decisions and how the run ends.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    clock = now.astimezone(UTC)
    entry = None
    if event_type is not None:
        entry = decide_entry(
            definition,
            event_type,
            situation.facts,
            EnrollmentHistory(),
            clock,
            situation.campaign_key,
        )
        if not entry.enroll:
            return DryRun("not_entered", entry.reason, (), clock, entry)
    steps = [DryRunStep(definition.entry_step, "entered", "dry run", clock)]
    state = EnrollmentState(definition.entry_step)
    facts = situation.facts
    while len(steps) < max_steps:
        result = advance(definition, state, replace(situation, facts=facts), clock)
        steps += [_at(entry, clock) for entry in result.trace]
        last = result.commands[-1]
        for command in result.commands:
            facts = _carry_out(command, facts, clock)
        match last:
            case ScheduleWakeup():
                clock = max(clock, last.at.astimezone(UTC))
                state = EnrollmentState(last.step_id, last.deferrals)
            case CreateDiscount():
                following = last.step.next
                if following is None:
                    steps.append(DryRunStep(last.step.id, "completed", "completed", clock))
                    return _ended("completed", "completed", steps, clock, entry)
                state = EnrollmentState(following)
            case Complete():
                outcome: Outcome = "exited" if last.exited else "completed"
                if last.reason in {"unknown_step", "step_limit", "invalid_step"}:
                    outcome = "error"
                return _ended(outcome, last.reason, steps, clock, entry)
            case Deliver() | ApplyContactActions():
                raise AssertionError("advance always ends with a wait, a suspension or an end")
            case _:
                assert_never(last)
    return _ended("unfinished", "max_steps", steps, clock, entry)


def _ended(
    outcome: Outcome,
    reason: str,
    steps: list[DryRunStep],
    clock: datetime,
    entry: EntryDecision | None,
) -> DryRun:
    return DryRun(outcome, reason, tuple(steps), clock, entry)


def _at(entry: TraceEntry, clock: datetime) -> DryRunStep:
    return DryRunStep(entry.step_id, entry.action, entry.detail, clock)


def _carry_out(
    command: Deliver | ApplyContactActions | CreateDiscount | ScheduleWakeup | Complete,
    facts: Facts,
    clock: datetime,
) -> Facts:
    """``facts`` once ``command`` is done (as the tasks layer would do it, minus the I/O)."""
    match command:
        case Deliver(channel=None):
            return facts  # a webhook call is not a message
        case Deliver():
            assert command.channel is not None
            record = MessageRecord(command.channel, clock, command.category, command.transactional)
            return replace(facts, messages=(*facts.messages, record))
        case ApplyContactActions():
            return reflect_contact_actions(facts, command.actions)
        case CreateDiscount():
            context: dict[str, object] = dict(facts.event or {})
            context["discount"] = _placeholder(command.step, clock)
            return replace(facts, event=context)
        case ScheduleWakeup() | Complete():
            return facts
        case _:
            assert_never(command)


def _placeholder(step: CreateDiscountStep, clock: datetime) -> Mapping[str, object]:
    """The ``discount`` context entry for a code the dry run pretends to create."""
    code = f"{step.prefix}-{PLACEHOLDER_CODE}" if step.prefix else PLACEHOLDER_CODE
    return {
        "code": code,
        "kind": step.kind,
        "value": str(step.value),
        "currency": None,
        "expires_at": (clock + timedelta(days=step.valid_days)).isoformat(),
        "step_id": step.id,
    }
