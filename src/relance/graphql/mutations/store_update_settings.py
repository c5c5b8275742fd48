"""``storeUpdateSettings(input)``: change some of the caller's store's settings."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.graphql.context import Info
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.store_types import (
    StoreSettingsError,
    StoreSettingsInput,
    settings_change,
    settings_errors,
)
from relance.graphql.types import Store, store_type
from relance.store.repositories import store_settings


@strawberry.type(description="Result of storeUpdateSettings: store XOR errors.")
class StoreUpdateSettings:
    store: Store | None
    errors: list[StoreSettingsError]


async def store_update_settings(info: Info, input: StoreSettingsInput) -> StoreUpdateSettings:
    change = settings_change(input)
    checked = store_settings.check_change(change)
    if checked.violations:  # refused before opening a transaction
        return StoreUpdateSettings(store=None, errors=settings_errors(checked.violations))
    store_id = info.context.store_id
    now = info.context.runtime.clock()

    def save(session: Session) -> StoreUpdateSettings:
        try:
            store = store_settings.update_store_settings(session, store_id, change, now)
        except store_settings.InvalidSettings as problem:
            return StoreUpdateSettings(store=None, errors=settings_errors(problem.violations))
        return StoreUpdateSettings(store=store_type(store), errors=[])

    return await info.context.in_transaction(save)


field = strawberry.mutation(
    resolver=store_update_settings,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Change the caller's store's settings: only the fields given change, all or nothing. "
        "Every refused field is reported at once, with its path in `input` "
        "(`storefrontUrls.1.checkout`). Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
