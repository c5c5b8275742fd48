"""Contacts: who campaigns talk to, and how an event's data updates them.

Emails are normalised (trimmed, lower-cased) so one person is one contact per store. Language
tags are BCP 47 (``de``, ``pt-BR``): :func:`normalise_language` turns platform codes such as
Saleor's ``PT_BR`` or ``EN_GB`` into that form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: E.164: a ``+``, a country code not starting with 0, at most 15 digits in all.
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
#: Separators people and platforms put in phone numbers (removed before checking E.164).
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


def normalise_email(email: str) -> str:
    """Trim and lower-case an address (the whole address: providers treat it case-insensitively)."""
    return email.strip().lower()


def normalise_phone(phone: str | None) -> str | None:
    """``"+33 6 12-34-56-78"`` → ``"+33612345678"``; ``None``/blank → ``None``.

    Raises:
        ValueError: not an international E.164 number once spaces, dots, dashes and brackets
            are removed (a national number such as ``06 12 34 56 78`` is refused: its country
            is unknown).
    """
    if phone is None or not phone.strip():
        return None
    compact = _PHONE_SEPARATORS.sub("", phone.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not E164.match(compact):
        raise ValueError("not an international phone number (E.164, e.g. +33612345678)")
    return compact


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
    #: E.164 (``+33612345678``), normalised from common spellings.
    phone: str | None = None
    gender: str | None = Field(default=None, max_length=16)
    #: An IANA time zone name (``Europe/Paris``).
    time_zone: str | None = Field(default=None, max_length=64)

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

    @field_validator("phone")
    @classmethod
    def _normalise_phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """A contact as campaigns see it."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    country: str | None = None
    platform_user_id: str | None = None
    phone: str | None = None
    gender: str | None = None
    time_zone: str | None = None
    orders_count: int = 0
    total_spent: Decimal = Decimal(0)


#: The profile fields a :class:`ContactUpdate` may tell (``None`` there means "not told").
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "language",
    "country",
    "platform_user_id",
    "phone",
    "gender",
    "time_zone",
)


def merge_contact(current: ContactProfile | None, update: ContactUpdate) -> ContactProfile:
    """The contact after ``update``: told fields replace, untold fields are kept. Pure."""
    base = current or ContactProfile(email=update.email)
    told = {name: value for name in PROFILE_FIELDS if (value := getattr(update, name)) is not None}
    return replace(base, **told)
