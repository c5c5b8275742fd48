"""Campaign definitions: data, not code.

A definition is a trigger, entry rules (filter, test mode, repeatability, entry limit), exit
rules, a default message category and a graph of at most :data:`MAX_STEPS` steps. Steps are a
discriminated union keyed on ``type`` and linked by id (``next``, branch ``next``,
``default_next``); a missing ``next`` ends the enrollment. Stored ``type``, ``op`` and enum values
are part of the JSON format (docs/campaign-format.md): never rename one.

Units: durations are in seconds; times of day are local wall-clock ``HH:MM`` in the contact's
time zone (the store's as fallback); money is a decimal amount in the currency's major unit.

Parsing checks shapes and ranges only; graph rules (reachability, endings, known designs and
languages, branch weights…) are :func:`relance.automation.validation.validate`'s job, so an
editor can save a half-built draft and get every problem at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_serializer,
    model_validator,
)

from relance.automation.conditions import Channel, Condition

#: Most steps a campaign may hold (SPEC.md §2).
MAX_STEPS = 50
#: Longest single delay: one year, in seconds.
MAX_DELAY_SECONDS = 366 * 24 * 3600
#: Most branches of a ``split`` (the default excluded).
MAX_SPLIT_BRANCHES = 20
#: Most addresses in a campaign's test list.
MAX_TEST_EMAILS = 100
#: Most actions one ``update_contact`` step runs.
MAX_CONTACT_ACTIONS = 20

StepId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
#: A message category (``cross-sell``, ``newsletter``…): what frequency rules count.
Category = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
#: An event name: a known :class:`~relance.automation.events.EventType` value or ``custom.<name>``.
EventName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$", max_length=100)]
#: A BCP 47 language tag (``fr``, ``pt-BR``).
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
#: Per-language texts (Jinja2 templates), keyed by language tag.
LocalisedText = Annotated[dict[Language, Annotated[str, Field(max_length=5000)]], Field()]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _naive(moment: time) -> time:
    if moment.tzinfo is not None:
        raise ValueError("a local wall-clock time takes no UTC offset (the contact's zone applies)")
    return moment


#: A local wall-clock time of day, ``HH:MM[:SS]``, without offset.
LocalTime = Annotated[time, AfterValidator(_naive)]
HeaderValue = Annotated[str, Field(max_length=2000)]
#: Weekday names in :meth:`datetime.weekday` order (Monday = 0).
WEEKDAY_NAMES: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Repeatability(StrEnum):
    """How often one contact may enter a campaign (SPEC.md §3)."""

    MULTIPLE = "multiple"  #: every trigger starts a new enrollment
    ONCE = "once"  #: at most one enrollment ever
    AFTER_EXIT = "after_exit"  #: a new one only when none is in progress


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- triggers ------------------------------------------------------------------------------


class EventTrigger(_Frozen):
    """Start an enrollment when any of ``events`` happens and ``where`` holds.

    ``where`` is a condition evaluated with the event's context as ``event_property`` facts (and
    the contact's facts), e.g. ``order.total gte 100``. The older single-event form
    ``{"type": "event", "event": "order.placed"}`` is still read.
    """

    type: Literal["event"] = "event"
    events: tuple[EventName, ...] = Field(min_length=1, max_length=10)
    where: Condition | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and "event" in data and "events" not in data:
            data = {**data, "events": [data["event"]]}
            del data["event"]
        return data


class ListTrigger(_Frozen):
    """Start an enrollment when the contact enters (``list_entered``) or leaves (``list_exited``)
    list ``list_id`` (the ``list.entered`` / ``list.exited`` events)."""

    type: Literal["list_entered", "list_exited"]
    list_id: Annotated[str, Field(min_length=1, max_length=64)]


class DateTrigger(_Frozen):
    """Start an enrollment on a date read from the contact, ``offset_days`` before (negative) or
    after it, at local time ``at``; ``yearly`` repeats on the anniversary (birthdays).

    ``field`` is ``custom:<key>`` for a custom field holding a date, or ``created_at``,
    ``first_order_at``, ``last_order_at``. The scheduler raises a ``date.reached`` event whose
    idempotency key names the campaign, contact and date, so each date enrolls at most once.
    """

    type: Literal["date"] = "date"
    field: Annotated[
        str,
        Field(pattern=r"^(custom:[A-Za-z0-9_-]{1,64}|created_at|first_order_at|last_order_at)$"),
    ]
    offset_days: int = Field(default=0, ge=-365, le=365)
    yearly: bool = False
    at: LocalTime = time(9, 0)


Trigger = Annotated[EventTrigger | ListTrigger | DateTrigger, Field(discriminator="type")]


# --- exit rules ----------------------------------------------------------------------------


class ExitOnEvent(_Frozen):
    """Remove the contact at once, from any step, when ``event`` happens (and ``where`` holds)."""

    type: Literal["event"] = "event"
    event: EventName
    where: Condition | None = None


class ExitOnCondition(_Frozen):
    """Remove the contact as soon as ``condition`` holds (checked on every event about the
    contact and before every step)."""

    type: Literal["condition"] = "condition"
    condition: Condition


ExitRule = Annotated[ExitOnEvent | ExitOnCondition, Field(discriminator="type")]


# --- steps ---------------------------------------------------------------------------------


class _Step(_Frozen):
    id: StepId
    label: Label | None = None  #: shown in the editor and reports


class _Message(_Step):
    """A message step: ``category`` overrides the campaign's; transactional messages skip the
    consent and frequency checks (order confirmations, not marketing)."""

    category: Category | None = None
    transactional: bool = False
    next: StepId | None = None


class SendEmailStep(_Message):
    """Send one email rendered from ``design`` in the contact's language."""

    type: Literal["send_email"] = "send_email"
    design: str = Field(min_length=1, max_length=64)


class SendSmsStep(_Message):
    """Send one SMS; ``text`` per language, Jinja2 templates."""

    type: Literal["send_sms"] = "send_sms"
    text: LocalisedText = Field(min_length=1)


class SendPushStep(_Message):
    """Send one Web Push notification; ``title``/``body`` per language; ``url`` opens on click."""

    type: Literal["send_push"] = "send_push"
    title: LocalisedText = Field(min_length=1)
    body: LocalisedText = Field(min_length=1)
    url: str | None = Field(default=None, max_length=2000)


class CallWebhookStep(_Step):
    """Call an HTTP endpoint ("forward to URL"); ``url``, header and parameter values and
    ``body`` are Jinja2 templates. Always transactional (not a marketing message)."""

    type: Literal["call_webhook"] = "call_webhook"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(min_length=1, max_length=2000)
    headers: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,100}$")], HeaderValue] = Field(
        default_factory=dict, max_length=30
    )
    query: dict[Annotated[str, Field(min_length=1, max_length=100)], HeaderValue] = Field(
        default_factory=dict, max_length=30
    )
    body: str | None = Field(default=None, max_length=20_000)
    timeout_seconds: int = Field(default=10, ge=1, le=30)
    next: StepId | None = None


class DelayStep(_Step):
    """Wait ``seconds`` of elapsed time (DST plays no part) before ``next``."""

    type: Literal["delay"] = "delay"
    seconds: int = Field(ge=1, le=MAX_DELAY_SECONDS)
    next: StepId | None = None


class WaitUntilStep(_Step):
    """Wait for a local moment, in the contact's time zone (the store's as fallback).

    - ``at`` set: the next occurrence of that time of day on an allowed weekday (now itself when
      it is exactly that moment);
    - ``window_start``/``window_end`` set: now when inside the window on an allowed weekday, else
      the window's next opening (``end < start`` crosses midnight);
    - neither: the next moment on an allowed weekday (now when today is allowed).
    ``at`` and a window are exclusive; ``weekdays`` is never empty.
    """

    type: Literal["wait_until"] = "wait_until"
    at: LocalTime | None = None
    window_start: LocalTime | None = None
    window_end: LocalTime | None = None
    weekdays: tuple[Weekday, ...] = Field(default=WEEKDAY_NAMES, min_length=1, max_length=7)
    next: StepId | None = None


class SplitBranch(_Frozen):
    """One ordered branch of a ``split``: taken when ``condition`` holds."""

    label: Label
    condition: Condition
    next: StepId | None = None


class SplitStep(_Step):
    """Take the first branch whose condition holds, else ``default_next``.

    Unlike every other link, ``default_next`` may not be left out to end the enrollment: a split
    without a default is a validation error (point it at an ``exit`` step to end there), so a
    merchant always decides where the contacts no branch takes go.
    """

    type: Literal["split"] = "split"
    branches: tuple[SplitBranch, ...] = Field(min_length=1, max_length=MAX_SPLIT_BRANCHES)
    default_next: StepId | None = None


class RandomBranch(_Frozen):
    """One branch of a ``random_split``, taken by ``weight / sum(weights)`` of contacts."""

    label: Label
    weight: int = Field(ge=0, le=10_000)
    next: StepId | None = None


class RandomSplitStep(_Step):
    """Send each contact down one branch, at random but deterministically per (contact,
    campaign, step): the same contact always takes the same branch, across versions too."""

    type: Literal["random_split"] = "random_split"
    branches: tuple[RandomBranch, ...] = Field(min_length=2, max_length=20)


class SetField(_Frozen):
    """Set a built-in contact field to the literal ``value`` (``None`` or blank clears it)."""

    op: Literal["set_field"] = "set_field"
    field: Literal["first_name", "last_name", "phone", "gender", "country", "language", "time_zone"]
    value: str | None = Field(default=None, max_length=500)


#: A custom field's decimal value: exact as a JSON number (see :class:`SetCustomField`).
CustomNumber = Annotated[
    Decimal,
    Field(allow_inf_nan=False, max_digits=15, ge=Decimal("-1e15"), le=Decimal("1e15")),
]


class SetCustomField(_Frozen):
    """Set custom field ``key`` to a JSON scalar (``None`` removes it).

    A decimal is written to JSON as a number, not as a string, so that a written definition
    reads back the same (a string stays a string); hence at most 15 significant digits and a
    magnitude of at most 10**15, which a JSON number (a double) holds exactly.
    """

    op: Literal["set_custom_field"] = "set_custom_field"
    key: Key
    value: str | int | CustomNumber | bool | None = None

    @field_serializer("value", when_used="json")
    def _value_as_json(self, value: str | int | Decimal | bool | None) -> object:
        return float(value) if isinstance(value, Decimal) else value


class CopyEventProperty(_Frozen):
    """Copy the trigger context's value at ``path`` (``order.lines.0.product_name``) into custom
    field ``key``: "copy purchase data into custom fields"."""

    op: Literal["copy_event_property"] = "copy_event_property"
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$")]
    key: Key


class TagAction(_Frozen):
    op: Literal["add_tag", "remove_tag"]
    tag: Annotated[str, Field(min_length=1, max_length=64)]


class ListAction(_Frozen):
    op: Literal["add_to_list", "remove_from_list"]
    list_id: Annotated[str, Field(min_length=1, max_length=64)]


class Unsubscribe(_Frozen):
    """Withdraw the contact's consent on ``channel`` (source: this campaign)."""

    op: Literal["unsubscribe"] = "unsubscribe"
    channel: Channel


ContactAction = Annotated[
    SetField | SetCustomField | CopyEventProperty | TagAction | ListAction | Unsubscribe,
    Field(discriminator="op"),
]


class UpdateContactStep(_Step):
    """Change the contact: fields, custom fields, tags, lists, consent — in order."""

    type: Literal["update_contact"] = "update_contact"
    actions: tuple[ContactAction, ...] = Field(min_length=1, max_length=MAX_CONTACT_ACTIONS)
    next: StepId | None = None


class CreateDiscountStep(_Step):
    """Create a single-use discount code on the platform, valid ``valid_days`` days.

    The code is available to later steps' templates as ``discount.code`` (with ``discount.kind``,
    ``discount.value``, ``discount.currency``, ``discount.expires_at``). ``value`` is a percentage
    (0, 100] for ``percentage``, an amount in the order's currency for ``fixed``, ignored for
    ``free_shipping``. Creating it is idempotent per (enrollment, step).
    """

    type: Literal["create_discount"] = "create_discount"
    kind: Literal["percentage", "fixed", "free_shipping"] = "percentage"
    value: Decimal = Field(default=Decimal(10), ge=0, le=Decimal(1_000_000))
    valid_days: int = Field(default=30, ge=1, le=365)
    minimum_order: Decimal | None = Field(default=None, ge=0)
    prefix: Annotated[str, Field(pattern=r"^[A-Z0-9-]{0,20}$")] = ""
    next: StepId | None = None


class ExitStep(_Step):
    """End the enrollment here."""

    type: Literal["exit"] = "exit"


Step = Annotated[
    SendEmailStep
    | SendSmsStep
    | SendPushStep
    | CallWebhookStep
    | DelayStep
    | WaitUntilStep
    | SplitStep
    | RandomSplitStep
    | UpdateContactStep
    | CreateDiscountStep
    | ExitStep,
    Field(discriminator="type"),
]
AnyStep = (
    SendEmailStep
    | SendSmsStep
    | SendPushStep
    | CallWebhookStep
    | DelayStep
    | WaitUntilStep
    | SplitStep
    | RandomSplitStep
    | UpdateContactStep
    | CreateDiscountStep
    | ExitStep
)
MessageStep = SendEmailStep | SendSmsStep | SendPushStep


def successors(step: AnyStep) -> Iterator[tuple[str, str | None]]:
    """Each outgoing link of ``step`` as (field path relative to the step, target id or None).

    ``None`` targets end the enrollment. An ``exit`` step has no links.
    """
    match step:
        case SplitStep():
            for index, branch in enumerate(step.branches):
                yield f"branches.{index}.next", branch.next
            yield "default_next", step.default_next
        case RandomSplitStep():
            for index, random_branch in enumerate(step.branches):
                yield f"branches.{index}.next", random_branch.next
        case ExitStep():
            return
        case _:
            yield "next", step.next


class CampaignDefinition(_Frozen):
    """Everything that decides how a campaign version behaves. Immutable once published.

    ``test_mode``: only contacts whose email is in ``test_emails`` may enter.
    ``exit_when_filter_fails``: a contact that stops matching ``entry_filter`` leaves at once
    (by default it keeps going, SPEC.md §3).
    """

    trigger: Trigger
    entry_filter: Condition | None = None
    test_mode: bool = False
    test_emails: tuple[Annotated[str, Field(min_length=3, max_length=320)], ...] = Field(
        default=(), max_length=MAX_TEST_EMAILS
    )
    repeatability: Repeatability = Repeatability.MULTIPLE
    entry_limit: int | None = Field(default=None, ge=1, le=1000)
    exit_rules: tuple[ExitRule, ...] = Field(default=(), max_length=20)
    exit_when_filter_fails: bool = False
    category: Category | None = None
    default_language: Language = "en"
    #: languages the merchant maintains (validation checks every design and text has them)
    languages: tuple[Language, ...] = Field(default=(), max_length=30)
    entry_step: StepId
    steps: tuple[Step, ...] = Field(min_length=1)

    def step(self, step_id: str) -> AnyStep:
        """The step with this id. Raises ``KeyError`` if there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


_DEFINITION_ADAPTER: TypeAdapter[CampaignDefinition] = TypeAdapter(CampaignDefinition)


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the campaign format, as docs/campaign-format.md shows."""
    schema = _DEFINITION_ADAPTER.json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "relance campaign definition"
    return schema


def definition_json_schema_text() -> str:
    """:func:`definition_json_schema` as the text of docs/campaign-format.schema.json."""
    return json.dumps(definition_json_schema(), indent=2, ensure_ascii=False) + "\n"


if (
    __name__ == "__main__"
):  # python -m relance.automation.definitions > docs/campaign-format.schema.json
    sys.stdout.write(definition_json_schema_text())
