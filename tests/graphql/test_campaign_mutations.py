"""Creating campaigns (from a template, blank, from JSON), editing and validating drafts, and
how errors come back — through HTTP, with an API token."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest

from relance.automation import validation
from relance.automation.library import TEMPLATES
from relance.automation.validation import Violation
from relance.graphql.errors import CampaignErrorCode, errors_from_violations
from relance.graphql.types import (
    CampaignStatusEnum,
    CampaignVersionStatusEnum,
    EnrollmentStatusEnum,
    StoreStatusEnum,
)
from relance.runtime import Runtime
from relance.store.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    EnrollmentStatus,
    StoreStatus,
    VersionStatus,
)
from relance.store.repositories.campaigns import ReleaseMode
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.helpers import (
    Api,
    bearer,
    fields_and_codes,
    install_store,
    mutate,
    simple_definition,
)


@pytest.fixture
def headers(runtime: Runtime) -> dict[str, str]:
    return bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))


def create(api: Api, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    variables.setdefault("key", "post_purchase")
    return mutate(api, headers, "campaignCreateFromTemplate", documents.CREATE, **variables)


def publish(api: Api, headers: dict[str, str], campaign_id: str) -> dict[str, Any]:
    return mutate(api, headers, "campaignPublish", documents.PUBLISH, id=campaign_id)


def import_(api: Api, headers: dict[str, str], definition: Any, name: str = "c") -> dict[str, Any]:
    return mutate(
        api, headers, "campaignImport", documents.IMPORT, name=name, definition=definition
    )


def update(api: Api, headers: dict[str, str], campaign_id: str, **variables: Any) -> dict[str, Any]:
    return mutate(
        api, headers, "campaignUpdateDraft", documents.UPDATE_DRAFT, id=campaign_id, **variables
    )


def validate(api: Api, headers: dict[str, str], campaign_id: str) -> dict[str, Any]:
    return mutate(api, headers, "campaignValidate", documents.VALIDATE, id=campaign_id)


def listed(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    campaigns: list[dict[str, Any]] = api(documents.CAMPAIGNS, headers=headers)["data"]["campaigns"]
    return campaigns


# --- from a template -----------------------------------------------------------------------


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
    assert campaign["stats"] == {
        "enrolled": 0,
        "active": 0,
        "completed": 0,
        "exited": 0,
        "messagesSent": 0,
    }
    assert campaign["trigger"] == {
        "type": "event",
        "events": ["order.placed"],
        "hasConditions": False,
        "listId": None,
        "dateField": None,
        "summary": "order.placed",
    }
    assert campaign["createdAt"] == clock.now.isoformat()
    # and it is listed
    assert listed(api, headers) == [campaign]


def test_the_name_defaults_to_the_templates(api: Api, headers: dict[str, str]) -> None:
    assert create(api, headers)["campaign"]["name"] == "Post-purchase thank you"


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_makes_a_publishable_draft(
    api: Api, headers: dict[str, str], key: str
) -> None:
    campaign_id = create(api, headers, key=key)["campaign"]["id"]
    assert validate(api, headers, campaign_id) == {"valid": True, "violations": [], "errors": []}


def test_an_unknown_template_is_not_found(api: Api, headers: dict[str, str]) -> None:
    payload = create(api, headers, key="black_friday")
    assert payload["campaign"] is None
    assert fields_and_codes(payload) == [("templateKey", "NOT_FOUND")]
    assert listed(api, headers) == []


def test_a_too_long_name_is_invalid(api: Api, headers: dict[str, str]) -> None:
    payload = create(api, headers, name="x" * 201)
    assert payload["campaign"] is None
    assert fields_and_codes(payload) == [("name", "INVALID")]
    assert listed(api, headers) == []


# --- blank ---------------------------------------------------------------------------------


def test_a_blank_campaign_starts_with_one_exit_step(api: Api, headers: dict[str, str]) -> None:
    # when a blank campaign is created on a list trigger
    trigger = {"type": "list_entered", "list_id": "vip"}
    payload = mutate(
        api, headers, "campaignCreate", documents.CREATE_BLANK, name=" VIP ", trigger=trigger
    )
    # then it is a draft with the trigger and a single exit step, valid as it is
    assert payload["errors"] == []
    campaign = payload["campaign"]
    assert (campaign["name"], campaign["status"], campaign["templateKey"]) == (
        "VIP",
        "DRAFT",
        None,
    )
    definition = campaign["draftVersion"]["definition"]
    assert definition["trigger"] == trigger
    assert (definition["entry_step"], definition["steps"]) == (
        "end",
        [{"id": "end", "type": "exit", "label": None}],
    )
    assert campaign["trigger"]["summary"] == "enters list vip"
    assert validate(api, headers, campaign["id"])["valid"] is True


def test_a_blank_campaign_needs_a_name_and_a_trigger_that_parses(
    api: Api, headers: dict[str, str]
) -> None:
    for name, trigger, expected in [
        ("", {"type": "event", "events": ["order.placed"]}, [("name", "INVALID")]),
        ("n", {"type": "date", "field": "birthday"}, [("trigger.field", "INVALID")]),
        ("n", {"type": "event", "events": []}, [("trigger.events", "INVALID")]),
        ("n", "order.placed", [("trigger", "INVALID")]),
    ]:
        payload = mutate(
            api, headers, "campaignCreate", documents.CREATE_BLANK, name=name, trigger=trigger
        )
        assert payload["campaign"] is None
        assert fields_and_codes(payload) == expected, trigger
    assert listed(api, headers) == []


# --- import --------------------------------------------------------------------------------


def test_importing_a_definition_makes_a_draft(api: Api, headers: dict[str, str]) -> None:
    payload = import_(api, headers, simple_definition(category="thanks"), name="Imported")
    assert payload["errors"] == []
    campaign = payload["campaign"]
    assert (campaign["name"], campaign["status"], campaign["category"]) == (
        "Imported",
        "DRAFT",
        "thanks",
    )
    assert campaign["draftVersion"]["definition"]["steps"][0]["design"] == "post_purchase"
    # a definition that parses is saved even when it could not be published yet
    broken = import_(api, headers, simple_definition("no_such_design"))
    assert broken["errors"] == []
    assert fields_and_codes(validate(api, headers, broken["campaign"]["id"]), "violations") == [
        ("steps.0.design", "UNKNOWN_DESIGN")
    ]


def test_every_parse_error_of_an_import_comes_back_with_its_path(
    api: Api, headers: dict[str, str]
) -> None:
    definition = {
        "trigger": {"type": "event", "events": ["order.placed"]},
        "entry_step": "a",
        "steps": [
            {"id": "a", "type": "send_email", "next": "b"},
            {"id": "b", "type": "delay", "seconds": 0},
            {"id": "c", "type": "teleport"},
        ],
        "colour": "blue",
    }
    payload = import_(api, headers, definition)
    assert payload["campaign"] is None
    assert fields_and_codes(payload) == [
        ("definition.steps.0.design", "INVALID"),
        ("definition.steps.1.seconds", "INVALID"),
        ("definition.steps.2", "INVALID"),
        ("definition.colour", "INVALID"),
    ]
    assert all(error["message"] for error in payload["errors"])
    not_an_object = import_(api, headers, ["steps"])
    assert fields_and_codes(not_an_object) == [("definition", "INVALID")]
    assert listed(api, headers) == []


# --- drafts --------------------------------------------------------------------------------


def test_updating_the_draft_saves_it_and_reports_its_violations(
    api: Api, headers: dict[str, str], clock: Clock
) -> None:
    # given a draft from a template
    campaign_id = create(api, headers)["campaign"]["id"]
    clock.advance(minutes=3)
    # when it is replaced by a definition with an unknown design, and renamed
    payload = update(api, headers, campaign_id, definition=simple_definition("nope"), name="Thanks")
    # then it is saved, version 1 still, and the payload says what publishing would refuse
    assert payload["errors"] == []
    assert fields_and_codes(payload, "violations") == [("steps.0.design", "UNKNOWN_DESIGN")]
    campaign = payload["campaign"]
    assert (campaign["name"], campaign["updatedAt"]) == ("Thanks", clock.now.isoformat())
    assert campaign["draftVersion"]["number"] == 1
    assert campaign["draftVersion"]["definition"]["steps"][0]["design"] == "nope"
    assert campaign["trigger"]["summary"] == "order.placed"
    # and publishing refuses it with the same violation
    refused = publish(api, headers, campaign_id)
    assert fields_and_codes(refused) == [("steps.0.design", "UNKNOWN_DESIGN")]


def test_a_draft_update_must_parse(api: Api, headers: dict[str, str]) -> None:
    campaign_id = create(api, headers)["campaign"]["id"]
    payload = update(api, headers, campaign_id, definition={**simple_definition(), "steps": []})
    assert (payload["campaign"], payload["violations"]) == (None, [])
    assert fields_and_codes(payload) == [("definition.steps", "INVALID")]
    again = update(api, headers, campaign_id, definition=simple_definition(), name=" ")
    assert fields_and_codes(again) == [("name", "INVALID")]
    [campaign] = listed(api, headers)
    assert campaign["draftVersion"]["definition"] == TEMPLATES[
        "post_purchase"
    ].definition.model_dump(mode="json")


def test_editing_a_published_campaign_makes_a_new_draft(api: Api, headers: dict[str, str]) -> None:
    campaign_id = import_(api, headers, simple_definition())["campaign"]["id"]
    assert publish(api, headers, campaign_id)["errors"] == []
    payload = update(api, headers, campaign_id, definition=simple_definition("other"))
    campaign = payload["campaign"]
    assert campaign["status"] == "ACTIVE"
    assert campaign["draftVersion"]["number"] == 2
    assert campaign["publishedVersion"]["number"] == 1
    assert campaign["publishedVersion"]["definition"]["steps"][0]["design"] == "post_purchase"
    assert campaign["versions"] == [
        {"number": 2, "status": "DRAFT"},
        {"number": 1, "status": "PUBLISHED"},
    ]


def test_validating_changes_nothing(api: Api, headers: dict[str, str], runtime: Runtime) -> None:
    campaign_id = import_(
        api,
        headers,
        simple_definition(
            steps=[
                {"id": "thank_you", "type": "send_email", "design": "nope", "next": "gone"},
                {"id": "alone", "type": "exit"},
            ]
        ),
    )["campaign"]["id"]
    payload = validate(api, headers, campaign_id)
    assert (payload["valid"], payload["errors"]) == (False, [])
    assert fields_and_codes(payload, "violations") == [
        ("steps.0.design", "UNKNOWN_DESIGN"),
        ("steps.0.next", "UNKNOWN_STEP"),
        ("steps.1", "UNREACHABLE"),
    ]
    with runtime.sessions() as session:
        [version] = session.query(CampaignVersion).filter_by(campaign_id=UUID(campaign_id)).all()
        assert version.status == VersionStatus.DRAFT
    assert publish(api, headers, campaign_id)["campaign"] is None


def test_validating_without_a_draft(api: Api, headers: dict[str, str]) -> None:
    campaign_id = import_(api, headers, simple_definition())["campaign"]["id"]
    assert publish(api, headers, campaign_id)["errors"] == []
    payload = validate(api, headers, campaign_id)
    assert (payload["valid"], payload["violations"]) == (False, [])
    assert fields_and_codes(payload) == [(None, "NO_DRAFT")]


# --- publishing (more in test_campaign_versions.py) ----------------------------------------


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
    assert fields_and_codes(again) == [(None, "NO_DRAFT")]


def test_an_invalid_draft_is_not_published(
    api: Api, headers: dict[str, str], runtime: Runtime
) -> None:
    # given a draft that sends an email with a design that does not exist
    campaign_id = import_(api, headers, simple_definition("no_such_design"))["campaign"]["id"]
    # when it is published
    payload = publish(api, headers, campaign_id)
    # then the errors point into the definition, and nothing was published
    assert payload["campaign"] is None
    assert fields_and_codes(payload) == [("steps.0.design", "UNKNOWN_DESIGN")]
    assert "no_such_design" in payload["errors"][0]["message"]
    with runtime.sessions() as session:
        campaign = session.get(Campaign, UUID(campaign_id))
        assert campaign is not None
        assert campaign.status == CampaignStatus.DRAFT
        [version] = session.query(CampaignVersion).filter_by(campaign_id=campaign.id).all()
        assert (version.status, version.published_at) == (VersionStatus.DRAFT, None)


def test_a_design_missing_a_language_is_not_published(api: Api, headers: dict[str, str]) -> None:
    campaign_id = import_(api, headers, simple_definition(languages=["en", "ja"]))["campaign"]["id"]
    payload = publish(api, headers, campaign_id)
    assert fields_and_codes(payload) == [("steps.0.design", "MISSING_LANGUAGE")]
    assert "'ja'" in payload["errors"][0]["message"]


# --- another store's ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [name for name, (_, variables) in documents.MUTATIONS.items() if "id" in variables]
)
def test_a_campaign_of_another_store_is_not_found_by_any_mutation(
    api: Api, runtime: Runtime, name: str
) -> None:
    # given a campaign of store B
    theirs = bearer(runtime, install_store(runtime, "https://b.example.com/graphql/"))
    campaign_id = import_(api, theirs, simple_definition())["campaign"]["id"]
    mine = bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))
    document, variables = documents.MUTATIONS[name]
    # when store A runs the mutation on it, or on an id that is not an id
    for target in (campaign_id, "not-an-id"):
        payload = mutate(api, mine, name, document, **{**variables, "id": target})
        # then it is NOT_FOUND, on the id
        assert fields_and_codes(payload) == [("id", "NOT_FOUND")], target
    # and B's campaign is unchanged
    [campaign] = listed(api, theirs)
    assert (campaign["status"], campaign["versions"]) == (
        "DRAFT",
        [{"number": 1, "status": "DRAFT"}],
    )


# --- enums and codes -----------------------------------------------------------------------


def test_every_stored_status_has_a_graphql_value() -> None:
    for status in CampaignStatus:
        assert CampaignStatusEnum(status.value).name == status.name
    for version_status in VersionStatus:
        assert CampaignVersionStatusEnum(version_status.value).name == version_status.name
    for store_status in StoreStatus:
        assert StoreStatusEnum(store_status.value).name == store_status.name
    for enrollment_status in EnrollmentStatus:
        assert EnrollmentStatusEnum(enrollment_status.value).name == enrollment_status.name


#: The violation codes validation documents: its docstring table's first column.
VALIDATION_CODES = sorted(
    code
    for line in re.findall(r"^((?:``[a-z_]+``(?:, )?)+)", validation.__doc__ or "", re.MULTILINE)
    for code in re.findall(r"``([a-z_]+)``", line)
)


def test_validation_documents_its_codes() -> None:
    assert {"unknown_design", "missing_language", "cycle", "no_default"} <= set(VALIDATION_CODES)


@pytest.mark.parametrize("code", [*VALIDATION_CODES, "invalid_definition", "no_draft"])
def test_every_validation_code_has_its_error_code(code: str) -> None:
    [error] = errors_from_violations([Violation("steps.1.next", code, "m")])
    assert error.code.value == code
    assert error.field == "steps.1.next"


def test_release_modes_match() -> None:
    from relance.graphql.types import ReleaseModeEnum

    assert {m.value for m in ReleaseModeEnum} == {m.value for m in ReleaseMode}


def test_a_code_unknown_to_the_schema_is_invalid_not_a_crash() -> None:
    [error] = errors_from_violations([Violation("", "brand_new_rule", "m")])
    assert (error.field, error.code) == (None, CampaignErrorCode.INVALID)
