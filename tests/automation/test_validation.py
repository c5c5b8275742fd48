from relance.automation.definitions import (
    CampaignDefinition,
    DelayStep,
    ExitStep,
    SendEmailStep,
    Trigger,
)
from relance.automation.events import EventType
from relance.automation.library import TEMPLATES
from relance.automation.validation import validate


def test_templates_are_valid() -> None:
    for template in TEMPLATES.values():
        assert validate(template.definition, frozenset({"post_purchase"})) == []


def test_every_violation_is_reported_with_its_path() -> None:
    # given a definition with several problems at once
    definition = CampaignDefinition(
        trigger=Trigger(event=EventType.ORDER_PLACED),
        entry_step="a",
        steps=(
            SendEmailStep(id="a", design="missing", next="nowhere"),
            DelayStep(id="lonely", seconds=10),
            ExitStep(id="a"),
        ),
    )
    # when it is validated
    codes = {(v.path, v.code) for v in validate(definition, frozenset({"post_purchase"}))}
    # then each problem is named at its field
    assert codes == {
        ("steps.2.id", "duplicate_id"),
        ("steps.0.next", "unknown_step"),
        ("steps.0.design", "unknown_design"),
        ("steps.1", "unreachable"),
    }


def test_a_cycle_is_refused() -> None:
    definition = CampaignDefinition(
        trigger=Trigger(event=EventType.ORDER_PLACED),
        entry_step="a",
        steps=(
            SendEmailStep(id="a", design="post_purchase", next="b"),
            DelayStep(id="b", seconds=5, next="a"),
        ),
    )
    assert [v.code for v in validate(definition, frozenset({"post_purchase"}))] == ["cycle"]
