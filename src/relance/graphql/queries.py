"""Admin queries. Every one needs a valid credential (``IsAdmin``) and sees only its store, except
the public ``pushPublicKey`` (storefronts need it before anyone signs in)."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON

from relance.automation.library import TEMPLATES
from relance.graphql.context import Info
from relance.graphql.ids import parse_id
from relance.graphql.mutations.store_push_settings import public_key_field
from relance.graphql.pagination import DEFAULT_PAGE_SIZE
from relance.graphql.permissions import IsAdmin
from relance.graphql.types import (
    DEFAULT_TRACE_LIMIT,
    Campaign,
    CampaignHistoryEntry,
    CampaignTemplate,
    EnrollmentConnection,
    EnrollmentStatusEnum,
    Store,
    campaign_type,
    history_type,
    load_enrollments,
    store_type,
    template_type,
)
from relance.store.repositories import campaigns as campaign_repo
from relance.store.repositories.stores import get_store


async def resolve_me(info: Info) -> Store:
    store_id = info.context.store_id

    def load(session: Session) -> Store:
        store = get_store(session, store_id)
        if store is None:  # deleted between authentication and now
            raise LookupError("the caller's store no longer exists")
        return store_type(store)

    return await info.context.in_transaction(load)


async def resolve_campaigns(info: Info) -> list[Campaign]:
    store_id = info.context.store_id

    def load(session: Session) -> list[Campaign]:
        rows = campaign_repo.list_campaigns(session, store_id)
        return [campaign_type(s) for s in campaign_repo.summarise(session, store_id, rows)]

    return await info.context.in_transaction(load)


async def resolve_campaign(info: Info, id: strawberry.ID) -> Campaign | None:
    store_id = info.context.store_id
    campaign_id = parse_id(id)
    if campaign_id is None:
        return None

    def load(session: Session) -> Campaign | None:
        row = campaign_repo.get_campaign(session, store_id, campaign_id)
        if row is None:
            return None
        [summary] = campaign_repo.summarise(session, store_id, [row])
        return campaign_type(summary)

    return await info.context.in_transaction(load)


async def resolve_campaign_history(
    info: Info, id: strawberry.ID
) -> list[CampaignHistoryEntry] | None:
    store_id = info.context.store_id
    campaign_id = parse_id(id)
    if campaign_id is None:
        return None

    def load(session: Session) -> list[CampaignHistoryEntry] | None:
        row = campaign_repo.get_campaign(session, store_id, campaign_id)
        if row is None:
            return None
        return [history_type(entry) for entry in campaign_repo.version_history(session, row)]

    return await info.context.in_transaction(load)


async def resolve_campaign_export(
    info: Info, id: strawberry.ID, version: int | None = None
) -> JSON | None:
    store_id = info.context.store_id
    campaign_id = parse_id(id)
    if campaign_id is None:
        return None

    def load(session: Session) -> JSON | None:
        row = campaign_repo.get_campaign(session, store_id, campaign_id)
        if row is None:
            return None
        chosen = campaign_repo.exported_version(session, row, version)
        return None if chosen is None else JSON(campaign_repo.export_document(chosen))

    return await info.context.in_transaction(load)


async def resolve_contact_enrollments(
    info: Info,
    email: str,
    status: EnrollmentStatusEnum | None = None,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    trace_limit: int = DEFAULT_TRACE_LIMIT,
) -> EnrollmentConnection:
    return await load_enrollments(
        info, email=email, status=status, first=first, after=after, trace_limit=trace_limit
    )


def resolve_campaign_templates() -> list[CampaignTemplate]:
    return [template_type(template) for template in TEMPLATES.values()]


@strawberry.type(description="Admin queries: any valid API token or Dashboard token may read.")
class Query:
    store: Store = strawberry.field(
        resolver=resolve_me,
        permission_classes=[IsAdmin],
        description="The caller's store, with its settings.",
    )
    me: Store = strawberry.field(
        resolver=resolve_me,
        permission_classes=[IsAdmin],
        description="The caller's store (the same as `store`).",
    )
    campaigns: list[Campaign] = strawberry.field(
        resolver=resolve_campaigns,
        permission_classes=[IsAdmin],
        description="The store's campaigns, newest first, with versions and counts.",
    )
    campaign: Campaign | None = strawberry.field(
        resolver=resolve_campaign,
        permission_classes=[IsAdmin],
        description="One campaign of the store; null if no campaign of this store has this id.",
    )
    campaign_history: list[CampaignHistoryEntry] | None = strawberry.field(
        resolver=resolve_campaign_history,
        permission_classes=[IsAdmin],
        description=(
            "Every version of the campaign ever published, highest number first, with what "
            "became of its contacts; null if the store has no campaign with this id."
        ),
    )
    campaign_export: JSON | None = strawberry.field(
        resolver=resolve_campaign_export,
        permission_classes=[IsAdmin],
        description=(
            "A version's definition as a JSON document campaignImport reads back, with `$schema` "
            "and `format_version` first: version `version`, else the draft, else the published "
            "one. Null if there is no such campaign or version."
        ),
    )
    contact_enrollments: EnrollmentConnection = strawberry.field(
        resolver=resolve_contact_enrollments,
        permission_classes=[IsAdmin],
        description=(
            "The enrollments of the store's contact with this email (any campaign), newest "
            "first, with their traces: what every campaign did to this contact and why. Empty "
            "when the store has no such contact."
        ),
    )
    campaign_templates: list[CampaignTemplate] = strawberry.field(
        resolver=resolve_campaign_templates,
        permission_classes=[IsAdmin],
        description="Ready-made campaigns, for campaignCreateFromTemplate.",
    )
    push_public_key: str | None = public_key_field
