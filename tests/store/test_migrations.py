"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relance.store.db import create_db_engine
from relance.store.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    # given a database migrated to head (the fixture runs `alembic upgrade head`)
    engine = create_db_engine(database_url)
    # when Alembic compares it with the models
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    # then there is nothing left to migrate
    assert differences == []


def test_every_table_belongs_to_a_store_or_to_a_row_that_does() -> None:
    # tenancy: each table is keyed by store_id, or hangs off a table that is (ON DELETE CASCADE)
    for table in Base.metadata.sorted_tables:
        if table.name == "stores":
            continue
        foreign = {fk.column.table.name for fk in table.foreign_keys}
        assert "store_id" in table.c or foreign, table.name
    _ = sa
