"""Builders for campaign definitions, facts and situations used across the automation tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relance.automation.conditions import Facts, parse_condition
from relance.automation.definitions import (
    AnyStep,
    CampaignDefinition,
    EventTrigger,
    SendEmailStep,
)
from relance.automation.engine import SendingPolicy, Situation

#: A Monday, 10:00 UTC (11:00 in Paris).
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SUBSCRIBED = {"email": "subscribed", "sms": "subscribed", "push": "subscribed"}


def campaign(*steps: AnyStep, **fields: Any) -> CampaignDefinition:
    """A definition triggered by ``order.placed`` whose entry is the first step."""
    fields.setdefault("trigger", EventTrigger(events=("order.placed",)))
    fields.setdefault("entry_step", steps[0].id)
    return CampaignDefinition(steps=steps, **fields)


def email(step_id: str, next: str | None = None, **fields: Any) -> SendEmailStep:
    return SendEmailStep(id=step_id, design=fields.pop("design", "design"), next=next, **fields)


def facts(**fields: Any) -> Facts:
    """Facts of a contact subscribed on every channel unless ``consents`` says otherwise."""
    fields.setdefault("consents", SUBSCRIBED)
    return Facts(**fields)


def situation(
    policy: SendingPolicy | None = None,
    *,
    contact_key: str = "contact-1",
    store_time_zone: str = "UTC",
    **fact_fields: Any,
) -> Situation:
    return Situation(
        facts=facts(**fact_fields),
        contact_key=contact_key,
        campaign_key="campaign-1",
        store_time_zone=store_time_zone,
        policy=policy or SendingPolicy(),
    )


def condition(data: dict[str, Any]) -> Any:
    """A parsed condition (typed ``Any`` so it fits every model field that takes one)."""
    return parse_condition(data)


def tagged(tag: str) -> Any:
    return condition({"type": "tags", "op": "has_any", "tags": [tag]})


def language_is(language: str) -> Any:
    return condition({"type": "contact_field", "field": "language", "op": "eq", "value": language})
