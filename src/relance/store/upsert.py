"""Dialect-aware ``INSERT … ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_ignoring_conflict(
    session: Session, model: type[Any], values: dict[str, Any], conflict_on: list[str]
) -> bool:
    """Insert one row unless it violates the unique key ``conflict_on``. True if inserted.

    Uses ``RETURNING`` to tell (``rowcount`` is not reliable for this on every driver).
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model)
        .values(values)
        .on_conflict_do_nothing(index_elements=conflict_on)
        .returning(model.__table__.c.id)
    )
    return session.execute(statement).first() is not None
