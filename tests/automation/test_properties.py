"""Invariants of the campaign engine, checked on generated campaigns and contacts (hypothesis).

- every enrollment ends: replaying ``advance`` with each wait elapsed ends within the number of
  steps + 1 runs (plus the cap's deferrals), the clock only moving forward, and its trace holds
  no personal data;
- an exit rule always removes the contact, from any step;
- repeatability and entry limits hold over any sequence of triggers and endings;
- ``wait_until`` lands inside its window (or on its time of day) on the contact's local wall
  clock, DST changes included, and no earlier allowed instant is skipped;
- a random split is stable per contact and campaign, and proportional;
- validation reports every violation seeded into a valid campaign, and nothing else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.automation.conditions import Facts, MessageRecord, parse_condition
from relance.automation.definitions import (
    WEEKDAY_NAMES,
    AnyStep,
    CampaignDefinition,
    EventTrigger,
    ExitOnCondition,
    ExitOnEvent,
    RandomBranch,
    RandomSplitStep,
    Repeatability,
    SendEmailStep,
    SendSmsStep,
    SplitStep,
    WaitUntilStep,
)
from relance.automation.engine import (
    ApplyContactActions,
    CapMode,
    Complete,
    CreateDiscount,
    Deliver,
    EnrollmentState,
    ScheduleWakeup,
    SendingPolicy,
    Situation,
    TraceEntry,
    advance,
    reflect_contact_actions,
)
from relance.automation.matching import EnrollmentHistory, decide_entry, exit_reason
from relance.automation.validation import validate
from tests.automation.factories import campaign, email, situation
from tests.automation.strategies import (
    DESIGNS,
    definitions,
    facts,
    instants,
    policies,
    quarter_times,
)

PROPERTY = settings(max_examples=60, deadline=None)
STOP = parse_condition({"type": "tags", "op": "has_any", "tags": ["stop"]})


# --- every enrollment ends -------------------------------------------------------------------


def play(
    definition: CampaignDefinition, who: Situation, now: datetime
) -> tuple[int, list[TraceEntry], Complete]:
    """Replay an enrollment as the tasks layer would, every wait elapsing: (runs, trace, end)."""
    state: EnrollmentState | None = EnrollmentState(definition.entry_step)
    runs, current = 0, who.facts
    trace: list[TraceEntry] = []
    while state is not None:
        runs += 1
        assert runs <= 10 * len(definition.steps) + 10, "the enrollment never ends"
        result = advance(definition, state, replace(who, facts=current), now)
        trace += result.trace
        *done, last = result.commands
        for command in done:
            assert isinstance(command, Deliver | ApplyContactActions)
            if isinstance(command, Deliver) and command.channel is not None:
                record = MessageRecord(
                    command.channel, now, command.category, command.transactional
                )
                current = replace(current, messages=(*current.messages, record))
            elif isinstance(command, ApplyContactActions):
                current = reflect_contact_actions(current, command.actions)
        match last:
            case ScheduleWakeup():
                assert last.at > now, "a wake-up is always later"
                now, state = last.at, EnrollmentState(last.step_id, last.deferrals)
            case CreateDiscount():
                state = None if last.step.next is None else EnrollmentState(last.step.next)
                if state is None:
                    return runs, trace, Complete("completed")
            case Complete():
                return runs, trace, last
            case _:
                raise AssertionError(f"a run ended on {last!r}")
    raise AssertionError("unreachable")


@PROPERTY
@given(data=st.data(), definition=definitions(), now=instants, policy=policies)
def test_every_enrollment_ends(
    data: st.DataObject, definition: CampaignDefinition, now: datetime, policy: SendingPolicy
) -> None:
    # given a valid campaign, any contact and any store policy
    assert validate(definition, DESIGNS) == []
    contact = replace(data.draw(facts(now)), email="zoe.secret@example.com", first_name="Zoé")
    who = Situation(contact, "contact", "campaign", "Europe/Paris", policy)
    # when the enrollment is replayed with every wait elapsing
    runs, trace, end = play(definition, who, now)
    # then it ends normally, within steps + 1 runs, plus one per deferral the cap allows
    emails = sum(isinstance(step, SendEmailStep) for step in definition.steps)
    deferrals = policy.max_deferrals * emails if policy.frequency_cap_mode is CapMode.DEFER else 0
    assert runs <= len(definition.steps) + 1 + deferrals
    assert end.reason in {"completed", "exit_step"}
    assert trace[-1].action in {"completed", "exited"}
    # and its trace holds no personal data
    assert not any("zoe" in e.detail.lower() or "Zoé" in e.detail for e in trace)


# --- exit rules ----------------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), definition=definitions(), now=instants, policy=policies)
def test_an_exit_condition_removes_the_contact_from_any_step(
    data: st.DataObject, definition: CampaignDefinition, now: datetime, policy: SendingPolicy
) -> None:
    # given a campaign that removes contacts tagged "stop", and a contact so tagged
    stopping = definition.model_copy(update={"exit_rules": (ExitOnCondition(condition=STOP),)})
    contact = data.draw(facts(now))
    contact = replace(contact, tags=contact.tags | {"stop"})
    step = data.draw(st.sampled_from(definition.steps))
    who = Situation(contact, "contact", "campaign", "UTC", policy)
    # when the enrollment runs at any step
    result = advance(stopping, EnrollmentState(step.id), who, now)
    # then nothing runs: the contact leaves
    assert result.commands == (Complete("exit_condition", exited=True),)
    assert result.trace == (TraceEntry(step.id, "exited", "exit_condition"),)
    # and an event about it says the same
    assert exit_reason(stopping, "message.opened", contact, now) == "exit_condition"


@PROPERTY
@given(
    data=st.data(),
    definition=definitions(max_steps=3),
    now=instants,
    event=st.sampled_from(["order.placed", "custom.churned", "message.clicked"]),
)
def test_an_exit_event_always_removes_the_contact(
    data: st.DataObject, definition: CampaignDefinition, now: datetime, event: str
) -> None:
    # given a campaign with an exit event, among other rules
    rules = (ExitOnCondition(condition=STOP), ExitOnEvent(event=event))
    exiting = definition.model_copy(update={"exit_rules": rules})
    contact = data.draw(facts(now))
    # when that event happens to any contact not otherwise removed
    reason = exit_reason(exiting, event, contact, now)
    # then the contact is removed for that event
    assert reason == ("exit_condition" if "stop" in contact.tags else f"exit_event:{event}")


# --- repeatability and entry limits ----------------------------------------------------------


@PROPERTY
@given(
    repeatability=st.sampled_from(Repeatability),
    limit=st.none() | st.integers(1, 3),
    operations=st.lists(st.sampled_from(["trigger", "finish"]), max_size=30),
)
def test_repeatability_and_entry_limits_hold(
    repeatability: Repeatability, limit: int | None, operations: list[str]
) -> None:
    # given a campaign with any repeatability and entry limit
    definition = campaign(email("a"), repeatability=repeatability, entry_limit=limit)
    total = in_progress = 0
    # when triggers and enrollment endings come in any order
    for operation in operations:
        if operation == "finish":
            in_progress = max(in_progress - 1, 0)
            continue
        history = EnrollmentHistory(total, in_progress)
        decision = decide_entry(
            definition, "order.placed", Facts(), history, datetime(2026, 1, 1, tzinfo=UTC), "c"
        )
        # then a contact is refused only by a rule that applies
        allowed = (limit is None or total < limit) and not (
            (repeatability is Repeatability.ONCE and total > 0)
            or (repeatability is Repeatability.AFTER_EXIT and in_progress > 0)
        )
        assert decision.enroll == allowed
        if decision.enroll:
            total, in_progress = total + 1, in_progress + 1
        # and the rules always hold
        assert limit is None or total <= limit
        assert repeatability is not Repeatability.ONCE or total <= 1
        assert repeatability is not Repeatability.AFTER_EXIT or in_progress <= 1


# --- wait_until on the local wall clock --------------------------------------------------------

WAIT_ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe")


@cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """The zone's offset changes in 2025-2027 (to the minute)."""
    tz, found = ZoneInfo(zone), []
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        following = moment + timedelta(hours=1)
        if following.astimezone(tz).utcoffset() != moment.astimezone(tz).utcoffset():
            change = moment
            while change.astimezone(tz).utcoffset() == moment.astimezone(tz).utcoffset():
                change += timedelta(minutes=1)
            found.append(change)
        moment = following
    return tuple(found)


@st.composite
def near_dst(draw: st.DrawFn, zone: str) -> datetime:
    """An instant within three days of one of the zone's DST changes, to the second."""
    change = draw(st.sampled_from(transitions(zone)))
    return change + timedelta(seconds=draw(st.integers(-3 * 86400, 3 * 86400)))


def wall(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def in_window(instant: datetime, zone: str, start: time, end: time, days: set[int]) -> bool:
    """The oracle: the local wall time lies in [start, start + length) of an allowed day."""
    local = wall(instant, zone)
    length = (datetime.combine(date.min, end) - datetime.combine(date.min, start)) % timedelta(
        days=1
    ) or timedelta(days=1)
    for back in (0, 1):
        day = local.date() - timedelta(days=back)
        opens = datetime.combine(day, start)
        if day.weekday() in days and opens <= local < opens + length:
            return True
    return False


def waited_until(step: WaitUntilStep, zone: str, now: datetime) -> datetime:
    """When the engine lets the contact go on past ``step`` (now when it does not wait)."""
    definition = campaign(step.model_copy(update={"next": "after"}), email("after"))
    who = situation(time_zone=zone, store_time_zone="Asia/Tokyo")
    result = advance(definition, EnrollmentState(step.id), who, now)
    last = result.commands[-1]
    if isinstance(last, ScheduleWakeup):
        assert last.step_id == "after"
        return last.at
    assert result.trace[0] == TraceEntry(step.id, "wait", "no wait")
    return now


weekday_names = st.sets(st.sampled_from(WEEKDAY_NAMES), min_size=1).map(
    lambda days: tuple(day for day in WEEKDAY_NAMES if day in days)
)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    zone=st.sampled_from(WAIT_ZONES),
    start=quarter_times,
    end=quarter_times,
    weekdays=weekday_names,
)
def test_wait_until_lands_inside_its_window_in_local_time(
    data: st.DataObject, zone: str, start: time, end: time, weekdays: tuple[str, ...]
) -> None:
    # given a window on some weekdays, a contact's zone and an instant near a DST change
    now = data.draw(near_dst(zone))
    step = WaitUntilStep(id="w", window_start=start, window_end=end, weekdays=weekdays)
    days = {WEEKDAY_NAMES.index(day) for day in weekdays}
    # when the engine reaches the wait
    until = waited_until(step, zone, now)
    # then the contact goes on inside the window, on the local wall clock
    assert until >= now
    assert in_window(until, zone, start, end, days)
    # and no earlier allowed quarter hour was skipped (every boundary is on a UTC quarter hour)
    moment = now.replace(minute=now.minute // 15 * 15, second=0) + timedelta(minutes=15)
    while moment < until:
        assert not in_window(moment, zone, start, end, days), moment
        moment += timedelta(minutes=15)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), zone=st.sampled_from(WAIT_ZONES), at=quarter_times, weekdays=weekday_names)
def test_wait_until_a_time_of_day_lands_on_it_in_local_time(
    data: st.DataObject, zone: str, at: time, weekdays: tuple[str, ...]
) -> None:
    # given a time of day on some weekdays and an instant near a DST change
    now = data.draw(near_dst(zone))
    step = WaitUntilStep(id="w", at=at, weekdays=weekdays)
    # when the engine reaches the wait
    until = waited_until(step, zone, now)
    local = wall(until, zone)
    # then the contact goes on at that local time on an allowed day — or, when a DST gap
    # swallows it that day, at the first instant after the gap
    assert until >= now
    assert WEEKDAY_NAMES[local.weekday()] in weekdays
    if local.time() != at:
        missing = datetime.combine(local.date(), at)
        assert wall(until - timedelta(microseconds=1), zone) < missing < local
    # and within a week and a day
    assert until - now <= timedelta(days=8)


# --- random split ----------------------------------------------------------------------------


def random_split(weights: tuple[int, ...], *, extra: bool = False) -> CampaignDefinition:
    branches = tuple(
        RandomBranch(label=f"r{n}", weight=w, next=None) for n, w in enumerate(weights)
    )
    steps: list[AnyStep] = [RandomSplitStep(id="ab", branches=branches)]
    if extra:  # a later version of the campaign: the split moved behind a new first step
        steps.insert(0, SendSmsStep(id="intro", text={"en": "hi"}, next="ab"))
    return campaign(*steps)


def branch_taken(definition: CampaignDefinition, contact: str, campaign_key: str = "c") -> str:
    who = Situation(Facts(), contact, campaign_key)
    trace = advance(definition, EnrollmentState(definition.entry_step), who, NOW).trace
    return next(entry.detail for entry in trace if entry.action == "random_branch")


NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


@PROPERTY
@given(
    contact=st.text(min_size=1, max_size=20),
    weights=st.lists(st.integers(0, 50), min_size=2, max_size=5).filter(lambda w: sum(w) > 0),
)
def test_a_random_split_is_stable_per_contact_and_campaign(
    contact: str, weights: list[int]
) -> None:
    # given a contact and a split
    first = branch_taken(random_split(tuple(weights)), contact)
    # when it goes through again, or through a new version of the campaign
    again = branch_taken(random_split(tuple(weights)), contact)
    new_version = branch_taken(random_split(tuple(weights), extra=True), contact)
    # then it takes the same branch, never a paused one
    assert first == again == new_version
    assert weights[int(first[1:])] > 0


def test_a_random_split_is_proportional() -> None:
    # given 6,000 contacts and a 1:3:2 split
    definition = random_split((1, 3, 2))
    # when each goes through
    counts = Counter(branch_taken(definition, f"contact-{n}") for n in range(6_000))
    # then each branch gets its share, within six standard deviations
    for label, share in (("r0", 1 / 6), ("r1", 3 / 6), ("r2", 2 / 6)):
        sigma = (6_000 * share * (1 - share)) ** 0.5
        assert abs(counts[label] - 6_000 * share) <= 6 * sigma, (label, counts)


# --- validation ------------------------------------------------------------------------------

EMPTY_ANY = parse_condition({"type": "any", "conditions": []})


@st.composite
def seeded(draw: st.DrawFn) -> tuple[CampaignDefinition, set[tuple[str, str]], bool]:
    """A valid campaign with violations seeded into it: (definition, expected, may_orphan).

    Local violations (designs, texts, windows, weights, conditions, events, the test list)
    leave the graph alone; at most one graph violation (a cycle, a split without default, an
    unknown link) is added, which may leave later steps unreachable (``may_orphan``).
    """
    definition = draw(definitions())
    steps = list(definition.steps)
    expected: set[tuple[str, str]] = set()
    update: dict[str, object] = {}
    for index, step in enumerate(steps):
        if not draw(st.booleans()):
            continue
        at = f"steps.{index}"
        match step:
            case SendEmailStep():
                steps[index] = step.model_copy(update={"design": "missing"})
                expected.add((f"{at}.design", "unknown_design"))
            case SendSmsStep():
                steps[index] = step.model_copy(update={"text": {"fr": "salut"}})
                expected.add((f"{at}.text", "missing_language"))
            case WaitUntilStep():
                change = {"at": time(8), "window_start": time(9)}
                steps[index] = step.model_copy(update=change)
                expected.add((f"{at}.at", "invalid_window"))
            case RandomSplitStep():
                zero = tuple(b.model_copy(update={"weight": 0}) for b in step.branches)
                steps[index] = step.model_copy(update={"branches": zero})
                expected.add((f"{at}.branches", "invalid_weights"))
            case SplitStep():
                branch = step.branches[0].model_copy(update={"condition": EMPTY_ANY})
                steps[index] = step.model_copy(update={"branches": (branch, *step.branches[1:])})
                expected.add((f"{at}.branches.0.condition", "empty_group"))
            case _:
                pass
    if draw(st.booleans()):
        update["test_mode"] = True
        expected.add(("test_emails", "no_test_emails"))
    if draw(st.booleans()):
        update["trigger"] = EventTrigger(events=("order.placed", "order.teleported"))
        expected.add(("trigger.events.1", "unknown_event"))
    graph = draw(st.sampled_from(["none", "cycle", "no_default", "unknown_link"]))
    with_next = [i for i, s in enumerate(steps) if "next" in type(s).model_fields]
    splits = [i for i, s in enumerate(steps) if isinstance(s, SplitStep)]
    may_orphan = False
    if graph == "cycle" and with_next:
        index = draw(st.sampled_from(with_next))
        steps[index] = steps[index].model_copy(update={"next": steps[0].id})
        expected.add((f"steps.{index}.next", "cycle"))
        may_orphan = True
    elif graph == "no_default" and splits:
        index = draw(st.sampled_from(splits))
        steps[index] = steps[index].model_copy(update={"default_next": None})
        expected.add((f"steps.{index}.default_next", "no_default"))
        may_orphan = True
    elif graph == "unknown_link" and with_next:
        index = draw(st.sampled_from(with_next))
        steps[index] = steps[index].model_copy(update={"next": "nowhere"})
        expected.add((f"steps.{index}.next", "unknown_step"))
        may_orphan = True
    update["steps"] = tuple(steps)
    return definition.model_copy(update=update), expected, may_orphan


@settings(max_examples=100, deadline=None)
@given(seeded())
def test_validation_finds_every_seeded_violation(
    case: tuple[CampaignDefinition, set[tuple[str, str]], bool],
) -> None:
    # given a valid campaign with violations seeded into it
    definition, expected, may_orphan = case
    # when it is validated
    found = {(v.path, v.code) for v in validate(definition, DESIGNS)}
    # then every seeded violation is reported at its path, and nothing else but the steps a
    # broken link orphans
    assert expected <= found
    extra = found - expected
    assert all(code == "unreachable" for _, code in extra), extra
    assert may_orphan or not extra, extra


def test_the_generated_graphs_use_every_step_type() -> None:
    # the strategies above are only as good as their coverage
    seen: set[str] = set()

    @settings(max_examples=80, deadline=None, database=None)
    @given(definitions())
    def collect(definition: CampaignDefinition) -> None:
        seen.update(step.type for step in definition.steps)

    collect()
    assert seen == {
        "send_email",
        "send_sms",
        "send_push",
        "call_webhook",
        "delay",
        "wait_until",
        "split",
        "random_split",
        "update_contact",
        "create_discount",
        "exit",
    }
