from datetime import UTC, datetime

import pytest

from relance.automation.contacts import ContactUpdate
from relance.automation.definitions import CampaignDefinition, Repeatability, SendEmailStep, Trigger
from relance.automation.events import DomainEvent, EventType
from relance.automation.matching import EnrollmentHistory, should_enroll

EVENT = DomainEvent(
    type=EventType.ORDER_PLACED,
    idempotency_key="order.placed:1",
    occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    contact=ContactUpdate(email="A@Example.com"),
)


def campaign(
    repeatability: Repeatability,
    limit: int | None = None,
    trigger: EventType = EventType.ORDER_PLACED,
) -> CampaignDefinition:
    return CampaignDefinition(
        trigger=Trigger(event=trigger),
        repeatability=repeatability,
        entry_limit=limit,
        entry_step="a",
        steps=(SendEmailStep(id="a", design="d"),),
    )


@pytest.mark.parametrize(
    ("definition", "history", "enroll", "reason"),
    [
        (campaign(Repeatability.MULTIPLE), EnrollmentHistory(5, 2), True, "entered"),
        (campaign(Repeatability.ONCE), EnrollmentHistory(0, 0), True, "entered"),
        (campaign(Repeatability.ONCE), EnrollmentHistory(1, 0), False, "already_entered"),
        (campaign(Repeatability.AFTER_EXIT), EnrollmentHistory(3, 0), True, "entered"),
        (campaign(Repeatability.AFTER_EXIT), EnrollmentHistory(3, 1), False, "in_progress"),
        (
            campaign(Repeatability.MULTIPLE, limit=2),
            EnrollmentHistory(2, 0),
            False,
            "entry_limit_reached",
        ),
        (
            campaign(Repeatability.MULTIPLE, trigger=EventType.CART_ABANDONED),
            EnrollmentHistory(),
            False,
            "trigger_mismatch",
        ),
    ],
)
def test_should_enroll(
    definition: CampaignDefinition, history: EnrollmentHistory, enroll: bool, reason: str
) -> None:
    decision = should_enroll(definition, EVENT, history)
    assert (decision.enroll, decision.reason) == (enroll, reason)


def test_emails_and_languages_are_normalised() -> None:
    update = ContactUpdate(email="  Jonas.Becker@Example.DE ", language="PT_BR")
    assert update.email == "jonas.becker@example.de"
    assert update.language == "pt-BR"
