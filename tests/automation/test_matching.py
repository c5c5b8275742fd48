"""matching: who enters a campaign, and who an event removes from one."""

from __future__ import annotations

from typing import Any

import pytest

from relance.automation.conditions import Facts
from relance.automation.definitions import (
    CampaignDefinition,
    DateTrigger,
    EventTrigger,
    ExitOnCondition,
    ExitOnEvent,
    ListTrigger,
    Repeatability,
)
from relance.automation.matching import EnrollmentHistory, decide_entry, exit_reason
from tests.automation.factories import NOW, campaign, condition, email, language_is, tagged

BIG_ORDER = condition(
    {
        "type": "event_property",
        "path": "order.total",
        "value_type": "number",
        "op": "gte",
        "value": 100,
    }
)


def definition(**fields: Any) -> CampaignDefinition:
    return campaign(email("a"), **fields)


def context(**properties: object) -> dict[str, object]:
    return {"event_type": "x", "properties": properties}


def order(total: int) -> dict[str, object]:
    return {"event_type": "order.placed", "properties": {}, "order": {"total": str(total)}}


ENTRY_CASES: dict[str, tuple[CampaignDefinition, str, Facts, EnrollmentHistory, str]] = {
    "the trigger's event enters": (
        definition(),
        "order.placed",
        Facts(),
        EnrollmentHistory(),
        "entered",
    ),
    "another event does not": (
        definition(),
        "cart.abandoned",
        Facts(),
        EnrollmentHistory(),
        "trigger_mismatch",
    ),
    "any of several events": (
        definition(trigger=EventTrigger(events=("customer.signed_up", "newsletter.subscribed"))),
        "newsletter.subscribed",
        Facts(),
        EnrollmentHistory(),
        "entered",
    ),
    "the trigger's where reads the event's context": (
        definition(trigger=EventTrigger(events=("order.placed",), where=BIG_ORDER)),
        "order.placed",
        Facts(event=order(150)),
        EnrollmentHistory(),
        "entered",
    ),
    "a where that fails is a mismatch": (
        definition(trigger=EventTrigger(events=("order.placed",), where=BIG_ORDER)),
        "order.placed",
        Facts(event=order(50)),
        EnrollmentHistory(),
        "trigger_mismatch",
    ),
    "list entry of the trigger's list": (
        definition(trigger=ListTrigger(type="list_entered", list_id="vip")),
        "list.entered",
        Facts(event=context(list_id="vip")),
        EnrollmentHistory(),
        "entered",
    ),
    "list entry of another list": (
        definition(trigger=ListTrigger(type="list_entered", list_id="vip")),
        "list.entered",
        Facts(event=context(list_id="other")),
        EnrollmentHistory(),
        "trigger_mismatch",
    ),
    "list exit is not list entry": (
        definition(trigger=ListTrigger(type="list_entered", list_id="vip")),
        "list.exited",
        Facts(event=context(list_id="vip")),
        EnrollmentHistory(),
        "trigger_mismatch",
    ),
    "list exit trigger": (
        definition(trigger=ListTrigger(type="list_exited", list_id="vip")),
        "list.exited",
        Facts(event=context(list_id="vip")),
        EnrollmentHistory(),
        "entered",
    ),
    "a list event without context": (
        definition(trigger=ListTrigger(type="list_exited", list_id="vip")),
        "list.exited",
        Facts(),
        EnrollmentHistory(),
        "trigger_mismatch",
    ),
    "a date reached for this campaign": (
        definition(trigger=DateTrigger(field="custom:birthday", yearly=True)),
        "date.reached",
        Facts(event=context(campaign_id="campaign-1", date="2026-11-23")),
        EnrollmentHistory(),
        "entered",
    ),
    "a date reached for another campaign": (
        definition(trigger=DateTrigger(field="custom:birthday", yearly=True)),
        "date.reached",
        Facts(event=context(campaign_id="campaign-2")),
        EnrollmentHistory(),
        "trigger_mismatch",
    ),
    "test mode lets a test address in, whatever its case": (
        definition(test_mode=True, test_emails=("Me@Shop.example",)),
        "order.placed",
        Facts(email="me@shop.example"),
        EnrollmentHistory(),
        "entered",
    ),
    "test mode keeps everyone else out": (
        definition(test_mode=True, test_emails=("me@shop.example",)),
        "order.placed",
        Facts(email="customer@example.com"),
        EnrollmentHistory(),
        "test_mode",
    ),
    "test mode keeps out a contact without email": (
        definition(test_mode=True, test_emails=("me@shop.example",)),
        "order.placed",
        Facts(),
        EnrollmentHistory(),
        "test_mode",
    ),
    "the entry filter lets a matching contact in": (
        definition(entry_filter=language_is("fr")),
        "order.placed",
        Facts(language="fr"),
        EnrollmentHistory(),
        "entered",
    ),
    "the entry filter keeps others out": (
        definition(entry_filter=language_is("fr")),
        "order.placed",
        Facts(language="de"),
        EnrollmentHistory(),
        "entry_filter",
    ),
    "multiple: enrollments in progress do not matter": (
        definition(repeatability=Repeatability.MULTIPLE),
        "order.placed",
        Facts(),
        EnrollmentHistory(5, 2),
        "entered",
    ),
    "once: the first time": (
        definition(repeatability=Repeatability.ONCE),
        "order.placed",
        Facts(),
        EnrollmentHistory(0, 0),
        "entered",
    ),
    "once: never again": (
        definition(repeatability=Repeatability.ONCE),
        "order.placed",
        Facts(),
        EnrollmentHistory(1, 0),
        "already_entered",
    ),
    "after_exit: again once the last one ended": (
        definition(repeatability=Repeatability.AFTER_EXIT),
        "order.placed",
        Facts(),
        EnrollmentHistory(3, 0),
        "entered",
    ),
    "after_exit: not while one is in progress": (
        definition(repeatability=Repeatability.AFTER_EXIT),
        "order.placed",
        Facts(),
        EnrollmentHistory(3, 1),
        "in_progress",
    ),
    "entry limit reached": (
        definition(entry_limit=2),
        "order.placed",
        Facts(),
        EnrollmentHistory(2, 0),
        "entry_limit_reached",
    ),
    "entry limit not yet reached": (
        definition(entry_limit=2),
        "order.placed",
        Facts(),
        EnrollmentHistory(1, 1),
        "entered",
    ),
    "the trigger is checked first": (
        definition(test_mode=True, test_emails=("x@y.z",), entry_filter=language_is("fr")),
        "cart.abandoned",
        Facts(),
        EnrollmentHistory(9, 9),
        "trigger_mismatch",
    ),
    "test mode before the filter": (
        definition(test_mode=True, test_emails=("x@y.z",), entry_filter=language_is("fr")),
        "order.placed",
        Facts(email="a@b.c"),
        EnrollmentHistory(),
        "test_mode",
    ),
}


@pytest.mark.parametrize(
    ("campaign_", "event_type", "facts", "history", "reason"),
    ENTRY_CASES.values(),
    ids=ENTRY_CASES.keys(),
)
def test_decide_entry(
    campaign_: CampaignDefinition,
    event_type: str,
    facts: Facts,
    history: EnrollmentHistory,
    reason: str,
) -> None:
    decision = decide_entry(campaign_, event_type, facts, history, NOW, "campaign-1")
    assert (decision.enroll, decision.reason) == (reason == "entered", reason)


ABANDONED_CART = definition(
    trigger=EventTrigger(events=("cart.abandoned",)),
    exit_rules=(
        ExitOnEvent(event="order.placed", where=BIG_ORDER),
        ExitOnEvent(event="custom.unsubscribed_everything"),
        ExitOnCondition(condition=tagged("blocked")),
    ),
    entry_filter=language_is("fr"),
)
FILTER_EXITS = ABANDONED_CART.model_copy(update={"exit_when_filter_fails": True})

EXIT_CASES: dict[str, tuple[CampaignDefinition, str | None, Facts, str | None]] = {
    "an exit event whose where holds": (
        ABANDONED_CART,
        "order.placed",
        Facts(language="fr", event=order(120)),
        "exit_event:order.placed",
    ),
    "an exit event whose where fails": (
        ABANDONED_CART,
        "order.placed",
        Facts(language="fr", event=order(20)),
        None,
    ),
    "a custom exit event": (
        ABANDONED_CART,
        "custom.unsubscribed_everything",
        Facts(language="fr"),
        "exit_event:custom.unsubscribed_everything",
    ),
    "another event": (ABANDONED_CART, "message.opened", Facts(language="fr"), None),
    "an exit condition on any event": (
        ABANDONED_CART,
        "message.opened",
        Facts(language="fr", tags=frozenset({"blocked"})),
        "exit_condition",
    ),
    "an exit condition without event": (
        ABANDONED_CART,
        None,
        Facts(language="fr", tags=frozenset({"blocked"})),
        "exit_condition",
    ),
    "failing the filter keeps the contact by default": (
        ABANDONED_CART,
        "customer.updated",
        Facts(language="de"),
        None,
    ),
    "failing the filter removes it when the campaign says so": (
        FILTER_EXITS,
        "customer.updated",
        Facts(language="de"),
        "entry_filter_failed",
    ),
}


@pytest.mark.parametrize(
    ("campaign_", "event_type", "facts", "reason"), EXIT_CASES.values(), ids=EXIT_CASES.keys()
)
def test_exit_reason(
    campaign_: CampaignDefinition, event_type: str | None, facts: Facts, reason: str | None
) -> None:
    assert exit_reason(campaign_, event_type, facts, NOW) == reason


def test_an_exit_event_where_may_read_another_context_than_the_conditions() -> None:
    # given an enrolled contact whose enrollment context is a small order
    facts = Facts(language="fr", event=order(10))
    # when a big order arrives, passed as the event's own context
    reason = exit_reason(ABANDONED_CART, "order.placed", facts, NOW, event_context=order(500))
    # then the where reads that context
    assert reason == "exit_event:order.placed"


def test_an_order_recovering_the_enrollments_own_cart_removes_it_without_a_rule() -> None:
    own = Facts(event={"cart": {"checkout_id": "c-1"}})
    recovering = {"properties": {"recovered_checkout_id": "c-1"}}
    other = {"properties": {"recovered_checkout_id": "c-2"}}
    plain = definition()
    assert exit_reason(plain, "order.placed", own, NOW, event_context=recovering) == (
        "cart_recovered"
    )
    assert exit_reason(plain, "order.placed", own, NOW, event_context=other) is None
    assert exit_reason(plain, "order.placed", Facts(), NOW, event_context=recovering) is None
