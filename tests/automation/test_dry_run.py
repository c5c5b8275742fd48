"""dry_run: the path a contact would take now if every wait elapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from relance.automation.definitions import (
    CampaignDefinition,
    CreateDiscountStep,
    DelayStep,
    EventTrigger,
    ExitOnEvent,
    ExitStep,
    Repeatability,
    SplitBranch,
    SplitStep,
)
from relance.automation.dry_run import PLACEHOLDER_CODE, DryRunStep, dry_run
from relance.automation.engine import CapMode, SendingPolicy
from tests.automation.factories import NOW, campaign, condition, email, situation

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def gender_is(gender: str) -> Any:
    return condition({"type": "contact_field", "field": "gender", "op": "eq", "value": gender})


#: The seeds' abandoned cart: 2 hours, a design per gender, 2 days, a reminder with a code.
ABANDONED_CART: CampaignDefinition = campaign(
    DelayStep(id="wait_2h", seconds=2 * 3600, next="by_gender"),
    SplitStep(
        id="by_gender",
        branches=(
            SplitBranch(label="female", condition=gender_is("female"), next="cart_female"),
            SplitBranch(label="male", condition=gender_is("male"), next="cart_male"),
        ),
        default_next="cart_neutral",
    ),
    email("cart_female", "wait_2d", design="cart_female"),
    email("cart_male", "wait_2d", design="cart_male"),
    email("cart_neutral", "wait_2d", design="cart_neutral"),
    DelayStep(id="wait_2d", seconds=2 * 86400, next="code"),
    CreateDiscountStep(id="code", prefix="CART", next="has_code"),
    SplitStep(
        id="has_code",
        branches=(
            SplitBranch(
                label="code",
                condition=condition(
                    {
                        "type": "event_property",
                        "path": "discount.code",
                        "op": "eq",
                        "value": f"CART-{PLACEHOLDER_CODE}",
                    }
                ),
                next="reminder",
            ),
        ),
        default_next="end",
    ),
    email("reminder"),
    ExitStep(id="end"),
    trigger=EventTrigger(events=("cart.abandoned",)),
    exit_rules=(ExitOnEvent(event="order.placed"),),
    repeatability=Repeatability.AFTER_EXIT,
)


def path(run_steps: tuple[DryRunStep, ...]) -> list[tuple[str, str, str, datetime]]:
    return [(s.step_id, s.action, s.detail, s.at) for s in run_steps]


def test_the_abandoned_cart_path_of_a_contact() -> None:
    # given a woman who abandoned her cart
    who = situation(gender="female", event={"event_type": "cart.abandoned", "properties": {}})
    # when the dry run plays the campaign
    run = dry_run(ABANDONED_CART, who, NOW, event_type="cart.abandoned")
    # then she enters, waits two hours, gets her design, waits two days, gets a code and a reminder
    assert run.entry is not None
    assert run.entry.reason == "entered"
    assert path(run.steps) == [
        ("wait_2h", "entered", "dry run", NOW),
        ("wait_2h", "wait", "until 2026-11-23T12:00:00+00:00", NOW),
        ("by_gender", "branch", "female", NOW + 2 * HOUR),
        ("cart_female", "send", "email", NOW + 2 * HOUR),
        ("wait_2d", "wait", "until 2026-11-25T12:00:00+00:00", NOW + 2 * HOUR),
        ("code", "create_discount", "percentage 10", NOW + 2 * HOUR + 2 * DAY),
        ("has_code", "branch", "code", NOW + 2 * HOUR + 2 * DAY),
        ("reminder", "send", "email", NOW + 2 * HOUR + 2 * DAY),
        ("reminder", "completed", "completed", NOW + 2 * HOUR + 2 * DAY),
    ]
    assert (run.outcome, run.reason, run.ended_at) == ("completed", "completed", NOW + 50 * HOUR)


def test_a_contact_the_trigger_does_not_take() -> None:
    run = dry_run(ABANDONED_CART, situation(), NOW, event_type="order.placed")
    assert (run.outcome, run.reason, run.steps) == ("not_entered", "trigger_mismatch", ())


def test_without_event_the_contact_is_assumed_to_enter() -> None:
    run = dry_run(campaign(email("a")), situation(), NOW)
    assert run.entry is None
    assert run.outcome == "completed"


def test_messages_sent_on_the_way_count_for_later_conditions() -> None:
    # given the seeds' frequency rule: no second cross-sell email within two days
    already = condition(
        {
            "type": "message_count",
            "channel": "email",
            "category": "cross-sell",
            "within_seconds": 2 * 86400,
            "op": "gte",
            "value": 1,
        }
    )
    definition = campaign(
        email("first", "wait", category="cross-sell"),
        DelayStep(id="wait", seconds=86400, next="check"),
        SplitStep(
            id="check",
            branches=(SplitBranch(label="got one", condition=already, next="end"),),
            default_next="second",
        ),
        email("second", category="cross-sell"),
        ExitStep(id="end"),
    )
    # when played
    run = dry_run(definition, situation(), NOW)
    # then the split sees the email the run "sent" a day earlier
    assert ("check", "branch", "got one", NOW + DAY) in path(run.steps)
    assert (run.outcome, run.reason) == ("exited", "exit_step")


def test_the_frequency_cap_defers_and_the_clock_follows() -> None:
    # given two marketing emails in a row and a store that defers capped sends
    policy = SendingPolicy(frequency_cap_seconds=3 * 3600, frequency_cap_mode=CapMode.DEFER)
    # when played
    run = dry_run(campaign(email("a", "b"), email("b")), situation(policy), NOW)
    # then the second goes three hours later
    assert path(run.steps)[1:] == [
        ("a", "send", "email", NOW),
        ("b", "deferred", "frequency_cap until 2026-11-23T13:00:00+00:00", NOW),
        ("b", "send", "email", NOW + 3 * HOUR),
        ("b", "completed", "completed", NOW + 3 * HOUR),
    ]


def test_a_discount_at_the_end_completes() -> None:
    run = dry_run(campaign(CreateDiscountStep(id="code")), situation(), NOW)
    assert path(run.steps)[1:] == [
        ("code", "create_discount", "percentage 10", NOW),
        ("code", "completed", "completed", NOW),
    ]
    assert run.outcome == "completed"


def test_a_broken_definition_ends_in_error() -> None:
    run = dry_run(campaign(email("a", "gone")), situation(), NOW)
    assert (run.outcome, run.reason) == ("error", "unknown_step")


def test_a_run_that_never_ends_is_cut() -> None:
    # given a loop through a delay (validation refuses it; the dry run must still stop)
    loop = campaign(
        DelayStep(id="a", seconds=60, next="b"), DelayStep(id="b", seconds=60, next="a")
    )
    # when played
    run = dry_run(loop, situation(), NOW, max_steps=20)
    # then it is cut after the allowed number of decisions
    assert (run.outcome, run.reason) == ("unfinished", "max_steps")
    assert len(run.steps) == 20
    assert run.ended_at == NOW + timedelta(minutes=19)


def test_now_is_read_in_utc() -> None:
    paris_time = NOW.astimezone(ZoneInfo("Europe/Paris"))
    run = dry_run(campaign(email("a")), situation(), paris_time)
    assert run.steps[0].at.tzinfo is UTC
