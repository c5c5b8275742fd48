"""Web Push: a store's VAPID keys and its contacts' push subscriptions.

Keys live in ``Store.channel_settings["push"]`` (:class:`~relance.channels.webpush.
StoredPushSettings`), the private key encrypted with ``RELANCE_SECRET_KEY``. Subscriptions are
rows of ``push_subscriptions``, unique per (store, endpoint): registering an endpoint again
updates its keys and moves it to the registering contact (a shared computer, another account).

Every function leaves committing to the caller.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from relance.automation.validation import Violation
from relance.channels.webpush import (
    SETTINGS_KEY,
    PushTarget,
    StoredPushSettings,
    UnreadablePushSettings,
    check_subject,
    generate_vapid_keys,
    stored_push_settings,
)
from relance.store.crypto import SecretBox
from relance.store.models import PushSubscription, Store
from relance.store.upsert import insert_ignoring_conflict

#: Longest user agent kept (the column's size).
MAX_USER_AGENT_CHARS = 300
#: Subscriptions kept per contact, the most recently registered: bounds how long one send takes
#: (each device is one HTTP call) and what a single account can make relance call.
MAX_SUBSCRIPTIONS_PER_CONTACT = 10


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushSettingsChange:
    """The outcome of :func:`configure_push`: the settings now stored (None: the store has
    none), every refused argument, and how many subscriptions new keys made useless."""

    settings: StoredPushSettings | None
    violations: list[Violation]
    removed_subscriptions: int = 0


def default_subject(store: Store) -> str | None:
    """``mailto:`` the store's sender address, when it has one."""
    return f"mailto:{store.sender}" if store.sender else None


def configure_push(
    session: Session,
    store_id: UUID,
    *,
    generate: bool,
    subject: str | None,
    secrets: SecretBox,
    now: datetime,
) -> PushSettingsChange:
    """Set the store's VAPID keys and contact; all or nothing.

    ``generate`` makes a new key pair, replacing any: the store's subscriptions, bound to the
    old public key, are deleted (browsers subscribe again with the new one). ``subject`` (a
    ``mailto:`` or ``https:`` contact for push services) replaces the stored one; without one,
    new keys take the stored subject, else ``mailto:`` the store's sender address. Neither:
    the stored settings are read back. Locks the store row (other channels share the column).
    """
    store = session.get(Store, store_id, with_for_update=True)
    if store is None:
        raise LookupError("no such store")
    try:
        existing = stored_push_settings(store.channel_settings)
    except UnreadablePushSettings:
        existing = None
    violations: list[Violation] = []
    if subject is not None:
        subject = subject.strip()
        problem = check_subject(subject)
        if problem is not None:
            violations.append(Violation("subject", "invalid", problem))
    if not generate and existing is None and not violations:
        violations.append(
            Violation("generate", "required", "the store has no push keys yet: generate: true")
        )
    chosen = subject or (existing.subject if existing else None) or default_subject(store)
    if generate and chosen is None and not violations:
        violations.append(
            Violation(
                "subject",
                "required",
                "give a contact for push services (mailto: or https:); the store has no "
                "sender address to use",
            )
        )
    if violations:
        return PushSettingsChange(existing, violations)
    assert chosen is not None
    removed = 0
    if generate:
        keys = generate_vapid_keys()
        settings = StoredPushSettings(
            vapid_public_key=keys.public_key,
            vapid_private_key_encrypted=secrets.encrypt(keys.private_key),
            subject=chosen,
        )
        if existing is not None:
            removed = delete_store_subscriptions(session, store_id)
    else:
        assert existing is not None
        settings = existing.model_copy(update={"subject": chosen})
    if settings != existing:
        others = {k: v for k, v in (store.channel_settings or {}).items() if k != SETTINGS_KEY}
        store.channel_settings = {**others, SETTINGS_KEY: settings.model_dump()}
        store.updated_at = now
    return PushSettingsChange(settings, [], removed)


def push_public_key(store: Store) -> str | None:
    """The store's application server key, None when it has none (or they are unreadable)."""
    try:
        stored = stored_push_settings(store.channel_settings)
    except UnreadablePushSettings:
        return None
    return stored.vapid_public_key if stored else None


# --- subscriptions -----------------------------------------------------------------------------


def save_subscription(
    session: Session,
    store_id: UUID,
    contact_id: UUID,
    target: PushTarget,
    user_agent: str | None,
    now: datetime,
) -> PushSubscription:
    """Record ``target`` for the contact. Idempotent on (store, endpoint): an endpoint already
    known gets the new keys and user agent and moves to this contact; ``updated_at`` is the last
    registration. Beyond :data:`MAX_SUBSCRIPTIONS_PER_CONTACT` the contact's least recently
    registered subscriptions are deleted. Safe under concurrency (insert ignoring a conflicting
    row, then the row read locked)."""
    agent = (user_agent or "").strip()[:MAX_USER_AGENT_CHARS] or None
    insert_ignoring_conflict(
        session,
        PushSubscription,
        {
            "id": uuid4(),
            "store_id": store_id,
            "contact_id": contact_id,
            "endpoint": target.endpoint,
            "p256dh": target.p256dh,
            "auth": target.auth,
            "user_agent": agent,
            "last_success_at": None,
            "created_at": now,
            "updated_at": now,
        },
        ["store_id", "endpoint"],
    )
    row = session.scalars(
        select(PushSubscription)
        .where(PushSubscription.store_id == store_id, PushSubscription.endpoint == target.endpoint)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    row.contact_id = contact_id
    row.p256dh = target.p256dh
    row.auth = target.auth
    row.user_agent = agent
    row.updated_at = now
    session.flush()
    surplus = session.scalars(
        select(PushSubscription.id)
        .where(
            PushSubscription.store_id == store_id,
            PushSubscription.contact_id == contact_id,
            PushSubscription.id != row.id,  # the one just registered stays
        )
        .order_by(PushSubscription.updated_at.desc(), PushSubscription.created_at.desc())
        .offset(MAX_SUBSCRIPTIONS_PER_CONTACT - 1)
    ).all()
    if surplus:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(surplus)))
    return row


def delete_subscription(
    session: Session, store_id: UUID, endpoint: str, contact_id: UUID | None = None
) -> bool:
    """Forget the store's subscription for ``endpoint`` (only the contact's, when given).
    Returns whether a row went."""
    statement = delete(PushSubscription).where(
        PushSubscription.store_id == store_id, PushSubscription.endpoint == endpoint.strip()
    )
    if contact_id is not None:
        statement = statement.where(PushSubscription.contact_id == contact_id)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def subscriptions_of(session: Session, store_id: UUID, contact_id: UUID) -> list[PushSubscription]:
    """The contact's subscriptions, oldest first."""
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.store_id == store_id, PushSubscription.contact_id == contact_id)
            .order_by(PushSubscription.created_at, PushSubscription.id)
        )
    )


def remove_gone(session: Session, store_id: UUID, subscription_ids: Collection[UUID]) -> int:
    """Delete subscriptions a push service said are gone (404, 410). Returns the count."""
    if not subscription_ids:
        return 0
    result = session.execute(
        delete(PushSubscription).where(
            PushSubscription.store_id == store_id,
            PushSubscription.id.in_(list(subscription_ids)),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_delivered(
    session: Session, store_id: UUID, subscription_ids: Collection[UUID], now: datetime
) -> None:
    """Record a successful push to each of these subscriptions (``last_success_at``)."""
    if subscription_ids:
        session.execute(
            update(PushSubscription)
            .where(
                PushSubscription.store_id == store_id,
                PushSubscription.id.in_(list(subscription_ids)),
            )
            .values(last_success_at=now, updated_at=now)
        )


def delete_store_subscriptions(session: Session, store_id: UUID) -> int:
    """Forget every subscription of the store (its keys changed). Returns the count."""
    result = session.execute(delete(PushSubscription).where(PushSubscription.store_id == store_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_contact_subscriptions(session: Session, store_id: UUID, contact_id: UUID) -> int:
    """Forget every subscription of a contact (its data is being erased: an endpoint and its
    keys identify a device). Returns the count."""
    result = session.execute(
        delete(PushSubscription).where(
            PushSubscription.store_id == store_id, PushSubscription.contact_id == contact_id
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
