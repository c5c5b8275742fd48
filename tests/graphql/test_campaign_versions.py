"""Versions through HTTP: publish with DRAIN or STOP, stop, history, revert, export and import
back, and concurrent publishes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from relance.runtime import Runtime
from relance.store.models import Enrollment, EnrollmentStatus, Message, MessageStatus
from relance.store.repositories.campaigns import (
    CAMPAIGN_STOPPED,
    EXPORT_SCHEMA,
    FORMAT_VERSION,
    VERSION_REPLACED,
)
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.helpers import (
    Api,
    bearer,
    fields_and_codes,
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


def imported(api: Api, headers: dict[str, str], design: str = "post_purchase") -> str:
    payload = mutate(
        api,
        headers,
        "campaignImport",
        documents.IMPORT,
        name="c",
        definition=simple_definition(design),
    )
    assert payload["errors"] == []
    campaign_id: str = payload["campaign"]["id"]
    return campaign_id


def publish(
    api: Api, headers: dict[str, str], campaign_id: str, mode: str = "DRAIN"
) -> dict[str, Any]:
    return mutate(
        api, headers, "campaignPublish", documents.PUBLISH_WITH, id=campaign_id, mode=mode
    )


def stop(api: Api, headers: dict[str, str], campaign_id: str, mode: str) -> dict[str, Any]:
    return mutate(api, headers, "campaignStop", documents.STOP, id=campaign_id, mode=mode)


def edit(api: Api, headers: dict[str, str], campaign_id: str, design: str = "other") -> None:
    payload = mutate(
        api,
        headers,
        "campaignUpdateDraft",
        documents.UPDATE_DRAFT,
        id=campaign_id,
        definition=simple_definition(design),
    )
    assert payload["errors"] == []


def history(api: Api, headers: dict[str, str], campaign_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = api(documents.HISTORY, {"id": campaign_id}, headers)["data"][
        "campaignHistory"
    ]
    return entries


def enrollment(runtime: Runtime, enrollment_id: UUID) -> Enrollment:
    with runtime.sessions() as session:
        return session.get_one(Enrollment, enrollment_id)


def message_statuses(runtime: Runtime, enrollment_id: UUID) -> list[MessageStatus]:
    with runtime.sessions() as session:
        return [
            m.status
            for m in session.query(Message).filter(Message.enrollment_id == enrollment_id).all()
        ]


def test_publishing_with_drain_lets_contacts_finish_the_old_version(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, clock: Clock
) -> None:
    # given a published campaign with a contact inside and an edited draft, version 2
    campaign_id = imported(api, headers)
    assert publish(api, headers, campaign_id)["errors"] == []
    inside = seed_enrollment(runtime, store_id, campaign_id, email="ada@example.com")
    edit(api, headers, campaign_id)
    clock.advance(days=1)
    # when the draft is published with DRAIN
    campaign = publish(api, headers, campaign_id, "DRAIN")["campaign"]
    # then version 2 is published, version 1 drains since now, and the contact stays inside
    assert campaign["status"] == "ACTIVE"
    assert campaign["versions"] == [
        {"number": 2, "status": "PUBLISHED"},
        {"number": 1, "status": "DRAINING"},
    ]
    [v2, v1] = history(api, headers, campaign_id)
    assert (v1["version"]["unpublishedAt"], v1["version"]["retiredAt"]) == (
        clock.now.isoformat(),
        None,
    )
    assert (v1["entered"], v1["active"], v2["entered"]) == (1, 1, 0)
    assert enrollment(runtime, inside).status == EnrollmentStatus.ACTIVE


def test_publishing_with_stop_removes_the_contacts_inside(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, clock: Clock
) -> None:
    # given a published campaign with a contact inside, whose next email is queued
    campaign_id = imported(api, headers)
    assert publish(api, headers, campaign_id)["errors"] == []
    inside = seed_enrollment(
        runtime, store_id, campaign_id, email="ada@example.com", pending_messages=1
    )
    edit(api, headers, campaign_id)
    clock.advance(days=1)
    # when the draft is published with STOP
    campaign = publish(api, headers, campaign_id, "STOP")["campaign"]
    # then version 1 is retired now, the contact left and the queued email is cancelled
    assert campaign["versions"] == [
        {"number": 2, "status": "PUBLISHED"},
        {"number": 1, "status": "RETIRED"},
    ]
    assert campaign["stats"]["exited"] == 1
    gone = enrollment(runtime, inside)
    assert (gone.status, gone.end_reason, gone.ended_at, gone.wake_at) == (
        EnrollmentStatus.EXITED,
        VERSION_REPLACED,
        clock.now,
        None,
    )
    assert message_statuses(runtime, inside) == [MessageStatus.CANCELLED]
    [_, v1] = history(api, headers, campaign_id)
    assert v1["version"]["retiredAt"] == clock.now.isoformat()
    assert (v1["entered"], v1["active"], v1["exited"]) == (1, 0, 1)


def test_stopping_with_drain_then_stop_and_publishing_again(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, clock: Clock
) -> None:
    # given a published campaign with a contact inside
    campaign_id = imported(api, headers)
    assert publish(api, headers, campaign_id)["errors"] == []
    inside = seed_enrollment(runtime, store_id, campaign_id, email="ada@example.com")
    # when it is stopped with DRAIN
    campaign = stop(api, headers, campaign_id, "DRAIN")["campaign"]
    # then it is STOPPED, its version drains and the contact is still inside
    assert campaign["status"] == "STOPPED"
    assert campaign["publishedVersion"] is None
    assert campaign["versions"] == [{"number": 1, "status": "DRAINING"}]
    assert enrollment(runtime, inside).status == EnrollmentStatus.ACTIVE
    # and stopping with DRAIN again has nothing to stop
    assert fields_and_codes(stop(api, headers, campaign_id, "DRAIN")) == [(None, "NOT_PUBLISHED")]
    # when it is stopped with STOP
    campaign = stop(api, headers, campaign_id, "STOP")["campaign"]
    # then the version is retired and the contact left
    assert campaign["versions"] == [{"number": 1, "status": "RETIRED"}]
    assert enrollment(runtime, inside).end_reason == CAMPAIGN_STOPPED
    # when version 1 is reverted to and published again, the campaign is ACTIVE again
    reverted = mutate(api, headers, "campaignRevert", documents.REVERT, id=campaign_id, version=1)
    assert reverted["campaign"]["draftVersion"]["number"] == 2
    campaign = publish(api, headers, campaign_id)["campaign"]
    assert (campaign["status"], campaign["publishedVersion"]["number"]) == ("ACTIVE", 2)


def test_a_draft_campaign_cannot_be_stopped(api: Api, headers: dict[str, str]) -> None:
    campaign_id = imported(api, headers)
    for mode in ("DRAIN", "STOP"):
        payload = stop(api, headers, campaign_id, mode)
        assert payload["campaign"] is None
        assert fields_and_codes(payload) == [(None, "NOT_PUBLISHED")]


def test_history_and_revert(api: Api, headers: dict[str, str]) -> None:
    # given version 1 published, then version 2 (design "other") published, and a draft 3
    campaign_id = imported(api, headers)
    assert publish(api, headers, campaign_id)["errors"] == []
    edit(api, headers, campaign_id, "other")
    assert publish(api, headers, campaign_id)["errors"] == []
    edit(api, headers, campaign_id, "post_purchase")
    # then the history lists the published versions only, newest first
    assert [
        (e["version"]["number"], e["version"]["status"]) for e in history(api, headers, campaign_id)
    ] == [(2, "PUBLISHED"), (1, "RETIRED")]
    # when version 2 is reverted to, the draft (still 3) holds version 2's definition
    payload = mutate(api, headers, "campaignRevert", documents.REVERT, id=campaign_id, version=2)
    draft = payload["campaign"]["draftVersion"]
    assert (draft["number"], draft["definition"]["steps"][0]["design"]) == (3, "other")
    # and an unknown version is NOT_FOUND
    missing = mutate(api, headers, "campaignRevert", documents.REVERT, id=campaign_id, version=9)
    assert fields_and_codes(missing) == [("version", "NOT_FOUND")]
    # and another store's or a malformed id has no history
    assert api(documents.HISTORY, {"id": "nope"}, headers)["data"]["campaignHistory"] is None


def test_export_then_import_gives_the_same_definition(
    api: Api, headers: dict[str, str], runtime: Runtime
) -> None:
    # given a campaign from a template, published, with an edited draft
    created = mutate(
        api, headers, "campaignCreateFromTemplate", documents.CREATE, key="abandoned_cart"
    )
    campaign_id = created["campaign"]["id"]
    published_definition = created["campaign"]["draftVersion"]["definition"]
    assert publish(api, headers, campaign_id)["errors"] == []
    edit(api, headers, campaign_id)

    def export(version: int | None = None) -> Any:
        body = api(documents.EXPORT, {"id": campaign_id, "version": version}, headers)
        return body["data"]["campaignExport"]

    # when the draft (default) and version 1 are exported
    draft, first = export(), export(1)
    # then each is its definition with the format marker first
    assert list(draft)[:2] == ["$schema", "format_version"]
    assert (draft["$schema"], draft["format_version"]) == (EXPORT_SCHEMA, FORMAT_VERSION)
    assert draft["steps"][0]["design"] == "other"
    assert {k: v for k, v in first.items() if not k.startswith(("$", "format"))} == (
        published_definition
    )
    assert export(7) is None
    # when version 1's export is imported (into another store), it is the same definition
    other = bearer(runtime, install_store(runtime, "https://b.example.com/graphql/"))
    payload = mutate(api, other, "campaignImport", documents.IMPORT, name="copy", definition=first)
    assert payload["errors"] == []
    assert payload["campaign"]["draftVersion"]["definition"] == published_definition
    # and a document of a newer format is refused
    newer = {**first, "format_version": FORMAT_VERSION + 1}
    refused = mutate(api, other, "campaignImport", documents.IMPORT, name="x", definition=newer)
    assert fields_and_codes(refused) == [("definition.format_version", "INVALID")]


def test_of_concurrent_publishes_over_http_exactly_one_wins(
    api: Api, headers: dict[str, str]
) -> None:
    # given a published campaign with a draft
    campaign_id = imported(api, headers)
    assert publish(api, headers, campaign_id)["errors"] == []
    edit(api, headers, campaign_id)
    # when six clients publish it at once, half with STOP
    with ThreadPoolExecutor(6) as pool:
        payloads = list(
            pool.map(
                lambda i: publish(api, headers, campaign_id, ("DRAIN", "STOP")[i % 2]), range(6)
            )
        )
    # then one succeeds and five find no draft
    assert sorted(str(fields_and_codes(p)) for p in payloads) == ["[(None, 'NO_DRAFT')]"] * 5 + [
        "[]"
    ]
    campaign = api(documents.CAMPAIGN, {"id": campaign_id}, headers)["data"]["campaign"]
    assert campaign["versions"][0] == {"number": 2, "status": "PUBLISHED"}
    assert campaign["versions"][1]["status"] in ("RETIRED", "DRAINING")
