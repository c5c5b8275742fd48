"""``campaignValidate(id)``: what stops the campaign's draft from being published."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, errors_from_violations
from relance.graphql.mutations._campaign import on_campaign
from relance.graphql.permissions import CanManage, IsAdmin
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo
from relance.templates.catalog import DesignLanguages


@strawberry.type(description="Result of campaignValidate: the draft's violations, or errors.")
class CampaignValidate:
    valid: bool = strawberry.field(description="True when the draft may be published.")
    violations: list[CampaignError] = strawberry.field(
        description="Every problem of the draft, with its path in the definition."
    )
    errors: list[CampaignError]


def _failed(errors: list[CampaignError]) -> CampaignValidate:
    return CampaignValidate(valid=False, violations=[], errors=errors)


async def campaign_validate(info: Info, id: strawberry.ID) -> CampaignValidate:
    runtime = info.context.runtime

    def check(session: Session, row: models.Campaign) -> CampaignValidate:
        violations = campaign_repo.validate_draft(
            session, row, DesignLanguages(runtime.renderer.library)
        )
        if [v.code for v in violations] == [campaign_repo.NO_DRAFT]:
            return _failed(errors_from_violations(violations))
        return CampaignValidate(
            valid=not violations, violations=errors_from_violations(violations), errors=[]
        )

    return await on_campaign(info, id, check, _failed)


field = strawberry.mutation(
    resolver=campaign_validate,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Check the campaign's draft as campaignPublish would, changing nothing: every violation "
        "with its path (steps.0.design) and code. Errors: NOT_FOUND, NO_DRAFT. Needs "
        "MANAGE_USERS (Dashboard) or an API token."
    ),
)
