"""Campaign definitions: data, not code.

A definition is a trigger, a repeatability rule and a graph of at most :data:`MAX_STEPS` steps.
Steps are a discriminated union keyed on ``type`` and linked by id (``next``). Stored ``type``
values are part of the JSON format: never rename one.

Durations are in seconds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from relance.automation.events import EventType

#: Most steps a campaign may hold (SPEC.md §2).
MAX_STEPS = 50
#: Longest single delay: one year, in seconds.
MAX_DELAY_SECONDS = 366 * 24 * 3600

StepId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class Repeatability(StrEnum):
    """How often one contact may enter a campaign (SPEC.md §3)."""

    MULTIPLE = "multiple"  #: every trigger starts a new enrollment
    ONCE = "once"  #: at most one enrollment ever
    AFTER_EXIT = "after_exit"  #: a new one only when none is in progress


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Trigger(_Frozen):
    """Start an enrollment when an event of this type happens."""

    type: Literal["event"] = "event"
    event: EventType


class SendEmailStep(_Frozen):
    """Send one email rendered from ``design`` in the contact's language."""

    type: Literal["send_email"] = "send_email"
    id: StepId
    design: str = Field(min_length=1, max_length=64)
    transactional: bool = False
    next: StepId | None = None


class DelayStep(_Frozen):
    """Wait ``seconds`` before the next step."""

    type: Literal["delay"] = "delay"
    id: StepId
    seconds: int = Field(ge=1, le=MAX_DELAY_SECONDS)
    next: StepId | None = None


class ExitStep(_Frozen):
    """End the enrollment here."""

    type: Literal["exit"] = "exit"
    id: StepId


Step = Annotated[SendEmailStep | DelayStep | ExitStep, Field(discriminator="type")]


class CampaignDefinition(_Frozen):
    """Everything that decides how a campaign version behaves. Immutable once published."""

    trigger: Trigger
    repeatability: Repeatability = Repeatability.MULTIPLE
    entry_limit: int | None = Field(default=None, ge=1)
    default_language: str = "en"
    entry_step: StepId
    steps: tuple[Step, ...] = Field(min_length=1)

    def step(self, step_id: str) -> SendEmailStep | DelayStep | ExitStep:
        """The step with this id. Raises ``KeyError`` if there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
