"""Stores (installations): lookup by API URL, install, JWKS refresh, disconnection."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.store.crypto import SecretBox
from relance.store.models import Store, StoreKind, StoreStatus


def get_store(session: Session, store_id: UUID) -> Store | None:
    return session.get(Store, store_id)


def get_store_by_api_url(session: Session, api_url: str) -> Store | None:
    """The store installed from ``api_url`` (exact match, as Saleor sends it), any status."""
    return session.scalars(select(Store).where(Store.api_url == api_url)).one_or_none()


def save_installation(
    session: Session,
    *,
    kind: StoreKind,
    api_url: str,
    app_id: str | None,
    auth_token: str | None,
    jwks: dict[str, Any] | None,
    secrets: SecretBox,
    now: datetime,
    name: str = "",
) -> Store:
    """Create the store for ``api_url`` or re-activate it (a reinstall replaces token and keys).

    Idempotent: installing twice leaves one row. The caller commits.
    """
    store = get_store_by_api_url(session, api_url)
    if store is None:
        store = Store(kind=kind, api_url=api_url, name=name)
        session.add(store)
    store.kind = kind
    store.app_id = app_id
    store.auth_token_encrypted = secrets.encrypt(auth_token) if auth_token else None
    store.jwks = jwks
    store.jwks_fetched_at = now if jwks is not None else None
    store.status = StoreStatus.ACTIVE
    store.installed_at = now
    store.uninstalled_at = None
    if name:
        store.name = name
    session.flush()
    return store


def update_jwks(session: Session, store: Store, jwks: dict[str, Any], now: datetime) -> None:
    """Replace the store's cached public keys (after a key rotation). The caller commits."""
    store.jwks = jwks
    store.jwks_fetched_at = now


def mark_disconnected(session: Session, store_id: UUID, now: datetime) -> bool:
    """Record that the store's platform refused relance's token (Saleor answered 401/403 or no
    longer knows the app). Only an ACTIVE store becomes DISCONNECTED: an uninstalled one stays
    uninstalled. Webhooks and sends stop for it until a reinstall (``save_installation``) or
    :func:`mark_connected`. Idempotent; the caller commits.

    Returns:
        Whether the status changed (``False``: unknown store, or not active).
    """
    store = session.get(Store, store_id)
    if store is None or store.status != StoreStatus.ACTIVE:
        return False
    store.status = StoreStatus.DISCONNECTED
    store.updated_at = now
    session.flush()
    return True


def mark_connected(session: Session, store_id: UUID, now: datetime) -> bool:
    """Record that a DISCONNECTED store's token works again (e.g. a later call succeeded).
    An uninstalled store stays uninstalled. Idempotent; the caller commits.

    Returns:
        Whether the status changed.
    """
    store = session.get(Store, store_id)
    if store is None or store.status != StoreStatus.DISCONNECTED:
        return False
    store.status = StoreStatus.ACTIVE
    store.updated_at = now
    session.flush()
    return True
