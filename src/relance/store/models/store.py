"""A store: one installation (tenant). Every other row belongs to exactly one store."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from relance.store.models.base import Base, IdMixin, TimestampMixin


class StoreKind(StrEnum):
    SALEOR = "saleor"
    GENERIC = "generic"
    DEMO = "demo"  #: the embedded demo store: signs Saleor webhooks with its own local key

    @property
    def receives_saleor_webhooks(self) -> bool:
        return self in (StoreKind.SALEOR, StoreKind.DEMO)


class StoreStatus(StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"  #: the platform refused our token
    UNINSTALLED = "uninstalled"


class Store(IdMixin, TimestampMixin, Base):
    """One installation, keyed by its Saleor API URL (or a generic store's own key)."""

    __tablename__ = "stores"

    kind: Mapped[StoreKind] = mapped_column(String(16))
    api_url: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[StoreStatus] = mapped_column(String(16), default=StoreStatus.ACTIVE)
    app_id: Mapped[str | None] = mapped_column(String(200))
    #: The platform token, encrypted with RELANCE_SECRET_KEY (see relance.store.crypto).
    auth_token_encrypted: Mapped[str | None] = mapped_column(String(2048))
    #: The shared secret webhooks to this store are signed with, encrypted like the token: a
    #: Saleor webhook's legacy ``secretKey`` (HMAC), or a generic store's signing secret.
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(String(2048))
    #: The platform's public keys (JWKS JSON) used to verify webhooks and Dashboard tokens.
    jwks: Mapped[dict[str, Any] | None] = mapped_column()
    jwks_fetched_at: Mapped[datetime | None] = mapped_column()
    default_language: Mapped[str] = mapped_column(String(35), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    sender: Mapped[str | None] = mapped_column(String(320))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    #: Minutes without update after which a checkout counts as abandoned.
    abandonment_delay_minutes: Mapped[int] = mapped_column(default=60)
    #: Per channel slug: ``{"default-channel": {"home": url, "checkout": url template}}``.
    storefront_urls: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Channel slugs to act on; empty means every channel.
    channels: Mapped[list[Any]] = mapped_column(default=list)
    #: Which contacts marketing may reach (``opt_in`` / ``opt_out``, ConsentMode values).
    consent_mode: Mapped[str] = mapped_column(String(16), default="opt_in")
    #: Smart sending: at most one marketing email per contact per this many hours (None: off).
    frequency_cap_hours: Mapped[int | None] = mapped_column()
    #: ``skip`` or ``defer`` (CapMode values).
    frequency_cap_mode: Mapped[str] = mapped_column(String(16), default="skip")
    #: Per-channel provider settings: ``{"sms": {...}, "push": {...}, "webhook": {...}}``.
    #: Secrets inside (API tokens, private keys) are stored encrypted with RELANCE_SECRET_KEY.
    channel_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    installed_at: Mapped[datetime | None] = mapped_column()
    uninstalled_at: Mapped[datetime | None] = mapped_column()
