"""Admin mutations, one per module. Each needs ``[IsAdmin, CanManage]``."""

from __future__ import annotations

import strawberry

from relance.graphql.mutations import (
    campaign_create,
    campaign_create_from_template,
    campaign_dry_run,
    campaign_import,
    campaign_publish,
    campaign_revert,
    campaign_stop,
    campaign_update_draft,
    campaign_validate,
    store_sms_settings,
    store_update_settings,
)


@strawberry.type(
    description=(
        "Admin mutations: API tokens, or Dashboard users with MANAGE_USERS. Expected failures are "
        "in each payload's errors list; the payload's object is null when there are errors."
    )
)
class Mutation:
    campaign_create = campaign_create.field
    campaign_create_from_template = campaign_create_from_template.field
    campaign_import = campaign_import.field
    campaign_update_draft = campaign_update_draft.field
    campaign_validate = campaign_validate.field
    campaign_publish = campaign_publish.field
    campaign_stop = campaign_stop.field
    campaign_revert = campaign_revert.field
    campaign_dry_run = campaign_dry_run.field
    store_update_settings = store_update_settings.field
    store_sms_settings = store_sms_settings.field


__all__ = ["Mutation"]
