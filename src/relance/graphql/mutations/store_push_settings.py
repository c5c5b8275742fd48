"""``storePushSettings(generate, subject)``: the store's Web Push (VAPID) keys, and the public
``pushPublicKey(storeApiUrl)`` query storefronts subscribe with.

``generate: true`` makes a new P-256 key pair, the private key stored encrypted and never
returned; it replaces any earlier pair, and since a browser's subscription only works with the
key it was made with, the store's subscriptions are deleted (``removedSubscriptions``; browsers
subscribe again with the new key). ``subject`` is the contact push services see in the VAPID JWT
(``mailto:`` or ``https:``; default ``mailto:`` the store's sender address). Without arguments
the settings are read back. The rules are
:func:`relance.store.repositories.push.configure_push`'s.
"""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from relance.channels.webpush import StoredPushSettings
from relance.graphql.context import Info
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.store_types import StoreSettingsError, settings_errors
from relance.store.models import StoreStatus
from relance.store.repositories.push import configure_push, push_public_key
from relance.store.repositories.stores import get_store_by_api_url


@strawberry.type(description="The store's Web Push settings (the private key is never shown).")
class PushSettings:
    public_key: str = strawberry.field(
        description=(
            "The VAPID public key, base64url (an uncompressed P-256 point): the "
            "`applicationServerKey` of `PushManager.subscribe`."
        )
    )
    subject: str = strawberry.field(
        description="The contact push services see (`mailto:…` or `https://…`)."
    )


@strawberry.type(
    description="Result of storePushSettings: pushSettings XOR errors (null before any keys)."
)
class StorePushSettings:
    push_settings: PushSettings | None
    removed_subscriptions: int = strawberry.field(
        description="Subscriptions deleted because new keys replaced the ones they were made with."
    )
    errors: list[StoreSettingsError]


def _view(stored: StoredPushSettings | None) -> PushSettings | None:
    if stored is None:
        return None
    return PushSettings(public_key=stored.vapid_public_key, subject=stored.subject)


async def store_push_settings(
    info: Info, generate: bool = False, subject: str | None = None
) -> StorePushSettings:
    store_id = info.context.store_id
    runtime = info.context.runtime

    def save(session: Session) -> StorePushSettings:
        change = configure_push(
            session,
            store_id,
            generate=generate,
            subject=subject,
            secrets=runtime.secrets,
            now=runtime.clock(),
        )
        if change.violations:
            if not generate and subject is None:  # a plain read of a store without keys
                return StorePushSettings(push_settings=None, removed_subscriptions=0, errors=[])
            return StorePushSettings(
                push_settings=None,
                removed_subscriptions=0,
                errors=settings_errors(change.violations),
            )
        return StorePushSettings(
            push_settings=_view(change.settings),
            removed_subscriptions=change.removed_subscriptions,
            errors=[],
        )

    return await info.context.in_transaction(save)


field = strawberry.mutation(
    resolver=store_push_settings,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Web Push keys of the caller's store: `generate: true` makes a new VAPID key pair "
        "(replacing any, and deleting the subscriptions made with the old one), `subject` sets "
        "the contact push services see; without arguments, reads them back. Needs MANAGE_USERS "
        "(Dashboard) or an API token."
    ),
)


async def resolve_push_public_key(info: Info, store_api_url: str) -> str | None:
    def load(session: Session) -> str | None:
        store = get_store_by_api_url(session, store_api_url.strip())
        if store is None or store.status != StoreStatus.ACTIVE:
            return None
        return push_public_key(store)

    return await info.context.in_transaction(load)


#: The public query (no credential: storefronts need the key before anyone signs in).
public_key_field = strawberry.field(
    resolver=resolve_push_public_key,
    description=(
        "Public (no credential): the Web Push application server key of the store installed "
        "from `storeApiUrl` (base64url), for `PushManager.subscribe`; null when the store is "
        "unknown or has no push keys."
    ),
)
