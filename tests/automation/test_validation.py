"""validation: every violation at once, each at the path of the offending field."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from relance.automation.conditions import Not
from relance.automation.definitions import (
    MAX_STEPS,
    CampaignDefinition,
    DelayStep,
    EventTrigger,
    ExitOnCondition,
    ExitOnEvent,
    ExitStep,
    ListAction,
    ListTrigger,
    RandomBranch,
    RandomSplitStep,
    SendPushStep,
    SendSmsStep,
    SplitBranch,
    SplitStep,
    UpdateContactStep,
    WaitUntilStep,
)
from relance.automation.validation import validate
from tests.automation.factories import campaign, condition, email, language_is

DESIGNS = {"cart": ("en", "fr", "de"), "thanks": ("EN", "fr"), "english_only": ("en",)}
EMPTY_ALL = condition({"type": "all", "conditions": []})


def _nested_nots(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "tags", "op": "has_any", "tags": ["x"]}
    for _ in range(depth):
        node = {"type": "not", "condition": node}
    return node


#: Nine levels, one more than conditions.MAX_DEPTH (parse_condition would refuse it; a
#: definition holding it parses, and validation reports it).
DEEP = Not(condition=condition(_nested_nots(7)))


def valid(**fields: Any) -> CampaignDefinition:
    """A campaign using every kind of step, valid as it is."""
    fields.setdefault("languages", ("fr",))
    return campaign(
        email("welcome", "wait", design="cart"),
        DelayStep(id="wait", seconds=3600, next="split"),
        SplitStep(
            id="split",
            branches=(SplitBranch(label="French", condition=language_is("fr"), next="sms"),),
            default_next="ab",
        ),
        SendSmsStep(id="sms", text={"en": "Hi", "fr": "Salut"}, next="exit"),
        RandomSplitStep(
            id="ab",
            branches=(
                RandomBranch(label="A", weight=50, next="window"),
                RandomBranch(label="B", weight=50, next="exit"),
            ),
        ),
        WaitUntilStep(id="window", window_start=time(9), window_end=time(17), next="push"),
        SendPushStep(id="push", title={"en": "a", "fr": "b"}, body={"en": "c", "fr": "d"}),
        ExitStep(id="exit"),
        **fields,
    )


def test_a_valid_definition_has_no_violation() -> None:
    assert validate(valid(), DESIGNS) == []


def replaced(index: int, **changes: Any) -> CampaignDefinition:
    """The valid campaign with step ``index`` changed (not re-validated: drafts may be odd)."""
    base = valid()
    steps = list(base.steps)
    steps[index] = steps[index].model_copy(update=changes)
    return base.model_copy(update={"steps": tuple(steps)})


SEEDED: dict[str, tuple[CampaignDefinition, set[tuple[str, str]]]] = {
    "too many steps": (
        campaign(
            *[DelayStep(id=f"s{i}", seconds=1, next=f"s{i + 1}") for i in range(MAX_STEPS)],
            ExitStep(id=f"s{MAX_STEPS}"),
        ),
        {("steps", "too_many_steps")},
    ),
    "a duplicate id": (
        replaced(7, id="push"),  # the exit step takes push's id: exit is no longer there
        {
            ("steps.7.id", "duplicate_id"),
            ("steps.3.next", "unknown_step"),
            ("steps.4.branches.1.next", "unknown_step"),
        },
    ),
    "an unknown entry step": (
        valid(entry_step="nowhere"),
        {("entry_step", "unknown_step"), *((f"steps.{i}", "unreachable") for i in range(8))},
    ),
    "an unknown link in a branch": (
        replaced(
            2,
            branches=(SplitBranch(label="French", condition=language_is("fr"), next="gone"),),
        ),
        {("steps.2.branches.0.next", "unknown_step"), ("steps.3", "unreachable")},
    ),
    "an unreachable step": (
        replaced(0, next="split"),
        {("steps.1", "unreachable")},
    ),
    "a cycle": (
        replaced(6, next="welcome"),
        {("steps.6.next", "cycle")},
    ),
    "a self loop": (
        replaced(1, next="wait"),
        {("steps.1.next", "cycle"), *((f"steps.{i}", "unreachable") for i in range(2, 8))},
    ),
    "a split without default": (
        replaced(2, default_next=None),
        {
            ("steps.2.default_next", "no_default"),
            *((f"steps.{i}", "unreachable") for i in (4, 5, 6)),
        },
    ),
    "random split weights adding up to zero": (
        replaced(
            4,
            branches=(
                RandomBranch(label="A", weight=0, next="window"),
                RandomBranch(label="B", weight=0, next="exit"),
            ),
        ),
        {("steps.4.branches", "invalid_weights")},
    ),
    "a condition problem in a split branch": (
        replaced(2, branches=(SplitBranch(label="French", condition=EMPTY_ALL, next="sms"),)),
        {("steps.2.branches.0.condition", "empty_group")},
    ),
    "a condition nested too deep in the entry filter": (
        valid(entry_filter=DEEP),
        {
            (
                "entry_filter.condition.condition.condition.condition.condition.condition.condition.condition",
                "too_deep",
            )
        },
    ),
    "a condition problem deep in the trigger's where": (
        valid(
            trigger=EventTrigger(
                events=("order.placed",),
                where=condition({"type": "any", "conditions": [{"type": "all", "conditions": []}]}),
            )
        ),
        {("trigger.where.conditions.0", "empty_group")},
    ),
    "condition problems in exit rules": (
        valid(
            exit_rules=(
                ExitOnEvent(event="order.placed", where=EMPTY_ALL),
                ExitOnCondition(condition=EMPTY_ALL),
            )
        ),
        {("exit_rules.0.where", "empty_group"), ("exit_rules.1.condition", "empty_group")},
    ),
    "unknown events": (
        valid(
            trigger=EventTrigger(events=("order.placed", "order.shipped")),
            exit_rules=(ExitOnEvent(event="cart.recovered"), ExitOnEvent(event="custom.ok")),
        ),
        {("trigger.events.1", "unknown_event"), ("exit_rules.0.event", "unknown_event")},
    ),
    "an unknown design": (
        replaced(0, design="missing"),
        {("steps.0.design", "unknown_design")},
    ),
    "a design without the default language": (
        valid(default_language="de", languages=()),
        {
            ("steps.3.text", "missing_language"),
            ("steps.6.title", "missing_language"),
            ("steps.6.body", "missing_language"),
        },
    ),
    "a design without a listed language": (
        replaced(0, design="english_only"),
        {("steps.0.design", "missing_language")},
    ),
    "texts without the default language": (
        replaced(3, text={"fr": "Salut"}),
        {("steps.3.text", "missing_language")},
    ),
    "push without a listed language": (
        replaced(6, title={"en": "a"}),
        {("steps.6.title", "missing_language")},
    ),
    "wait_until with at and a window": (
        replaced(5, at=time(8)),
        {("steps.5.at", "invalid_window")},
    ),
    "wait_until with half a window": (
        replaced(5, window_end=None),
        {("steps.5.window_end", "invalid_window")},
    ),
    "test mode without test emails": (
        valid(test_mode=True),
        {("test_emails", "no_test_emails")},
    ),
}


@pytest.mark.parametrize(("definition", "expected"), SEEDED.values(), ids=SEEDED.keys())
def test_each_violation_is_found_at_its_path(
    definition: CampaignDefinition, expected: set[tuple[str, str]]
) -> None:
    found = [(v.path, v.code) for v in validate(definition, DESIGNS)]
    assert set(found) == expected
    assert len(found) == len(set(found)) or all(code == "missing_language" for _, code in found)


def test_every_violation_is_reported_at_once() -> None:
    # given a definition with problems of every kind
    base = valid(
        test_mode=True,
        trigger=EventTrigger(events=("order.shipped",)),
        exit_rules=(ExitOnCondition(condition=EMPTY_ALL),),
    )
    steps = list(base.steps)
    steps[0] = steps[0].model_copy(update={"design": "missing"})
    steps[2] = steps[2].model_copy(update={"default_next": None})
    steps[5] = steps[5].model_copy(update={"at": time(8)})
    steps[3] = steps[3].model_copy(update={"next": "wait"})
    definition = base.model_copy(update={"steps": tuple(steps)})
    # when it is validated
    codes = {(v.path, v.code) for v in validate(definition, DESIGNS)}
    # then each is named
    assert codes == {
        ("trigger.events.0", "unknown_event"),
        ("test_emails", "no_test_emails"),
        ("exit_rules.0.condition", "empty_group"),
        ("steps.0.design", "unknown_design"),
        ("steps.2.default_next", "no_default"),
        ("steps.5.at", "invalid_window"),
        ("steps.3.next", "cycle"),
        *((f"steps.{index}", "unreachable") for index in (4, 5, 6, 7)),
    }


def test_list_ids_are_checked_when_the_lists_are_known() -> None:
    # given list ids in a trigger, an action and a condition
    definition = campaign(
        UpdateContactStep(
            id="u",
            actions=(ListAction(op="add_to_list", list_id="ghost"),),
        ),
        trigger=ListTrigger(type="list_entered", list_id="nobody"),
        entry_filter=condition({"type": "list_membership", "op": "in", "list_id": "phantom"}),
    )
    # when validated without, then with the store's lists
    without = validate(definition, DESIGNS)
    found = {(v.path, v.code) for v in validate(definition, DESIGNS, lists={"vip"})}
    # then only the second checks them
    assert without == []
    assert found == {
        ("trigger.list_id", "unknown_list"),
        ("entry_filter.list_id", "unknown_list"),
        ("steps.0.actions.0.list_id", "unknown_list"),
    }


def test_messages_say_what_is_wrong() -> None:
    violations = validate(replaced(0, design="english_only"), DESIGNS)
    assert [v.message for v in violations] == ["design 'english_only' has no language 'fr' version"]
