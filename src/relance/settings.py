"""Settings, read from environment variables prefixed ``RELANCE_``.

Every setting has a default that runs relance embedded on one machine (SQLite, in-process worker,
local SMTP sink). Production sets at least ``RELANCE_DATABASE_URL``, ``RELANCE_BROKER_URL``,
``RELANCE_SMTP_URL``, ``RELANCE_PUBLIC_URL`` and ``RELANCE_SECRET_KEY``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from relance.discounts import discount_code_seed

#: Secret used when none is configured. Fine for a laptop; refused when ``RELANCE_ENV=production``.
DEVELOPMENT_SECRET_KEY = "relance-development-secret-key-change-me"  # noqa: S105
#: A host name of ``RELANCE_WEBHOOK_ALLOWED_NETWORKS``, optionally ``*.``-prefixed.
_ALLOWED_HOST = re.compile(
    r"^(\*\.)?(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$", re.IGNORECASE
)


class Settings(BaseSettings):
    """relance's configuration. See README "Configuration" for each variable."""

    model_config = SettingsConfigDict(env_prefix="RELANCE_", extra="ignore")

    env: str = Field(default="development", description="development | production")
    database_url: str = "sqlite:///.relance/relance.db"
    broker_url: str = Field(default="", description="redis://… ; empty = in-process worker")
    smtp_url: str = Field(
        default="", description="smtp://user:pass@host:port ; empty = the embedded sink"
    )
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    allowed_saleor_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    data_dir: Path = Path(".relance")
    sink_port: int = 8025
    sweep_interval: float = Field(default=1.0, gt=0, description="seconds between sweeps")
    worker_threads: int = Field(default=4, ge=1)
    default_sender: str = "relance <no-reply@relance.localhost>"
    #: Networks, addresses and host names webhook steps may call although they are not public
    #: (channels/webhooks.py); an allowed destination may also use any port.
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("allowed_saleor_urls", "webhook_allowed_networks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _check_allowed_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                if not _ALLOWED_HOST.match(entry):
                    raise ValueError(f"not a network, address or host name: {entry!r}") from None
        return value

    @property
    def embedded_broker(self) -> bool:
        """True when background work runs inside the web process."""
        return not self.broker_url

    @property
    def embedded_smtp(self) -> bool:
        """True when emails go to the local sink, readable at ``/mailbox``."""
        return not self.smtp_url

    @property
    def mailbox_dir(self) -> Path:
        """Maildir where the embedded SMTP sink stores what it receives."""
        return self.data_dir / "mailbox"

    @property
    def discount_code_key(self) -> bytes:
        """The HMAC key discount codes are derived from (see relance.discounts)."""
        return discount_code_seed(self.secret_key)

    def saleor_url_allowed(self, api_url: str) -> bool:
        """Whether a Saleor API URL may install relance (shell-style patterns; none = any)."""
        if not self.allowed_saleor_urls:
            return True
        return any(fnmatch.fnmatchcase(api_url, pattern) for pattern in self.allowed_saleor_urls)

    def check_production(self) -> None:
        """Refuse settings that are unsafe in production. Raises ``ValueError``.

        In production the secret key must be set, and the Saleor URLs allowed to install must be
        listed (``*`` says "any" explicitly).
        """
        if self.env != "production":
            return
        if self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise ValueError("RELANCE_SECRET_KEY must be set in production")
        if not self.allowed_saleor_urls:
            raise ValueError(
                "RELANCE_ALLOWED_SALEOR_URLS must list the Saleor API URLs allowed to install "
                "relance in production (use * to allow any)"
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
