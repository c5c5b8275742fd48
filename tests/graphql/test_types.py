"""Pure pieces of the GraphQL layer: trigger summaries, the design library view, cursors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from graphql import GraphQLError

from relance.automation.definitions import CampaignDefinition
from relance.graphql.pagination import decode_cursor, encode_cursor
from relance.graphql.types import trigger_type
from relance.store.repositories.campaigns import EnrollmentCursor
from relance.templates.catalog import DesignLanguages
from relance.templates.errors import TemplateRenderError


def summary(trigger: dict[str, Any]) -> str:
    definition = CampaignDefinition.model_validate(
        {"trigger": trigger, "entry_step": "end", "steps": [{"id": "end", "type": "exit"}]}
    )
    return trigger_type(definition).summary


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"type": "event", "events": ["order.placed"]}, "order.placed"),
        (
            {
                "type": "event",
                "events": ["customer.signed_up", "newsletter.subscribed"],
                "where": {"type": "order_stat", "stat": "orders_count", "op": "eq", "value": 0},
            },
            "customer.signed_up or newsletter.subscribed (with conditions)",
        ),
        ({"type": "list_exited", "list_id": "vip"}, "leaves list vip"),
        (
            {"type": "date", "field": "custom:birthday", "yearly": True},
            "on custom:birthday, every year at 09:00",
        ),
        (
            {"type": "date", "field": "last_order_at", "offset_days": 30, "at": "10:30"},
            "30 days after last_order_at at 10:30",
        ),
        (
            {"type": "date", "field": "created_at", "offset_days": -1},
            "1 day before created_at at 09:00",
        ),
    ],
)
def test_trigger_summaries(trigger: dict[str, Any], expected: str) -> None:
    assert summary(trigger) == expected


class _Library:
    def known_designs(self) -> frozenset[str]:
        return frozenset({"fine", "broken"})

    def languages(self, design: str) -> frozenset[str]:
        if design == "broken":
            raise TemplateRenderError("invalid design.json")
        return frozenset({"en", "fr"})


def test_the_design_view_maps_names_to_languages_and_broken_designs_to_none() -> None:
    designs = DesignLanguages(_Library())
    assert (list(designs), len(designs)) == (["broken", "fine"], 2)
    assert designs["fine"] == {"en", "fr"}
    assert designs["broken"] == frozenset()
    assert "missing" not in designs
    with pytest.raises(KeyError):
        designs["missing"]


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    cursor = EnrollmentCursor(datetime(2026, 11, 23, 10, tzinfo=UTC), uuid4())
    assert decode_cursor(encode_cursor(cursor)) == cursor
    assert decode_cursor(None) is None
    for foreign in ("nope", "e30", encode_cursor(cursor)[:-3]):
        with pytest.raises(GraphQLError):
            decode_cursor(foreign)
