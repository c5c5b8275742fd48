from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from jinja2 import ChainableUndefined

from relance.templates.formatting import babel_locale, filters

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("de", "89.00", "EUR", f"89,00{NBSP}€"),
        ("en", "89.00", "EUR", "€89.00"),
        ("fr", "1289.5", "EUR", f"1\u202f289,50{NBSP}€"),
        ("en", Decimal("4.9"), "USD", "$4.90"),
        ("de", 12, None, "12,00"),
        ("de", None, "EUR", ""),
        ("de", "", "EUR", ""),
        ("de", ChainableUndefined(), "EUR", ""),
    ],
)
def test_money(language: str, amount: object, currency: str | None, expected: str) -> None:
    # given the filters of a language
    money = filters(language)["money"]
    # when formatting an amount / then it follows the locale, and a missing amount is empty
    assert money(amount, currency) == expected


@pytest.mark.parametrize("bad", ["lots", True, "NaN", "Infinity"])
def test_money_refuses_what_is_not_an_amount(bad: object) -> None:
    # given something that is not a finite amount
    # when formatting / then it raises rather than printing something wrong
    with pytest.raises(ValueError, match="not a"):
        filters("en")["money"](bad, "EUR")


def test_equal_amounts_with_different_precision_are_cached_apart() -> None:
    # given one language's number filter
    number = filters("en")["number"]
    # when formatting 1.5 then 1.50 with fixed digits
    # then each result is computed for its own text
    assert number("1.5") == "1.5"
    assert number("1.50", 2) == "1.50"
    assert number("1234567") == "1,234,567"
    assert number(3, 0) == "3"


def test_date_formats_iso_strings_datetimes_and_dates() -> None:
    # given the German and English date filters
    de, en = filters("de")["date"], filters("en")["date"]
    # when formatting the same day in several shapes / then each is localised
    assert de("2026-08-20T09:15:41.998205Z") == "20.08.2026"
    assert de("2026-08-20T09:15:41Z", "long") == "20. August 2026"
    assert en(datetime(2026, 8, 20, 9, tzinfo=UTC), "long") == "August 20, 2026"
    assert en(date(2026, 8, 20)) == "Aug 20, 2026"
    assert en(None) == ""


def test_date_converts_to_the_contacts_time_zone() -> None:
    # given an order placed late on the 20th in UTC
    placed = "2026-08-20T23:30:00+00:00"
    # when shown to a contact in Berlin (UTC+2 in summer) / then it is the 21st there
    assert filters("de")["date"](placed, "long", tz="Europe/Berlin") == "21. August 2026"
    # an unknown zone keeps the timestamp's own offset
    assert filters("de")["date"](placed, "long", tz="Mars/Olympus") == "20. August 2026"


def test_unknown_languages_format_in_english() -> None:
    # given a tag Babel does not know / when choosing the locale / then English is used
    assert str(babel_locale("xx-QQ")) == "en"
    assert str(babel_locale("pt-BR")) == "pt_BR"
