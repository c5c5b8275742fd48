"""Locale-aware Jinja2 filters: ``money``, ``date`` and ``number``, formatted by Babel.

Values arrive as the JSON of the domain models (amounts are decimal strings such as ``"89.00"``,
timestamps ISO 8601 strings), or as Python numbers and datetimes. A missing value (``None``, an
empty string, or Jinja2's undefined) formats as the empty string, so a design renders even when
the context lacks it; a value that is present but not a number or a date raises ``ValueError``
(reported as a render error) rather than printing something wrong.

Babel takes tens of microseconds per call, and the same prices and dates recur across thousands
of recipients, so each language's formatters memoise their results (bounded LRU, keyed by the
value's exact text, so ``1.5`` and ``1.50`` never share an entry).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import Undefined

#: Used when a language tag is not one Babel knows.
FALLBACK_LOCALE = "en"


def babel_locale(language: str) -> Locale:
    """The Babel locale of a BCP 47 tag (``pt-BR`` → ``pt_BR``); English if Babel has none."""
    try:
        return Locale.parse(language.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


_CACHE_SIZE = 4096


def filters(language: str) -> dict[str, Callable[..., str]]:
    """The filters for one language, ready for ``Environment.filters.update``."""
    locale = babel_locale(language)

    @lru_cache(maxsize=_CACHE_SIZE)
    def format_money(amount: str, currency: str) -> str:
        value = _decimal(amount)
        if value is None:
            return ""
        if not currency:
            return format_decimal(value, format="#,##0.00", locale=locale)
        return format_currency(value, currency, locale=locale)

    @lru_cache(maxsize=_CACHE_SIZE)
    def format_number(value: str, digits: int | None) -> str:
        parsed = _decimal(value)
        if parsed is None:
            return ""
        pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(parsed, format=pattern, locale=locale)

    @lru_cache(maxsize=_CACHE_SIZE)
    def format_day(day: date, format: str) -> str:
        return format_date(day, format=format, locale=locale)

    def money(amount: Any, currency: Any = None) -> str:
        """``89,00 €`` (de), ``€89.00`` (en); a plain decimal when no currency is given."""
        if _missing(amount):
            return ""
        return format_money(_text(amount), "" if _missing(currency) else str(currency))

    def number(value: Any, digits: int | None = None) -> str:
        """A locale-grouped number; ``digits`` fixes the count of decimals."""
        if _missing(value):
            return ""
        return format_number(_text(value), digits)

    def date_(value: Any, format: str = "medium", tz: Any = None) -> str:
        """A date in ``short``/``medium``/``long``/``full`` or a CLDR pattern; ``tz`` converts
        an aware datetime to that IANA zone first (e.g. the contact's)."""
        day = _date(value, tz)
        if day is None:
            return ""
        return format_day(day, str(format))

    return {"money": money, "number": number, "date": date_}


def _text(value: Any) -> str:
    """The exact text of a number, refusing booleans (``True`` is an int to Python)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Undefined) or value == ""


def _decimal(value: Any) -> Decimal | None:
    if _missing(value):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not parsed.is_finite():
        raise ValueError("not a finite number")
    return parsed


def _date(value: Any, tz: Any) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError("not an ISO 8601 date") from exc
    if isinstance(value, datetime):
        moment: datetime = value
        if not _missing(tz) and moment.tzinfo is not None:
            # an unknown zone keeps the timestamp's own offset
            with suppress(ZoneInfoNotFoundError, ValueError):
                moment = moment.astimezone(ZoneInfo(str(tz)))
        return moment.date()
    if isinstance(value, date):
        return value
    raise ValueError("not a date")
