"""``campaignUpdateDraft(id, definition, name)``: save the campaign's draft."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON

from relance.graphql.context import Info
from relance.graphql.errors import (
    CampaignError,
    CampaignErrorCode,
    error,
    errors_from_parsing,
    errors_from_violations,
)
from relance.graphql.mutations._campaign import on_campaign
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.types import Campaign, load_campaign
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo
from relance.templates.catalog import DesignLanguages


@strawberry.type(description="Result of campaignUpdateDraft: campaign XOR errors.")
class CampaignUpdateDraft:
    campaign: Campaign | None
    violations: list[CampaignError] = strawberry.field(
        description="What would stop the saved draft from being published (as campaignValidate)."
    )
    errors: list[CampaignError]


def _failed(errors: list[CampaignError]) -> CampaignUpdateDraft:
    return CampaignUpdateDraft(campaign=None, violations=[], errors=errors)


async def campaign_update_draft(
    info: Info, id: strawberry.ID, definition: JSON, name: str | None = None
) -> CampaignUpdateDraft:
    try:
        parsed = campaign_repo.parse_definition(definition)
    except campaign_repo.DefinitionError as problem:
        return _failed(errors_from_parsing(problem, "definition"))
    runtime = info.context.runtime
    now = runtime.clock()

    def save(session: Session, row: models.Campaign) -> CampaignUpdateDraft:
        try:
            draft = campaign_repo.update_draft(
                session, campaign=row, definition=parsed, name=name, now=now
            )
        except campaign_repo.CampaignNameError as problem:
            return _failed(error("name", CampaignErrorCode.INVALID, str(problem)))
        violations = campaign_repo.check_draft(draft, DesignLanguages(runtime.renderer.library))
        return CampaignUpdateDraft(
            campaign=load_campaign(session, row),
            violations=errors_from_violations(violations),
            errors=[],
        )

    return await on_campaign(info, id, save, _failed)


field = strawberry.mutation(
    resolver=campaign_update_draft,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Save `definition` as the campaign's draft (and rename it when `name` is given). A "
        "campaign without a draft gets one, numbered after its latest version: the published "
        "version stays live until the draft is published. The definition must parse (errors "
        "`definition.<path>`, INVALID) but may break graph rules: it is saved and `violations` "
        "lists what campaignPublish would refuse. Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
