"""Contacts: who campaigns talk to, and how an event's data updates them.

Emails are normalised (trimmed, lower-cased) so one person is one contact per store. Language
tags are BCP 47 (``de``, ``pt-BR``): :func:`normalise_language` turns platform codes such as
Saleor's ``PT_BR`` or ``EN_GB`` into that form.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def normalise_email(email: str) -> str:
    """Trim and lower-case an address (the whole address: providers treat it case-insensitively)."""
    return email.strip().lower()


def normalise_language(code: str | None) -> str | None:
    """``"DE"`` → ``"de"``, ``"PT_BR"`` / ``"pt-br"`` → ``"pt-BR"``; ``None``/blank → ``None``."""
    if code is None or not code.strip():
        return None
    parts = code.strip().replace("_", "-").split("-")
    head = parts[0].lower()
    tail = [p.upper() if len(p) == 2 else p.title() for p in parts[1:]]
    return "-".join([head, *tail])


class ContactUpdate(BaseModel):
    """What an event tells about a contact. ``None`` means "not told", never "erase"."""

    model_config = ConfigDict(frozen=True)

    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    country: str | None = None
    platform_user_id: str | None = None

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("not an email address")
        return normalise_email(value)

    @field_validator("language")
    @classmethod
    def _normalise_language(cls, value: str | None) -> str | None:
        return normalise_language(value)


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """A contact as campaigns see it."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    country: str | None = None
    platform_user_id: str | None = None
    orders_count: int = 0
    total_spent: Decimal = Decimal(0)


def merge_contact(current: ContactProfile | None, update: ContactUpdate) -> ContactProfile:
    """The contact after ``update``: told fields replace, untold fields are kept. Pure."""
    base = current or ContactProfile(email=update.email)
    told = {
        name: value
        for name in ("first_name", "last_name", "language", "country", "platform_user_id")
        if (value := getattr(update, name)) is not None
    }
    return replace(base, **told)
