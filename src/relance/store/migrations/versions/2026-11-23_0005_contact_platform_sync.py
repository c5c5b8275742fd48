"""contact platform sync: consent revisions written back to Saleor, details read once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import relance.store.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_PARTIAL = {
    "ix_contacts_consent_unsynced": "consent_revision > consent_synced_revision",
    "ix_contacts_details_unsynced": "platform_synced_at IS NULL AND platform_user_id IS NOT NULL",
}


def upgrade() -> None:
    op.add_column(
        "contacts",
        sa.Column("consent_revision", sa.Integer(), nullable=False, server_default=sa.text("'0'")),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "consent_synced_revision", sa.Integer(), nullable=False, server_default=sa.text("'0'")
        ),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "platform_synced_at",
            relance.store.models.base.UTCDateTime(timezone=True),
            nullable=True,
        ),
    )
    for name, where in _PARTIAL.items():
        op.create_index(
            name,
            "contacts",
            ["store_id"],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    for name in _PARTIAL:
        op.drop_index(name, table_name="contacts")
    op.drop_column("contacts", "platform_synced_at")
    op.drop_column("contacts", "consent_synced_revision")
    op.drop_column("contacts", "consent_revision")
