"""The engine: a pure step function over a campaign definition.

:func:`advance` runs an enrollment from its current step until it must wait, suspend for a
platform call, or end, and returns the commands for the outer layers to carry out, in order, with
a trace entry for every decision. It never performs I/O and never reads the clock: ``now`` is an
argument. The loop runs at most ``len(definition.steps) + 1`` steps, so a malformed graph (a
cycle validation would refuse) cannot spin: it ends with ``Complete("step_limit")``.

Before every step the exit conditions (``ExitOnCondition`` rules and, with
``exit_when_filter_fails``, the entry filter) are evaluated; exit *events* are the caller's job
(:func:`relance.automation.matching.exit_reason`).

Facts within one call: the engine works on a local copy of ``situation.facts``. Every message it
delivers is appended to that copy's ``messages`` (so the frequency cap and ``message_count``
conditions of later steps see it), and ``update_contact`` actions are reflected into it as far
as :func:`reflect_contact_actions` can do without the outer layers (tags, lists, consent, custom
fields, literal built-in fields). The caller persists the real changes and passes fresh facts to
the next call.

Trace actions (stable codes; ``entered`` is written by the tasks layer):

======================  =============================================================
``send``                a message or webhook call was queued; detail: channel (+ category)
``skipped``             a message step was passed over; detail: ``no_consent`` | ``frequency_cap``
``deferred``            the frequency cap postponed a send; detail: ``frequency_cap until <UTC>``
``wait``                a delay or wait_until; detail: ``until <UTC>`` or ``no wait``
``branch``              a split took a branch; detail: its label, or ``default``
``random_branch``       a random split took a branch; detail: its label
``update_contact``      contact actions were queued; detail: their ``op`` codes
``create_discount``     the enrollment suspends for a discount code; detail: kind and value
``exited``              a rule or an exit step removed the contact; detail: the reason code
``completed``           the enrollment reached its end; detail: ``completed``
``error``               a malformed definition stopped it; detail: the reason code
======================  =============================================================

Details hold codes, step labels, categories and instants only: never personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import assert_never

from relance.automation.cohorts import choose_branch, weight_problems
from relance.automation.conditions import (
    Channel,
    ConsentStatus,
    Facts,
    MessageRecord,
    evaluate,
)
from relance.automation.definitions import (
    WEEKDAY_NAMES,
    AnyStep,
    CallWebhookStep,
    CampaignDefinition,
    ContactAction,
    CopyEventProperty,
    CreateDiscountStep,
    DelayStep,
    ExitOnCondition,
    ExitOnEvent,
    ExitStep,
    ListAction,
    MessageStep,
    RandomSplitStep,
    SendEmailStep,
    SendPushStep,
    SendSmsStep,
    SetCustomField,
    SetField,
    SplitStep,
    TagAction,
    Unsubscribe,
    UpdateContactStep,
    WaitUntilStep,
)
from relance.automation.schedule import (
    ALL_DAY,
    DailyWindow,
    after_delay,
    next_allowed_time,
    resolve_timezone,
    time_of_day,
)


@dataclass(frozen=True, slots=True)
class EnrollmentState:
    """Where an enrollment stands: the id of the step it runs next, and how many times the
    frequency cap already deferred that step (reset to 0 whenever the step changes)."""

    step_id: str
    deferrals: int = 0


class ConsentMode(StrEnum):
    """Which contacts marketing messages may reach (a store setting; stored values)."""

    OPT_IN = "opt_in"  #: only contacts whose consent on the channel is ``subscribed``
    OPT_OUT = "opt_out"  #: every contact except ``unsubscribed`` and ``pending`` ones


class CapMode(StrEnum):
    """What the store-wide frequency cap does to a marketing send it catches (stored values)."""

    SKIP = "skip"  #: skip the step (traced with reason ``frequency_cap``) and go on
    DEFER = "defer"  #: wait until the cap's window has passed, then try the step again


@dataclass(frozen=True, slots=True)
class SendingPolicy:
    """The store's rules for marketing messages (transactional ones ignore them).

    ``frequency_cap_seconds``: "smart sending" — at most one marketing *email* per contact within
    this many seconds (None: no cap). A step deferred ``max_deferrals`` times is skipped instead.
    """

    consent_mode: ConsentMode = ConsentMode.OPT_IN
    frequency_cap_seconds: int | None = None
    frequency_cap_mode: CapMode = CapMode.SKIP
    max_deferrals: int = 3


@dataclass(frozen=True, slots=True)
class Situation:
    """What the engine knows besides the definition and the state, all supplied by the caller.

    ``facts.event`` is the enrollment's context (the trigger's ``DomainEvent.context()`` plus
    what earlier steps added, e.g. ``discount``); ``facts.messages`` must reach back at least as
    far as the definition's conditions and the frequency cap need. ``contact_key`` and
    ``campaign_key`` are stable ids (random splits hash them). ``store_time_zone`` is the
    fallback when ``facts.time_zone`` is missing or unknown.
    """

    facts: Facts
    contact_key: str
    campaign_key: str
    store_time_zone: str = "UTC"
    policy: SendingPolicy = field(default_factory=SendingPolicy)


@dataclass(frozen=True, slots=True)
class Deliver:
    """Queue the message of step ``step_id`` (at most once per enrollment and step).

    ``category`` is the step's, else the campaign's; ``transactional`` is the step's
    (``call_webhook`` is always transactional).
    """

    step_id: str
    channel: Channel | None  #: None for ``call_webhook``
    category: str | None
    transactional: bool


@dataclass(frozen=True, slots=True)
class ApplyContactActions:
    """Apply ``actions`` to the contact, in order (``update_contact`` step ``step_id``)."""

    step_id: str
    actions: tuple[ContactAction, ...]


@dataclass(frozen=True, slots=True)
class CreateDiscount:
    """Suspend here: create the single-use code of ``step``, store it in the enrollment's
    context as ``discount``, then advance again from ``step.next`` (None: complete).

    Always the last command of an :class:`Advance`.
    """

    step: CreateDiscountStep


@dataclass(frozen=True, slots=True)
class ScheduleWakeup:
    """Stop here and run ``step_id`` at ``at`` (UTC); ``deferrals`` is the new state's."""

    at: datetime
    step_id: str
    deferrals: int = 0


@dataclass(frozen=True, slots=True)
class Complete:
    """The enrollment has ended. ``exited`` is True when a rule removed the contact before the
    end (exit step, exit rule, filter) — reported as "exited" rather than "completed".

    ``reason`` is a stable code: ``completed``, ``exit_step``, ``exit_condition``,
    ``entry_filter_failed`` (exited), ``unknown_step``, ``step_limit``, ``invalid_step`` (a
    malformed definition that validation refuses: a ``random_split`` whose weights cannot be
    used).
    """

    reason: str
    exited: bool = False


Command = Deliver | ApplyContactActions | CreateDiscount | ScheduleWakeup | Complete


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One decision, for the enrollment's trace: what happened at which step and why.

    ``action`` is a stable code (see :func:`advance`); ``detail`` is short, human-readable and
    never holds personal data (no email addresses, no names).
    """

    step_id: str
    action: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Advance:
    """What :func:`advance` decided: commands to carry out and trace entries to record.

    Invariant: the last command is always a :class:`ScheduleWakeup`, a :class:`CreateDiscount`
    or a :class:`Complete`, and nothing follows it.
    """

    commands: tuple[Command, ...]
    trace: tuple[TraceEntry, ...]


def advance(
    definition: CampaignDefinition, state: EnrollmentState, situation: Situation, now: datetime
) -> Advance:
    """Run steps from ``state`` until the enrollment waits, suspends or ends. Pure.

    Parameters:
        definition(CampaignDefinition): the enrollment's campaign version.
        state(EnrollmentState): the step to run now; ``deferrals`` counts that step's
            frequency-cap deferrals so far.
        situation(Situation): facts, keys, store time zone and sending policy.
        now(datetime): aware; the instant of this run (the wake-up time, or the event's).

    Returns:
        Advance: commands in order, the last one a :class:`ScheduleWakeup`,
        :class:`CreateDiscount` or :class:`Complete`; a trace entry per decision.

    Raises:
        ValueError: ``now`` is naive (a programming error; definitions and facts never make it
            raise).

    Idempotent: the same inputs give the same result, so a retried run decides the same thing.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return _Run(definition, situation, now.astimezone(UTC)).run(state)


def reflect_contact_actions(facts: Facts, actions: Sequence[ContactAction]) -> Facts:
    """``facts`` as they will be once ``actions`` are applied, as far as that is knowable here.

    Reflected: tags, lists, ``unsubscribe`` (consent becomes ``unsubscribed``),
    ``set_custom_field``, and ``set_field`` when its value is ``None`` or holds no template
    syntax (no ``{``). Not reflected (the tasks layer resolves them): templated ``set_field``
    values and ``copy_event_property``. Pure.
    """
    tags, lists = set(facts.tags), set(facts.lists)
    consents, custom = dict(facts.consents), dict(facts.custom_fields)
    fields: dict[str, str | None] = {}
    for action in actions:
        match action:
            case TagAction():
                (tags.add if action.op == "add_tag" else tags.discard)(action.tag)
            case ListAction():
                (lists.add if action.op == "add_to_list" else lists.discard)(action.list_id)
            case Unsubscribe():
                consents[action.channel.value] = ConsentStatus.UNSUBSCRIBED.value
            case SetCustomField():
                if action.value is None:
                    custom.pop(action.key, None)
                else:
                    custom[action.key] = action.value
            case SetField():
                if action.value is None or "{" not in action.value:
                    fields[action.field] = action.value
            case CopyEventProperty():
                pass
            case _:
                assert_never(action)
    return replace(
        facts,
        tags=frozenset(tags),
        lists=frozenset(lists),
        consents=consents,
        custom_fields=custom,
        **fields,  # type: ignore[arg-type]
    )


# --- the run -------------------------------------------------------------------------------


_CHANNELS: dict[type[MessageStep], Channel] = {
    SendEmailStep: Channel.EMAIL,
    SendSmsStep: Channel.SMS,
    SendPushStep: Channel.PUSH,
}
_REFUSED_IN_OPT_OUT = frozenset({ConsentStatus.UNSUBSCRIBED.value, ConsentStatus.PENDING.value})


class _Stop(Exception):
    """Raised once the run's last command is recorded; caught by :meth:`_Run.run`."""


class _Run:
    """One call of :func:`advance`: the commands and trace so far, and the local facts."""

    def __init__(self, definition: CampaignDefinition, situation: Situation, now: datetime):
        self.definition = definition
        self.situation = situation
        self.now = now
        self.facts = situation.facts
        self.steps: dict[str, AnyStep] = {}
        for step in definition.steps:
            self.steps.setdefault(step.id, step)  # like definition.step(): the first one wins
        self.commands: list[Command] = []
        self.trace: list[TraceEntry] = []

    def run(self, state: EnrollmentState) -> Advance:
        deferrals = state.deferrals
        try:
            step_id = state.step_id
            for _ in range(len(self.definition.steps) + 1):
                self._check_exit(step_id)
                step = self.steps.get(step_id)
                if step is None:
                    raise self._end(step_id, "error", "unknown_step")
                following = self._run_step(step, deferrals)
                if following is None:
                    raise self._end(step.id, "completed", "completed")
                step_id, deferrals = following, 0
            raise self._end(step_id, "error", "step_limit")
        except _Stop:
            pass
        return Advance(tuple(self.commands), tuple(self.trace))

    # --- bookkeeping ---

    def _note(self, step_id: str, action: str, detail: str = "") -> None:
        self.trace.append(TraceEntry(step_id, action, detail))

    def _stop(self, command: Command) -> _Stop:
        """Record the run's last command; the caller raises what this returns."""
        self.commands.append(command)
        return _Stop()

    def _end(self, step_id: str, action: str, reason: str) -> _Stop:
        """Trace and record the end of the enrollment; the caller raises what this returns."""
        self._note(step_id, action, reason)
        return self._stop(Complete(reason, exited=action == "exited"))

    def _check_exit(self, step_id: str) -> None:
        for rule in self.definition.exit_rules:
            match rule:
                case ExitOnCondition():
                    if evaluate(rule.condition, self.facts, self.now):
                        raise self._end(step_id, "exited", "exit_condition")
                case ExitOnEvent():
                    pass  # events are matched by matching.exit_reason, not here
                case _:
                    assert_never(rule)
        entry_filter = self.definition.entry_filter
        if (
            self.definition.exit_when_filter_fails
            and entry_filter is not None
            and not evaluate(entry_filter, self.facts, self.now)
        ):
            raise self._end(step_id, "exited", "entry_filter_failed")

    # --- steps: each returns the next step's id (None: completed) or stops the run ---

    def _run_step(self, step: AnyStep, deferrals: int) -> str | None:
        match step:
            case SendEmailStep() | SendSmsStep() | SendPushStep():
                return self._message(step, deferrals)
            case CallWebhookStep():
                self._deliver(step.id, None, None, transactional=True)
                self._note(step.id, "send", f"webhook {step.method}")
                return step.next
            case DelayStep():
                return self._wait(step, after_delay(self.now, step.seconds))
            case WaitUntilStep():
                return self._wait(step, self._wait_target(step))
            case SplitStep():
                return self._split(step)
            case RandomSplitStep():
                return self._random_split(step)
            case UpdateContactStep():
                self.commands.append(ApplyContactActions(step.id, step.actions))
                self._note(step.id, "update_contact", ", ".join(a.op for a in step.actions))
                self.facts = reflect_contact_actions(self.facts, step.actions)
                return step.next
            case CreateDiscountStep():
                self._note(step.id, "create_discount", f"{step.kind} {step.value}")
                raise self._stop(CreateDiscount(step))
            case ExitStep():
                raise self._end(step.id, "exited", "exit_step")
            case _:
                assert_never(step)

    def _message(self, step: MessageStep, deferrals: int) -> str | None:
        channel = _CHANNELS[type(step)]
        category = step.category or self.definition.category
        if not step.transactional:
            if not self._consents(channel):
                self._note(step.id, "skipped", "no_consent")
                return step.next
            if channel is Channel.EMAIL:
                capped_until = self._capped_until()
                if capped_until is not None:
                    policy = self.situation.policy
                    if policy.frequency_cap_mode is CapMode.SKIP or (
                        deferrals >= policy.max_deferrals
                    ):
                        self._note(step.id, "skipped", "frequency_cap")
                        return step.next
                    self._note(step.id, "deferred", f"frequency_cap until {_iso(capped_until)}")
                    raise self._stop(ScheduleWakeup(capped_until, step.id, deferrals + 1))
        self._deliver(step.id, channel, category, transactional=step.transactional)
        detail = channel.value if category is None else f"{channel.value} · {category}"
        self._note(step.id, "send", detail + (" · transactional" if step.transactional else ""))
        return step.next

    def _consents(self, channel: Channel) -> bool:
        status = self.facts.consents.get(channel.value, ConsentStatus.NONE.value)
        if self.situation.policy.consent_mode is ConsentMode.OPT_IN:
            return status == ConsentStatus.SUBSCRIBED.value
        return status not in _REFUSED_IN_OPT_OUT

    def _capped_until(self) -> datetime | None:
        """When the store's cap lets the next marketing email go, if it holds one back now."""
        seconds = self.situation.policy.frequency_cap_seconds
        if seconds is None or seconds <= 0:
            return None
        cap = timedelta(seconds=seconds)
        last = max(
            (
                sent
                for message in self.facts.messages
                if message.channel == Channel.EMAIL
                and not message.transactional
                and (sent := _aware(message.sent_at)) is not None
            ),
            default=None,
        )
        if last is None or last + cap <= self.now:
            return None
        return last + cap

    def _deliver(
        self, step_id: str, channel: Channel | None, category: str | None, *, transactional: bool
    ) -> None:
        self.commands.append(Deliver(step_id, channel, category, transactional))
        if channel is not None:
            record = MessageRecord(channel, self.now, category, transactional)
            self.facts = replace(self.facts, messages=(*self.facts.messages, record))

    def _wait(self, step: DelayStep | WaitUntilStep, until: datetime) -> str | None:
        if until <= self.now:
            self._note(step.id, "wait", "no wait")
            return step.next
        self._note(step.id, "wait", f"until {_iso(until)}")
        if step.next is not None:
            raise self._stop(ScheduleWakeup(until, step.next))
        return None  # nothing follows the wait: the enrollment completes now

    def _wait_target(self, step: WaitUntilStep) -> datetime:
        """The local moment ``step`` waits for. ``at`` wins over a window; half a window (a
        validation error) is ignored, as if none were set."""
        tz = resolve_timezone(self.facts.time_zone, self.situation.store_time_zone)
        weekdays = frozenset(WEEKDAY_NAMES.index(day) for day in step.weekdays)
        if step.at is not None:
            return time_of_day(self.now, tz, step.at, weekdays)
        window = ALL_DAY
        if step.window_start is not None and step.window_end is not None:
            window = DailyWindow(step.window_start, step.window_end)
        return next_allowed_time(self.now, tz=tz, window=window, weekdays=weekdays)

    def _split(self, step: SplitStep) -> str | None:
        for branch in step.branches:
            if evaluate(branch.condition, self.facts, self.now):
                self._note(step.id, "branch", branch.label)
                return branch.next
        self._note(step.id, "branch", "default")
        return step.default_next

    def _random_split(self, step: RandomSplitStep) -> str | None:
        weights = [branch.weight for branch in step.branches]
        if weight_problems(weights):
            raise self._end(step.id, "error", "invalid_step")
        index = choose_branch(
            self.situation.contact_key, self.situation.campaign_key, step.id, weights
        )
        branch = step.branches[index]
        self._note(step.id, "random_branch", branch.label)
        return branch.next


def _aware(moment: datetime) -> datetime | None:
    """``moment`` in UTC (naive is read as UTC, as conditions do); None if UTC cannot hold it."""
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
