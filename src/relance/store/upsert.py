"""Dialect-aware ``INSERT … ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from relance.store.models.base import Base


@lru_cache(maxsize=64)
def _statement(dialect: str, table_name: str, conflict_on: tuple[str, ...]) -> Insert:
    # Built once per (dialect, table, key) and executed with parameters: building a statement
    # with .values(dict) on every call costs more than running it.
    table = Base.metadata.tables[table_name]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict_on))
        .returning(*table.primary_key.columns)
    )


def insert_ignoring_conflict(
    session: Session, model: type[Any], values: dict[str, Any], conflict_on: list[str]
) -> bool:
    """Insert one row unless it violates the unique key ``conflict_on``. True if inserted.

    ``values`` must name every column that has no server default (Python-side defaults of the
    model are applied by SQLAlchemy as usual). Uses ``RETURNING`` to tell whether a row was
    inserted (``rowcount`` is not reliable for this on every driver).
    """
    dialect = session.get_bind().dialect.name
    statement = _statement(dialect, model.__tablename__, tuple(conflict_on))
    return session.execute(statement, values).first() is not None
