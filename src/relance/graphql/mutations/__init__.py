"""Admin mutations, one per module. Each needs ``[IsAdmin, CanManage]``."""

from __future__ import annotations

import strawberry

from relance.graphql.mutations import campaign_create_from_template, campaign_publish


@strawberry.type(
    description=(
        "Admin mutations: API tokens, or Dashboard users with MANAGE_USERS. Expected failures are "
        "in each payload's errors list; the payload's object is null when there are errors."
    )
)
class Mutation:
    campaign_create_from_template = campaign_create_from_template.field
    campaign_publish = campaign_publish.field


__all__ = ["Mutation"]
