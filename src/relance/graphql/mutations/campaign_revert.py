"""``campaignRevert(id, version)``: a draft from an earlier version."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, CampaignErrorCode, error, errors_from_parsing
from relance.graphql.mutations._campaign import on_campaign
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, load_campaign
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo


@strawberry.type(description="Result of campaignRevert: campaign XOR errors.")
class CampaignRevert:
    campaign: Campaign | None
    errors: list[CampaignError]


def _failed(errors: list[CampaignError]) -> CampaignRevert:
    return CampaignRevert(campaign=None, errors=errors)


async def campaign_revert(info: Info, id: strawberry.ID, version: int) -> CampaignRevert:
    now = info.context.runtime.clock()

    def revert(session: Session, row: models.Campaign) -> CampaignRevert:
        try:
            campaign_repo.revert(session, campaign=row, number=version, now=now)
        except campaign_repo.VersionNotFound as problem:
            return _failed(error("version", CampaignErrorCode.NOT_FOUND, str(problem)))
        except campaign_repo.DefinitionError as problem:
            return _failed(errors_from_parsing(problem, "version"))
        return CampaignRevert(campaign=load_campaign(session, row), errors=[])

    return await on_campaign(info, id, revert, _failed)


field = strawberry.mutation(
    resolver=campaign_revert,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Make the campaign's draft a copy of version `version`'s definition, replacing the "
        "current draft's (or as a new draft numbered next). Publish it to go back to it. "
        "Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
