"""``campaignCreateFromTemplate(templateKey, name)``: a new draft campaign from a template."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.automation.library import TEMPLATES
from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, CampaignErrorCode, error
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, load_campaign
from relance.store.repositories import campaigns as campaign_repo


@strawberry.type(description="Result of campaignCreateFromTemplate: campaign XOR errors.")
class CampaignCreateFromTemplate:
    campaign: Campaign | None
    errors: list[CampaignError]


async def campaign_create_from_template(
    info: Info, template_key: str, name: str | None = None
) -> CampaignCreateFromTemplate:
    template = TEMPLATES.get(template_key)
    if template is None:
        return CampaignCreateFromTemplate(
            campaign=None,
            errors=error(
                "templateKey", CampaignErrorCode.NOT_FOUND, f"no template {template_key!r}"
            ),
        )
    store_id = info.context.store_id
    now = info.context.runtime.clock()

    def create(session: Session) -> CampaignCreateFromTemplate:
        try:
            row = campaign_repo.create_from_template(
                session, store_id=store_id, template=template, name=name, now=now
            )
        except campaign_repo.CampaignNameError as problem:
            return CampaignCreateFromTemplate(
                campaign=None, errors=error("name", CampaignErrorCode.INVALID, str(problem))
            )
        return CampaignCreateFromTemplate(campaign=load_campaign(session, row), errors=[])

    return await info.context.in_transaction(create)


field = strawberry.mutation(
    resolver=campaign_create_from_template,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Create a DRAFT campaign whose version 1 is the template's definition. The name defaults "
        "to the template's. Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
