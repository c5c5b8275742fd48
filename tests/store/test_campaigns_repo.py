"""Campaign repository: creation from templates, publishing, store scoping and list counts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from relance.automation.library import TEMPLATES
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Event,
    Message,
    MessageStatus,
    Store,
    StoreKind,
    VersionStatus,
)
from relance.store.repositories import campaigns as repo
from tests.fixtures.runtime import Clock

DESIGNS = frozenset({"post_purchase"})
TEMPLATE = TEMPLATES["post_purchase"]


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime], database_url: str) -> Runtime:
    return make_runtime(database_url)


def make_store(session: Session, name: str) -> uuid.UUID:
    store = Store(kind=StoreKind.GENERIC, api_url=f"https://{name}.example.com/graphql/", name=name)
    session.add(store)
    session.flush()
    return store.id


def create(
    session: Session, store_id: uuid.UUID, clock: Clock, name: str | None = None
) -> Campaign:
    return repo.create_from_template(
        session, store_id=store_id, template=TEMPLATE, name=name, now=clock.now
    )


def enroll(
    session: Session,
    campaign: Campaign,
    *,
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE,
    sent: int = 0,
    unsent: int = 0,
) -> None:
    """One contact's enrollment in ``campaign`` with ``sent`` SENT and ``unsent`` other messages."""
    store_id = campaign.store_id
    version = repo.draft_version(session, campaign) or repo.published_version(session, campaign)
    assert version is not None
    contact = Contact(store_id=store_id, email=f"{uuid.uuid4().hex}@example.com")
    occurred = Event(
        store_id=store_id,
        type="order.placed",
        idempotency_key=uuid.uuid4().hex,
        occurred_at=version.created_at,
        payload={},
    )
    session.add_all([contact, occurred])
    session.flush()
    enrollment = Enrollment(
        store_id=store_id,
        campaign_id=campaign.id,
        version_id=version.id,
        contact_id=contact.id,
        event_id=occurred.id,
        status=status,
        context={},
    )
    session.add(enrollment)
    session.flush()
    statuses = [MessageStatus.SENT] * sent + [MessageStatus.FAILED, MessageStatus.PENDING][:unsent]
    for index, message_status in enumerate(statuses):
        session.add(
            Message(
                store_id=store_id,
                enrollment_id=enrollment.id,
                contact_id=contact.id,
                step_id=f"step-{index}",
                design="post_purchase",
                status=message_status,
            )
        )
    session.flush()


@contextmanager
def count_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_campaign_from_a_template_is_a_draft_holding_the_templates_definition(
    runtime: Runtime, clock: Clock
) -> None:
    # given a store
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        # when a campaign is made from the post-purchase template without a name
        campaign = create(session, store_id, clock)
    # then it is a draft named after the template, with version 1 as its draft
    with runtime.sessions() as session:
        stored = session.get(Campaign, campaign.id)
        assert stored is not None
        assert (stored.name, stored.template_key, stored.status) == (
            TEMPLATE.name,
            "post_purchase",
            CampaignStatus.DRAFT,
        )
        assert stored.created_at == clock.now
        draft = repo.draft_version(session, stored)
        assert draft is not None
        assert (draft.number, draft.status, draft.published_at) == (1, VersionStatus.DRAFT, None)
        assert draft.definition == TEMPLATE.definition.model_dump(mode="json")
        assert repo.published_version(session, stored) is None


def test_a_given_name_is_stripped_and_a_too_long_one_refused(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        assert create(session, store_id, clock, "  Merci !  ").name == "Merci !"
        assert create(session, store_id, clock, "   ").name == TEMPLATE.name
        with pytest.raises(repo.CampaignNameError):
            create(session, store_id, clock, "x" * 201)


def test_a_campaign_of_another_store_is_not_found(runtime: Runtime, clock: Clock) -> None:
    # given a campaign of store B
    with transaction(runtime.sessions) as session:
        store_a = make_store(session, "a")
        store_b = make_store(session, "b")
        theirs = create(session, store_b, clock)
    # when store A looks it up or lists its campaigns
    with runtime.sessions() as session:
        # then A sees nothing; B sees it
        assert repo.get_campaign(session, store_a, theirs.id) is None
        assert repo.list_campaigns(session, store_a) == []
        found = repo.get_campaign(session, store_b, theirs.id)
        assert found is not None
        assert found.id == theirs.id


def test_campaigns_are_listed_newest_first(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        first = create(session, store_id, clock, "first")
        clock.advance(minutes=1)
        second = create(session, store_id, clock, "second")
    with runtime.sessions() as session:
        assert [c.id for c in repo.list_campaigns(session, store_id)] == [second.id, first.id]


def test_publishing_a_valid_draft(runtime: Runtime, clock: Clock) -> None:
    # given a draft campaign
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
    clock.advance(hours=1)
    # when it is published
    with transaction(runtime.sessions) as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        violations = repo.publish(session, campaign=row, now=clock.now, known_designs=DESIGNS)
    # then version 1 is published now, there is no draft, and the campaign is active
    assert violations == []
    with runtime.sessions() as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        assert row.status == CampaignStatus.ACTIVE
        assert row.updated_at == clock.now
        published = repo.published_version(session, row)
        assert published is not None
        assert (published.number, published.published_at) == (1, clock.now)
        assert repo.draft_version(session, row) is None


def test_publishing_a_new_draft_drains_the_published_version(
    runtime: Runtime, clock: Clock
) -> None:
    # given a published campaign with a new draft, version 2
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
        assert repo.publish(session, campaign=campaign, now=clock.now, known_designs=DESIGNS) == []
        session.add(
            CampaignVersion(
                campaign_id=campaign.id,
                store_id=store_id,
                number=2,
                status=VersionStatus.DRAFT,
                definition=TEMPLATE.definition.model_dump(mode="json"),
            )
        )
    clock.advance(days=1)
    # when the draft is published
    with transaction(runtime.sessions) as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        assert repo.publish(session, campaign=row, now=clock.now, known_designs=DESIGNS) == []
    # then version 2 takes new contacts and version 1 drains
    with runtime.sessions() as session:
        [summary] = repo.summarise(session, store_id, repo.list_campaigns(session, store_id))
        assert [(v.number, v.status) for v in summary.versions] == [
            (2, VersionStatus.PUBLISHED),
            (1, VersionStatus.DRAINING),
        ]
        assert summary.published is not None
        assert summary.published.published_at == clock.now
        assert summary.draft is None


def test_an_invalid_draft_is_not_published(runtime: Runtime, clock: Clock) -> None:
    # given a draft whose email step uses a design that does not exist
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
        draft = repo.draft_version(session, campaign)
        assert draft is not None
        definition = dict(draft.definition)
        definition["steps"] = [{**definition["steps"][0], "design": "nope"}]
        draft.definition = definition
    # when it is published
    with transaction(runtime.sessions) as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        violations = repo.publish(session, campaign=row, now=clock.now, known_designs=DESIGNS)
    # then the violation points at the design and nothing changed
    assert [(v.path, v.code) for v in violations] == [("steps.0.design", "unknown_design")]
    with runtime.sessions() as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        assert row.status == CampaignStatus.DRAFT
        assert repo.published_version(session, row) is None
        still = repo.draft_version(session, row)
        assert still is not None
        assert still.published_at is None


def test_a_draft_that_no_longer_parses_gives_violations_with_paths(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
        draft = repo.draft_version(session, campaign)
        assert draft is not None
        draft.definition = {**draft.definition, "trigger": {"type": "event", "event": "?"}}
    with transaction(runtime.sessions) as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        violations = repo.publish(session, campaign=row, now=clock.now, known_designs=DESIGNS)
    assert [(v.path, v.code) for v in violations] == [("trigger.event", "invalid_definition")]


def test_without_a_draft_there_is_nothing_to_publish(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
        assert repo.publish(session, campaign=campaign, now=clock.now, known_designs=DESIGNS) == []
        again = repo.publish(session, campaign=campaign, now=clock.now, known_designs=DESIGNS)
    assert [(v.path, v.code) for v in again] == [("", repo.NO_DRAFT)]


def test_list_counts_enrollments_and_sent_messages_per_campaign(
    runtime: Runtime, clock: Clock
) -> None:
    # given two campaigns of store A with enrollments and messages, one without any,
    # and a campaign of store B with its own
    with transaction(runtime.sessions) as session:
        store_a = make_store(session, "a")
        store_b = make_store(session, "b")
        busy = create(session, store_a, clock, "busy")
        quiet = create(session, store_a, clock, "quiet")
        idle = create(session, store_a, clock, "idle")
        theirs = create(session, store_b, clock, "theirs")
        enroll(session, busy, sent=2, unsent=1)
        enroll(session, busy, sent=1)
        enroll(session, busy, status=EnrollmentStatus.COMPLETED, sent=1, unsent=2)
        enroll(session, busy, status=EnrollmentStatus.EXITED)
        enroll(session, quiet, status=EnrollmentStatus.COMPLETED, unsent=1)
        enroll(session, theirs, sent=5)
    # when store A's campaigns are summarised
    with runtime.sessions() as session:
        campaigns = repo.list_campaigns(session, store_a)
        with count_statements(session) as statements:
            summaries = repo.summarise(session, store_a, campaigns)
    # then each gets its own counts, in three queries whatever the number of campaigns
    stats = {s.campaign.name: s.stats for s in summaries}
    assert stats == {
        "busy": repo.CampaignStats(enrolled=4, active=2, messages_sent=4),
        "quiet": repo.CampaignStats(enrolled=1, active=0, messages_sent=0),
        "idle": repo.CampaignStats(enrolled=0, active=0, messages_sent=0),
    }
    assert len(statements) == 3
    assert sum("GROUP BY" in s for s in statements) == 2
    assert {s.campaign.id for s in summaries} == {busy.id, quiet.id, idle.id}


def test_stats_of_another_stores_campaign_are_empty(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        store_a = make_store(session, "a")
        store_b = make_store(session, "b")
        theirs = create(session, store_b, clock)
        enroll(session, theirs, sent=3)
    with runtime.sessions() as session:
        assert repo.campaign_stats(session, store_a, [theirs.id]) == {
            theirs.id: repo.CampaignStats()
        }
        assert repo.versions_by_campaign(session, store_a, [theirs.id]) == {}
        assert repo.campaign_stats(session, store_b, [theirs.id])[theirs.id].messages_sent == 3


def test_summaries_of_nothing_run_no_query(runtime: Runtime) -> None:
    with runtime.sessions() as session, count_statements(session) as statements:
        assert repo.summarise(session, uuid.uuid4(), []) == []
    assert statements == []


def test_timestamps_use_the_given_clock(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
    later = clock.now + timedelta(hours=2)
    with transaction(runtime.sessions) as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        repo.publish(session, campaign=row, now=later, known_designs=DESIGNS)
    with runtime.sessions() as session:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        assert (row.created_at, row.updated_at) == (clock.now, later)
