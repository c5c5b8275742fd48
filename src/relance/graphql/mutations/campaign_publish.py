"""``campaignPublish(id, mode)``: publish a campaign's draft if it is valid."""

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
from relance.templates.catalog import DesignLanguages


@strawberry.type(description="Result of campaignPublish: campaign XOR errors.")
class CampaignPublish:
    campaign: Campaign | None
    errors: list[CampaignError]


def _failed(errors: list[CampaignError]) -> CampaignPublish:
    return CampaignPublish(campaign=None, errors=errors)


async def campaign_publish(
    info: Info, id: strawberry.ID, mode: ReleaseModeEnum = ReleaseModeEnum.DRAIN
) -> CampaignPublish:
    runtime = info.context.runtime
    now = runtime.clock()

    def publish(session: Session, row: models.Campaign) -> CampaignPublish:
        # Reads the design folders: in the worker thread, like the database work.
        designs = DesignLanguages(runtime.renderer.library)
        violations = campaign_repo.publish(
            session,
            campaign=row,
            now=now,
            designs=designs,
            mode=campaign_repo.ReleaseMode(mode.value),
        )
        if violations:
            return _failed(errors_from_violations(violations))
        return CampaignPublish(campaign=load_campaign(session, row), errors=[])

    return await on_campaign(info, id, publish, _failed)


field = strawberry.mutation(
    resolver=campaign_publish,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Publish the campaign's draft: it becomes the PUBLISHED version and the campaign ACTIVE "
        "(a STOPPED campaign starts again). The version it replaces stops taking contacts: with "
        "DRAIN (default) it is DRAINING until the contacts inside finish it; with STOP it is "
        "RETIRED at once, its contacts (and those of any DRAINING version) exit with end reason "
        "version_replaced and their unsent messages are cancelled. If the draft is invalid "
        "nothing changes and errors give every violation with its path; NO_DRAFT without a "
        "draft. Of concurrent publishes of one draft exactly one succeeds. Needs MANAGE_USERS "
        "(Dashboard) or an API token."
    ),
)
