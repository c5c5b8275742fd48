"""``campaignImport(name, definition)``: a new draft campaign from a JSON definition."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, CampaignErrorCode, error, errors_from_parsing
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, load_campaign
from relance.store.repositories import campaigns as campaign_repo


@strawberry.type(description="Result of campaignImport: campaign XOR errors.")
class CampaignImport:
    campaign: Campaign | None
    errors: list[CampaignError]


async def campaign_import(info: Info, name: str, definition: JSON) -> CampaignImport:
    try:
        parsed = campaign_repo.parse_definition(definition)
    except campaign_repo.DefinitionError as problem:
        return CampaignImport(campaign=None, errors=errors_from_parsing(problem, "definition"))
    store_id = info.context.store_id
    now = info.context.runtime.clock()

    def create(session: Session) -> CampaignImport:
        try:
            row = campaign_repo.create_campaign(
                session, store_id=store_id, name=name, definition=parsed, now=now
            )
        except campaign_repo.CampaignNameError as problem:
            return CampaignImport(
                campaign=None, errors=error("name", CampaignErrorCode.INVALID, str(problem))
            )
        return CampaignImport(campaign=load_campaign(session, row), errors=[])

    return await info.context.in_transaction(create)


field = strawberry.mutation(
    resolver=campaign_import,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Create a DRAFT campaign from a definition in the campaign format (docs/campaign-"
        "format.md), e.g. one campaignExport returned (its `$schema` and `format_version` are "
        "read). The draft must parse but may still break graph rules: campaignValidate and "
        "campaignPublish report those. Errors: `name`, and `definition.<path>` (INVALID) for "
        "every parse problem. Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
