"""Enrollments through HTTP: a campaign's and a contact's, paginated, with traces, store-scoped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from relance.runtime import Runtime
from relance.store.models import EnrollmentStatus
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.helpers import (
    Api,
    bearer,
    error_codes,
    install_store,
    mutate,
    seed_enrollment,
    simple_definition,
)


@pytest.fixture
def store_id(runtime: Runtime) -> UUID:
    return install_store(runtime, "https://a.example.com/graphql/")


@pytest.fixture
def headers(runtime: Runtime, store_id: UUID) -> dict[str, str]:
    return bearer(runtime, store_id)


def campaign(api: Api, headers: dict[str, str], name: str = "c") -> str:
    payload = mutate(
        api, headers, "campaignImport", documents.IMPORT, name=name, definition=simple_definition()
    )
    campaign_id: str = payload["campaign"]["id"]
    assert (
        mutate(api, headers, "campaignPublish", documents.PUBLISH, id=campaign_id)["errors"] == []
    )
    return campaign_id


def page(api: Api, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    body = api(documents.CAMPAIGN_ENROLLMENTS, variables, headers)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["campaign"]["enrollments"]
    return connection


def contact_page(api: Api, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    body = api(documents.CONTACT_ENROLLMENTS, variables, headers)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["contactEnrollments"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def test_a_campaigns_enrollments_page_newest_first(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, clock: Clock
) -> None:
    # given five enrollments entered a minute apart, the third one completed
    campaign_id = campaign(api, headers)
    entered = []
    for minute in range(5):
        entered.append(
            str(
                seed_enrollment(
                    runtime,
                    store_id,
                    campaign_id,
                    email=f"c{minute}@example.com",
                    entered_at=clock.now + timedelta(minutes=minute),
                    status=EnrollmentStatus.COMPLETED if minute == 2 else EnrollmentStatus.ACTIVE,
                )
            )
        )
    # when they are read two at a time
    seen: list[str] = []
    after = None
    for expected_next in (True, True, False):
        connection = page(api, headers, id=campaign_id, first=2, after=after)
        assert connection["pageInfo"]["hasNextPage"] is expected_next
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        seen += ids(connection)
        after = connection["pageInfo"]["endCursor"]
    # then each comes once, newest first
    assert seen == entered[::-1]
    # and a status filter narrows them
    completed = page(api, headers, id=campaign_id, status="COMPLETED")
    assert ids(completed) == [entered[2]]
    node = completed["edges"][0]["node"]
    assert (node["status"], node["endReason"], node["wakeAt"], node["versionNumber"]) == (
        "COMPLETED",
        "completed",
        None,
        1,
    )
    assert (node["campaignId"], node["campaignName"], node["contactEmail"]) == (
        campaign_id,
        "c",
        "c2@example.com",
    )
    assert node["enteredAt"] == (clock.now + timedelta(minutes=2)).isoformat()


def test_a_contacts_enrollments_with_traces_newest_first(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, clock: Clock
) -> None:
    # given Ada in two campaigns, with traces, and Bob in one
    first = campaign(api, headers, "first")
    second = campaign(api, headers, "second")
    older = seed_enrollment(
        runtime,
        store_id,
        first,
        email="ada@example.com",
        trace=(("thank_you", "entered", ""), ("thank_you", "send", "email")),
    )
    newer = seed_enrollment(
        runtime,
        store_id,
        second,
        email="ada@example.com",
        entered_at=clock.now + timedelta(hours=1),
        trace=tuple((f"s{i}", "wait", f"#{i}") for i in range(5)),
    )
    seed_enrollment(runtime, store_id, first, email="bob@example.com")
    # when Ada's enrollments are read, by her email written another way, 3 trace entries each
    connection = contact_page(api, headers, email=" ADA@example.com", traceLimit=3)
    # then both come, newest first, each with its newest decisions first
    assert ids(connection) == [str(newer), str(older)]
    nodes = [edge["node"] for edge in connection["edges"]]
    assert [n["campaignName"] for n in nodes] == ["second", "first"]
    assert [t["stepId"] for t in nodes[0]["trace"]] == ["s4", "s3", "s2"]
    assert [(t["action"], t["detail"]) for t in nodes[1]["trace"]] == [
        ("send", "email"),
        ("entered", ""),
    ]
    assert nodes[1]["trace"][0]["at"] == (clock.now + timedelta(minutes=1)).isoformat()
    # and an unknown contact has none
    assert contact_page(api, headers, email="nobody@example.com") == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


def test_another_stores_enrollments_are_not_visible(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID
) -> None:
    # given Ada enrolled in a campaign of store B
    other_store = install_store(runtime, "https://b.example.com/graphql/")
    theirs = bearer(runtime, other_store)
    their_campaign = campaign(api, theirs)
    seed_enrollment(runtime, other_store, their_campaign, email="ada@example.com")
    # when store A asks for Ada's enrollments or the campaign's, it sees nothing
    assert ids(contact_page(api, headers, email="ada@example.com")) == []
    body = api(documents.CAMPAIGN_ENROLLMENTS, {"id": their_campaign}, headers)
    assert body == {"data": {"campaign": None}}
    # and store B sees its own
    assert len(ids(contact_page(api, theirs, email="ada@example.com"))) == 1


@pytest.mark.parametrize(
    "variables",
    [{"first": 0}, {"first": 101}, {"traceLimit": -1}, {"traceLimit": 201}, {"after": "nope"}],
)
def test_bad_page_arguments_are_refused(
    api: Api, headers: dict[str, str], variables: dict[str, Any]
) -> None:
    body = api(documents.CONTACT_ENROLLMENTS, {"email": "ada@example.com", **variables}, headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
