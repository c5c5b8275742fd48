"""Entry rules: does this event start an enrollment of this contact in this campaign?"""

from __future__ import annotations

from dataclasses import dataclass

from relance.automation.definitions import CampaignDefinition, Repeatability
from relance.automation.events import DomainEvent


@dataclass(frozen=True, slots=True)
class EnrollmentHistory:
    """What the contact already did in this campaign (all versions)."""

    total: int = 0
    in_progress: int = 0


@dataclass(frozen=True, slots=True)
class EntryDecision:
    """Whether to enroll, and why not when not (``reason`` is a stable code)."""

    enroll: bool
    reason: str


def should_enroll(
    definition: CampaignDefinition, event: DomainEvent, history: EnrollmentHistory
) -> EntryDecision:
    """Apply the trigger, repeatability and entry limit (SPEC.md §3). Pure."""
    if definition.trigger.event != event.type:
        return EntryDecision(enroll=False, reason="trigger_mismatch")
    if definition.entry_limit is not None and history.total >= definition.entry_limit:
        return EntryDecision(enroll=False, reason="entry_limit_reached")
    match definition.repeatability:
        case Repeatability.ONCE if history.total > 0:
            return EntryDecision(enroll=False, reason="already_entered")
        case Repeatability.AFTER_EXIT if history.in_progress > 0:
            return EntryDecision(enroll=False, reason="in_progress")
    return EntryDecision(enroll=True, reason="entered")
