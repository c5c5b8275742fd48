"""webhook secrets: stores.webhook_secret_encrypted (legacy Saleor HMAC, generic stores)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "stores", sa.Column("webhook_secret_encrypted", sa.String(length=2048), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("stores", "webhook_secret_encrypted")
