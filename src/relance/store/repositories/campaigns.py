"""Campaigns, their versions and their enrollments: creation, drafts, publishing, stopping,
history, export, and the read models lists and traces show.

Invariants kept here:

- Every read is scoped by ``store_id``: a campaign of another store is "not found", never returned.
- A campaign has at most one DRAFT and at most one PUBLISHED version. Every version transition
  (draft edits, publish, stop, revert) first takes the campaign's lock (:func:`lock_campaign`:
  ``SELECT … FOR UPDATE`` on PostgreSQL, the database write lock on SQLite) and then re-reads the
  versions, so of two concurrent publishes of one draft exactly one succeeds; the other finds no
  draft.
- A draft always parses as a :class:`~relance.automation.definitions.CampaignDefinition` (it may
  break graph rules: it is a work in progress); it is published only when
  :func:`relance.automation.validation.validate` finds nothing, otherwise nothing changes.
- Leaving a version (:class:`ReleaseMode`): DRAIN makes it DRAINING (no new contacts, those
  inside finish; :func:`retire_drained_versions` retires it when the last one ends); STOP retires
  it at once, exits its ACTIVE enrollments (``end_reason`` ``version_replaced`` or
  ``campaign_stopped``, traced) and cancels their PENDING messages — in the caller's transaction.
- Lock order is campaign → enrollments → messages → versions, the order the tasks layer takes
  enrollment → version in, so a stop never deadlocks with an enrollment ending.
- List counts come from GROUP BY queries over every listed campaign at once (a constant number of
  queries per list, whatever its length).

Writers flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from relance.automation.contacts import normalise_email
from relance.automation.definitions import (
    CampaignDefinition,
    DateTrigger,
    EventTrigger,
    ExitStep,
    ListTrigger,
    Trigger,
)
from relance.automation.library import CampaignTemplate
from relance.automation.validation import Violation, validate
from relance.store.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Message,
    MessageStatus,
    TraceRecord,
    VersionStatus,
)

#: Longest campaign name, in characters (the column's size).
MAX_NAME_LENGTH = 200
#: ``Violation.code`` when there is no draft to publish or validate.
NO_DRAFT = "no_draft"
#: ``Violation.code`` when the campaign has no version taking or holding contacts to stop.
NOT_PUBLISHED = "not_published"
#: ``Violation.code`` for a definition (or trigger) that does not parse: one per pydantic error.
INVALID_DEFINITION = "invalid_definition"
#: ``Enrollment.end_reason`` of contacts removed because a new version was published with STOP.
VERSION_REPLACED = "version_replaced"
#: ``Enrollment.end_reason`` of contacts removed because the campaign was stopped with STOP.
CAMPAIGN_STOPPED = "campaign_stopped"
#: ``$schema`` of an exported definition: names the format, not a document to fetch.
EXPORT_SCHEMA = "urn:relance:campaign-definition"
#: Version of the exported JSON format (docs/campaign-format.md); bumped on incompatible changes.
FORMAT_VERSION = 1
#: Id of the single step of a blank campaign.
BLANK_STEP_ID = "end"
#: Most enrollments one page holds, and most trace entries shown per enrollment.
MAX_PAGE_SIZE = 100
MAX_TRACE_ENTRIES = 200
#: Rows per ``IN (…)`` list when acting on many enrollments (SQLite caps bound parameters).
_CHUNK = 500

#: A parsed trigger (the members of :data:`~relance.automation.definitions.Trigger`).
AnyTrigger = EventTrigger | ListTrigger | DateTrigger
_TRIGGER_ADAPTER: TypeAdapter[AnyTrigger] = TypeAdapter(Trigger)


class ReleaseMode(StrEnum):
    """What happens to contacts inside a version that stops taking new ones (SPEC.md §3)."""

    DRAIN = "drain"  #: they finish it; the version is RETIRED when the last one ends
    STOP = "stop"  #: they leave now; the version is RETIRED at once


class CampaignNameError(ValueError):
    """A campaign name is blank (where one is required) or longer than :data:`MAX_NAME_LENGTH`."""


class DefinitionError(ValueError):
    """A definition (or trigger) that does not parse; ``violations`` has one entry per problem,
    each with its path in the submitted JSON (``steps.0.design``) and code
    :data:`INVALID_DEFINITION`."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.path}: {v.message}" for v in violations))
        self.violations = violations


class VersionNotFound(LookupError):
    """The campaign has no version with this number."""


# --- read models ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """Counts for one campaign, over all its versions.

    ``enrolled``: enrollments ever made; ``active``: those still in progress; ``completed`` /
    ``exited``: those that ended at the end of a path / removed by a rule or a stop;
    ``messages_sent``: messages the provider accepted (status SENT).
    """

    enrolled: int = 0
    active: int = 0
    completed: int = 0
    exited: int = 0
    messages_sent: int = 0


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """A campaign with every version (highest number first) and its counts: what a list shows."""

    campaign: Campaign
    versions: tuple[CampaignVersion, ...]
    stats: CampaignStats

    @property
    def draft(self) -> CampaignVersion | None:
        """The version being edited, if any."""
        return next((v for v in self.versions if v.status == VersionStatus.DRAFT), None)

    @property
    def published(self) -> CampaignVersion | None:
        """The version that takes new contacts, if any."""
        return next((v for v in self.versions if v.status == VersionStatus.PUBLISHED), None)

    @property
    def current(self) -> CampaignVersion | None:
        """What describes the campaign in a list: the published version, else the draft, else
        the latest one."""
        return self.published or self.draft or (self.versions[0] if self.versions else None)


@dataclass(frozen=True, slots=True)
class EntryCounts:
    """Enrollments of one version: entered (ever), and how many are active, completed, exited."""

    entered: int = 0
    active: int = 0
    completed: int = 0
    exited: int = 0


@dataclass(frozen=True, slots=True)
class VersionHistory:
    """One version of a campaign's history with its enrollment counts."""

    version: CampaignVersion
    entries: EntryCounts


@dataclass(frozen=True, slots=True)
class EnrollmentCursor:
    """Where a page of enrollments (newest first) stops: the last row's entry time and id."""

    entered_at: datetime
    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    """An enrollment with what a list shows about it; ``trace`` is newest first, bounded."""

    enrollment: Enrollment
    campaign_name: str
    version_number: int
    contact_email: str
    trace: tuple[TraceRecord, ...]

    @property
    def cursor(self) -> EnrollmentCursor:
        return EnrollmentCursor(self.enrollment.created_at, self.enrollment.id)


@dataclass(frozen=True, slots=True)
class EnrollmentPage:
    """One page of enrollments, newest first; ``has_next`` when more follow the last one."""

    items: tuple[EnrollmentView, ...]
    has_next: bool


# --- definitions ---------------------------------------------------------------------------


def _clean_path(data: Any, loc: tuple[int | str, ...]) -> str:
    """The path in ``data`` of a pydantic error location, without pydantic's union labels.

    Pydantic puts the chosen tag of a discriminated union (``steps.0.send_email.design``) and the
    member types of a plain union (``value.int``) into locations; they are not in the submitted
    JSON, so they are dropped: the path is ``steps.0.design``, as validation's paths are.
    """
    parts: list[str] = []
    current: Any = data
    for part in loc:
        if isinstance(current, Mapping):
            if isinstance(part, str) and part not in current and part in _tags(current):
                continue  # the discriminated union's label
            parts.append(str(part))
            current = current.get(part) if isinstance(part, str) else None
        elif isinstance(current, list | tuple) and isinstance(part, int):
            parts.append(str(part))
            current = current[part] if 0 <= part < len(current) else None
        elif isinstance(part, str) and current is not None:
            continue  # a plain union's member type, tried against a scalar
        else:
            parts.append(str(part))
            current = None
    return ".".join(parts)


def _tags(data: Mapping[str, Any]) -> set[str]:
    return {value for key in ("type", "op") if isinstance(value := data.get(key), str)}


def _violations(error: ValidationError, data: Any) -> list[Violation]:
    return [
        Violation(_clean_path(data, detail["loc"]), INVALID_DEFINITION, detail["msg"])
        for detail in error.errors()
        if not _follow_on(detail)
    ]


def _follow_on(detail: Any) -> bool:
    """Pydantic also reports a tuple with a bad item as "too short" (counting the items that
    validated): that is a consequence of the item's own error, not a problem of its own."""
    if detail["type"] != "too_short":
        return False
    given, ctx = detail.get("input"), detail.get("ctx") or {}
    return isinstance(given, list | tuple) and len(given) >= ctx.get("min_length", 0)


def parse_definition(data: Any) -> CampaignDefinition:
    """A definition from JSON data, as submitted or as :func:`export_document` wrote it.

    A ``$schema`` and a ``format_version`` (at most :data:`FORMAT_VERSION`) may come first; they
    are checked and dropped.

    Raises:
        DefinitionError: one violation per problem, each with its path in ``data``.
    """
    if isinstance(data, Mapping):
        data = dict(data)
        marker = data.pop("$schema", EXPORT_SCHEMA)
        version = data.pop("format_version", FORMAT_VERSION)
        if marker != EXPORT_SCHEMA:
            raise DefinitionError(
                [Violation("$schema", INVALID_DEFINITION, f"expected {EXPORT_SCHEMA!r}")]
            )
        if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
            raise DefinitionError(
                [
                    Violation(
                        "format_version",
                        INVALID_DEFINITION,
                        f"this relance reads format versions up to {FORMAT_VERSION}",
                    )
                ]
            )
    try:
        return CampaignDefinition.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(_violations(error, data)) from error


def parse_trigger(data: Any) -> AnyTrigger:
    """A :data:`~relance.automation.definitions.Trigger` from JSON data.

    Raises:
        DefinitionError: one violation per problem, each with its path in ``data``.
    """
    try:
        return _TRIGGER_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise DefinitionError(_violations(error, data)) from error


def blank_definition(trigger: AnyTrigger) -> CampaignDefinition:
    """The smallest valid definition for ``trigger``: one ``exit`` step."""
    return CampaignDefinition(
        trigger=trigger, entry_step=BLANK_STEP_ID, steps=(ExitStep(id=BLANK_STEP_ID),)
    )


def export_document(version: CampaignVersion) -> dict[str, Any]:
    """The version's definition as a self-describing JSON document (``$schema`` and
    ``format_version`` first), which :func:`parse_definition` reads back."""
    return {"$schema": EXPORT_SCHEMA, "format_version": FORMAT_VERSION, **version.definition}


def _stored(definition: CampaignDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json")


def _name(name: str | None, default: str | None) -> str:
    label = (name or "").strip() or (default or "")
    if not label:
        raise CampaignNameError("a campaign needs a name")
    if len(label) > MAX_NAME_LENGTH:
        raise CampaignNameError(f"a campaign name has at most {MAX_NAME_LENGTH} characters")
    return label


# --- reads ---------------------------------------------------------------------------------


def list_campaigns(session: Session, store_id: UUID) -> list[Campaign]:
    """The store's campaigns, newest first."""
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.store_id == store_id)
            .order_by(Campaign.created_at.desc(), Campaign.id)
        )
    )


def get_campaign(session: Session, store_id: UUID, campaign_id: UUID) -> Campaign | None:
    """The campaign ``campaign_id`` of ``store_id``; None if absent or of another store."""
    return session.scalars(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.store_id == store_id)
    ).one_or_none()


def _versions_with_status(
    session: Session, campaign: Campaign, *statuses: VersionStatus
) -> list[CampaignVersion]:
    return list(
        session.scalars(
            select(CampaignVersion)
            .where(
                CampaignVersion.campaign_id == campaign.id,
                CampaignVersion.store_id == campaign.store_id,
                CampaignVersion.status.in_(statuses),
            )
            .order_by(CampaignVersion.number.desc())
            # fresh values even for rows this session loaded before the campaign was locked
            .execution_options(populate_existing=True)
        )
    )


def draft_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The campaign's DRAFT version, if it has one."""
    return next(iter(_versions_with_status(session, campaign, VersionStatus.DRAFT)), None)


def published_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The campaign's PUBLISHED version, if it has one."""
    return next(iter(_versions_with_status(session, campaign, VersionStatus.PUBLISHED)), None)


def get_version(session: Session, campaign: Campaign, number: int) -> CampaignVersion | None:
    """The campaign's version ``number``, if it exists."""
    return session.scalars(
        select(CampaignVersion).where(
            CampaignVersion.campaign_id == campaign.id,
            CampaignVersion.store_id == campaign.store_id,
            CampaignVersion.number == number,
        )
    ).one_or_none()


def exported_version(
    session: Session, campaign: Campaign, number: int | None = None
) -> CampaignVersion | None:
    """Version ``number``; by default the draft if there is one, else the published version."""
    if number is not None:
        return get_version(session, campaign, number)
    return draft_version(session, campaign) or published_version(session, campaign)


def versions_by_campaign(
    session: Session, store_id: UUID, campaign_ids: Collection[UUID]
) -> dict[UUID, tuple[CampaignVersion, ...]]:
    """Every version of each campaign, highest number first, in one query."""
    if not campaign_ids:
        return {}
    rows = session.scalars(
        select(CampaignVersion)
        .where(
            CampaignVersion.store_id == store_id,
            CampaignVersion.campaign_id.in_(list(campaign_ids)),
        )
        .order_by(CampaignVersion.campaign_id, CampaignVersion.number.desc())
    )
    grouped: dict[UUID, list[CampaignVersion]] = {}
    for version in rows:
        grouped.setdefault(version.campaign_id, []).append(version)
    return {campaign_id: tuple(versions) for campaign_id, versions in grouped.items()}


def _status_counts(status_column: Any) -> tuple[Any, ...]:
    return (
        func.count(),
        func.count(case((status_column == EnrollmentStatus.ACTIVE, 1))),
        func.count(case((status_column == EnrollmentStatus.COMPLETED, 1))),
        func.count(case((status_column == EnrollmentStatus.EXITED, 1))),
    )


def campaign_stats(
    session: Session, store_id: UUID, campaign_ids: Collection[UUID]
) -> dict[UUID, CampaignStats]:
    """Counts per campaign, from two GROUP BY queries; campaigns without rows get zeros."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    enrollment_rows = session.execute(
        select(Enrollment.campaign_id, *_status_counts(Enrollment.status))
        .where(Enrollment.store_id == store_id, Enrollment.campaign_id.in_(ids))
        .group_by(Enrollment.campaign_id)
    )
    sent_rows = session.execute(
        select(Enrollment.campaign_id, func.count(Message.id))
        .join(Enrollment, Message.enrollment_id == Enrollment.id)
        .where(
            Message.store_id == store_id,
            Message.status == MessageStatus.SENT,
            Enrollment.store_id == store_id,
            Enrollment.campaign_id.in_(ids),
        )
        .group_by(Enrollment.campaign_id)
    )
    counts = {row[0]: tuple(row[1:]) for row in enrollment_rows}
    sent = {campaign_id: count for campaign_id, count in sent_rows}
    stats = {}
    for campaign_id in ids:
        enrolled, active, completed, exited = counts.get(campaign_id, (0, 0, 0, 0))
        stats[campaign_id] = CampaignStats(
            enrolled=enrolled,
            active=active,
            completed=completed,
            exited=exited,
            messages_sent=sent.get(campaign_id, 0),
        )
    return stats


def summarise(
    session: Session, store_id: UUID, campaigns: Sequence[Campaign]
) -> list[CampaignSummary]:
    """Summaries of ``campaigns`` (all of ``store_id``), in their order, in three queries."""
    ids = [campaign.id for campaign in campaigns]
    versions = versions_by_campaign(session, store_id, ids)
    stats = campaign_stats(session, store_id, ids)
    return [
        CampaignSummary(
            campaign=campaign,
            versions=versions.get(campaign.id, ()),
            stats=stats.get(campaign.id, CampaignStats()),
        )
        for campaign in campaigns
    ]


def version_history(session: Session, campaign: Campaign) -> list[VersionHistory]:
    """Every version ever published (PUBLISHED, DRAINING, RETIRED), highest number first, with
    its enrollment counts; two queries."""
    versions = _versions_with_status(
        session, campaign, VersionStatus.PUBLISHED, VersionStatus.DRAINING, VersionStatus.RETIRED
    )
    counts = {
        row[0]: EntryCounts(*row[1:])
        for row in session.execute(
            select(Enrollment.version_id, *_status_counts(Enrollment.status))
            .where(Enrollment.store_id == campaign.store_id, Enrollment.campaign_id == campaign.id)
            .group_by(Enrollment.version_id)
        )
    }
    return [VersionHistory(v, counts.get(v.id, EntryCounts())) for v in versions]


def find_contact(
    session: Session, store_id: UUID, *, email: str | None = None, contact_id: UUID | None = None
) -> Contact | None:
    """The store's contact with this id or (normalised) email; None if it has none."""
    query = select(Contact).where(Contact.store_id == store_id)
    if contact_id is not None:
        query = query.where(Contact.id == contact_id)
    elif email is not None:
        query = query.where(Contact.email == normalise_email(email))
    else:
        return None
    return session.scalars(query).one_or_none()


def list_enrollments(
    session: Session,
    store_id: UUID,
    *,
    campaign_id: UUID | None = None,
    contact_id: UUID | None = None,
    status: EnrollmentStatus | None = None,
    first: int = 20,
    after: EnrollmentCursor | None = None,
    trace_limit: int = 50,
) -> EnrollmentPage:
    """A page of the store's enrollments, newest entry first, optionally of one campaign and/or
    one contact and with one status; each with its ``trace_limit`` newest trace entries.

    Keyset pagination: ``after`` is the previous page's last cursor. ``first`` is clamped to
    1…:data:`MAX_PAGE_SIZE`, ``trace_limit`` to 0…:data:`MAX_TRACE_ENTRIES`. Two queries.
    """
    first = max(1, min(first, MAX_PAGE_SIZE))
    trace_limit = max(0, min(trace_limit, MAX_TRACE_ENTRIES))
    query = (
        select(Enrollment, Campaign.name, CampaignVersion.number, Contact.email)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .join(CampaignVersion, CampaignVersion.id == Enrollment.version_id)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .where(Enrollment.store_id == store_id, Campaign.store_id == store_id)
    )
    if campaign_id is not None:
        query = query.where(Enrollment.campaign_id == campaign_id)
    if contact_id is not None:
        query = query.where(Enrollment.contact_id == contact_id)
    if status is not None:
        query = query.where(Enrollment.status == status)
    if after is not None:
        query = query.where(
            or_(
                Enrollment.created_at < after.entered_at,
                and_(
                    Enrollment.created_at == after.entered_at,
                    Enrollment.id < after.enrollment_id,
                ),
            )
        )
    rows = session.execute(
        query.order_by(Enrollment.created_at.desc(), Enrollment.id.desc()).limit(first + 1)
    ).all()
    page = rows[:first]
    traces = _traces(session, [row[0].id for row in page], trace_limit)
    return EnrollmentPage(
        items=tuple(
            EnrollmentView(
                enrollment=enrollment,
                campaign_name=name,
                version_number=number,
                contact_email=email,
                trace=traces.get(enrollment.id, ()),
            )
            for enrollment, name, number, email in page
        ),
        has_next=len(rows) > first,
    )


def _traces(
    session: Session, enrollment_ids: list[UUID], limit: int
) -> dict[UUID, tuple[TraceRecord, ...]]:
    """The ``limit`` newest trace entries of each enrollment, newest first (by ``seq``: entries
    of one instant keep their order), in one query."""
    if not enrollment_ids or limit == 0:
        return {}
    newest_first = (TraceRecord.seq.desc(), TraceRecord.at.desc(), TraceRecord.id.desc())
    rank = (
        func.row_number()
        .over(partition_by=TraceRecord.enrollment_id, order_by=newest_first)
        .label("rank")
    )
    ranked = (
        select(TraceRecord.id, rank).where(TraceRecord.enrollment_id.in_(enrollment_ids)).subquery()
    )
    records = session.scalars(
        select(TraceRecord)
        .join(ranked, ranked.c.id == TraceRecord.id)
        .where(ranked.c.rank <= limit)
        .order_by(TraceRecord.enrollment_id, *newest_first)
    )
    grouped: dict[UUID, list[TraceRecord]] = {}
    for record in records:
        grouped.setdefault(record.enrollment_id, []).append(record)
    return {key: tuple(value) for key, value in grouped.items()}


# --- creation ------------------------------------------------------------------------------


def create_campaign(
    session: Session,
    *,
    store_id: UUID,
    name: str | None,
    definition: CampaignDefinition,
    now: datetime,
    template_key: str | None = None,
    default_name: str | None = None,
) -> Campaign:
    """A new DRAFT campaign whose version 1 (DRAFT) holds ``definition``.

    ``name`` is stripped; when it is None or blank ``default_name`` is used.

    Raises:
        CampaignNameError: no name, or one longer than :data:`MAX_NAME_LENGTH`.

    Not idempotent: each call makes another campaign. The caller commits.
    """
    campaign = Campaign(
        store_id=store_id,
        name=_name(name, default_name),
        template_key=template_key,
        status=CampaignStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    _add_version(session, campaign, 1, _stored(definition), now)
    return campaign


def create_from_template(
    session: Session,
    *,
    store_id: UUID,
    template: CampaignTemplate,
    name: str | None,
    now: datetime,
) -> Campaign:
    """A new DRAFT campaign holding the template's definition, named ``name`` or the template's.

    Raises:
        CampaignNameError: the name is longer than :data:`MAX_NAME_LENGTH`.
    """
    return create_campaign(
        session,
        store_id=store_id,
        name=name,
        definition=template.definition,
        now=now,
        template_key=template.key,
        default_name=template.name,
    )


def create_blank(
    session: Session, *, store_id: UUID, name: str, trigger: AnyTrigger, now: datetime
) -> Campaign:
    """A new DRAFT campaign started by ``trigger`` whose draft is :func:`blank_definition`.

    Raises:
        CampaignNameError: blank or too long a name.
    """
    return create_campaign(
        session, store_id=store_id, name=name, definition=blank_definition(trigger), now=now
    )


def _add_version(
    session: Session, campaign: Campaign, number: int, definition: dict[str, Any], now: datetime
) -> CampaignVersion:
    version = CampaignVersion(
        campaign_id=campaign.id,
        store_id=campaign.store_id,
        number=number,
        status=VersionStatus.DRAFT,
        definition=definition,
        created_at=now,
        updated_at=now,
    )
    session.add(version)
    session.flush()
    return version


# --- version transitions -------------------------------------------------------------------


def lock_campaign(session: Session, campaign: Campaign) -> None:
    """Serialise version transitions of ``campaign`` until the transaction ends, and reload it.

    PostgreSQL: ``SELECT … FOR UPDATE`` on its row. SQLite has no row locks: an UPDATE that
    changes nothing takes the database's write lock at once, so a second writer waits (busy
    timeout) and then reads what the first committed. Call it before reading the versions.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id)
            .values(updated_at=Campaign.updated_at)
            .execution_options(synchronize_session=False)
        )
    session.refresh(campaign, with_for_update=True)


def _next_number(session: Session, campaign: Campaign) -> int:
    highest = session.scalar(
        select(func.max(CampaignVersion.number)).where(CampaignVersion.campaign_id == campaign.id)
    )
    return (highest or 0) + 1


def _edit_draft(
    session: Session, campaign: Campaign, definition: dict[str, Any], now: datetime
) -> CampaignVersion:
    """Put ``definition`` in the draft, making one (next number) if there is none. Locked."""
    draft = draft_version(session, campaign)
    if draft is None:
        return _add_version(session, campaign, _next_number(session, campaign), definition, now)
    draft.definition = definition
    draft.updated_at = now
    session.flush()
    return draft


def update_draft(
    session: Session,
    *,
    campaign: Campaign,
    definition: CampaignDefinition | None,
    name: str | None = None,
    now: datetime,
) -> CampaignVersion:
    """Edit the campaign's draft: its definition (when given) and the campaign's name (when
    given). Without a draft, one is made — the next version number — from ``definition``, or as
    a copy of the published (else latest) version. Returns the draft.

    The definition is saved even when it breaks graph rules (validation runs at publish time).

    Raises:
        CampaignNameError: a blank or too long ``name``.
    """
    label = _name(name, None) if name is not None else None
    lock_campaign(session, campaign)
    if definition is not None:
        stored = _stored(definition)
    else:
        existing = draft_version(session, campaign)
        if existing is not None:
            stored = existing.definition
        else:
            source = published_version(session, campaign) or _latest(session, campaign)
            stored = dict(source.definition) if source is not None else {}
    draft = _edit_draft(session, campaign, stored, now)
    if label is not None:
        campaign.name = label
    campaign.updated_at = now
    session.flush()
    return draft


def _latest(session: Session, campaign: Campaign) -> CampaignVersion | None:
    return session.scalars(
        select(CampaignVersion)
        .where(CampaignVersion.campaign_id == campaign.id)
        .order_by(CampaignVersion.number.desc())
        .limit(1)
    ).first()


def revert(session: Session, *, campaign: Campaign, number: int, now: datetime) -> CampaignVersion:
    """Make the draft a copy of version ``number``'s definition (replacing the current draft's,
    or as a new draft numbered next). Returns the draft.

    Raises:
        VersionNotFound: the campaign has no version ``number``.
        DefinitionError: that version's definition no longer parses (nothing changes).
    """
    lock_campaign(session, campaign)
    source = get_version(session, campaign, number)
    if source is None:
        raise VersionNotFound(f"the campaign has no version {number}")
    parse_definition(source.definition)
    draft = _edit_draft(session, campaign, dict(source.definition), now)
    campaign.updated_at = now
    session.flush()
    return draft


def check_draft(draft: CampaignVersion, designs: Mapping[str, Collection[str]]) -> list[Violation]:
    """Every reason ``draft`` cannot be published; empty when it can.

    ``designs`` maps each email design to the languages it exists in. A stored definition that
    no longer parses yields one ``invalid_definition`` violation per pydantic error.
    """
    try:
        definition = parse_definition(draft.definition)
    except DefinitionError as error:
        return error.violations
    return validate(definition, designs)


def validate_draft(
    session: Session, campaign: Campaign, designs: Mapping[str, Collection[str]]
) -> list[Violation]:
    """The draft's violations (:func:`check_draft`); one ``no_draft`` if there is no draft.
    Changes nothing."""
    draft = draft_version(session, campaign)
    if draft is None:
        return [Violation("", NO_DRAFT, "the campaign has no draft")]
    return check_draft(draft, designs)


def _names_only(names: Collection[str], draft: CampaignVersion) -> dict[str, frozenset[str]]:
    """``designs`` for a caller that knows design names only: each is taken to exist in every
    language the draft asks for (languages go unchecked)."""
    try:
        parsed = parse_definition(draft.definition)
    except DefinitionError:
        return {name: frozenset() for name in names}
    wanted = frozenset([parsed.default_language, *parsed.languages])
    return {name: wanted for name in names}


def publish(
    session: Session,
    *,
    campaign: Campaign,
    now: datetime,
    designs: Mapping[str, Collection[str]] | None = None,
    mode: ReleaseMode = ReleaseMode.DRAIN,
    known_designs: Collection[str] | None = None,
) -> list[Violation]:
    """Publish the campaign's draft if it is valid; returns the violations (empty = published).

    On success: the draft becomes PUBLISHED with ``published_at = now`` and the campaign ACTIVE.
    The versions it replaces — the published one and, with STOP, any still DRAINING — stop taking
    contacts (``unpublished_at = now``): with DRAIN the published one becomes DRAINING (RETIRED
    at once if nobody is inside); with STOP they become RETIRED and every contact inside leaves
    (``version_replaced``). On violations nothing changes; no draft gives one ``no_draft``.

    ``designs`` maps design names to their languages; ``known_designs`` (names only: languages
    unchecked) is the older form, still read. Locks the campaign for the rest of the
    transaction. The caller commits.
    """
    lock_campaign(session, campaign)
    draft = draft_version(session, campaign)
    if draft is None:
        return [Violation("", NO_DRAFT, "the campaign has no draft to publish")]
    if designs is None:
        designs = _names_only(known_designs or (), draft)
    violations = check_draft(draft, designs)
    if violations:
        return violations
    previous = published_version(session, campaign)
    leaving = [previous] if previous is not None else []
    if mode is ReleaseMode.STOP:
        leaving += _versions_with_status(session, campaign, VersionStatus.DRAINING)
    _release(session, campaign, leaving, mode, VERSION_REPLACED, now)
    # Flushed before: the draft is never PUBLISHED while the old version still is.
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = now
    draft.updated_at = now
    campaign.status = CampaignStatus.ACTIVE
    campaign.updated_at = now
    session.flush()
    return []


def stop(
    session: Session, *, campaign: Campaign, now: datetime, mode: ReleaseMode
) -> list[Violation]:
    """Stop the campaign: its published version takes no more contacts and the campaign is
    STOPPED (its draft is kept; publishing again restarts it). Returns the violations (empty =
    stopped).

    DRAIN: the published version becomes DRAINING (RETIRED at once if nobody is inside); those
    inside finish it. STOP: the published version and any DRAINING one become RETIRED and every
    contact inside leaves (``campaign_stopped``), their pending messages cancelled — which also
    ends, later, a campaign stopped with DRAIN. One ``not_published`` violation when there is
    nothing to stop. Locks the campaign; the caller commits.
    """
    lock_campaign(session, campaign)
    leaving = _versions_with_status(session, campaign, VersionStatus.PUBLISHED)
    if mode is ReleaseMode.STOP:
        leaving += _versions_with_status(session, campaign, VersionStatus.DRAINING)
    if not leaving:
        return [
            Violation(
                "",
                NOT_PUBLISHED,
                "the campaign has no published version"
                + (" nor contacts inside" if mode is ReleaseMode.STOP else ""),
            )
        ]
    _release(session, campaign, leaving, mode, CAMPAIGN_STOPPED, now)
    campaign.status = CampaignStatus.STOPPED
    campaign.updated_at = now
    session.flush()
    return []


def _release(
    session: Session,
    campaign: Campaign,
    versions: list[CampaignVersion],
    mode: ReleaseMode,
    reason: str,
    now: datetime,
) -> None:
    """Make ``versions`` stop taking contacts: DRAINING (DRAIN) or RETIRED with their contacts
    removed (STOP). Enrollments and messages are updated before the version rows (lock order)."""
    if not versions:
        return
    if mode is ReleaseMode.STOP:
        exit_enrollments(session, [v.id for v in versions], reason=reason, now=now)
    for version in versions:
        version.unpublished_at = version.unpublished_at or now
        if mode is ReleaseMode.STOP:
            version.status = VersionStatus.RETIRED
            version.retired_at = now
        else:
            version.status = VersionStatus.DRAINING
        version.updated_at = now
    session.flush()
    if mode is ReleaseMode.DRAIN:
        retire_drained_versions(session, campaign.id, now=now)


def exit_enrollments(
    session: Session, version_ids: Collection[UUID], *, reason: str, now: datetime
) -> int:
    """Remove every ACTIVE enrollment of these versions: EXITED with ``reason``, ``ended_at``
    now, no wake-up, a trace entry ``exited`` (numbered next); their PENDING messages become
    CANCELLED. Bumps each row's revision, so a worker holding a stale copy fails instead of
    overwriting. Returns how many left. The caller commits.
    """
    if not version_ids:
        return 0
    ended = session.execute(
        update(Enrollment)
        .where(
            Enrollment.version_id.in_(list(version_ids)),
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
        .values(
            status=EnrollmentStatus.EXITED,
            end_reason=reason,
            ended_at=now,
            wake_at=None,
            lease_until=None,
            updated_at=now,
            revision=Enrollment.revision + 1,
            trace_seq=Enrollment.trace_seq + 1,
        )
        .returning(Enrollment.id, Enrollment.step_id, Enrollment.trace_seq)
        .execution_options(synchronize_session=False)
    ).all()
    for chunk in _chunks([enrollment_id for enrollment_id, _, _ in ended]):
        session.execute(
            update(Message)
            .where(Message.enrollment_id.in_(chunk), Message.status == MessageStatus.PENDING)
            .values(status=MessageStatus.CANCELLED, error=f"cancelled: {reason}", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    if ended:
        session.execute(
            insert(TraceRecord),
            [
                {
                    "id": uuid.uuid4(),
                    "enrollment_id": enrollment_id,
                    "seq": seq,
                    "at": now,
                    "step_id": step_id or "",
                    "action": "exited",
                    "detail": reason,
                }
                for enrollment_id, step_id, seq in ended
            ],
        )
    return len(ended)


def _chunks(items: list[UUID]) -> Iterable[list[UUID]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def retire_drained_versions(session: Session, campaign_id: UUID, *, now: datetime) -> list[int]:
    """RETIRE (``retired_at = now``) the campaign's DRAINING versions nobody is inside any more;
    returns their numbers. Call it after ending an enrollment, in the same transaction.

    Safe when several enrollments of one version end concurrently: the draining version rows
    are locked (PostgreSQL) before the active enrollments are counted, so the last transaction
    to get the lock sees the others' endings. Takes no campaign lock (enrollment → version
    order, as stopping does).
    """
    draining = list(
        session.scalars(
            select(CampaignVersion)
            .where(
                CampaignVersion.campaign_id == campaign_id,
                CampaignVersion.status == VersionStatus.DRAINING,
            )
            .order_by(CampaignVersion.number)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if not draining:
        return []
    occupied = set(
        session.scalars(
            select(CampaignVersion.id).where(
                CampaignVersion.id.in_([v.id for v in draining]),
                exists().where(
                    Enrollment.version_id == CampaignVersion.id,
                    Enrollment.status == EnrollmentStatus.ACTIVE,
                ),
            )
        )
    )
    retired = []
    for version in draining:
        if version.id in occupied:
            continue
        version.status = VersionStatus.RETIRED
        version.retired_at = now
        version.updated_at = now
        retired.append(version.number)
    session.flush()
    return retired
