"""campaign engine: contact profile, purchases, list members, checkouts, store settings

New NOT NULL columns carry server defaults so existing rows migrate in place.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import relance.store.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkouts",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("checkout_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "platform_updated_at",
            relance.store.models.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("due_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "lease_until", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "abandoned_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("order_id", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_checkouts_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkouts")),
        sa.UniqueConstraint(
            "store_id", "checkout_id", name=op.f("uq_checkouts_store_id_checkout_id")
        ),
    )
    op.create_index("ix_checkouts_due", "checkouts", ["status", "due_at"], unique=False)
    op.create_table(
        "contact_purchases",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("line_key", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.String(length=200), nullable=True),
        sa.Column("variant_id", sa.String(length=200), nullable=True),
        sa.Column("sku", sa.String(length=200), nullable=True),
        sa.Column(
            "purchased_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_purchases_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_contact_purchases_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_purchases")),
        sa.UniqueConstraint(
            "contact_id",
            "order_id",
            "line_key",
            name=op.f("uq_contact_purchases_contact_id_order_id_line_key"),
        ),
    )
    op.create_index(
        "ix_contact_purchases_contact_at",
        "contact_purchases",
        ["contact_id", "purchased_at"],
        unique=False,
    )
    op.create_table(
        "list_members",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("list_key", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_list_members_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_list_members_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_key", "contact_id", name=op.f("pk_list_members")),
    )
    op.create_index(
        op.f("ix_list_members_contact_id"), "list_members", ["contact_id"], unique=False
    )
    op.add_column(
        "campaign_versions",
        sa.Column(
            "unpublished_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column(
        "campaign_versions",
        sa.Column(
            "retired_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column("contacts", sa.Column("phone", sa.String(length=32), nullable=True))
    op.add_column("contacts", sa.Column("gender", sa.String(length=16), nullable=True))
    op.add_column("contacts", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column(
        "contacts",
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "custom_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "consents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "first_order_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "last_order_at", relance.store.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column(
        "enrollments",
        sa.Column("deferrals", sa.Integer(), nullable=False, server_default=sa.text("'0'")),
    )
    op.add_column(
        "enrollments",
        sa.Column("trace_seq", sa.Integer(), nullable=False, server_default=sa.text("'0'")),
    )
    op.add_column(
        "enrollment_trace",
        sa.Column("seq", sa.Integer(), nullable=False, server_default=sa.text("'0'")),
    )
    op.add_column("messages", sa.Column("category", sa.String(length=64), nullable=True))
    op.create_index("ix_messages_contact_sent", "messages", ["contact_id", "sent_at"], unique=False)
    op.add_column("stores", sa.Column("sender_name", sa.String(length=200), nullable=True))
    op.add_column(
        "stores",
        sa.Column(
            "abandonment_delay_minutes",
            sa.Integer(),
            nullable=False,
            server_default=sa.text("'60'"),
        ),
    )
    op.add_column(
        "stores",
        sa.Column(
            "storefront_urls",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )
    op.add_column(
        "stores",
        sa.Column(
            "channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    op.add_column(
        "stores",
        sa.Column(
            "consent_mode", sa.String(length=16), nullable=False, server_default=sa.text("'opt_in'")
        ),
    )
    op.add_column("stores", sa.Column("frequency_cap_hours", sa.Integer(), nullable=True))
    op.add_column(
        "stores",
        sa.Column(
            "frequency_cap_mode",
            sa.String(length=16),
            nullable=False,
            server_default=sa.text("'skip'"),
        ),
    )


def downgrade() -> None:
    op.drop_column("stores", "frequency_cap_mode")
    op.drop_column("stores", "frequency_cap_hours")
    op.drop_column("stores", "consent_mode")
    op.drop_column("stores", "channels")
    op.drop_column("stores", "storefront_urls")
    op.drop_column("stores", "abandonment_delay_minutes")
    op.drop_column("stores", "sender_name")
    op.drop_index("ix_messages_contact_sent", table_name="messages")
    op.drop_column("messages", "category")
    op.drop_column("enrollments", "deferrals")
    op.drop_column("enrollments", "trace_seq")
    op.drop_column("enrollment_trace", "seq")
    op.drop_column("contacts", "last_order_at")
    op.drop_column("contacts", "first_order_at")
    op.drop_column("contacts", "consents")
    op.drop_column("contacts", "custom_fields")
    op.drop_column("contacts", "tags")
    op.drop_column("contacts", "time_zone")
    op.drop_column("contacts", "gender")
    op.drop_column("contacts", "phone")
    op.drop_column("campaign_versions", "retired_at")
    op.drop_column("campaign_versions", "unpublished_at")
    op.drop_index(op.f("ix_list_members_contact_id"), table_name="list_members")
    op.drop_table("list_members")
    op.drop_index("ix_contact_purchases_contact_at", table_name="contact_purchases")
    op.drop_table("contact_purchases")
    op.drop_index("ix_checkouts_due", table_name="checkouts")
    op.drop_table("checkouts")
