"""at most one published and one draft version per campaign, enforced by partial unique indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for status in ("published", "draft"):
        op.create_index(
            f"uq_campaign_versions_one_{status}",
            "campaign_versions",
            ["campaign_id"],
            unique=True,
            postgresql_where=sa.text(f"status = '{status}'"),
            sqlite_where=sa.text(f"status = '{status}'"),
        )


def downgrade() -> None:
    for status in ("published", "draft"):
        op.drop_index(f"uq_campaign_versions_one_{status}", table_name="campaign_versions")
