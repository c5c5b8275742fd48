"""``campaignPublish(id)``: publish a campaign's draft if it is valid."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, CampaignErrorCode, errors_from_violations
from relance.graphql.ids import parse_id
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, campaign_type
from relance.store.repositories import campaigns as campaign_repo


@strawberry.type(description="Result of campaignPublish: campaign XOR errors.")
class CampaignPublish:
    campaign: Campaign | None
    errors: list[CampaignError]


def _not_found(campaign_id: str) -> CampaignPublish:
    return CampaignPublish(
        campaign=None,
        errors=[
            CampaignError(
                field="id",
                code=CampaignErrorCode.NOT_FOUND,
                message=f"no campaign {campaign_id!r} in this store",
            )
        ],
    )


async def campaign_publish(info: Info, id: strawberry.ID) -> CampaignPublish:
    store_id = info.context.store_id
    campaign_id = parse_id(id)
    if campaign_id is None:
        return _not_found(id)
    runtime = info.context.runtime
    now = runtime.clock()

    def publish(session: Session) -> CampaignPublish:
        row = campaign_repo.get_campaign(session, store_id, campaign_id)
        if row is None:
            return _not_found(id)
        # Reads the design folders: in the worker thread, like the database work.
        known_designs = runtime.renderer.library.known_designs()
        violations = campaign_repo.publish(
            session, campaign=row, now=now, known_designs=known_designs
        )
        if violations:
            return CampaignPublish(campaign=None, errors=errors_from_violations(violations))
        [summary] = campaign_repo.summarise(session, store_id, [row])
        return CampaignPublish(campaign=campaign_type(summary), errors=[])

    return await info.context.in_transaction(publish)


field = strawberry.mutation(
    resolver=campaign_publish,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Publish the campaign's draft: it becomes the PUBLISHED version, the previously published "
        "one DRAINING (contacts inside finish it), the campaign ACTIVE. If the draft is invalid "
        "nothing changes and errors give each violation's path. An id of another store is "
        "NOT_FOUND. Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
