"""A store's settings: checking a partial change (pure) and applying it to the store's row.

:class:`SettingsChange` names only the settings to change; :data:`KEEP` (the default) leaves one
as it is and ``None`` clears a setting that may be empty (sender, sender name, frequency cap).
:func:`check_change` validates every given setting without touching the database and returns all
problems at once, each with the path of its field in the change (``storefront_urls.1.checkout``,
``channels.3``); :func:`update_store_settings` applies a change only when it has none.

What is valid:

==============================  ===========================================================
``sender_name``                 at most 200 characters, no control character (CR/LF would
                                forge headers); trimmed; ``None``/blank clears
``sender_address``              an email address (``email-validator`` syntax, no SMTPUTF8: the
                                local part is ASCII), stored normalised; ``None``/blank clears
``default_language``            a BCP 47 tag Babel knows as given (``pt-BR``; Saleor's
                                ``PT_BR`` is normalised); ``en-ZZ``, ``xx``, ``und`` are not
``time_zone``                   an IANA time zone name (``Europe/Paris``)
``abandonment_delay_minutes``   5 … 10,080 (7 days)
``storefront_urls``             at most 100 entries, one per channel slug (or ``*``, every other
                                channel), each with an absolute http(s) ``home`` URL and/or a
                                ``checkout`` URL template using only ``{token}``,
                                ``{checkout_id}`` and ``{lang}``; replaces every entry
``channels``                    at most 100 distinct channel slugs (empty: every channel)
``consent_mode``, ``frequency_cap_mode``  their enums
``frequency_cap_hours``         1 … 720, or ``None`` (no cap)
==============================  ===========================================================

Codes (:class:`SettingsCode`): ``invalid``, ``required`` (``None`` for a setting that cannot be
empty), ``out_of_range``, ``too_long``, ``too_many``, ``duplicate``, ``unknown_placeholder``.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum, StrEnum
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from relance.automation.contacts import normalise_language
from relance.automation.engine import CapMode, ConsentMode
from relance.automation.validation import Violation
from relance.store.models import Store
from relance.store.repositories.checkouts import ANY_CHANNEL

T = TypeVar("T")

#: Fewest minutes a checkout must be left alone before it counts as abandoned.
MIN_ABANDONMENT_DELAY_MINUTES = 5
#: Most minutes: 7 days (Saleor deletes anonymous checkouts 30 days after their last change, and
#: a due checkout untouched for 30 days is closed as gone without firing).
MAX_ABANDONMENT_DELAY_MINUTES = 7 * 24 * 60
#: Bounds of the frequency cap's window, in hours (one month at most).
MIN_FREQUENCY_CAP_HOURS = 1
MAX_FREQUENCY_CAP_HOURS = 720
#: Longest sender display name (the column's length).
MAX_SENDER_NAME_LENGTH = 200
#: Longest sender address (RFC 5321's path limit, the column's length).
MAX_SENDER_ADDRESS_LENGTH = 320
#: Most channel slugs in ``channels``, and most entries in ``storefront_urls``.
MAX_CHANNELS = 100
#: Longest storefront URL or checkout template.
MAX_URL_LENGTH = 2048
#: A channel slug as Saleor's ``SlugField`` accepts it (Django's ``validate_slug``).
CHANNEL_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,255}")
#: The placeholders a checkout URL template may use (see checkouts.recovery_url).
CHECKOUT_PLACEHOLDERS = ("{token}", "{checkout_id}", "{lang}")

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Sample values substituted into a template before it is checked as a URL.
_SAMPLES = {"{token}": "0", "{checkout_id}": "0", "{lang}": "en"}


class SettingsCode(StrEnum):
    """Why a setting is refused (the ``code`` of a :class:`Violation`)."""

    INVALID = "invalid"
    REQUIRED = "required"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    DUPLICATE = "duplicate"
    UNKNOWN_PLACEHOLDER = "unknown_placeholder"


class _Keep(Enum):
    KEEP = "keep"


#: "Leave this setting as it is" in a :class:`SettingsChange`.
KEEP = _Keep.KEEP


@dataclass(frozen=True, slots=True)
class StorefrontUrls:
    """A channel's storefront: its home page and its checkout URL template (either may be None).

    ``channel`` is a channel slug, or ``*`` for every channel without an entry of its own.
    """

    channel: str
    home: str | None = None
    checkout: str | None = None


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """The settings to change; :data:`KEEP` leaves one unchanged, ``None`` clears or refuses."""

    sender_name: str | _Keep | None = KEEP
    sender_address: str | _Keep | None = KEEP
    default_language: str | _Keep | None = KEEP
    time_zone: str | _Keep | None = KEEP
    abandonment_delay_minutes: int | _Keep | None = KEEP
    storefront_urls: Sequence[StorefrontUrls] | _Keep | None = KEEP
    channels: Sequence[str] | _Keep | None = KEEP
    consent_mode: ConsentMode | _Keep | None = KEEP
    frequency_cap_hours: int | _Keep | None = KEEP
    frequency_cap_mode: CapMode | _Keep | None = KEEP


#: Each setting of a :class:`SettingsChange`, and the ``stores`` column it is kept in.
COLUMNS: dict[str, str] = {
    "sender_name": "sender_name",
    "sender_address": "sender",
    "default_language": "default_language",
    "time_zone": "timezone",
    "abandonment_delay_minutes": "abandonment_delay_minutes",
    "storefront_urls": "storefront_urls",
    "channels": "channels",
    "consent_mode": "consent_mode",
    "frequency_cap_hours": "frequency_cap_hours",
    "frequency_cap_mode": "frequency_cap_mode",
}


class InvalidSettings(ValueError):
    """A change with problems; ``violations`` lists every one (path, code, message), in the
    order of the change's fields."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.path}: {v.message}" for v in violations))
        self.violations = violations


@dataclass(frozen=True, slots=True)
class CheckedChange:
    """What :func:`check_change` found: the new column values, or the problems."""

    values: dict[str, Any]
    violations: list[Violation]


class _Problems:
    def __init__(self) -> None:
        self.found: list[Violation] = []

    def add(self, path: str, code: SettingsCode, message: str) -> None:
        self.found.append(Violation(path, code.value, message))


def check_change(change: SettingsChange) -> CheckedChange:
    """Validate every setting ``change`` gives, and normalise it. Pure: no database.

    Returns:
        The column values to write (``stores`` column names; settings left :data:`KEEP` absent)
        and every problem found; the values are meaningless when there is a problem.
    """
    problems = _Problems()
    values: dict[str, Any] = {}
    for spec in fields(change):
        given = getattr(change, spec.name)
        if given is KEEP:
            continue
        values[COLUMNS[spec.name]] = _CHECKERS[spec.name](given, spec.name, problems)
    return CheckedChange(values=values, violations=problems.found)


def update_store_settings(
    session: Session, store_id: UUID, change: SettingsChange, now: datetime
) -> Store:
    """Apply ``change`` to the store's row (locked), all or nothing. The caller commits.

    Raises:
        InvalidSettings: the change has problems (every one of them); nothing is written.
        LookupError: there is no such store.
    """
    checked = check_change(change)
    if checked.violations:
        raise InvalidSettings(checked.violations)
    store = session.get(Store, store_id, with_for_update=True)
    if store is None:
        raise LookupError(f"no store {store_id}")
    for column, value in checked.values.items():
        setattr(store, column, value)
    if checked.values:
        store.updated_at = now
    session.flush()
    return store


def storefront_entries(store: Store) -> list[StorefrontUrls]:
    """The store's storefront URLs by channel slug, ``*`` last; malformed entries are left out."""
    urls: dict[str, Any] = store.storefront_urls or {}
    entries = [
        StorefrontUrls(
            channel=channel,
            home=entry.get("home") if isinstance(entry.get("home"), str) else None,
            checkout=entry.get("checkout") if isinstance(entry.get("checkout"), str) else None,
        )
        for channel, entry in urls.items()
        if isinstance(entry, dict)
    ]
    return sorted(entries, key=lambda e: (e.channel == ANY_CHANNEL, e.channel))


# --- one checker per setting: (given value, path, problems) -> column value ------------------


def _required(value: T | None, path: str, problems: _Problems) -> T | None:
    if value is None:
        problems.add(path, SettingsCode.REQUIRED, "may not be null: omit it to keep it as it is")
    return value


def _sender_address(value: str | None, path: str, problems: _Problems) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_SENDER_ADDRESS_LENGTH:
        problems.add(path, SettingsCode.TOO_LONG, f"at most {MAX_SENDER_ADDRESS_LENGTH} characters")
        return None
    try:
        checked = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        problems.add(path, SettingsCode.INVALID, f"not an email address: {error}")
        return None
    return checked.normalized


def _sender_name(value: str | None, path: str, problems: _Problems) -> str | None:
    if value is None or not value.strip():
        return None
    if _CONTROL.search(value):
        problems.add(path, SettingsCode.INVALID, "no line breaks or control characters")
    name = value.strip()
    if len(name) > MAX_SENDER_NAME_LENGTH:
        problems.add(path, SettingsCode.TOO_LONG, f"at most {MAX_SENDER_NAME_LENGTH} characters")
    return name


def language_problem(tag: str) -> str | None:
    """Why ``tag`` (normalised BCP 47) is not a language Babel knows exactly, or None."""
    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return f"{tag!r} is not a known language (BCP 47, e.g. fr, pt-BR)"
    # Babel falls back to likely subtags ("en-ZZ" gives en_US, "und" gives en_US): the
    # language, script, territory and variant it understood must be the ones given.
    given = tag.lower().split("-")
    understood = [
        part.lower()
        for part in (locale.language, locale.script, locale.territory, locale.variant)
        if part
    ]
    if given != understood:
        return f"{tag!r} is not a known language (BCP 47, e.g. fr, pt-BR)"
    return None


def _language(value: str | None, path: str, problems: _Problems) -> str | None:
    if _required(value, path, problems) is None:
        return None
    tag = normalise_language(value)
    if tag is None:
        problems.add(path, SettingsCode.INVALID, "a language tag is required (e.g. fr, pt-BR)")
        return None
    if len(tag) > 35:
        problems.add(path, SettingsCode.TOO_LONG, "at most 35 characters")
        return None
    problem = language_problem(tag)
    if problem is not None:
        problems.add(path, SettingsCode.INVALID, problem)
    return tag


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(value: str | None, path: str, problems: _Problems) -> str | None:
    if _required(value, path, problems) is None:
        return None
    assert value is not None
    name = value.strip()
    if name not in _time_zones():
        problems.add(
            path, SettingsCode.INVALID, f"{name!r} is not an IANA time zone (e.g. Europe/Paris)"
        )
    return name


def _in_range(value: int, low: int, high: int, unit: str, path: str, problems: _Problems) -> int:
    if not low <= value <= high:
        problems.add(path, SettingsCode.OUT_OF_RANGE, f"between {low} and {high} {unit}")
    return value


def _delay(value: int | None, path: str, problems: _Problems) -> int | None:
    if _required(value, path, problems) is None:
        return None
    assert value is not None
    return _in_range(
        value,
        MIN_ABANDONMENT_DELAY_MINUTES,
        MAX_ABANDONMENT_DELAY_MINUTES,
        "minutes (7 days)",
        path,
        problems,
    )


def _cap_hours(value: int | None, path: str, problems: _Problems) -> int | None:
    if value is None:
        return None
    return _in_range(
        value, MIN_FREQUENCY_CAP_HOURS, MAX_FREQUENCY_CAP_HOURS, "hours", path, problems
    )


def _enum_value(value: StrEnum | None, path: str, problems: _Problems) -> str | None:
    if _required(value, path, problems) is None:
        return None
    assert value is not None
    return value.value


def _slug(value: str, path: str, problems: _Problems) -> bool:
    if CHANNEL_SLUG.fullmatch(value):
        return True
    problems.add(
        path, SettingsCode.INVALID, "a channel slug: letters, digits, '-' and '_' (1 to 255)"
    )
    return False


def _channels(value: Sequence[str] | None, path: str, problems: _Problems) -> list[str] | None:
    if _required(value, path, problems) is None:
        return None
    assert value is not None
    if len(value) > MAX_CHANNELS:
        problems.add(path, SettingsCode.TOO_MANY, f"at most {MAX_CHANNELS} channels")
        return None
    seen: set[str] = set()
    for index, slug in enumerate(value):
        if _slug(slug, f"{path}.{index}", problems) and slug in seen:
            problems.add(f"{path}.{index}", SettingsCode.DUPLICATE, f"{slug!r} is listed twice")
        seen.add(slug)
    return list(value)


def _url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL with a host, or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    if _CONTROL.search(url) or " " in url:
        return "no spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an absolute http:// or https:// URL"
    return None


def _home(value: str, path: str, problems: _Problems) -> None:
    problem = _url_problem(value)
    if problem is None and ("{" in value or "}" in value):
        problem = "the home page takes no placeholders"
    if problem is not None:
        problems.add(path, SettingsCode.INVALID, problem)


def _checkout_template(value: str, path: str, problems: _Problems) -> None:
    unknown = [p for p in _PLACEHOLDER.findall(value) if p not in CHECKOUT_PLACEHOLDERS]
    if unknown:
        known = ", ".join(CHECKOUT_PLACEHOLDERS)
        problems.add(
            path,
            SettingsCode.UNKNOWN_PLACEHOLDER,
            f"unknown placeholder {', '.join(unknown)} (known: {known})",
        )
        return
    sample = value
    for placeholder, replacement in _SAMPLES.items():
        sample = sample.replace(placeholder, replacement)
    problem = _url_problem(sample)
    if problem is None and ("{" in sample or "}" in sample):
        problem = "an unmatched brace: placeholders are {token}, {checkout_id} and {lang}"
    if problem is not None:
        problems.add(path, SettingsCode.INVALID, problem)


def _storefront_urls(
    value: Sequence[StorefrontUrls] | None, path: str, problems: _Problems
) -> dict[str, dict[str, str]] | None:
    if _required(value, path, problems) is None:
        return None
    assert value is not None
    if len(value) > MAX_CHANNELS:
        problems.add(path, SettingsCode.TOO_MANY, f"at most {MAX_CHANNELS} channels")
        return None
    urls: dict[str, dict[str, str]] = {}
    for index, entry in enumerate(value):
        at = f"{path}.{index}"
        channel = entry.channel.strip()
        if channel != ANY_CHANNEL:
            _slug(channel, f"{at}.channel", problems)
        if channel in urls:
            problems.add(f"{at}.channel", SettingsCode.DUPLICATE, f"{channel!r} has two entries")
        home = (entry.home or "").strip()
        checkout = (entry.checkout or "").strip()
        if not home and not checkout:
            problems.add(at, SettingsCode.REQUIRED, "give a home URL, a checkout URL or both")
        if home:
            _home(home, f"{at}.home", problems)
        if checkout:
            _checkout_template(checkout, f"{at}.checkout", problems)
        urls[channel] = {key: url for key, url in (("home", home), ("checkout", checkout)) if url}
    return urls


_CHECKERS: dict[str, Any] = {
    "sender_name": _sender_name,
    "sender_address": _sender_address,
    "default_language": _language,
    "time_zone": _time_zone,
    "abandonment_delay_minutes": _delay,
    "storefront_urls": _storefront_urls,
    "channels": _channels,
    "consent_mode": _enum_value,
    "frequency_cap_hours": _cap_hours,
    "frequency_cap_mode": _enum_value,
}
