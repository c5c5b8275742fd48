"""API tokens for admin callers outside the Saleor Dashboard (embedded mode, scripts)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin


class ApiToken(IdMixin, TimestampMixin, Base):
    """Only the SHA-256 of the token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column()
