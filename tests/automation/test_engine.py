from datetime import UTC, datetime, timedelta

import pytest

from relance.automation.definitions import (
    CampaignDefinition,
    DelayStep,
    ExitStep,
    SendEmailStep,
    Trigger,
)
from relance.automation.engine import (
    Complete,
    EnrollmentState,
    ScheduleWakeup,
    SendEmail,
    advance,
)
from relance.automation.events import EventType

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def definition(*steps: SendEmailStep | DelayStep | ExitStep) -> CampaignDefinition:
    return CampaignDefinition(
        trigger=Trigger(event=EventType.ORDER_PLACED), entry_step=steps[0].id, steps=steps
    )


CASES = [
    pytest.param(
        definition(SendEmailStep(id="a", design="d")),
        "a",
        [SendEmail("a", "d", False), Complete("completed")],
        id="send then end",
    ),
    pytest.param(
        definition(
            SendEmailStep(id="a", design="d", next="wait"),
            DelayStep(id="wait", seconds=3600, next="b"),
            SendEmailStep(id="b", design="e"),
        ),
        "a",
        [SendEmail("a", "d", False), ScheduleWakeup(NOW + timedelta(hours=1), "b")],
        id="send, then wait an hour",
    ),
    pytest.param(
        definition(
            SendEmailStep(id="a", design="d", next="wait"),
            DelayStep(id="wait", seconds=3600, next="b"),
            SendEmailStep(id="b", design="e"),
        ),
        "b",
        [SendEmail("b", "e", False), Complete("completed")],
        id="resume after the wait",
    ),
    pytest.param(
        definition(SendEmailStep(id="a", design="d", next="x"), ExitStep(id="x")),
        "a",
        [SendEmail("a", "d", False), Complete("exit_step")],
        id="exit step",
    ),
    pytest.param(
        definition(DelayStep(id="w", seconds=60)),
        "w",
        [Complete("completed")],
        id="trailing delay ends at once",
    ),
    pytest.param(
        definition(SendEmailStep(id="a", design="d", transactional=True)),
        "gone",
        [Complete("unknown_step")],
        id="unknown step ends the enrollment",
    ),
]


@pytest.mark.parametrize(("campaign", "at_step", "expected"), CASES)
def test_advance(campaign: CampaignDefinition, at_step: str, expected: list[object]) -> None:
    # when the engine runs from the given step
    outcome = advance(campaign, EnrollmentState(at_step), NOW)
    # then it returns exactly these commands, ending in a wait or an end
    assert list(outcome.commands) == expected
    assert isinstance(outcome.commands[-1], ScheduleWakeup | Complete)


def test_a_cycle_cannot_spin_forever() -> None:
    # given a malformed graph that loops (validation refuses it, the engine must still stop)
    looping = definition(
        SendEmailStep(id="a", design="d", next="b"), SendEmailStep(id="b", design="d", next="a")
    )
    # when it runs
    outcome = advance(looping, EnrollmentState("a"), NOW)
    # then it stops after at most len(steps) + 1 iterations
    assert outcome.commands[-1] == Complete("step_limit")
    assert len(outcome.commands) <= len(looping.steps) + 2


def test_every_decision_is_traced() -> None:
    campaign = definition(
        SendEmailStep(id="a", design="d", next="w"),
        DelayStep(id="w", seconds=5, next="x"),
        ExitStep(id="x"),
    )
    outcome = advance(campaign, EnrollmentState("a"), NOW)
    assert [(t.step_id, t.action) for t in outcome.trace] == [("a", "send_email"), ("w", "wait")]
