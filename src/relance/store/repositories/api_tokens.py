"""API tokens: admin credentials for one store, for callers outside the Saleor Dashboard.

A token is ``rl_`` followed by 43 URL-safe characters (32 random bytes). It is shown once, when
it is made; only its SHA-256 (hex) is stored, so a leaked database does not leak usable tokens.
Looking a token up compares hashes inside the database: what an attacker controls (the token)
never meets a stored secret in a short-circuiting comparison, so timing reveals nothing about
valid tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.store.db import transaction
from relance.store.models import ApiToken, Store

if TYPE_CHECKING:
    from relance.runtime import Runtime

#: Every relance API token starts with this, so scanners and humans can recognise one.
TOKEN_PREFIX = "rl_"  # noqa: S105 (a prefix, not a secret)
#: Longest token name, in characters (the column's size).
MAX_TOKEN_NAME_LENGTH = 200


class UnknownStoreError(LookupError):
    """No store has the given id."""


def hash_api_token(token: str) -> str:
    """The SHA-256 of ``token`` as 64 lowercase hex digits (``api_tokens.token_hash``)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, store_id: UUID, name: str) -> tuple[str, ApiToken]:
    """Make a new token for ``store_id``; returns the token (shown once) and its row.

    Parameters:
        name(str): a label for humans ("CI", "Laptop"); stripped, 1 to 200 characters.

    Raises:
        ValueError: the name is empty or too long.

    Not idempotent: every call makes a new, independent token. The caller commits.
    """
    label = name.strip()
    if not label or len(label) > MAX_TOKEN_NAME_LENGTH:
        raise ValueError(f"a token name has 1 to {MAX_TOKEN_NAME_LENGTH} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(store_id=store_id, name=label, token_hash=hash_api_token(token))
    session.add(row)
    session.flush()
    return token, row


def authenticate_api_token(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The token's row, or None when ``token`` is not a live relance API token.

    On success ``last_used_at`` is set to ``now`` (the caller commits). The token itself is never
    logged nor stored.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))
    ).one_or_none()
    if row is None:
        return None
    row.last_used_at = now
    return row


def create_token_for_store(runtime: Runtime, store_id: UUID, name: str) -> str:
    """Make and commit a token for ``store_id`` and return it (for ``relance token create``).

    Raises:
        UnknownStoreError: no store has this id.
        ValueError: the name is empty or too long.
    """
    with transaction(runtime.sessions) as session:
        if session.get(Store, store_id) is None:
            raise UnknownStoreError(f"no store has id {store_id}")
        token, _row = create_api_token(session, store_id, name)
    return token
