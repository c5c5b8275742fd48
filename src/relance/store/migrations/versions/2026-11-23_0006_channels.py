"""channels: per-store provider settings, push subscriptions, delivery reports and webhook answers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import relance.store.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column(
            "last_success_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_push_subscriptions_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_push_subscriptions_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint(
            "store_id", "endpoint", name=op.f("uq_push_subscriptions_store_id_endpoint")
        ),
    )
    op.create_index(
        op.f("ix_push_subscriptions_contact_id"), "push_subscriptions", ["contact_id"], unique=False
    )
    op.add_column("messages", sa.Column("delivery_status", sa.String(length=32), nullable=True))
    op.add_column(
        "messages",
        sa.Column(
            "delivered_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column("messages", sa.Column("response_status", sa.Integer(), nullable=True))
    op.add_column("messages", sa.Column("response_body", sa.String(length=2000), nullable=True))
    op.create_index("ix_messages_provider_id", "messages", ["provider_message_id"], unique=False)
    op.add_column(
        "stores",
        sa.Column(
            "channel_settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )


def downgrade() -> None:
    op.drop_column("stores", "channel_settings")
    op.drop_index("ix_messages_provider_id", table_name="messages")
    op.drop_column("messages", "response_body")
    op.drop_column("messages", "response_status")
    op.drop_column("messages", "delivered_at")
    op.drop_column("messages", "delivery_status")
    op.drop_index(op.f("ix_push_subscriptions_contact_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
