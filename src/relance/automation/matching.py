"""Entry and exit rules: does an event start an enrollment, or end one in progress? Pure.

:func:`decide_entry` applies, in order, the trigger, the test mode, the entry filter, the entry
limit and the repeatability rule (SPEC.md §3) and names the first rule that refuses.
:func:`exit_reason` applies the exit rules to an event about a contact already enrolled.

Reason codes are stable (reports group by them):

=======================  ==============================================================
``trigger_mismatch``     not this campaign's trigger (event, ``where``, list or date)
``test_mode``            test mode is on and the contact's email is not in the test list
``entry_filter``         the contact fails the entry filter
``entry_limit_reached``  the contact already entered ``entry_limit`` times
``already_entered``      repeatability ``once`` and the contact entered before
``in_progress``          repeatability ``after_exit`` and an enrollment is still running
``entered``              every rule lets the contact in
=======================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from relance.automation.conditions import Facts, evaluate
from relance.automation.definitions import (
    CampaignDefinition,
    DateTrigger,
    EventTrigger,
    ExitOnCondition,
    ExitOnEvent,
    ListTrigger,
    Repeatability,
)
from relance.automation.events import EventType

#: The event a list trigger listens to, per trigger type.
_LIST_EVENTS = {"list_entered": EventType.LIST_ENTERED, "list_exited": EventType.LIST_EXITED}


@dataclass(frozen=True, slots=True)
class EnrollmentHistory:
    """What the contact already did in this campaign (all versions)."""

    total: int = 0
    in_progress: int = 0


@dataclass(frozen=True, slots=True)
class EntryDecision:
    """Whether to enroll, and why not when not (``reason`` is a stable code, see the module)."""

    enroll: bool
    reason: str


def decide_entry(
    definition: CampaignDefinition,
    event_type: str,
    facts: Facts,
    history: EnrollmentHistory,
    now: datetime,
    campaign_key: str,
) -> EntryDecision:
    """Whether ``event_type`` enrolls the contact described by ``facts``. Pure.

    Parameters:
        definition(CampaignDefinition): the campaign's published version.
        event_type(str): the event's name (``order.placed``, ``list.entered``, ``custom.x``…).
        facts(Facts): the contact, with ``facts.event`` the event's context
            (``DomainEvent.context()``): trigger ``where`` conditions, list ids and date
            triggers read it.
        history(EnrollmentHistory): the contact's enrollments in this campaign, all versions.
        now(datetime): aware; relative dates in conditions are measured from it.
        campaign_key(str): the campaign's stable id: a ``date.reached`` event names the
            campaign it was raised for in ``properties.campaign_id``.

    Returns:
        EntryDecision: ``enroll`` and the first refusing rule's code (``entered`` if none).
    """
    if not _trigger_matches(definition, event_type, facts, now, campaign_key):
        return EntryDecision(enroll=False, reason="trigger_mismatch")
    if definition.test_mode and not _is_test_contact(definition, facts):
        return EntryDecision(enroll=False, reason="test_mode")
    if definition.entry_filter is not None and not evaluate(definition.entry_filter, facts, now):
        return EntryDecision(enroll=False, reason="entry_filter")
    if definition.entry_limit is not None and history.total >= definition.entry_limit:
        return EntryDecision(enroll=False, reason="entry_limit_reached")
    match definition.repeatability:
        case Repeatability.ONCE if history.total > 0:
            return EntryDecision(enroll=False, reason="already_entered")
        case Repeatability.AFTER_EXIT if history.in_progress > 0:
            return EntryDecision(enroll=False, reason="in_progress")
    return EntryDecision(enroll=True, reason="entered")


def exit_reason(
    definition: CampaignDefinition,
    event_type: str | None,
    facts: Facts,
    now: datetime,
    *,
    event_context: Mapping[str, object] | None = None,
) -> str | None:
    """Why an event (or a change) about an enrolled contact removes it now, or ``None``. Pure.

    Rules, first match wins: each exit rule in order — an ``ExitOnEvent`` whose ``event`` is
    ``event_type`` and whose ``where`` holds gives ``exit_event:<event>``, an
    ``ExitOnCondition`` that holds gives ``exit_condition`` —, then, with
    ``exit_when_filter_fails``, a failing entry filter gives ``entry_filter_failed``; last, an
    event whose ``properties.recovered_checkout_id`` is the enrollment's own cart (an order that
    recovers it) gives ``cart_recovered``, whatever the campaign's rules say.

    Parameters:
        event_type(str | None): the event's name; ``None`` when the contact changed without
            an event (only conditions are checked then).
        facts(Facts): the contact; every condition reads ``facts.event`` as its context
            (typically the new event's, so that ``where`` can say ``order.total gte 50``).
        event_context(Mapping | None): when given, the context an ``ExitOnEvent``'s ``where``
            reads instead of ``facts.event`` (so that exit conditions and the entry filter can
            keep reading the enrollment's own context, as ``advance`` does before every step).
    """
    for rule in definition.exit_rules:
        match rule:
            case ExitOnEvent():
                if event_type is None or rule.event != event_type:
                    continue
                context = facts.event if event_context is None else event_context
                if rule.where is None or evaluate(rule.where, replace(facts, event=context), now):
                    return f"exit_event:{rule.event}"
            case ExitOnCondition():
                if evaluate(rule.condition, facts, now):
                    return "exit_condition"
            case _:
                assert_never(rule)
    entry_filter = definition.entry_filter
    if (
        definition.exit_when_filter_fails
        and entry_filter is not None
        and not evaluate(entry_filter, facts, now)
    ):
        return "entry_filter_failed"
    if event_context is not None and _recovers_cart(event_context, facts.event):
        return CART_RECOVERED
    return None


#: Reason of a run about a cart that the new event (an order) recovered.
CART_RECOVERED = "cart_recovered"


def _recovers_cart(
    event_context: Mapping[str, object], enrollment_context: Mapping[str, object] | None
) -> bool:
    properties = event_context.get("properties")
    recovered = properties.get("recovered_checkout_id") if isinstance(properties, Mapping) else None
    cart = enrollment_context.get("cart") if enrollment_context else None
    own = cart.get("checkout_id") if isinstance(cart, Mapping) else None
    return isinstance(recovered, str) and recovered == own


def _trigger_matches(
    definition: CampaignDefinition, event_type: str, facts: Facts, now: datetime, campaign: str
) -> bool:
    trigger = definition.trigger
    match trigger:
        case EventTrigger():
            return event_type in trigger.events and (
                trigger.where is None or evaluate(trigger.where, facts, now)
            )
        case ListTrigger():
            return event_type == _LIST_EVENTS[trigger.type] and (
                _property(facts, "list_id") == trigger.list_id
            )
        case DateTrigger():
            return event_type == EventType.DATE_REACHED and (
                _property(facts, "campaign_id") == campaign
            )
        case _:
            assert_never(trigger)


def _property(facts: Facts, name: str) -> object:
    """``facts.event["properties"][name]``, or ``None`` when any part is missing."""
    properties = (facts.event or {}).get("properties")
    return properties.get(name) if isinstance(properties, Mapping) else None


def _is_test_contact(definition: CampaignDefinition, facts: Facts) -> bool:
    """The contact's email is in the test list ("email equals"), ignoring case and spaces."""
    if facts.email is None:
        return False
    email = facts.email.strip().lower()
    return any(email == test.strip().lower() for test in definition.test_emails)
