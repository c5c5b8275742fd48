"""Output types of the admin schema, and how they are made from rows and read models.

Types are plain values filled in one go (inside the resolver's transaction), so no field resolves
lazily against the database — except ``Campaign.enrollments``, a paginated connection loaded by
its own resolver in its own transaction. Enum values are the stored values' upper-case names;
every stored status has one (a test walks them).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry
from graphql import GraphQLError
from sqlalchemy.orm import Session
from strawberry.scalars import JSON

from relance.automation.definitions import (
    CampaignDefinition,
    DateTrigger,
    EventTrigger,
    ListTrigger,
)
from relance.automation.library import CampaignTemplate as TemplateValue
from relance.graphql.context import Info
from relance.graphql.pagination import (
    DEFAULT_PAGE_SIZE,
    PageInfo,
    check_page_size,
    decode_cursor,
    encode_cursor,
)
from relance.graphql.store_types import StoreKindEnum, StoreSettings, settings_type
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo
from relance.store.repositories.campaigns import (
    CampaignSummary,
    DefinitionError,
    EnrollmentPage,
    EnrollmentView,
    VersionHistory,
)

#: Trace entries per enrollment when ``traceLimit`` is not given.
DEFAULT_TRACE_LIMIT = 20


@strawberry.enum(name="CampaignStatus", description="Where a campaign is in its life.")
class CampaignStatusEnum(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    STOPPED = "stopped"


@strawberry.enum(name="CampaignVersionStatus", description="Where a campaign version is.")
class CampaignVersionStatusEnum(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DRAINING = "draining"
    RETIRED = "retired"


@strawberry.enum(
    name="CampaignReleaseMode",
    description=(
        "What happens to the contacts inside a version that stops taking new ones (a new "
        "version is published, or the campaign is stopped)."
    ),
)
class ReleaseModeEnum(Enum):
    DRAIN = "drain"
    STOP = "stop"


@strawberry.enum(name="EnrollmentStatus", description="Where one contact's run stands.")
class EnrollmentStatusEnum(Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    EXITED = "exited"


@strawberry.enum(name="StoreStatus", description="Whether the store's installation is live.")
class StoreStatusEnum(Enum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"
    UNINSTALLED = "uninstalled"


@strawberry.type(description="One installation of relance: a store and its data.")
class Store:
    id: strawberry.ID
    api_url: str = strawberry.field(description="The store's API URL (its key).")
    name: str
    status: StoreStatusEnum
    kind: StoreKindEnum = strawberry.field(description="Saleor, a generic store, or the demo.")
    installed_at: datetime | None = strawberry.field(
        description="When the store was (last) installed."
    )
    settings: StoreSettings


@strawberry.type(description="Counts over every version of a campaign.")
class CampaignStats:
    enrolled: int = strawberry.field(description="Enrollments ever started.")
    active: int = strawberry.field(description="Enrollments still in progress.")
    completed: int = strawberry.field(description="Enrollments that reached the end of a path.")
    exited: int = strawberry.field(
        description="Enrollments removed early: exit step or rule, or a stop."
    )
    messages_sent: int = strawberry.field(description="Messages the provider accepted.")


@strawberry.type(
    description=(
        "One version of a campaign. A campaign has at most one DRAFT and one PUBLISHED version; "
        "a version that stops taking contacts is DRAINING while contacts are inside, then RETIRED."
    )
)
class CampaignVersion:
    id: strawberry.ID
    number: int = strawberry.field(description="1 for the first version, then 2, 3…")
    status: CampaignVersionStatusEnum
    published_at: datetime | None
    unpublished_at: datetime | None = strawberry.field(
        description="When it stopped taking new contacts (a newer version or a stop)."
    )
    retired_at: datetime | None = strawberry.field(
        description="When nobody was left inside (at once for a STOP)."
    )
    definition: JSON = strawberry.field(
        description="The campaign definition (docs/campaign-format.md), as JSON."
    )


@strawberry.type(description="What starts a campaign, in short.")
class CampaignTrigger:
    type: str = strawberry.field(description="event, list_entered, list_exited or date.")
    events: list[str] = strawberry.field(description="The events (event triggers).")
    has_conditions: bool = strawberry.field(description="The event trigger has a `where`.")
    list_id: str | None
    date_field: str | None
    summary: str = strawberry.field(description="One line for a list: `order.placed`, …")


@strawberry.type(description="One decision about an enrollment: what happened where, and why.")
class TraceEntry:
    at: datetime
    step_id: str
    action: str = strawberry.field(description="A stable code: entered, send, waited, exited…")
    detail: str


@strawberry.type(description="One contact's run through one version of a campaign.")
class Enrollment:
    id: strawberry.ID
    campaign_id: strawberry.ID
    campaign_name: str
    version_number: int
    contact_id: strawberry.ID
    contact_email: str
    status: EnrollmentStatusEnum
    step_id: str | None = strawberry.field(description="The step it runs next (or ended at).")
    wake_at: datetime | None = strawberry.field(description="When it runs next (ACTIVE only).")
    end_reason: str | None = strawberry.field(
        description="Why it ended: completed, exit_step, exit_condition, version_replaced…"
    )
    entered_at: datetime
    ended_at: datetime | None
    trace: list[TraceEntry] = strawberry.field(
        description="Its newest decisions first, at most the connection's traceLimit."
    )


@strawberry.type
class EnrollmentEdge:
    cursor: str
    node: Enrollment


@strawberry.type(description="A page of enrollments, newest entry first.")
class EnrollmentConnection:
    edges: list[EnrollmentEdge]
    page_info: PageInfo


async def load_enrollments(
    info: Info,
    *,
    campaign_id: UUID | None = None,
    email: str | None = None,
    status: EnrollmentStatusEnum | None,
    first: int,
    after: str | None,
    trace_limit: int,
) -> EnrollmentConnection:
    """A page of the caller's store's enrollments: of one campaign, or of the contact with this
    email (an empty page when the store has no such contact).

    Raises:
        GraphQLError: BAD_USER_INPUT for a foreign cursor or an out-of-range size.
    """
    store_id = info.context.store_id
    cursor = decode_cursor(after)
    check_page_size(first)
    check_trace_limit(trace_limit)

    def load(session: Session) -> EnrollmentConnection:
        contact_id = None
        if email is not None:
            contact = campaign_repo.find_contact(session, store_id, email=email)
            if contact is None:
                return connection_type(EnrollmentPage(items=(), has_next=False))
            contact_id = contact.id
        page = campaign_repo.list_enrollments(
            session,
            store_id,
            campaign_id=campaign_id,
            contact_id=contact_id,
            status=models.EnrollmentStatus(status.value) if status else None,
            first=first,
            after=cursor,
            trace_limit=trace_limit,
        )
        return connection_type(page)

    return await info.context.in_transaction(load)


async def resolve_campaign_enrollments(
    root: Campaign,
    info: Info,
    status: EnrollmentStatusEnum | None = None,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    trace_limit: int = DEFAULT_TRACE_LIMIT,
) -> EnrollmentConnection:
    return await load_enrollments(
        info,
        campaign_id=UUID(str(root.id)),  # made from a row: always a UUID
        status=status,
        first=first,
        after=after,
        trace_limit=trace_limit,
    )


@strawberry.type(description="A campaign of the caller's store.")
class Campaign:
    id: strawberry.ID
    name: str
    status: CampaignStatusEnum
    template_key: str | None = strawberry.field(description="The template it was made from.")
    created_at: datetime
    updated_at: datetime
    trigger: CampaignTrigger | None = strawberry.field(
        description="The trigger of the published version, else of the draft."
    )
    category: str | None = strawberry.field(
        description="The default message category of the published version, else the draft's."
    )
    published_version: CampaignVersion | None = strawberry.field(
        description="The version taking new contacts, if any."
    )
    draft_version: CampaignVersion | None = strawberry.field(
        description="The version being edited, if any."
    )
    versions: list[CampaignVersion] = strawberry.field(
        description="Every version, highest number first."
    )
    stats: CampaignStats
    enrollments: EnrollmentConnection = strawberry.field(
        resolver=resolve_campaign_enrollments,
        description="The campaign's enrollments, newest entry first.",
    )


@strawberry.type(description="A published version of a campaign and what became of its contacts.")
class CampaignHistoryEntry:
    version: CampaignVersion
    entered: int = strawberry.field(description="Enrollments it took.")
    active: int = strawberry.field(description="Of which still inside.")
    completed: int
    exited: int


@strawberry.type(description="A ready-made campaign that can be created in one call.")
class CampaignTemplate:
    key: str
    name: str
    description: str


def check_trace_limit(limit: int) -> int:
    """``limit`` if within 0…MAX_TRACE_ENTRIES, else a BAD_USER_INPUT GraphQL error."""
    if not 0 <= limit <= campaign_repo.MAX_TRACE_ENTRIES:
        raise GraphQLError(
            f"`traceLimit` must be between 0 and {campaign_repo.MAX_TRACE_ENTRIES}",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return limit


def store_type(store: models.Store) -> Store:
    """The GraphQL view of a store row."""
    return Store(
        id=strawberry.ID(str(store.id)),
        api_url=store.api_url,
        name=store.name,
        status=StoreStatusEnum(store.status),
        kind=StoreKindEnum(store.kind),
        installed_at=store.installed_at,
        settings=settings_type(store),
    )


def version_type(version: models.CampaignVersion) -> CampaignVersion:
    """The GraphQL view of a version row."""
    return CampaignVersion(
        id=strawberry.ID(str(version.id)),
        number=version.number,
        status=CampaignVersionStatusEnum(version.status),
        published_at=version.published_at,
        unpublished_at=version.unpublished_at,
        retired_at=version.retired_at,
        definition=JSON(version.definition),
    )


def _definition(version: models.CampaignVersion | None) -> CampaignDefinition | None:
    if version is None:
        return None
    try:
        return campaign_repo.parse_definition(version.definition)
    except DefinitionError:
        return None


def trigger_type(definition: CampaignDefinition) -> CampaignTrigger:
    """A one-line description of what starts ``definition``."""
    trigger = definition.trigger
    match trigger:
        case EventTrigger():
            summary = " or ".join(trigger.events)
            if trigger.where is not None:
                summary += " (with conditions)"
            return CampaignTrigger(
                type=trigger.type,
                events=list(trigger.events),
                has_conditions=trigger.where is not None,
                list_id=None,
                date_field=None,
                summary=summary,
            )
        case ListTrigger():
            verb = "enters" if trigger.type == "list_entered" else "leaves"
            return CampaignTrigger(
                type=trigger.type,
                events=[],
                has_conditions=False,
                list_id=trigger.list_id,
                date_field=None,
                summary=f"{verb} list {trigger.list_id}",
            )
        case DateTrigger():
            days = abs(trigger.offset_days)
            when = (
                f"on {trigger.field}"
                if days == 0
                else f"{days} day{'s' if days > 1 else ''} "
                f"{'before' if trigger.offset_days < 0 else 'after'} {trigger.field}"
            )
            every = ", every year" if trigger.yearly else ""
            return CampaignTrigger(
                type=trigger.type,
                events=[],
                has_conditions=False,
                list_id=None,
                date_field=trigger.field,
                summary=f"{when}{every} at {trigger.at.strftime('%H:%M')}",
            )


def campaign_type(summary: CampaignSummary) -> Campaign:
    """The GraphQL view of a campaign with its versions and counts."""
    campaign = summary.campaign
    published = summary.published
    draft = summary.draft
    definition = _definition(summary.current)
    return Campaign(
        id=strawberry.ID(str(campaign.id)),
        name=campaign.name,
        status=CampaignStatusEnum(campaign.status),
        template_key=campaign.template_key,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        trigger=trigger_type(definition) if definition is not None else None,
        category=definition.category if definition is not None else None,
        published_version=version_type(published) if published is not None else None,
        draft_version=version_type(draft) if draft is not None else None,
        versions=[version_type(version) for version in summary.versions],
        stats=CampaignStats(
            enrolled=summary.stats.enrolled,
            active=summary.stats.active,
            completed=summary.stats.completed,
            exited=summary.stats.exited,
            messages_sent=summary.stats.messages_sent,
        ),
    )


def load_campaign(session: Session, row: models.Campaign) -> Campaign:
    """The GraphQL view of ``row``, with its versions and counts read now."""
    [summary] = campaign_repo.summarise(session, row.store_id, [row])
    return campaign_type(summary)


def history_type(entry: VersionHistory) -> CampaignHistoryEntry:
    """The GraphQL view of one version of a campaign's history."""
    return CampaignHistoryEntry(
        version=version_type(entry.version),
        entered=entry.entries.entered,
        active=entry.entries.active,
        completed=entry.entries.completed,
        exited=entry.entries.exited,
    )


def enrollment_type(view: EnrollmentView) -> Enrollment:
    """The GraphQL view of an enrollment and its newest trace entries."""
    enrollment = view.enrollment
    return Enrollment(
        id=strawberry.ID(str(enrollment.id)),
        campaign_id=strawberry.ID(str(enrollment.campaign_id)),
        campaign_name=view.campaign_name,
        version_number=view.version_number,
        contact_id=strawberry.ID(str(enrollment.contact_id)),
        contact_email=view.contact_email,
        status=EnrollmentStatusEnum(enrollment.status),
        step_id=enrollment.step_id,
        wake_at=enrollment.wake_at,
        end_reason=enrollment.end_reason,
        entered_at=enrollment.created_at,
        ended_at=enrollment.ended_at,
        trace=[
            TraceEntry(at=r.at, step_id=r.step_id, action=r.action, detail=r.detail)
            for r in view.trace
        ],
    )


def connection_type(page: EnrollmentPage) -> EnrollmentConnection:
    """The GraphQL view of a page of enrollments."""
    edges = [
        EnrollmentEdge(cursor=encode_cursor(view.cursor), node=enrollment_type(view))
        for view in page.items
    ]
    return EnrollmentConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
    )


def template_type(template: TemplateValue) -> CampaignTemplate:
    """The GraphQL view of a ready-made campaign."""
    return CampaignTemplate(key=template.key, name=template.name, description=template.description)
