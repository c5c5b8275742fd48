"""``campaignCreate(name, trigger)``: a new blank draft campaign."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, CampaignErrorCode, error, errors_from_parsing
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, load_campaign
from relance.store.repositories import campaigns as campaign_repo


@strawberry.type(description="Result of campaignCreate: campaign XOR errors.")
class CampaignCreate:
    campaign: Campaign | None
    errors: list[CampaignError]


async def campaign_create(info: Info, name: str, trigger: JSON) -> CampaignCreate:
    try:
        parsed = campaign_repo.parse_trigger(trigger)
    except campaign_repo.DefinitionError as problem:
        return CampaignCreate(campaign=None, errors=errors_from_parsing(problem, "trigger"))
    store_id = info.context.store_id
    now = info.context.runtime.clock()

    def create(session: Session) -> CampaignCreate:
        try:
            row = campaign_repo.create_blank(
                session, store_id=store_id, name=name, trigger=parsed, now=now
            )
        except campaign_repo.CampaignNameError as problem:
            return CampaignCreate(
                campaign=None, errors=error("name", CampaignErrorCode.INVALID, str(problem))
            )
        return CampaignCreate(campaign=load_campaign(session, row), errors=[])

    return await info.context.in_transaction(create)


field = strawberry.mutation(
    resolver=campaign_create,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Create a blank DRAFT campaign started by `trigger` (JSON, as in the campaign format: "
        '{"type": "event", "events": ["order.placed"]}), whose draft has a single exit step to '
        "build on. Errors: `name` (blank, too long), `trigger.<path>` (INVALID, one per problem). "
        "Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
