"""Generic stores: created by the operator (``relance store create-generic <key>``), each with
its own signing secret, encrypted at rest like platform tokens.

A generic store is keyed by a short slug (``my-shop``): its webhook URL is
``/api/webhooks/generic/<key>`` and its row's ``api_url`` is ``generic:<key>`` (the stores
table's unique key, shared with Saleor's API URLs, which never start that way).
"""

from __future__ import annotations

import re
import secrets as random
from datetime import datetime

from sqlalchemy.orm import Session

from relance.store.crypto import SecretBox
from relance.store.models import Store, StoreKind, StoreStatus
from relance.store.repositories.stores import get_store_by_api_url

#: What a generic store's key may be: lower-case letters, digits and dashes, 2 to 63 long.
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
API_URL_PREFIX = "generic:"
#: Prefix of generated secrets (recognisable in a secret scanner).
SECRET_PREFIX = "rls_whsec_"  # noqa: S105 (a prefix, not a secret)


class GenericStoreError(ValueError):
    """The key is not valid, already taken, or names no generic store."""


def generic_api_url(key: str) -> str:
    """``my-shop`` → ``generic:my-shop``.

    Raises:
        GenericStoreError: not a valid key.
    """
    if not KEY_PATTERN.match(key):
        raise GenericStoreError(
            f"{key!r} is not a valid store key: 2 to 63 lower-case letters, digits and dashes"
        )
    return API_URL_PREFIX + key


def new_secret() -> str:
    """A fresh signing secret (256 bits of randomness)."""
    return SECRET_PREFIX + random.token_urlsafe(32)


def find_generic_store(session: Session, key: str) -> Store | None:
    """The generic store with ``key`` (any status), or ``None`` (also for an invalid key)."""
    if not KEY_PATTERN.match(key):
        return None
    store = get_store_by_api_url(session, API_URL_PREFIX + key)
    return store if store is not None and store.kind == StoreKind.GENERIC else None


def create_generic_store(
    session: Session, key: str, *, secrets: SecretBox, now: datetime, name: str = ""
) -> tuple[Store, str]:
    """Create the generic store ``key`` with a new signing secret. The caller commits.

    Raises:
        GenericStoreError: the key is invalid or already used.

    Returns:
        The store and its secret, in clear: show it once, it is stored encrypted only.
    """
    api_url = generic_api_url(key)
    if get_store_by_api_url(session, api_url) is not None:
        raise GenericStoreError(f"a store with key {key!r} exists already")
    secret = new_secret()
    store = Store(
        kind=StoreKind.GENERIC,
        api_url=api_url,
        name=name or key,
        status=StoreStatus.ACTIVE,
        webhook_secret_encrypted=secrets.encrypt(secret),
        installed_at=now,
    )
    session.add(store)
    session.flush()
    return store, secret


def rotate_generic_secret(session: Session, key: str, *, secrets: SecretBox) -> str:
    """Replace the store's signing secret; the old one stops working at once. The caller
    commits.

    Raises:
        GenericStoreError: no generic store ``key``.
    """
    store = find_generic_store(session, key)
    if store is None:
        raise GenericStoreError(f"no generic store {key!r}")
    secret = new_secret()
    store.webhook_secret_encrypted = secrets.encrypt(secret)
    return secret
