"""engine.advance: table-driven, one row per step type and rule.

Each row gives a definition, the state it resumes from and the situation, and the exact commands
and trace the engine must return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from relance.automation.cohorts import choose_branch
from relance.automation.conditions import Channel, MessageRecord
from relance.automation.definitions import (
    CallWebhookStep,
    CampaignDefinition,
    CreateDiscountStep,
    DelayStep,
    ExitOnCondition,
    ExitStep,
    RandomBranch,
    RandomSplitStep,
    SendPushStep,
    SendSmsStep,
    SplitBranch,
    SplitStep,
    TagAction,
    UpdateContactStep,
    WaitUntilStep,
)
from relance.automation.engine import (
    ApplyContactActions,
    CapMode,
    Command,
    Complete,
    ConsentMode,
    CreateDiscount,
    Deliver,
    EnrollmentState,
    ScheduleWakeup,
    SendingPolicy,
    Situation,
    TraceEntry,
    advance,
)
from tests.automation.factories import NOW, campaign, condition, email, language_is, situation
from tests.automation.factories import tagged as has_tag

HOUR = timedelta(hours=1)
OPT_OUT = SendingPolicy(consent_mode=ConsentMode.OPT_OUT)
CAP_SKIP = SendingPolicy(frequency_cap_seconds=2 * 3600)
CAP_DEFER = SendingPolicy(frequency_cap_seconds=2 * 3600, frequency_cap_mode=CapMode.DEFER)
EMAIL_1H_AGO = MessageRecord(Channel.EMAIL, NOW - HOUR, "newsletter")
SMS = SendSmsStep(id="s", text={"en": "Hi"})
PUSH = SendPushStep(id="p", title={"en": "Hi"}, body={"en": "Yo"})


def send(
    step_id: str,
    channel: Channel | None = Channel.EMAIL,
    *,
    category: str | None = None,
    transactional: bool = False,
) -> Deliver:
    return Deliver(step_id, channel, category, transactional)


#: The branch (step "a" or "b") contact-1 takes at split "r" of campaign-1, weights 1:1.
RANDOM_BRANCH = "ab"[choose_branch("contact-1", "campaign-1", "r", [1, 1])]


def trace(*entries: tuple[str, str, str]) -> list[TraceEntry]:
    return [TraceEntry(*entry) for entry in entries]


@dataclass
class Case:
    definition: CampaignDefinition
    commands: Sequence[Command]
    trace: Sequence[TraceEntry]
    at: str | None = None  #: the state's step (default: the entry step)
    deferrals: int = 0
    situation: Situation = field(default_factory=situation)


CASES = {
    # --- messages, consent ---
    "email to a subscribed contact, then the end": Case(
        campaign(email("a")),
        [send("a"), Complete("completed")],
        trace(("a", "send", "email"), ("a", "completed", "completed")),
    ),
    "opt-in skips a pending contact and goes on": Case(
        campaign(email("a", "b"), email("b", transactional=True)),
        [send("b", transactional=True), Complete("completed")],
        trace(
            ("a", "skipped", "no_consent"),
            ("b", "send", "email · transactional"),
            ("b", "completed", "completed"),
        ),
        situation=situation(consents={"email": "pending"}),
    ),
    "opt-in skips a contact with no consent record": Case(
        campaign(email("a")),
        [Complete("completed")],
        trace(("a", "skipped", "no_consent"), ("a", "completed", "completed")),
        situation=situation(consents={}),
    ),
    "opt-out reaches a contact with no consent record": Case(
        campaign(email("a")),
        [send("a"), Complete("completed")],
        trace(("a", "send", "email"), ("a", "completed", "completed")),
        situation=situation(OPT_OUT, consents={}),
    ),
    "opt-out refuses pending": Case(
        campaign(email("a")),
        [Complete("completed")],
        trace(("a", "skipped", "no_consent"), ("a", "completed", "completed")),
        situation=situation(OPT_OUT, consents={"email": "pending"}),
    ),
    "opt-out refuses unsubscribed": Case(
        campaign(email("a")),
        [Complete("completed")],
        trace(("a", "skipped", "no_consent"), ("a", "completed", "completed")),
        situation=situation(OPT_OUT, consents={"email": "unsubscribed"}),
    ),
    "transactional needs no consent": Case(
        campaign(email("a", transactional=True)),
        [send("a", transactional=True), Complete("completed")],
        trace(("a", "send", "email · transactional"), ("a", "completed", "completed")),
        situation=situation(consents={"email": "unsubscribed"}),
    ),
    "sms and push ask their own channel's consent": Case(
        campaign(SMS.model_copy(update={"next": "p"}), PUSH),
        [send("s", Channel.SMS), Complete("completed")],
        trace(
            ("s", "send", "sms"),
            ("p", "skipped", "no_consent"),
            ("p", "completed", "completed"),
        ),
        situation=situation(consents={"sms": "subscribed", "email": "subscribed"}),
    ),
    "the step's category wins over the campaign's": Case(
        campaign(email("a", "b", category="cross-sell"), email("b"), category="default"),
        [
            send("a", category="cross-sell"),
            send("b", category="default"),
            Complete("completed"),
        ],
        trace(
            ("a", "send", "email · cross-sell"),
            ("b", "send", "email · default"),
            ("b", "completed", "completed"),
        ),
    ),
    "call_webhook is transactional and needs no consent": Case(
        campaign(CallWebhookStep(id="w", url="https://hooks.example/x", method="PUT")),
        [send("w", None, transactional=True), Complete("completed")],
        trace(("w", "send", "webhook PUT"), ("w", "completed", "completed")),
        situation=situation(consents={}),
    ),
    # --- frequency cap ---
    "skip mode: an email an hour ago holds the next one back": Case(
        campaign(email("a", "b"), SMS.model_copy(update={"id": "b"})),
        [send("b", Channel.SMS), Complete("completed")],
        trace(
            ("a", "skipped", "frequency_cap"),
            ("b", "send", "sms"),
            ("b", "completed", "completed"),
        ),
        situation=situation(CAP_SKIP, messages=(EMAIL_1H_AGO,)),
    ),
    "the cap's window is half-open: exactly cap ago sends": Case(
        campaign(email("a")),
        [send("a"), Complete("completed")],
        trace(("a", "send", "email"), ("a", "completed", "completed")),
        situation=situation(
            CAP_SKIP, messages=(MessageRecord(Channel.EMAIL, NOW - 2 * HOUR, None),)
        ),
    ),
    "transactional emails and other channels do not count toward the cap": Case(
        campaign(email("a")),
        [send("a"), Complete("completed")],
        trace(("a", "send", "email"), ("a", "completed", "completed")),
        situation=situation(
            CAP_SKIP,
            messages=(
                MessageRecord(Channel.EMAIL, NOW - HOUR, None, transactional=True),
                MessageRecord(Channel.SMS, NOW - HOUR, None),
            ),
        ),
    ),
    "a transactional email ignores the cap": Case(
        campaign(email("a", transactional=True)),
        [send("a", transactional=True), Complete("completed")],
        trace(("a", "send", "email · transactional"), ("a", "completed", "completed")),
        situation=situation(CAP_SKIP, messages=(EMAIL_1H_AGO,)),
    ),
    "an email sent earlier in the same run counts": Case(
        campaign(email("a", "b"), email("b")),
        [send("a"), Complete("completed")],
        trace(
            ("a", "send", "email"),
            ("b", "skipped", "frequency_cap"),
            ("b", "completed", "completed"),
        ),
        situation=situation(CAP_SKIP),
    ),
    "defer mode: wait until the cap's window has passed": Case(
        campaign(email("a")),
        [ScheduleWakeup(NOW + HOUR, "a", deferrals=1)],
        trace(("a", "deferred", "frequency_cap until 2026-11-23T11:00:00+00:00")),
        situation=situation(CAP_DEFER, messages=(EMAIL_1H_AGO,)),
    ),
    "defer mode counts the deferrals so far": Case(
        campaign(email("a")),
        [ScheduleWakeup(NOW + HOUR, "a", deferrals=3)],
        trace(("a", "deferred", "frequency_cap until 2026-11-23T11:00:00+00:00")),
        deferrals=2,
        situation=situation(CAP_DEFER, messages=(EMAIL_1H_AGO,)),
    ),
    "defer mode skips after max_deferrals": Case(
        campaign(email("a")),
        [Complete("completed")],
        trace(("a", "skipped", "frequency_cap"), ("a", "completed", "completed")),
        deferrals=3,
        situation=situation(CAP_DEFER, messages=(EMAIL_1H_AGO,)),
    ),
    "a later step starts with no deferrals": Case(
        campaign(email("a", "b"), email("b")),
        [send("a"), ScheduleWakeup(NOW + 2 * HOUR, "b", deferrals=1)],
        trace(
            ("a", "send", "email"),
            ("b", "deferred", "frequency_cap until 2026-11-23T12:00:00+00:00"),
        ),
        deferrals=2,
        situation=situation(CAP_DEFER),
    ),
    # --- waits ---
    "delay schedules the next step": Case(
        campaign(DelayStep(id="d", seconds=7200, next="a"), email("a")),
        [ScheduleWakeup(NOW + 2 * HOUR, "a")],
        trace(("d", "wait", "until 2026-11-23T12:00:00+00:00")),
    ),
    "a delay with nothing after it completes at once": Case(
        campaign(DelayStep(id="d", seconds=60)),
        [Complete("completed")],
        trace(("d", "wait", "until 2026-11-23T10:01:00+00:00"), ("d", "completed", "completed")),
    ),
    "wait_until a time of day in the contact's zone": Case(
        campaign(WaitUntilStep(id="w", at=time(8), next="a"), email("a")),
        [ScheduleWakeup(datetime(2026, 11, 24, 7, tzinfo=UTC), "a")],
        trace(("w", "wait", "until 2026-11-24T07:00:00+00:00")),
        situation=situation(time_zone="Europe/Paris"),
    ),
    "wait_until falls back on the store's zone": Case(
        campaign(WaitUntilStep(id="w", at=time(8), next="a"), email("a")),
        [ScheduleWakeup(datetime(2026, 11, 23, 13, tzinfo=UTC), "a")],
        trace(("w", "wait", "until 2026-11-23T13:00:00+00:00")),
        situation=situation(time_zone="Not/AZone", store_time_zone="America/New_York"),
    ),
    "wait_until inside its window goes on at once": Case(
        campaign(
            WaitUntilStep(id="w", window_start=time(9), window_end=time(17), next="a"),
            email("a"),
        ),
        [send("a"), Complete("completed")],
        trace(("w", "wait", "no wait"), ("a", "send", "email"), ("a", "completed", "completed")),
        situation=situation(time_zone="Europe/Paris"),
    ),
    "wait_until a window on allowed weekdays": Case(
        campaign(
            WaitUntilStep(
                id="w",
                window_start=time(9),
                window_end=time(17),
                weekdays=("sat",),
                next="a",
            ),
            email("a"),
        ),
        [ScheduleWakeup(datetime(2026, 11, 28, 8, tzinfo=UTC), "a")],
        trace(("w", "wait", "until 2026-11-28T08:00:00+00:00")),
        situation=situation(time_zone="Europe/Paris"),
    ),
    "wait_until with neither at nor window waits for an allowed day": Case(
        campaign(WaitUntilStep(id="w", weekdays=("wed",), next="a"), email("a")),
        [ScheduleWakeup(datetime(2026, 11, 24, 23, tzinfo=UTC), "a")],
        trace(("w", "wait", "until 2026-11-24T23:00:00+00:00")),
        situation=situation(time_zone="Europe/Paris"),
    ),
    "wait_until ignores half a window": Case(
        campaign(WaitUntilStep(id="w", window_start=time(20), next="a"), email("a")),
        [send("a"), Complete("completed")],
        trace(("w", "wait", "no wait"), ("a", "send", "email"), ("a", "completed", "completed")),
    ),
    # --- splits ---
    "split takes the first branch that holds": Case(
        campaign(
            SplitStep(
                id="s",
                branches=(
                    SplitBranch(label="German", condition=language_is("de"), next="de"),
                    SplitBranch(label="French", condition=language_is("fr"), next="fr"),
                    SplitBranch(label="French too", condition=language_is("fr"), next="de"),
                ),
                default_next="en",
            ),
            email("de"),
            email("fr"),
            email("en"),
        ),
        [send("fr"), Complete("completed")],
        trace(("s", "branch", "French"), ("fr", "send", "email"), ("fr", "completed", "completed")),
        situation=situation(language="fr"),
    ),
    "split falls to its default": Case(
        campaign(
            SplitStep(
                id="s",
                branches=(SplitBranch(label="German", condition=language_is("de"), next="de"),),
                default_next="en",
            ),
            email("de"),
            email("en"),
        ),
        [send("en"), Complete("completed")],
        trace(
            ("s", "branch", "default"), ("en", "send", "email"), ("en", "completed", "completed")
        ),
    ),
    "a branch without next completes": Case(
        campaign(
            SplitStep(
                id="s",
                branches=(SplitBranch(label="VIP", condition=has_tag("vip")),),
                default_next="a",
            ),
            email("a"),
        ),
        [Complete("completed")],
        trace(("s", "branch", "VIP"), ("s", "completed", "completed")),
        situation=situation(tags=frozenset({"vip"})),
    ),
    "random split follows cohorts.choose_branch": Case(
        campaign(
            RandomSplitStep(
                id="r",
                branches=(
                    RandomBranch(label="A", weight=1, next="a"),
                    RandomBranch(label="B", weight=1, next="b"),
                ),
            ),
            email("a"),
            email("b"),
        ),
        [send(RANDOM_BRANCH), Complete("completed")],
        trace(
            ("r", "random_branch", RANDOM_BRANCH.upper()),
            (RANDOM_BRANCH, "send", "email"),
            (RANDOM_BRANCH, "completed", "completed"),
        ),
    ),
    "random split with unusable weights stops with an error": Case(
        campaign(
            RandomSplitStep(
                id="r",
                branches=(
                    RandomBranch(label="A", weight=0, next="a"),
                    RandomBranch(label="B", weight=0),
                ),
            ),
            email("a"),
        ),
        [Complete("invalid_step")],
        trace(("r", "error", "invalid_step")),
    ),
    # --- contact, discount, exit ---
    "update_contact queues its actions and goes on, its tags visible to later steps": Case(
        campaign(
            UpdateContactStep(id="u", actions=(TagAction(op="add_tag", tag="vip"),), next="s"),
            SplitStep(
                id="s",
                branches=(SplitBranch(label="VIP", condition=has_tag("vip"), next="a"),),
                default_next="x",
            ),
            email("a"),
            ExitStep(id="x"),
        ),
        [
            ApplyContactActions("u", (TagAction(op="add_tag", tag="vip"),)),
            send("a"),
            Complete("completed"),
        ],
        trace(
            ("u", "update_contact", "add_tag"),
            ("s", "branch", "VIP"),
            ("a", "send", "email"),
            ("a", "completed", "completed"),
        ),
    ),
    "create_discount suspends the run": Case(
        campaign(
            email("a", "d"),
            CreateDiscountStep(id="d", kind="fixed", value=Decimal(5), next="b"),
            email("b"),
        ),
        [
            send("a"),
            CreateDiscount(CreateDiscountStep(id="d", kind="fixed", value=Decimal(5), next="b")),
        ],
        trace(("a", "send", "email"), ("d", "create_discount", "fixed 5")),
    ),
    "an exit step removes the contact": Case(
        campaign(email("a", "x"), ExitStep(id="x")),
        [send("a"), Complete("exit_step", exited=True)],
        trace(("a", "send", "email"), ("x", "exited", "exit_step")),
    ),
    "resuming at an unknown step ends with an error": Case(
        campaign(email("a")),
        [Complete("unknown_step")],
        trace(("gone", "error", "unknown_step")),
        at="gone",
    ),
    "a link to an unknown step ends with an error": Case(
        campaign(email("a", "gone")),
        [send("a"), Complete("unknown_step")],
        trace(("a", "send", "email"), ("gone", "error", "unknown_step")),
    ),
    "a cycle stops after len(steps) + 1 steps": Case(
        campaign(
            UpdateContactStep(id="u", actions=(TagAction(op="add_tag", tag="t"),), next="v"),
            UpdateContactStep(id="v", actions=(TagAction(op="add_tag", tag="t"),), next="u"),
        ),
        [ApplyContactActions(s, (TagAction(op="add_tag", tag="t"),)) for s in "uvu"]
        + [Complete("step_limit")],
        trace(*[(s, "update_contact", "add_tag") for s in "uvu"], ("v", "error", "step_limit")),
    ),
    # --- exit rules, checked before every step ---
    "an exit condition that holds removes the contact before anything runs": Case(
        campaign(email("a"), exit_rules=(ExitOnCondition(condition=has_tag("customer")),)),
        [Complete("exit_condition", exited=True)],
        trace(("a", "exited", "exit_condition")),
        situation=situation(tags=frozenset({"customer"})),
    ),
    "an exit condition met mid-run removes the contact before the next step": Case(
        campaign(
            email("a", "b", category="promo"),
            email("b"),
            exit_rules=(
                ExitOnCondition(
                    condition=condition(
                        {
                            "type": "message_count",
                            "channel": "email",
                            "category": "promo",
                            "op": "gte",
                            "value": 1,
                        }
                    )
                ),
            ),
        ),
        [send("a", category="promo"), Complete("exit_condition", exited=True)],
        trace(("a", "send", "email · promo"), ("b", "exited", "exit_condition")),
    ),
    "with exit_when_filter_fails a contact failing the filter leaves": Case(
        campaign(email("a"), entry_filter=language_is("fr"), exit_when_filter_fails=True),
        [Complete("entry_filter_failed", exited=True)],
        trace(("a", "exited", "entry_filter_failed")),
        situation=situation(language="de"),
    ),
    "by default a contact failing the filter keeps going": Case(
        campaign(email("a"), entry_filter=language_is("fr")),
        [send("a"), Complete("completed")],
        trace(("a", "send", "email"), ("a", "completed", "completed")),
        situation=situation(language="de"),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_advance(case: Case) -> None:
    # given a definition, the step the enrollment is at and what is known of the contact
    state = EnrollmentState(case.at or case.definition.entry_step, case.deferrals)
    # when the engine runs
    outcome = advance(case.definition, state, case.situation, NOW)
    # then it returns exactly these commands and trace
    assert list(outcome.commands) == case.commands
    assert list(outcome.trace) == case.trace
    # and the run ends with one wait, suspension or end, nothing after it
    terminal = [
        c for c in outcome.commands if isinstance(c, ScheduleWakeup | CreateDiscount | Complete)
    ]
    assert terminal == [outcome.commands[-1]]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        advance(campaign(email("a")), EnrollmentState("a"), situation(), datetime(2026, 1, 1))


def test_the_same_inputs_give_the_same_decisions() -> None:
    # given a campaign with every kind of decision
    definition = campaign(
        email("a", "r"),
        RandomSplitStep(
            id="r",
            branches=(
                RandomBranch(label="A", weight=3, next="w"),
                RandomBranch(label="B", weight=1, next="w"),
            ),
        ),
        WaitUntilStep(id="w", at=time(9), next="b"),
        email("b"),
    )
    # when it runs twice (a retry)
    first = advance(definition, EnrollmentState("a"), situation(time_zone="Europe/Paris"), NOW)
    again = advance(definition, EnrollmentState("a"), situation(time_zone="Europe/Paris"), NOW)
    # then it decides the same
    assert first == again
