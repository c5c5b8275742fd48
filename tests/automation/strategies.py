"""Hypothesis strategies: valid campaign graphs of every step type, and contacts to run them.

A generated graph is valid by construction: step ``i``'s first link goes to step ``i + 1`` (a
spine, so every step is reachable), its other links go further forward or end (so there is no
cycle), every split has a default, and every design and text has the campaign's languages.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from relance.automation.conditions import Channel, Facts, MessageRecord, parse_condition
from relance.automation.definitions import (
    WEEKDAY_NAMES,
    AnyStep,
    CallWebhookStep,
    CampaignDefinition,
    CreateDiscountStep,
    DelayStep,
    EventTrigger,
    ExitStep,
    RandomBranch,
    RandomSplitStep,
    SendEmailStep,
    SendPushStep,
    SendSmsStep,
    SetCustomField,
    SplitBranch,
    SplitStep,
    TagAction,
    UpdateContactStep,
    WaitUntilStep,
)
from relance.automation.engine import CapMode, ConsentMode, SendingPolicy

#: Designs every generated email may use, in every generated language.
DESIGNS = {"welcome": ("en", "fr"), "reminder": ("en", "fr")}
CONDITIONS = [
    parse_condition(data)
    for data in (
        {"type": "contact_field", "field": "language", "op": "eq", "value": "fr"},
        {"type": "tags", "op": "has_any", "tags": ["vip"]},
        {"type": "order_stat", "stat": "orders_count", "op": "gte", "value": 1},
        {"type": "message_count", "channel": "email", "op": "gte", "value": 1},
        {"type": "consent", "channel": "sms", "status": "subscribed"},
    )
]
KINDS = (
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
)
ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
quarter_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def steps(draw: st.DrawFn, max_steps: int = 12) -> tuple[AnyStep, ...]:
    """A valid step graph: ids ``s0`` … ``sN``, entry ``s0``, the last one often an exit."""
    count = draw(st.integers(1, max_steps))
    built: list[AnyStep] = []
    for index in range(count):
        last = index == count - 1
        ident = f"s{index}"
        spine = None if last else f"s{index + 1}"
        later = [None, *(f"s{n}" for n in range(index + 1, count))]

        def forward(spine: str | None = spine, later: list[str | None] = later) -> str | None:
            return spine if draw(st.booleans()) else draw(st.sampled_from(later))

        kind = draw(st.sampled_from(("exit", "send_email", "delay") if last else KINDS))
        built.append(_step(draw, kind, ident, spine, forward))
    return tuple(built)


def _step(draw: st.DrawFn, kind: str, ident: str, spine: str | None, forward: Any) -> AnyStep:
    category = draw(st.sampled_from([None, "promo", "cross-sell"]))
    transactional = draw(st.booleans())
    match kind:
        case "exit":
            return ExitStep(id=ident)
        case "send_email":
            design = draw(st.sampled_from(sorted(DESIGNS)))
            return SendEmailStep(
                id=ident,
                design=design,
                category=category,
                transactional=transactional,
                next=spine,
            )
        case "send_sms":
            return SendSmsStep(id=ident, text={"en": "hi", "fr": "salut"}, next=spine)
        case "send_push":
            texts = {"en": "hi", "fr": "salut"}
            return SendPushStep(id=ident, title=texts, body=texts, next=spine)
        case "call_webhook":
            return CallWebhookStep(id=ident, url="https://hooks.example/x", next=spine)
        case "delay":
            return DelayStep(id=ident, seconds=draw(st.integers(1, 9 * 86400)), next=spine)
        case "wait_until":
            weekdays = draw(st.sets(st.sampled_from(WEEKDAY_NAMES), min_size=1))
            days = tuple(day for day in WEEKDAY_NAMES if day in weekdays)
            if draw(st.booleans()):
                at = draw(quarter_times)
                return WaitUntilStep(id=ident, at=at, weekdays=days, next=spine)
            start, end = draw(quarter_times), draw(quarter_times)
            return WaitUntilStep(
                id=ident, window_start=start, window_end=end, weekdays=days, next=spine
            )
        case "split":
            count = draw(st.integers(1, 3))
            branches = tuple(
                SplitBranch(
                    label=f"b{n}",
                    condition=draw(st.sampled_from(CONDITIONS)),
                    next=spine if n == 0 else forward(),
                )
                for n in range(count)
            )
            return SplitStep(id=ident, branches=branches, default_next=forward() or spine)
        case "random_split":
            count = draw(st.integers(2, 4))
            weights = draw(st.lists(st.integers(0, 100), min_size=count, max_size=count))
            weights[0] = max(weights[0], 1)
            random_branches = tuple(
                RandomBranch(label=f"r{n}", weight=w, next=spine if n == 0 else forward())
                for n, w in enumerate(weights)
            )
            return RandomSplitStep(id=ident, branches=random_branches)
        case "update_contact":
            actions = (
                TagAction(op=draw(st.sampled_from(["add_tag", "remove_tag"])), tag="vip"),
                SetCustomField(key="score", value=Decimal(draw(st.integers(0, 9)))),
            )
            return UpdateContactStep(id=ident, actions=actions, next=spine)
        case "create_discount":
            return CreateDiscountStep(id=ident, next=spine)
    raise AssertionError(kind)


@st.composite
def definitions(draw: st.DrawFn, max_steps: int = 12) -> CampaignDefinition:
    graph = draw(steps(max_steps))
    return CampaignDefinition(
        trigger=EventTrigger(events=("order.placed",)),
        entry_step=graph[0].id,
        steps=graph,
        languages=("fr",),
        category=draw(st.sampled_from([None, "promo"])),
    )


instants = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))


@st.composite
def facts(draw: st.DrawFn, now: datetime) -> Facts:
    """A contact: language, tags, consents, zone, orders and a few recent emails."""
    statuses = st.sampled_from(["subscribed", "pending", "unsubscribed", "none"])
    sent_ago = st.integers(0, 3 * 86400)
    messages = tuple(
        MessageRecord(
            Channel.EMAIL,
            now.replace(microsecond=0) - timedelta(seconds=ago),
            draw(st.sampled_from([None, "promo"])),
            draw(st.booleans()),
        )
        for ago in draw(st.lists(sent_ago, max_size=3))
    )
    return Facts(
        language=draw(st.sampled_from([None, "fr", "de", "en"])),
        tags=draw(st.frozensets(st.sampled_from(["vip", "new"]))),
        consents={channel: draw(statuses) for channel in ("email", "sms", "push")},
        time_zone=draw(st.sampled_from([None, "Mars/Base", *ZONES])),
        orders_count=draw(st.integers(0, 3)),
        messages=messages,
    )


policies = st.builds(
    SendingPolicy,
    consent_mode=st.sampled_from(ConsentMode),
    frequency_cap_seconds=st.sampled_from([None, 3600, 86400]),
    frequency_cap_mode=st.sampled_from(CapMode),
    max_deferrals=st.integers(0, 3),
)
