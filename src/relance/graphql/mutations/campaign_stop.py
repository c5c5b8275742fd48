"""``campaignStop(id, mode)``: the campaign takes no more contacts."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, errors_from_violations
from relance.graphql.mutations._campaign import on_campaign
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, ReleaseModeEnum, load_campaign
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo


@strawberry.type(description="Result of campaignStop: campaign XOR errors.")
class CampaignStop:
    campaign: Campaign | None
    errors: list[CampaignError]


def _failed(errors: list[CampaignError]) -> CampaignStop:
    return CampaignStop(campaign=None, errors=errors)


async def campaign_stop(info: Info, id: strawberry.ID, mode: ReleaseModeEnum) -> CampaignStop:
    now = info.context.runtime.clock()

    def stop(session: Session, row: models.Campaign) -> CampaignStop:
        violations = campaign_repo.stop(
            session, campaign=row, now=now, mode=campaign_repo.ReleaseMode(mode.value)
        )
        if violations:
            return _failed(errors_from_violations(violations))
        return CampaignStop(campaign=load_campaign(session, row), errors=[])

    return await on_campaign(info, id, stop, _failed)


field = strawberry.mutation(
    resolver=campaign_stop,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Stop the campaign: it takes no more contacts and is STOPPED (its draft is kept; "
        "campaignPublish starts it again). DRAIN: the published version is DRAINING and the "
        "contacts inside finish it. STOP: the published version and any DRAINING one are "
        "RETIRED, every contact inside exits (end reason campaign_stopped) and their unsent "
        "messages are cancelled; STOP also ends a campaign stopped earlier with DRAIN. "
        "NOT_PUBLISHED when there is nothing to stop. Needs MANAGE_USERS (Dashboard) or an API "
        "token."
    ),
)
