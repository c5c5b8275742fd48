"""The JSON campaign format: its published schema, its documented examples, and round trips."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import TypeAdapter, ValidationError

from relance.automation.conditions import Condition
from relance.automation.definitions import (
    CampaignDefinition,
    ContactAction,
    ExitRule,
    Step,
    Trigger,
    definition_json_schema,
    definition_json_schema_text,
)
from relance.automation.validation import validate
from tests.automation.strategies import definitions

DOCS = Path(__file__).parents[2] / "docs"
SCHEMA_FILE = DOCS / "campaign-format.schema.json"
FORMAT_DOC = DOCS / "campaign-format.md"

#: What a documented example may be: a whole definition or one of its parts.
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "definition": TypeAdapter(CampaignDefinition),
    "step": TypeAdapter(Step),
    "trigger": TypeAdapter(Trigger),
    "exit rules": TypeAdapter(list[ExitRule]),
    "condition": TypeAdapter(Condition),
    "contact action": TypeAdapter(ContactAction),
}


def test_the_published_schema_is_the_generated_one() -> None:
    # regenerate with: python -m relance.automation.definitions > docs/campaign-format.schema.json
    assert SCHEMA_FILE.read_text() == definition_json_schema_text()


def test_the_schema_describes_the_format() -> None:
    schema = definition_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"trigger", "entry_step", "steps"}
    steps = schema["properties"]["steps"]["items"]
    mapping = steps["discriminator"]["mapping"]
    assert set(mapping) == {
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
    refs = {option["$ref"] for option in steps["oneOf"]}
    assert refs == set(mapping.values())
    assert all(ref.removeprefix("#/$defs/") in schema["$defs"] for ref in refs)


def documented_examples() -> list[Any]:
    blocks = re.findall(r"```json\n(.*?)```", FORMAT_DOC.read_text(), flags=re.DOTALL)
    return [pytest.param(json.loads(block), id=f"example-{n}") for n, block in enumerate(blocks)]


@pytest.mark.parametrize("example", documented_examples())
def test_every_documented_example_parses(example: Any) -> None:
    # each JSON block of docs/campaign-format.md is a definition or one of its parts
    kinds = []
    for kind, adapter in ADAPTERS.items():
        try:
            adapter.validate_python(example)
        except ValidationError:
            continue
        kinds.append(kind)
    assert kinds, json.dumps(example)[:200]


def test_the_documented_campaigns_are_valid() -> None:
    # given the whole definitions the documentation shows, and the designs they name
    blocks = re.findall(r"```json\n(.*?)```", FORMAT_DOC.read_text(), flags=re.DOTALL)
    whole = [CampaignDefinition.model_validate_json(b) for b in blocks if '"entry_step"' in b]
    assert len(whole) >= 2
    for definition in whole:
        languages = (definition.default_language, *definition.languages)
        designs = {getattr(step, "design", ""): languages for step in definition.steps}
        # then each may be published
        assert validate(definition, designs) == []


@settings(max_examples=60, deadline=None)
@given(definitions())
def test_writing_then_reading_gives_the_same_definition(definition: CampaignDefinition) -> None:
    text = definition.model_dump_json()
    assert CampaignDefinition.model_validate_json(text) == definition
    assert CampaignDefinition.model_validate(json.loads(text)) == definition


@pytest.mark.parametrize("value", [1.5, "1.5", 3, True, None, "0.1", 0.1])
def test_custom_field_values_keep_their_json_type(value: Any) -> None:
    # given an update_contact step setting a custom field to a JSON scalar
    data = {
        "trigger": {"type": "event", "events": ["order.placed"]},
        "entry_step": "u",
        "steps": [
            {
                "type": "update_contact",
                "id": "u",
                "actions": [{"op": "set_custom_field", "key": "k", "value": value}],
            }
        ],
    }
    # when it is read and written back
    written = json.loads(CampaignDefinition.model_validate(data).model_dump_json())
    # then the value has the same JSON type and value
    assert written["steps"][0]["actions"][0]["value"] == value
    assert type(written["steps"][0]["actions"][0]["value"]) is type(value)


@pytest.mark.parametrize("moment", ["09:00+02:00", "09:00Z"])
def test_local_times_take_no_offset(moment: str) -> None:
    data = {
        "trigger": {"type": "date", "field": "created_at", "at": moment},
        "entry_step": "w",
        "steps": [{"type": "wait_until", "id": "w", "at": moment}],
    }
    with pytest.raises(ValidationError) as error:
        CampaignDefinition.model_validate(data)
    locations = {e["loc"] for e in error.value.errors()}
    assert {("trigger", "date", "at"), ("steps", 0, "wait_until", "at")} <= locations
