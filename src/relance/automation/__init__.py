"""The pure core of relance: events, contacts, campaign definitions and the engine.

Nothing in this package does I/O. It imports the standard library and pydantic only; every
decision is a function of (definition, state, event, now) that returns what to do, and the
layers around it (tasks/, store/, channels/) carry it out. A test enforces the boundary.
"""

from relance.automation.contacts import ContactProfile, ContactUpdate, merge_contact
from relance.automation.definitions import (
    CampaignDefinition,
    DelayStep,
    ExitStep,
    Repeatability,
    SendEmailStep,
    Step,
    Trigger,
)
from relance.automation.engine import (
    Command,
    Complete,
    EnrollmentState,
    ScheduleWakeup,
    SendEmail,
    TraceEntry,
    advance,
)
from relance.automation.events import DomainEvent, EventType, LineItem, OrderSnapshot
from relance.automation.matching import EnrollmentHistory, should_enroll

__all__ = [
    "CampaignDefinition",
    "Command",
    "Complete",
    "ContactProfile",
    "ContactUpdate",
    "DelayStep",
    "DomainEvent",
    "EnrollmentHistory",
    "EnrollmentState",
    "EventType",
    "ExitStep",
    "LineItem",
    "OrderSnapshot",
    "Repeatability",
    "ScheduleWakeup",
    "SendEmail",
    "SendEmailStep",
    "Step",
    "TraceEntry",
    "Trigger",
    "advance",
    "merge_contact",
    "should_enroll",
]
