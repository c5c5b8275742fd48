"""Admin mutations, one per module. Each needs ``[IsAdmin, CanManage]``, except the storefront's
(``push_subscribe``, ``push_unsubscribe``), authorised by a customer token argument."""

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
    push_subscribe,
    push_unsubscribe,
    store_push_settings,
    store_sms_settings,
    store_update_settings,
)


@strawberry.type(
    description=(
        "Admin mutations: API tokens, or Dashboard users with MANAGE_USERS. Expected failures are "
        "in each payload's errors list; the payload's object is null when there are errors. "
        "Storefront mutations (pushSubscribe, pushUnsubscribe) take a customer's Saleor access "
        "token as an argument instead."
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
    store_push_settings = store_push_settings.field
    push_subscribe = push_subscribe.field
    push_unsubscribe = push_unsubscribe.field


__all__ = ["Mutation"]
