"""Campaign repository: creation, drafts, publishing (drain/stop), stopping, reverting, history,
enrollment pages, store scoping, list counts, and the one-published-one-draft invariant under
concurrent writers — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from relance.automation.definitions import CampaignDefinition, SendEmailStep
from relance.automation.library import LANGUAGES, TEMPLATES
from relance.automation.validation import Violation
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
    TraceRecord,
    VersionStatus,
)
from relance.store.repositories import campaigns as repo
from relance.store.repositories.campaigns import ReleaseMode
from tests.fixtures.runtime import Clock

#: Every design a test definition or a template uses, in every template language.
DESIGNS: dict[str, frozenset[str]] = {
    design: frozenset(LANGUAGES)
    for design in (
        "post_purchase",
        "other",
        *(
            step.design
            for template in TEMPLATES.values()
            for step in template.definition.steps
            if isinstance(step, SendEmailStep)
        ),
    )
}
TEMPLATE = TEMPLATES["post_purchase"]


def definition(design: str = "post_purchase", **fields: Any) -> CampaignDefinition:
    """One email, then the end."""
    return CampaignDefinition.model_validate(
        {
            "trigger": {"type": "event", "events": ["order.placed"]},
            "entry_step": "thank_you",
            "steps": [{"id": "thank_you", "type": "send_email", "design": design}],
            **fields,
        }
    )


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


def create_simple(session: Session, store_id: uuid.UUID, clock: Clock, name: str = "c") -> Campaign:
    return repo.create_campaign(
        session, store_id=store_id, name=name, definition=definition(), now=clock.now
    )


def publish(
    session: Session, campaign: Campaign, clock: Clock, mode: ReleaseMode = ReleaseMode.DRAIN
) -> list[Violation]:
    return repo.publish(session, campaign=campaign, now=clock.now, designs=DESIGNS, mode=mode)


def new_draft(session: Session, campaign: Campaign, clock: Clock) -> CampaignVersion:
    return repo.update_draft(
        session, campaign=campaign, definition=definition(), name=None, now=clock.now
    )


def enroll(
    session: Session,
    campaign: Campaign,
    *,
    version: CampaignVersion | None = None,
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE,
    sent: int = 0,
    unsent: int = 0,
    contact: Contact | None = None,
    entered_at: Any = None,
) -> Enrollment:
    """One enrollment in ``campaign`` (default: its draft or published version) with ``sent``
    SENT and ``unsent`` other (FAILED, then PENDING) messages."""
    store_id = campaign.store_id
    version = version or repo.draft_version(session, campaign)
    version = version or repo.published_version(session, campaign)
    assert version is not None
    if contact is None:
        contact = Contact(store_id=store_id, email=f"{uuid.uuid4().hex}@example.com")
        session.add(contact)
    occurred = Event(
        store_id=store_id,
        type="order.placed",
        idempotency_key=uuid.uuid4().hex,
        occurred_at=version.created_at,
        payload={},
    )
    session.add(occurred)
    session.flush()
    enrollment = Enrollment(
        store_id=store_id,
        campaign_id=campaign.id,
        version_id=version.id,
        contact_id=contact.id,
        event_id=occurred.id,
        status=status,
        step_id="thank_you",
        wake_at=version.created_at if status == EnrollmentStatus.ACTIVE else None,
        context={},
        **({"created_at": entered_at} if entered_at is not None else {}),
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
    return enrollment


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


def versions(session: Session, campaign_id: uuid.UUID) -> list[tuple[int, VersionStatus]]:
    return [
        (v.number, v.status)
        for v in session.scalars(
            select(CampaignVersion)
            .where(CampaignVersion.campaign_id == campaign_id)
            .order_by(CampaignVersion.number.desc())
        )
    ]


# --- creation ------------------------------------------------------------------------------


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


def test_a_given_name_is_stripped_and_a_too_long_or_missing_one_refused(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        assert create(session, store_id, clock, "  Merci !  ").name == "Merci !"
        assert create(session, store_id, clock, "   ").name == TEMPLATE.name
        with pytest.raises(repo.CampaignNameError):
            create(session, store_id, clock, "x" * 201)
        with pytest.raises(repo.CampaignNameError):
            create_simple(session, store_id, clock, name=" ")


def test_a_blank_campaign_is_a_valid_draft_with_one_exit_step(
    runtime: Runtime, clock: Clock
) -> None:
    trigger = repo.parse_trigger({"type": "list_entered", "list_id": "vip"})
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = repo.create_blank(
            session, store_id=store_id, name="VIP", trigger=trigger, now=clock.now
        )
        draft = repo.draft_version(session, campaign)
        assert draft is not None
        assert draft.definition["trigger"] == {"type": "list_entered", "list_id": "vip"}
        assert draft.definition["steps"] == [{"id": "end", "type": "exit", "label": None}]
        assert repo.check_draft(draft, DESIGNS) == []


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


# --- definitions as JSON -------------------------------------------------------------------


def test_parse_errors_have_paths_in_the_submitted_json() -> None:
    data = {
        "trigger": {"type": "event", "events": ["order.placed"]},
        "entry_step": "a",
        "steps": [
            {"id": "a", "type": "send_email", "next": "b"},
            {"id": "b", "type": "delay", "seconds": 0},
            {"id": "c", "type": "teleport"},
        ],
    }
    with pytest.raises(repo.DefinitionError) as caught:
        repo.parse_definition(data)
    paths = [(v.path, v.code) for v in caught.value.violations]
    assert paths == [
        ("steps.0.design", repo.INVALID_DEFINITION),
        ("steps.1.seconds", repo.INVALID_DEFINITION),
        ("steps.2", repo.INVALID_DEFINITION),
    ]


def test_union_member_labels_are_dropped_from_paths() -> None:
    data = definition().model_dump(mode="json")
    data["steps"] = [
        {
            "id": "thank_you",
            "type": "update_contact",
            "actions": [{"op": "set_custom_field", "key": "k", "value": [1]}],
        }
    ]
    with pytest.raises(repo.DefinitionError) as caught:
        repo.parse_definition(data)
    assert {v.path for v in caught.value.violations} == {"steps.0.actions.0.value"}


def test_an_export_reads_back_and_a_foreign_or_newer_format_is_refused(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create(session, make_store(session, "a"), clock)
        draft = repo.draft_version(session, campaign)
        assert draft is not None
        document = repo.export_document(draft)
    assert list(document)[:2] == ["$schema", "format_version"]
    assert document["$schema"] == repo.EXPORT_SCHEMA
    assert repo.parse_definition(document) == TEMPLATE.definition
    for key, value in (("$schema", "https://example.com/other"), ("format_version", 2)):
        with pytest.raises(repo.DefinitionError) as caught:
            repo.parse_definition({**document, key: value})
        assert [v.path for v in caught.value.violations] == [key]


# --- drafts --------------------------------------------------------------------------------


def test_updating_the_draft_edits_it_in_place_and_may_rename(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create(session, make_store(session, "a"), clock)
    clock.advance(minutes=5)
    # a definition valid in shape but not publishable (unknown design) is still saved
    with transaction(runtime.sessions) as session:
        row = session.get(Campaign, campaign.id)
        assert row is not None
        draft = repo.update_draft(
            session, campaign=row, definition=definition("nope"), name=" Merci ", now=clock.now
        )
        assert [v.code for v in repo.check_draft(draft, DESIGNS)] == ["unknown_design"]
    with runtime.sessions() as session:
        row = session.get(Campaign, campaign.id)
        assert row is not None
        assert (row.name, row.updated_at) == ("Merci", clock.now)
        assert versions(session, campaign.id) == [(1, VersionStatus.DRAFT)]
        stored = repo.draft_version(session, row)
        assert stored is not None
        assert stored.definition == definition("nope").model_dump(mode="json")
        with pytest.raises(repo.CampaignNameError):
            repo.update_draft(session, campaign=row, definition=None, name="", now=clock.now)


def test_without_a_draft_an_update_makes_the_next_version(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
    with transaction(runtime.sessions) as session:
        row = session.get(Campaign, campaign.id)
        assert row is not None
        # a copy of the published version when no definition is given
        copy = repo.update_draft(session, campaign=row, definition=None, now=clock.now)
        assert (copy.number, copy.definition) == (2, definition().model_dump(mode="json"))
        assert versions(session, campaign.id) == [
            (2, VersionStatus.DRAFT),
            (1, VersionStatus.PUBLISHED),
        ]


def test_validating_reports_the_drafts_violations_or_no_draft(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert repo.validate_draft(session, campaign, DESIGNS) == []
        assert [v.code for v in repo.validate_draft(session, campaign, {})] == ["unknown_design"]
        assert publish(session, campaign, clock) == []
        assert [v.code for v in repo.validate_draft(session, campaign, DESIGNS)] == [repo.NO_DRAFT]


# --- publishing ----------------------------------------------------------------------------


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
        violations = publish(session, row, clock)
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


def test_the_older_names_only_form_still_publishes(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert repo.publish(session, campaign=campaign, now=clock.now, known_designs={"other"}) == [
            Violation("steps.0.design", "unknown_design", "no design is named 'post_purchase'")
        ]
        assert (
            repo.publish(session, campaign=campaign, now=clock.now, known_designs={"post_purchase"})
            == []
        )


def test_publishing_with_drain_drains_the_old_version_while_contacts_are_inside(
    runtime: Runtime, clock: Clock
) -> None:
    # given a published campaign with one contact inside and a new draft, version 2
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        inside = enroll(session, campaign, unsent=2)
        new_draft(session, campaign, clock)
    clock.advance(days=1)
    # when the draft is published with DRAIN
    with transaction(runtime.sessions) as session:
        row = session.get(Campaign, campaign.id)
        assert row is not None
        assert publish(session, row, clock, ReleaseMode.DRAIN) == []
    # then version 2 takes new contacts, version 1 drains, and the contact inside is untouched
    with runtime.sessions() as session:
        [summary] = repo.summarise(
            session, campaign.store_id, [session.get_one(Campaign, campaign.id)]
        )
        assert [(v.number, v.status) for v in summary.versions] == [
            (2, VersionStatus.PUBLISHED),
            (1, VersionStatus.DRAINING),
        ]
        assert summary.published is not None
        assert summary.published.published_at == clock.now
        assert summary.versions[1].unpublished_at == clock.now
        assert summary.versions[1].retired_at is None
        assert summary.draft is None
        stays = session.get_one(Enrollment, inside.id)
        assert (stays.status, stays.end_reason) == (EnrollmentStatus.ACTIVE, None)
        assert sorted(m.status for m in session.scalars(select(Message))) == sorted(
            [MessageStatus.FAILED, MessageStatus.PENDING]
        )


def test_publishing_with_drain_retires_an_empty_old_version_at_once(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        enroll(session, campaign, status=EnrollmentStatus.COMPLETED)
        new_draft(session, campaign, clock)
        clock.advance(hours=1)
        assert publish(session, campaign, clock) == []
        assert versions(session, campaign.id) == [
            (2, VersionStatus.PUBLISHED),
            (1, VersionStatus.RETIRED),
        ]
        old = repo.get_version(session, campaign, 1)
        assert old is not None
        assert (old.unpublished_at, old.retired_at) == (clock.now, clock.now)


def test_publishing_with_stop_removes_everyone_from_the_old_versions(
    runtime: Runtime, clock: Clock
) -> None:
    # given version 1 draining with a contact inside, version 2 published with two contacts
    # inside (one with a pending message) and one done, a draft version 3, and another campaign
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create_simple(session, store_id, clock)
        other = create_simple(session, store_id, clock, "other")
        assert publish(session, campaign, clock) == []
        assert publish(session, other, clock) == []
        in_v1 = enroll(session, campaign)
        new_draft(session, campaign, clock)
        assert publish(session, campaign, clock) == []
        in_v2 = enroll(session, campaign, sent=1, unsent=2)
        also_in_v2 = enroll(session, campaign)
        done = enroll(session, campaign, status=EnrollmentStatus.COMPLETED, unsent=2)
        elsewhere = enroll(session, other, unsent=2)
        new_draft(session, campaign, clock)
    clock.advance(days=1)
    # when version 3 is published with STOP
    with transaction(runtime.sessions) as session:
        row = session.get_one(Campaign, campaign.id)
        assert publish(session, row, clock, ReleaseMode.STOP) == []
    with runtime.sessions() as session:
        # then versions 1 and 2 are retired now and version 3 is published
        assert versions(session, campaign.id) == [
            (3, VersionStatus.PUBLISHED),
            (2, VersionStatus.RETIRED),
            (1, VersionStatus.RETIRED),
        ]
        v2 = repo.get_version(session, session.get_one(Campaign, campaign.id), 2)
        assert v2 is not None
        assert (v2.unpublished_at, v2.retired_at) == (clock.now, clock.now)
        # and every contact inside left now, traced, with no wake-up
        for enrollment_id in (in_v1.id, in_v2.id, also_in_v2.id):
            gone = session.get_one(Enrollment, enrollment_id)
            assert (gone.status, gone.end_reason, gone.ended_at, gone.wake_at) == (
                EnrollmentStatus.EXITED,
                repo.VERSION_REPLACED,
                clock.now,
                None,
            )
            assert gone.revision == 2
            [trace] = session.scalars(
                select(TraceRecord).where(TraceRecord.enrollment_id == enrollment_id)
            )
            assert (trace.action, trace.detail, trace.at, trace.seq) == (
                "exited",
                repo.VERSION_REPLACED,
                clock.now,
                1,
            )
            assert gone.trace_seq == 1
        # and only their unsent messages were cancelled
        statuses = {(m.enrollment_id, m.status): m.error for m in session.scalars(select(Message))}
        assert statuses == {
            (in_v2.id, MessageStatus.SENT): None,
            (in_v2.id, MessageStatus.FAILED): None,
            (in_v2.id, MessageStatus.CANCELLED): f"cancelled: {repo.VERSION_REPLACED}",
            (done.id, MessageStatus.FAILED): None,
            (done.id, MessageStatus.PENDING): None,
            (elsewhere.id, MessageStatus.FAILED): None,
            (elsewhere.id, MessageStatus.PENDING): None,
        }
        assert session.get_one(Enrollment, done.id).end_reason is None
        assert session.get_one(Enrollment, elsewhere.id).status == EnrollmentStatus.ACTIVE


def test_an_invalid_draft_is_not_published(runtime: Runtime, clock: Clock) -> None:
    # given a draft whose email step uses a design that does not exist
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = repo.create_campaign(
            session, store_id=store_id, name="c", definition=definition("nope"), now=clock.now
        )
    # when it is published
    with transaction(runtime.sessions) as session:
        row = session.get_one(Campaign, campaign.id)
        violations = publish(session, row, clock)
    # then the violation points at the design and nothing changed
    assert [(v.path, v.code) for v in violations] == [("steps.0.design", "unknown_design")]
    with runtime.sessions() as session:
        row = session.get_one(Campaign, campaign.id)
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
        draft.definition = {**draft.definition, "trigger": {"type": "event", "events": ["?"]}}
    with transaction(runtime.sessions) as session:
        row = session.get_one(Campaign, campaign.id)
        violations = publish(session, row, clock)
    assert ("trigger.events.0", "invalid_definition") in [(v.path, v.code) for v in violations]


def test_without_a_draft_there_is_nothing_to_publish(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create(session, store_id, clock)
        assert publish(session, campaign, clock) == []
        again = publish(session, campaign, clock)
    assert [(v.path, v.code) for v in again] == [("", repo.NO_DRAFT)]


# --- stopping, reverting, retiring ---------------------------------------------------------


def test_stopping_with_drain_then_stop(runtime: Runtime, clock: Clock) -> None:
    # given a published campaign with a contact inside
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        inside = enroll(session, campaign, unsent=2)
    clock.advance(hours=1)
    # when it is stopped with DRAIN
    with transaction(runtime.sessions) as session:
        row = session.get_one(Campaign, campaign.id)
        assert repo.stop(session, campaign=row, now=clock.now, mode=ReleaseMode.DRAIN) == []
    # then it is stopped, its version drains and the contact stays
    with transaction(runtime.sessions) as session:
        row = session.get_one(Campaign, campaign.id)
        assert row.status == CampaignStatus.STOPPED
        assert versions(session, campaign.id) == [(1, VersionStatus.DRAINING)]
        assert session.get_one(Enrollment, inside.id).status == EnrollmentStatus.ACTIVE
        # and stopping with DRAIN again has nothing to do
        again = repo.stop(session, campaign=row, now=clock.now, mode=ReleaseMode.DRAIN)
        assert [v.code for v in again] == [repo.NOT_PUBLISHED]
    clock.advance(hours=1)
    # when it is then stopped with STOP
    with transaction(runtime.sessions) as session:
        row = session.get_one(Campaign, campaign.id)
        assert repo.stop(session, campaign=row, now=clock.now, mode=ReleaseMode.STOP) == []
    # then the draining version is retired and the contact left
    with runtime.sessions() as session:
        assert versions(session, campaign.id) == [(1, VersionStatus.RETIRED)]
        gone = session.get_one(Enrollment, inside.id)
        assert (gone.status, gone.end_reason, gone.ended_at) == (
            EnrollmentStatus.EXITED,
            repo.CAMPAIGN_STOPPED,
            clock.now,
        )
        assert {m.status for m in session.scalars(select(Message))} == {
            MessageStatus.FAILED,
            MessageStatus.CANCELLED,
        }
        row = session.get_one(Campaign, campaign.id)
        assert [
            v.code for v in repo.stop(session, campaign=row, now=clock.now, mode=ReleaseMode.STOP)
        ] == [repo.NOT_PUBLISHED]


def test_a_never_published_campaign_cannot_be_stopped(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        for mode in ReleaseMode:
            violations = repo.stop(session, campaign=campaign, now=clock.now, mode=mode)
            assert [v.code for v in violations] == [repo.NOT_PUBLISHED]
        assert campaign.status == CampaignStatus.DRAFT


def test_a_stopped_campaign_is_published_again_from_a_reverted_draft(
    runtime: Runtime, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        assert repo.stop(session, campaign=campaign, now=clock.now, mode=ReleaseMode.STOP) == []
        assert [v.code for v in publish(session, campaign, clock)] == [repo.NO_DRAFT]
        draft = repo.revert(session, campaign=campaign, number=1, now=clock.now)
        assert draft.number == 2
        assert publish(session, campaign, clock) == []
        assert campaign.status == CampaignStatus.ACTIVE
        assert versions(session, campaign.id) == [
            (2, VersionStatus.PUBLISHED),
            (1, VersionStatus.RETIRED),
        ]


def test_reverting_replaces_the_current_draft(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        repo.update_draft(session, campaign=campaign, definition=definition("other"), now=clock.now)
        draft = repo.revert(session, campaign=campaign, number=1, now=clock.now)
        assert draft.number == 2
        assert draft.definition == definition().model_dump(mode="json")
        assert versions(session, campaign.id) == [
            (2, VersionStatus.DRAFT),
            (1, VersionStatus.PUBLISHED),
        ]
        with pytest.raises(repo.VersionNotFound):
            repo.revert(session, campaign=campaign, number=7, now=clock.now)


def test_a_draining_version_retires_when_its_last_enrollment_ends(
    runtime: Runtime, clock: Clock
) -> None:
    # given version 1 draining with two contacts inside
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        first = enroll(session, campaign)
        second = enroll(session, campaign)
        new_draft(session, campaign, clock)
        assert publish(session, campaign, clock) == []
    clock.advance(hours=3)
    with transaction(runtime.sessions) as session:
        # when one ends, the version still drains
        session.get_one(Enrollment, first.id).status = EnrollmentStatus.COMPLETED
        session.flush()
        assert repo.retire_drained_versions(session, campaign.id, now=clock.now) == []
        # when the other ends, it is retired now
        session.get_one(Enrollment, second.id).status = EnrollmentStatus.EXITED
        session.flush()
        assert repo.retire_drained_versions(session, campaign.id, now=clock.now) == [1]
        assert repo.retire_drained_versions(session, campaign.id, now=clock.now) == []
    with runtime.sessions() as session:
        old = repo.get_version(session, session.get_one(Campaign, campaign.id), 1)
        assert old is not None
        assert (old.status, old.retired_at) == (VersionStatus.RETIRED, clock.now)


def test_history_lists_published_versions_with_their_counts(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_simple(session, make_store(session, "a"), clock)
        assert publish(session, campaign, clock) == []
        enroll(session, campaign)
        enroll(session, campaign, status=EnrollmentStatus.COMPLETED)
        new_draft(session, campaign, clock)
        assert publish(session, campaign, clock) == []
        enroll(session, campaign, status=EnrollmentStatus.EXITED)
        new_draft(session, campaign, clock)
        with count_statements(session) as statements:
            history = repo.version_history(session, campaign)
    assert [(h.version.number, h.version.status, h.entries) for h in history] == [
        (2, VersionStatus.PUBLISHED, repo.EntryCounts(entered=1, exited=1)),
        (1, VersionStatus.DRAINING, repo.EntryCounts(entered=2, active=1, completed=1)),
    ]
    assert len(statements) == 2


# --- enrollments ---------------------------------------------------------------------------


def test_enrollment_pages_are_newest_first_and_filtered(runtime: Runtime, clock: Clock) -> None:
    # given five enrollments of one contact in campaign A (one completed), one of another
    # contact, one in campaign B, and one in a campaign of another store
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign_a = create_simple(session, store_id, clock, "A")
        campaign_b = create_simple(session, store_id, clock, "B")
        theirs = create_simple(session, make_store(session, "b"), clock, "theirs")
        contact = Contact(store_id=store_id, email="ada@example.com")
        session.add(contact)
        ids = []
        for minute in range(5):
            status = EnrollmentStatus.COMPLETED if minute == 2 else EnrollmentStatus.ACTIVE
            entered = clock.now + timedelta(minutes=minute)
            ids.append(
                enroll(session, campaign_a, contact=contact, status=status, entered_at=entered).id
            )
        stranger = enroll(session, campaign_a, entered_at=clock.now).id
        in_b = enroll(session, campaign_b, contact=contact, entered_at=clock.now).id
        enroll(session, theirs)
    with runtime.sessions() as session:
        # when campaign A's enrollments are read two at a time
        seen, after, pages = [], None, 0
        while True:
            with count_statements(session) as statements:
                page = repo.list_enrollments(
                    session, store_id, campaign_id=campaign_a.id, first=2, after=after
                )
            assert len(statements) == 2
            seen += [view.enrollment.id for view in page.items]
            pages += 1
            if not page.has_next:
                break
            after = page.items[-1].cursor
        # then every one comes once, newest first (ties by id)
        assert pages == 3
        assert seen[:4] == ids[::-1][:4]
        assert set(seen[4:]) == {ids[0], stranger}
        # and filters narrow the list
        active = repo.list_enrollments(
            session, store_id, campaign_id=campaign_a.id, status=EnrollmentStatus.ACTIVE
        )
        assert ids[2] not in [view.enrollment.id for view in active.items]
        mine = repo.list_enrollments(session, store_id, contact_id=contact.id)
        assert [view.enrollment.id for view in mine.items][-2:] != []
        assert {view.enrollment.id for view in mine.items} == {*ids, in_b}
        first = mine.items[0]
        assert (first.campaign_name, first.version_number, first.contact_email) == (
            "A",
            1,
            "ada@example.com",
        )
        # and another store sees none of them
        other = repo.list_enrollments(session, uuid.uuid4(), campaign_id=campaign_a.id)
        assert other.items == ()


def test_traces_come_newest_first_and_bounded(runtime: Runtime, clock: Clock) -> None:
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create_simple(session, store_id, clock)
        one = enroll(session, campaign)
        two = enroll(session, campaign)
        # five entries, the last three of one instant: their seq keeps their order
        for number in range(5):
            session.add(
                TraceRecord(
                    enrollment_id=one.id,
                    seq=number + 1,
                    at=clock.now + timedelta(minutes=min(number, 2)),
                    step_id=f"s{number}",
                    action="wait",
                )
            )
        session.add(
            TraceRecord(enrollment_id=two.id, seq=1, at=clock.now, step_id="x", action="entered")
        )
    with runtime.sessions() as session:
        page = repo.list_enrollments(session, store_id, trace_limit=3)
        traces = {view.enrollment.id: [r.step_id for r in view.trace] for view in page.items}
        assert traces == {one.id: ["s4", "s3", "s2"], two.id: ["x"]}
        page = repo.list_enrollments(session, store_id, trace_limit=0)
        assert [view.trace for view in page.items] == [(), ()]


def test_contacts_are_found_by_normalised_email_in_their_store_only(
    runtime: Runtime,
) -> None:
    with transaction(runtime.sessions) as session:
        store_a = make_store(session, "a")
        store_b = make_store(session, "b")
        contact = Contact(store_id=store_a, email="ada@example.com")
        session.add(contact)
        session.flush()
        assert repo.find_contact(session, store_a, email=" Ada@Example.com ") is contact
        assert repo.find_contact(session, store_a, contact_id=contact.id) is contact
        assert repo.find_contact(session, store_b, email="ada@example.com") is None
        assert repo.find_contact(session, store_b, contact_id=contact.id) is None
        assert repo.find_contact(session, store_a) is None


# --- counts --------------------------------------------------------------------------------


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
        "busy": repo.CampaignStats(enrolled=4, active=2, completed=1, exited=1, messages_sent=4),
        "quiet": repo.CampaignStats(enrolled=1, completed=1),
        "idle": repo.CampaignStats(),
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
        row = session.get_one(Campaign, campaign.id)
        repo.publish(session, campaign=row, now=later, designs=DESIGNS)
    with runtime.sessions() as session:
        row = session.get_one(Campaign, campaign.id)
        assert (row.created_at, row.updated_at) == (clock.now, later)


# --- the invariant under concurrent writers ------------------------------------------------

WRITERS = 8


def race(runtime: Runtime, work: Callable[[Session, int], Any]) -> list[Any]:
    """Run ``work(session, index)`` in ``WRITERS`` threads at once, each in its own
    transaction; their results (or the exception each raised), by index."""
    barrier = threading.Barrier(WRITERS)
    results: list[Any] = [None] * WRITERS

    def run(index: int) -> None:
        barrier.wait()
        try:
            with transaction(runtime.sessions) as session:
                results[index] = work(session, index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_invariant(session: Session, campaign_id: uuid.UUID) -> None:
    """At most one PUBLISHED and one DRAFT version."""
    counts = dict(
        session.execute(
            select(CampaignVersion.status, func.count())
            .where(CampaignVersion.campaign_id == campaign_id)
            .group_by(CampaignVersion.status)
        ).all()
    )
    assert counts.get(VersionStatus.PUBLISHED, 0) <= 1
    assert counts.get(VersionStatus.DRAFT, 0) <= 1


def test_of_concurrent_publishes_exactly_one_wins(runtime: Runtime, clock: Clock) -> None:
    # given a published campaign with a contact inside and a draft
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create_simple(session, store_id, clock)
        assert publish(session, campaign, clock) == []
        enroll(session, campaign)
        new_draft(session, campaign, clock)

    # when eight writers publish the draft at the same moment, half of them with STOP
    def publish_now(session: Session, index: int) -> list[str]:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        mode = ReleaseMode.STOP if index % 2 else ReleaseMode.DRAIN
        return [v.code for v in publish(session, row, clock, mode)]

    results = race(runtime, publish_now)
    # then exactly one publishes; the others find no draft
    assert sorted(map(str, results)) == ["['no_draft']"] * (WRITERS - 1) + ["[]"]
    with runtime.sessions() as session:
        assert_invariant(session, campaign.id)
        assert versions(session, campaign.id)[0][1] == VersionStatus.PUBLISHED


def test_concurrent_draft_edits_make_one_draft(runtime: Runtime, clock: Clock) -> None:
    # given a published campaign without a draft
    with transaction(runtime.sessions) as session:
        store_id = make_store(session, "a")
        campaign = create_simple(session, store_id, clock)
        assert publish(session, campaign, clock) == []

    # when eight editors save a draft at once, then eight publish and revert at once
    def edit(session: Session, _index: int) -> int:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        return repo.update_draft(
            session, campaign=row, definition=definition(), now=clock.now
        ).number

    results = race(runtime, edit)
    # then they all edited the same draft, version 2
    assert results == [2] * WRITERS

    def publish_or_revert(session: Session, index: int) -> object:
        row = repo.get_campaign(session, store_id, campaign.id)
        assert row is not None
        if index % 2:
            return repo.revert(session, campaign=row, number=1, now=clock.now).number
        return publish(session, row, clock)

    outcomes = race(runtime, publish_or_revert)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    with runtime.sessions() as session:
        assert_invariant(session, campaign.id)
