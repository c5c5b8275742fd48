"""campaignDryRun through HTTP: the path a contact of the store would take, nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import Contact, Enrollment, Message
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.helpers import Api, bearer, fields_and_codes, install_store, mutate

#: A day's wait, then a split on language: French contacts get an email, others end.
DEFINITION = {
    "trigger": {"type": "event", "events": ["order.placed"]},
    "entry_step": "wait",
    "steps": [
        {"id": "wait", "type": "delay", "seconds": 86400, "next": "by_language"},
        {
            "id": "by_language",
            "type": "split",
            "branches": [
                {
                    "label": "French",
                    "condition": {
                        "type": "contact_field",
                        "field": "language",
                        "op": "eq",
                        "value": "fr",
                    },
                    "next": "merci",
                }
            ],
            "default_next": "end",
        },
        {"id": "merci", "type": "send_email", "design": "post_purchase", "transactional": True},
        {"id": "end", "type": "exit"},
    ],
}


@pytest.fixture
def store_id(runtime: Runtime) -> UUID:
    return install_store(runtime, "https://a.example.com/graphql/")


@pytest.fixture
def headers(runtime: Runtime, store_id: UUID) -> dict[str, str]:
    return bearer(runtime, store_id)


@pytest.fixture
def campaign_id(api: Api, headers: dict[str, str]) -> str:
    payload = mutate(
        api, headers, "campaignImport", documents.IMPORT, name="c", definition=DEFINITION
    )
    campaign_id: str = payload["campaign"]["id"]
    return campaign_id


def add_contact(runtime: Runtime, store_id: UUID, email: str, language: str) -> UUID:
    with transaction(runtime.sessions) as session:
        contact = Contact(store_id=store_id, email=email, language=language)
        session.add(contact)
        session.flush()
        return contact.id


def dry_run(api: Api, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    return mutate(api, headers, "campaignDryRun", documents.DRY_RUN, **variables)


def test_a_dry_run_shows_each_decision_with_its_instant(
    api: Api,
    headers: dict[str, str],
    runtime: Runtime,
    store_id: UUID,
    campaign_id: str,
    clock: Clock,
) -> None:
    # given a French contact
    add_contact(runtime, store_id, "ada@example.com", "fr")
    # when the draft is tried for her
    result = dry_run(api, headers, id=campaign_id, email="Ada@example.com")
    # then she would wait a day, take the French branch and get the email
    assert result["errors"] == []
    assert (result["versionNumber"], result["outcome"], result["reason"]) == (
        1,
        "COMPLETED",
        "completed",
    )
    tomorrow = (clock.now + timedelta(days=1)).isoformat()
    steps = [(s["stepId"], s["action"], s["at"]) for s in result["steps"]]
    assert steps[0] == ("wait", "entered", clock.now.isoformat())
    assert ("by_language", "branch", tomorrow) in steps
    assert ("merci", "send", tomorrow) in steps
    assert result["endedAt"] == tomorrow
    # and nothing was written
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_dry_run_by_contact_id_and_with_the_entry_rules(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, campaign_id: str
) -> None:
    contact_id = add_contact(runtime, store_id, "bob@example.com", "de")
    # a German contact takes the default branch to the exit step
    result = dry_run(api, headers, id=campaign_id, contactId=str(contact_id))
    assert result["outcome"] == "EXITED"
    assert "merci" not in [s["stepId"] for s in result["steps"]]
    # with an event that is not the trigger, he would not enter
    refused = dry_run(
        api, headers, id=campaign_id, contactId=str(contact_id), eventType="customer.signed_up"
    )
    assert (refused["outcome"], refused["reason"], refused["steps"]) == (
        "NOT_ENTERED",
        "trigger_mismatch",
        [],
    )
    entered = dry_run(
        api, headers, id=campaign_id, contactId=str(contact_id), eventType="order.placed"
    )
    assert entered["outcome"] == "EXITED"


def test_a_dry_run_needs_one_contact_of_the_store_and_a_version(
    api: Api, headers: dict[str, str], runtime: Runtime, store_id: UUID, campaign_id: str
) -> None:
    other_store = install_store(runtime, "https://b.example.com/graphql/")
    theirs = add_contact(runtime, other_store, "eve@example.com", "fr")
    add_contact(runtime, store_id, "ada@example.com", "fr")
    cases: list[tuple[dict[str, Any], list[tuple[str | None, str]]]] = [
        ({}, [("contactEmail", "INVALID")]),
        ({"email": "ada@example.com", "contactId": str(theirs)}, [("contactEmail", "INVALID")]),
        ({"email": "eve@example.com"}, [("contactEmail", "NOT_FOUND")]),
        ({"contactId": str(theirs)}, [("contactId", "NOT_FOUND")]),
        ({"contactId": "not-an-id"}, [("contactId", "NOT_FOUND")]),
        ({"email": "ada@example.com", "version": 2}, [("version", "NOT_FOUND")]),
        ({"email": "ada@example.com", "eventContext": [1]}, [("eventContext", "INVALID")]),
    ]
    for variables, expected in cases:
        result = dry_run(api, headers, id=campaign_id, **variables)
        assert (result["outcome"], result["steps"]) == (None, [])
        assert fields_and_codes(result) == expected, variables
    # and another store cannot try this campaign
    other = bearer(runtime, other_store)
    result = dry_run(api, other, id=campaign_id, email="eve@example.com")
    assert fields_and_codes(result) == [("id", "NOT_FOUND")]
