"""campaignCreateFromTemplate and campaignPublish through HTTP, with an API token."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from relance.automation.library import TEMPLATES
from relance.automation.validation import Violation
from relance.graphql.errors import CampaignErrorCode, errors_from_violations
from relance.graphql.types import (
    CampaignStatusEnum,
    CampaignVersionStatusEnum,
    StoreStatusEnum,
)
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    StoreStatus,
    VersionStatus,
)
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.helpers import Api, bearer, install_store


@pytest.fixture
def headers(runtime: Runtime) -> dict[str, str]:
    return bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))


def create(api: Api, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    body = api(documents.CREATE, {"key": "post_purchase", **variables}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["campaignCreateFromTemplate"]
    return payload


def publish(api: Api, headers: dict[str, str], campaign_id: str) -> dict[str, Any]:
    body = api(documents.PUBLISH, {"id": campaign_id}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["campaignPublish"]
    return payload


def test_creating_from_a_template_makes_a_draft(
    api: Api, headers: dict[str, str], clock: Clock
) -> None:
    # when a campaign is created from the post-purchase template
    payload = create(api, headers, name="Merci")
    # then it is a draft whose version 1 holds the template's definition
    assert payload["errors"] == []
    campaign = payload["campaign"]
    assert campaign["name"] == "Merci"
    assert campaign["status"] == "DRAFT"
    assert campaign["templateKey"] == "post_purchase"
    assert campaign["publishedVersion"] is None
    assert campaign["draftVersion"]["number"] == 1
    assert campaign["draftVersion"]["status"] == "DRAFT"
    assert campaign["draftVersion"]["publishedAt"] is None
    assert campaign["draftVersion"]["definition"] == TEMPLATES[
        "post_purchase"
    ].definition.model_dump(mode="json")
    assert campaign["versions"] == [{"number": 1, "status": "DRAFT"}]
    assert campaign["stats"] == {"enrolled": 0, "active": 0, "messagesSent": 0}
    assert campaign["createdAt"] == clock.now.isoformat()
    # and it is listed
    listed = api(documents.CAMPAIGNS, headers=headers)["data"]["campaigns"]
    assert listed == [campaign]


def test_the_name_defaults_to_the_templates(api: Api, headers: dict[str, str]) -> None:
    assert create(api, headers)["campaign"]["name"] == "Post-purchase thank you"


def test_an_unknown_template_is_not_found(api: Api, headers: dict[str, str]) -> None:
    payload = create(api, headers, key="black_friday")
    assert payload["campaign"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("templateKey", "NOT_FOUND")]
    assert api(documents.CAMPAIGNS, headers=headers)["data"]["campaigns"] == []


def test_a_too_long_name_is_invalid(api: Api, headers: dict[str, str]) -> None:
    payload = create(api, headers, name="x" * 201)
    assert payload["campaign"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("name", "INVALID")]
    assert api(documents.CAMPAIGNS, headers=headers)["data"]["campaigns"] == []


def test_publishing_makes_version_1_published_and_the_campaign_active(
    api: Api, headers: dict[str, str], clock: Clock
) -> None:
    # given a draft campaign
    campaign_id = create(api, headers)["campaign"]["id"]
    clock.advance(hours=2)
    # when it is published
    payload = publish(api, headers, campaign_id)
    # then version 1 is published now and the campaign is active
    assert payload["errors"] == []
    campaign = payload["campaign"]
    assert campaign["status"] == "ACTIVE"
    assert campaign["draftVersion"] is None
    assert campaign["publishedVersion"]["number"] == 1
    assert campaign["publishedVersion"]["status"] == "PUBLISHED"
    assert campaign["publishedVersion"]["publishedAt"] == clock.now.isoformat()
    assert campaign["updatedAt"] == clock.now.isoformat()
    # and a second publish finds no draft
    again = publish(api, headers, campaign_id)
    assert again["campaign"] is None
    assert [(e["field"], e["code"]) for e in again["errors"]] == [(None, "NO_DRAFT")]


def test_an_invalid_draft_is_not_published(
    api: Api, headers: dict[str, str], runtime: Runtime
) -> None:
    # given a draft whose stored definition sends an email with a design that does not exist
    campaign_id = create(api, headers)["campaign"]["id"]
    with transaction(runtime.sessions) as session:
        version = session.query(CampaignVersion).filter_by(campaign_id=UUID(campaign_id)).one()
        definition = dict(version.definition)
        definition["steps"] = [{**definition["steps"][0], "design": "no_such_design"}]
        version.definition = definition
    # when it is published
    payload = publish(api, headers, campaign_id)
    # then the errors point into the definition, and nothing was published
    assert payload["campaign"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("steps.0.design", "UNKNOWN_DESIGN")
    ]
    assert "no_such_design" in payload["errors"][0]["message"]
    with runtime.sessions() as session:
        campaign = session.get(Campaign, UUID(campaign_id))
        assert campaign is not None
        assert campaign.status == CampaignStatus.DRAFT
        [version] = session.query(CampaignVersion).filter_by(campaign_id=campaign.id).all()
        assert (version.status, version.published_at) == (VersionStatus.DRAFT, None)


def test_every_stored_status_has_a_graphql_value() -> None:
    for status in CampaignStatus:
        assert CampaignStatusEnum(status.value).name == status.name
    for version_status in VersionStatus:
        assert CampaignVersionStatusEnum(version_status.value).name == version_status.name
    for store_status in StoreStatus:
        assert StoreStatusEnum(store_status.value).name == store_status.name


@pytest.mark.parametrize(
    "code",
    ["too_many_steps", "duplicate_id", "unknown_step", "unknown_design", "cycle", "unreachable"],
)
def test_every_validation_code_has_its_error_code(code: str) -> None:
    [error] = errors_from_violations([Violation("steps.1.next", code, "m")])
    assert error.code.value == code
    assert error.field == "steps.1.next"


def test_a_code_unknown_to_the_schema_is_invalid_not_a_crash() -> None:
    [error] = errors_from_violations([Violation("", "brand_new_rule", "m")])
    assert (error.field, error.code) == (None, CampaignErrorCode.INVALID)
