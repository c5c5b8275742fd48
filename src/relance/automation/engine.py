"""The engine: a pure step function over a campaign definition.

:func:`advance` runs an enrollment from its current step until it must wait or it ends, and
returns the commands for the outer layers to carry out, in order. It never performs I/O and never
reads the clock: ``now`` is an argument. The loop is bounded by the number of steps + 1, so a
malformed graph cannot spin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import assert_never

from relance.automation.definitions import CampaignDefinition, DelayStep, ExitStep, SendEmailStep


@dataclass(frozen=True, slots=True)
class EnrollmentState:
    """Where an enrollment stands: the id of the step it runs next."""

    step_id: str


@dataclass(frozen=True, slots=True)
class SendEmail:
    """Send the email of step ``step_id`` (at most once per enrollment and step)."""

    step_id: str
    design: str
    transactional: bool


@dataclass(frozen=True, slots=True)
class ScheduleWakeup:
    """Stop here and run ``step_id`` at ``at`` (UTC)."""

    at: datetime
    step_id: str


@dataclass(frozen=True, slots=True)
class Complete:
    """The enrollment has ended; ``reason`` is a stable code (``completed``, ``exit_step``…)."""

    reason: str


Command = SendEmail | ScheduleWakeup | Complete


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One decision, for the enrollment's trace: what happened at which step and why."""

    step_id: str
    action: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Advance:
    """What :func:`advance` decided: commands to carry out and trace entries to record.

    Invariant: the last command is always a :class:`ScheduleWakeup` or a :class:`Complete`.
    """

    commands: tuple[Command, ...]
    trace: tuple[TraceEntry, ...]


def advance(definition: CampaignDefinition, state: EnrollmentState, now: datetime) -> Advance:
    """Run steps from ``state`` until the enrollment waits or ends. Pure and deterministic."""
    commands: list[Command] = []
    trace: list[TraceEntry] = []
    step_id: str | None = state.step_id
    for _ in range(len(definition.steps) + 1):
        if step_id is None:
            commands.append(Complete("completed"))
            return Advance(tuple(commands), tuple(trace))
        try:
            step = definition.step(step_id)
        except KeyError:
            trace.append(TraceEntry(step_id, "error", "unknown step"))
            commands.append(Complete("unknown_step"))
            return Advance(tuple(commands), tuple(trace))
        match step:
            case SendEmailStep():
                commands.append(SendEmail(step.id, step.design, step.transactional))
                trace.append(TraceEntry(step.id, "send_email", step.design))
                step_id = step.next
            case DelayStep():
                if step.next is None:
                    trace.append(TraceEntry(step.id, "delay", "nothing follows"))
                    step_id = None
                    continue
                at = now + timedelta(seconds=step.seconds)
                commands.append(ScheduleWakeup(at, step.next))
                trace.append(TraceEntry(step.id, "wait", f"until {at.isoformat()}"))
                return Advance(tuple(commands), tuple(trace))
            case ExitStep():
                trace.append(TraceEntry(step.id, "exit"))
                commands.append(Complete("exit_step"))
                return Advance(tuple(commands), tuple(trace))
            case _:
                assert_never(step)
    commands.append(Complete("step_limit"))
    trace.append(TraceEntry(state.step_id, "error", "step limit reached"))
    return Advance(tuple(commands), tuple(trace))
