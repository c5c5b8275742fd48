"""conditions: one language for filters, exits, splits, segments and keyword rules.

The evaluator is tested table-first: every predicate and operator against a full contact, the
same against a contact that knows nothing (missing values), nesting, and the seeds' criteria.
Properties check that stored conditions round-trip and that evaluation never raises on facts.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from relance.automation.conditions import (
    MAX_DEPTH,
    MAX_PREDICATES,
    AllOf,
    AnyOf,
    Channel,
    Condition,
    ContactField,
    ContactFieldPredicate,
    Facts,
    InvalidCondition,
    MessageRecord,
    Not,
    Op,
    PurchaseRecord,
    Requirements,
    condition_violations,
    dump_condition,
    evaluate,
    parse_condition,
    requirements,
)
from relance.automation.validation import Violation

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
HOUR, DAY = 3600, 86_400

MARIE = Facts(
    email="marie@example.fr",
    phone="+33612345678",
    first_name="Marie",
    last_name="Curie",
    language="pt-BR",
    country="FR",
    gender="female",
    time_zone="Europe/Paris",
    platform_user_id="VXNlcjox",
    created_at=NOW - timedelta(days=10),
    custom_fields={
        "vip": True,
        "score": 42,
        "ratio": 0.5,
        "price": "12.50",
        "plan": "gold",
        "weird": "abc",
        "birthday": "1990-05-02",
        "renews_at": datetime(2026, 7, 1, 9, 0),  # naive: read as UTC
        "colors": ["red", "blue"],
        "blank": "  ",
        "nothing": None,
    },
    tags=frozenset({"vip", "newsletter"}),
    lists=frozenset({"list-1"}),
    consents={"email": "subscribed", "sms": "unsubscribed"},
    orders_count=3,
    total_spent=Decimal("249.90"),
    first_order_at=NOW - timedelta(days=400),
    last_order_at=NOW - timedelta(days=5),
    purchases=(
        PurchaseRecord("prod-1", "var-1", NOW - timedelta(days=3)),
        PurchaseRecord("prod-2", None, NOW - timedelta(days=100)),
    ),
    event={
        "event_type": "order.placed",
        "properties": {"source": "instagram", "items": 3, "gift": False},
        "order": {
            "total": "89.00",
            "currency": "EUR",
            "created_at": "2026-06-15T11:00:00+00:00",
            "lines": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}],
        },
    },
    messages=(
        MessageRecord(Channel.EMAIL, NOW - timedelta(days=1), "upsell"),
        MessageRecord(Channel.EMAIL, NOW - timedelta(days=3), "upsell"),
        MessageRecord(Channel.EMAIL, NOW - timedelta(hours=1), "welcome"),
        MessageRecord(Channel.SMS, NOW - timedelta(hours=1)),
    ),
)
NOBODY = Facts()  # knows nothing: every optional value is missing


def contact(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"type": "contact_field", "field": field, "op": op, "value": value, **extra}


def custom(key: str, kind: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"type": "custom_field", "key": key, "value_type": kind, "op": op, "value": value}


def stat(name: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"type": "order_stat", "stat": name, "op": op, "value": value}


def prop(path: str, kind: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"type": "event_property", "path": path, "value_type": kind, "op": op, "value": value}


def tags(op: str, *names: str) -> dict[str, Any]:
    return {"type": "tags", "op": op, "tags": list(names)}


def in_list(op: str, list_id: str) -> dict[str, Any]:
    return {"type": "list_membership", "op": op, "list_id": list_id}


def consent(channel: str, op: str, status: str) -> dict[str, Any]:
    return {"type": "consent", "channel": channel, "op": op, "status": status}


def bought(
    products: tuple[str, ...] = (), variants: tuple[str, ...] = (), within: int | None = None
) -> dict[str, Any]:
    return {
        "type": "purchased",
        "products": list(products),
        "variants": list(variants),
        "within_seconds": within,
    }


def messages(
    channel: str, op: str, value: int, category: str | None = None, within: int | None = None
) -> dict[str, Any]:
    return {
        "type": "message_count",
        "channel": channel,
        "category": category,
        "within_seconds": within,
        "op": op,
        "value": value,
    }


def all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "all", "conditions": list(conditions)}


def any_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "any", "conditions": list(conditions)}


def not_(condition: dict[str, Any]) -> dict[str, Any]:
    return {"type": "not", "condition": condition}


YES = contact("email", "exists")
NO = contact("email", "not_exists")
ISO_10_DAYS_AGO = (NOW - timedelta(days=10)).isoformat()


def case(name: str, condition: dict[str, Any], expected: bool, facts: Facts = MARIE) -> Any:
    return pytest.param(condition, facts, expected, id=name)


# --- every predicate and operator against a full contact -------------------------------------

CASES = [
    # contact fields: strings compare case-insensitively
    case("email eq, other case", contact("email", "eq", "Marie@Example.FR"), True),
    case("email eq, other address", contact("email", "eq", "paul@example.fr"), False),
    case("email ne, other address", contact("email", "ne", "paul@example.fr"), True),
    case("email ne, same address", contact("email", "ne", "MARIE@example.fr"), False),
    case("email in", contact("email", "in", ["a@b.c", "marie@example.fr"]), True),
    case("email in, absent", contact("email", "in", ["a@b.c"]), False),
    case("email not_in", contact("email", "not_in", ["a@b.c"]), True),
    case("email not_in, present", contact("email", "not_in", ["MARIE@example.fr"]), False),
    case("email contains", contact("email", "contains", "@EXAMPLE."), True),
    case("email contains, no", contact("email", "contains", "gmail"), False),
    case("email starts_with", contact("email", "starts_with", "MARIE"), True),
    case("email starts_with, no", contact("email", "starts_with", "example"), False),
    case("first_name exists", contact("first_name", "exists"), True),
    case("first_name not_exists", contact("first_name", "not_exists"), False),
    case("last_name eq", contact("last_name", "eq", "curie"), True),
    case("phone starts_with", contact("phone", "starts_with", "+33"), True),
    case("country in", contact("country", "in", ["BE", "fr"]), True),
    case("gender eq", contact("gender", "eq", "female"), True),
    case("gender eq, other", contact("gender", "eq", "male"), False),
    case("time_zone eq", contact("time_zone", "eq", "europe/paris"), True),
    case("platform_user_id eq", contact("platform_user_id", "eq", "VXNlcjox"), True),
    # language: exact by default, BCP 47 ranges when asked
    case("language eq pt, exact", contact("language", "eq", "pt"), False),
    case("language eq pt-br, exact", contact("language", "eq", "pt-br"), True),
    case("language eq pt, subtags", contact("language", "eq", "pt", match_subtags=True), True),
    case(
        "language eq pt-BR, subtags", contact("language", "eq", "pt-BR", match_subtags=True), True
    ),
    case(
        "language eq pt_br, subtags", contact("language", "eq", "pt_br", match_subtags=True), True
    ),
    case(
        "language eq pt-PT, subtags", contact("language", "eq", "pt-PT", match_subtags=True), False
    ),
    case("language eq p, subtags", contact("language", "eq", "p", match_subtags=True), False),
    case("language in, subtags", contact("language", "in", ["es", "pt"], match_subtags=True), True),
    case("language ne pt, subtags", contact("language", "ne", "pt", match_subtags=True), False),
    case(
        "language not_in, subtags", contact("language", "not_in", ["fr"], match_subtags=True), True
    ),
    # created_at is a date
    case("created_at eq", contact("created_at", "eq", ISO_10_DAYS_AGO), True),
    case("created_at gt", contact("created_at", "gt", "2026-06-01"), True),
    case("created_at gte, equal", contact("created_at", "gte", ISO_10_DAYS_AGO), True),
    case("created_at lt", contact("created_at", "lt", "2026-06-01"), False),
    case("created_at lte, equal", contact("created_at", "lte", ISO_10_DAYS_AGO), True),
    case("created_at ne", contact("created_at", "ne", "2026-06-01"), True),
    case("created_at within_last 30d", contact("created_at", "within_last", 30 * DAY), True),
    case("created_at within_last 1d", contact("created_at", "within_last", DAY), False),
    case("created_at older_than 1d", contact("created_at", "older_than", DAY), True),
    case("created_at older_than 30d", contact("created_at", "older_than", 30 * DAY), False),
    case("created_at within_last, boundary", contact("created_at", "within_last", 10 * DAY), True),
    case("created_at older_than, boundary", contact("created_at", "older_than", 10 * DAY), False),
    # custom fields, by value type
    case("boolean eq true", custom("vip", "boolean", "eq", True), True),
    case("boolean eq false", custom("vip", "boolean", "eq", False), False),
    case("boolean ne true", custom("vip", "boolean", "ne", True), False),
    case("boolean exists", custom("vip", "boolean", "exists"), True),
    case("number eq int fact", custom("score", "number", "eq", 42), True),
    case("number eq '42.0'", custom("score", "number", "eq", "42.0"), True),
    case("number ne", custom("score", "number", "ne", 41), True),
    case("number gt", custom("score", "number", "gt", 40), True),
    case("number gte, equal", custom("score", "number", "gte", 42), True),
    case("number lt", custom("score", "number", "lt", 40), False),
    case("number lte, equal", custom("score", "number", "lte", 42), True),
    case("number in", custom("score", "number", "in", [1, 42]), True),
    case("number not_in", custom("score", "number", "not_in", [42]), False),
    case("number, float fact", custom("ratio", "number", "eq", "0.5"), True),
    case("number, numeric string fact", custom("price", "number", "gt", 12), True),
    case("number, text fact is missing", custom("weird", "number", "exists"), False),
    case("number, boolean fact is missing", custom("vip", "number", "eq", 1), False),
    case("string eq", custom("plan", "string", "eq", "GOLD"), True),
    case("string contains", custom("plan", "string", "contains", "ol"), True),
    case("string, number fact is missing", custom("score", "string", "eq", "42"), False),
    case("date lt", custom("birthday", "date", "lt", "2000-01-01"), True),
    case("date eq, calendar date", custom("birthday", "date", "eq", "1990-05-02"), True),
    case(
        "date gt, with offset", custom("birthday", "date", "gt", "1990-05-02T01:00:00+02:00"), True
    ),
    case(
        "date, naive fact is UTC", custom("renews_at", "date", "eq", "2026-07-01T09:00:00Z"), True
    ),
    case(
        "date within_last, future fact", custom("renews_at", "date", "within_last", 30 * DAY), False
    ),
    case("date, text fact is missing", custom("weird", "date", "not_exists"), True),
    case("list field: one value matches", custom("colors", "string", "eq", "BLUE"), True),
    case("list field: ne holds for another value", custom("colors", "string", "ne", "red"), True),
    case(
        "list field: not(eq) is none of them", not_(custom("colors", "string", "eq", "red")), False
    ),
    case("None is missing", custom("nothing", "string", "not_exists"), True),
    case("blank string is missing", custom("blank", "string", "exists"), False),
    case("unknown key, ne", custom("unknown", "string", "ne", "x"), False),
    case("unknown key, not_exists", custom("unknown", "string", "not_exists"), True),
    # tags: exact names
    case("tags has_any", tags("has_any", "vip", "x"), True),
    case("tags has_any, none", tags("has_any", "x"), False),
    case("tags has_any, other case", tags("has_any", "VIP"), False),
    case("tags has_all", tags("has_all", "vip", "newsletter"), True),
    case("tags has_all, one missing", tags("has_all", "vip", "x"), False),
    case("tags has_none", tags("has_none", "x"), True),
    case("tags has_none, one present", tags("has_none", "x", "vip"), False),
    # lists
    case("in list", in_list("in", "list-1"), True),
    case("in list, other", in_list("in", "list-2"), False),
    case("not_in list", in_list("not_in", "list-2"), True),
    case("not_in list, member", in_list("not_in", "list-1"), False),
    # consent
    case("email subscribed", consent("email", "eq", "subscribed"), True),
    case("email pending", consent("email", "eq", "pending"), False),
    case("email ne subscribed", consent("email", "ne", "subscribed"), False),
    case("sms unsubscribed", consent("sms", "eq", "unsubscribed"), True),
    case("push never recorded is none", consent("push", "eq", "none"), True),
    case("push ne subscribed", consent("push", "ne", "subscribed"), True),
    # order stats
    case("orders_count eq", stat("orders_count", "eq", 3), True),
    case("orders_count gt", stat("orders_count", "gt", 2), True),
    case("orders_count lt", stat("orders_count", "lt", 3), False),
    case("orders_count in", stat("orders_count", "in", [0, 1]), False),
    case("total_spent gte", stat("total_spent", "gte", "249.90"), True),
    case("total_spent gt", stat("total_spent", "gt", 249.9), False),
    case("last_order_at within 7 days", stat("last_order_at", "within_last", 7 * DAY), True),
    case("last_order_at within 3 days", stat("last_order_at", "within_last", 3 * DAY), False),
    case("last_order_at older than 3 days", stat("last_order_at", "older_than", 3 * DAY), True),
    case("first_order_at older than a year", stat("first_order_at", "older_than", 365 * DAY), True),
    case("first_order_at lt", stat("first_order_at", "lt", "2026-01-01"), True),
    # purchases
    case("bought product", bought(products=("prod-1",)), True),
    case("bought product, other", bought(products=("prod-3",)), False),
    case("bought variant", bought(variants=("var-1",)), True),
    case("bought product or variant", bought(products=("x",), variants=("var-1",)), True),
    case("bought within 7 days", bought(products=("prod-1",), within=7 * DAY), True),
    case("bought within 30 days, too old", bought(products=("prod-2",), within=30 * DAY), False),
    case("bought within a year", bought(products=("prod-2",), within=365 * DAY), True),
    # trigger event
    case("property eq", prop("properties.source", "string", "eq", "Instagram"), True),
    case("property number", prop("properties.items", "number", "gte", 3), True),
    case("property boolean", prop("properties.gift", "boolean", "eq", False), True),
    case("order total, JSON string", prop("order.total", "number", "gt", 50), True),
    case("order date", prop("order.created_at", "date", "within_last", 2 * HOUR), True),
    case("event type", prop("event_type", "string", "eq", "order.placed"), True),
    case("any line", prop("order.lines.sku", "string", "eq", "sku-2"), True),
    case("line by index", prop("order.lines.1.sku", "string", "eq", "SKU-2"), True),
    case("line by index, other", prop("order.lines.0.sku", "string", "eq", "SKU-2"), False),
    case("line index out of range", prop("order.lines.5.sku", "string", "exists"), False),
    case("any line quantity", prop("order.lines.quantity", "number", "gt", 1), True),
    case("absent property", prop("properties.coupon", "string", "not_exists"), True),
    case("path through a string", prop("properties.source.x", "string", "exists"), False),
    # message history: the seeds' frequency rule and friends
    case("upsell emails in 2 days >= 1", messages("email", "gte", 1, "upsell", 2 * DAY), True),
    case("upsell emails in 2 days > 1", messages("email", "gt", 1, "upsell", 2 * DAY), False),
    case("upsell emails ever == 2", messages("email", "eq", 2, "upsell"), True),
    case("emails in 2 days, any category", messages("email", "eq", 2, None, 2 * DAY), True),
    case("emails ever ne 3", messages("email", "ne", 3), False),
    case("sms lte 1", messages("sms", "lte", 1), True),
    case("push lt 1", messages("push", "lt", 1), True),
    case("category compares exactly", messages("email", "eq", 0, "UPSELL"), True),
    # combinators
    case("all of nothing", all_of(), True),
    case("any of nothing", any_of(), False),
    case("all, one false", all_of(YES, NO), False),
    case("all, all true", all_of(YES, YES), True),
    case("any, one true", any_of(NO, YES), True),
    case("any, all false", any_of(NO, NO), False),
    case("not true", not_(YES), False),
    case("not false", not_(NO), True),
    case("nested", not_(any_of(all_of(YES, YES), NO)), False),
    case("nested, mixed subjects", all_of(tags("has_any", "vip"), any_of(NO, not_(NO))), True),
]


@pytest.mark.parametrize(("data", "facts", "expected"), CASES)
def test_evaluate(data: dict[str, Any], facts: Facts, expected: bool) -> None:
    # given a stored condition and what is known of a contact
    condition = parse_condition(data)
    # when it is evaluated
    result = evaluate(condition, facts, NOW)
    # then (the test id says why)
    assert result is expected
    # and its negation is the exact opposite (two-valued logic)
    assert evaluate(Not(condition=condition), facts, NOW) is not expected


# --- missing values: everything false except not_exists --------------------------------------

SAMPLES: dict[str, Any] = {"string": "x", "number": 1, "boolean": True, "date": "2026-01-01"}
OPS_BY_KIND = {
    "string": ["eq", "ne", "in", "not_in", "contains", "starts_with", "exists"],
    "number": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists"],
    "boolean": ["eq", "ne", "exists"],
    "date": ["eq", "ne", "lt", "lte", "gt", "gte", "within_last", "older_than", "exists"],
}


def sample(kind: str, op: str) -> Any:
    if op == "exists":
        return None
    if op in {"within_last", "older_than"}:
        return DAY
    return [SAMPLES[kind]] if op in {"in", "not_in"} else SAMPLES[kind]


MISSING_CASES = [
    *(
        case(f"custom {kind} {op}", custom("k", kind, op, sample(kind, op)), False, NOBODY)
        for kind, ops in OPS_BY_KIND.items()
        for op in ops
    ),
    *(
        case(f"property {kind} {op}", prop("x.k", kind, op, sample(kind, op)), False, NOBODY)
        for kind, ops in OPS_BY_KIND.items()
        for op in ops
    ),
    *(
        case(f"{kind} not_exists", custom("k", kind, "not_exists"), True, NOBODY)
        for kind in SAMPLES
    ),
    *(
        case(f"{field} {op}", contact(field, op, sample("string", op)), False, NOBODY)
        for field in ContactField
        if field is not ContactField.CREATED_AT
        for op in OPS_BY_KIND["string"]
    ),
    *(
        case(f"created_at {op}", contact("created_at", op, sample("date", op)), False, NOBODY)
        for op in OPS_BY_KIND["date"]
    ),
    *(
        case(f"{name} {op}", stat(name, op, sample("date", op)), False, NOBODY)
        for name in ("first_order_at", "last_order_at")
        for op in OPS_BY_KIND["date"]
    ),
    case(
        "blank first name is missing",
        contact("first_name", "ne", "x"),
        False,
        Facts(first_name=" "),
    ),
    case("no event: not_exists", prop("properties.source", "string", "not_exists"), True, NOBODY),
    # never missing: sets, consent, counters
    case("no orders: the seeds' 'ticket = 0'", stat("orders_count", "eq", 0), True, NOBODY),
    case("no orders: orders_count exists", stat("orders_count", "exists"), True, NOBODY),
    case("no orders: total_spent eq 0", stat("total_spent", "eq", 0), True, NOBODY),
    case("no tags: has_none", tags("has_none", "vip"), True, NOBODY),
    case("no tags: has_any", tags("has_any", "vip"), False, NOBODY),
    case("no lists: not_in", in_list("not_in", "list-1"), True, NOBODY),
    case("no consent record: none", consent("email", "eq", "none"), True, NOBODY),
    case("no consent record: ne subscribed", consent("email", "ne", "subscribed"), True, NOBODY),
    case("no purchases", bought(products=("prod-1",)), False, NOBODY),
    case("no messages: count 0", messages("email", "eq", 0, "upsell", DAY), True, NOBODY),
    case("no messages: gte 1", messages("email", "gte", 1), False, NOBODY),
]


@pytest.mark.parametrize(("data", "facts", "expected"), MISSING_CASES)
def test_missing_values(data: dict[str, Any], facts: Facts, expected: bool) -> None:
    # given a contact that does not have the value the condition reads
    condition = parse_condition(data)
    # when / then every comparison is false except not_exists; sets and counters are never missing
    assert evaluate(condition, facts, NOW) is expected


# --- windows and history -------------------------------------------------------------------


def test_history_windows_include_their_start_and_exclude_the_future() -> None:
    # given messages exactly at the window's start, at now, and after now
    facts = Facts(
        messages=[
            MessageRecord(Channel.EMAIL, NOW - timedelta(days=2), "c"),
            MessageRecord(Channel.EMAIL, NOW, "c"),
            MessageRecord(Channel.EMAIL, NOW + timedelta(seconds=1), "c"),
            MessageRecord(Channel.EMAIL, NOW - timedelta(days=2, seconds=1), "c"),
        ],
        purchases=[PurchaseRecord("p", None, NOW + timedelta(hours=1))],
    )
    # when messages of the last two days are counted
    in_window = parse_condition(messages("email", "eq", 2, "c", 2 * DAY))
    ever = parse_condition(messages("email", "eq", 4, "c"))
    # then the start and now count; the future and the older one do not (all count "ever")
    assert evaluate(in_window, facts, NOW)
    assert evaluate(ever, facts, NOW)
    assert not evaluate(parse_condition(bought(products=("p",), within=DAY)), facts, NOW)


def test_relative_dates_move_with_now() -> None:
    # given a contact whose last order was 5 days ago
    recent = parse_condition(stat("last_order_at", "within_last", 7 * DAY))
    # when / then it is recent now, and no longer 3 days later
    assert evaluate(recent, MARIE, NOW)
    assert not evaluate(recent, MARIE, NOW + timedelta(days=3))


def test_now_may_be_in_any_zone_but_not_naive() -> None:
    # given the same instant written in Paris time
    paris_now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    condition = parse_condition(stat("last_order_at", "within_last", 5 * DAY))
    # when / then it evaluates the same; a naive now is a programming error
    assert evaluate(condition, MARIE, paris_now) is evaluate(condition, MARIE, NOW) is True
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(condition, MARIE, NOW.replace(tzinfo=None))


# --- the seeds' criteria --------------------------------------------------------------------


def test_seed_test_mode_lets_only_the_test_address_in() -> None:
    # given the seeds' test condition « email égal »
    test_mode = parse_condition(contact("email", "eq", "merchant@shop.fr"))
    # when / then only the merchant enters
    assert evaluate(test_mode, Facts(email="Merchant@Shop.fr"), NOW)
    assert not evaluate(test_mode, MARIE, NOW)


def test_seed_abandoned_cart_designs_by_gender() -> None:
    # given the split: women, men, else the neutral design
    branches = [parse_condition(contact("gender", "eq", g)) for g in ("female", "male")]

    def design(facts: Facts) -> int:
        return next((i for i, b in enumerate(branches) if evaluate(b, facts, NOW)), len(branches))

    # when / then each contact gets its design; no gender falls to the default
    assert design(MARIE) == 0
    assert design(Facts(gender="Male")) == 1
    assert design(NOBODY) == 2


def test_seed_welcome_prospects_and_customers() -> None:
    # given « ticket égal à zéro » for prospects and « ticket égal à 1 » for customers
    prospects = parse_condition(stat("orders_count", "eq", 0))
    customers = parse_condition(stat("orders_count", "eq", 1))
    # when / then
    assert evaluate(prospects, NOBODY, NOW)
    assert not evaluate(customers, NOBODY, NOW)
    assert evaluate(customers, Facts(orders_count=1), NOW)
    assert not evaluate(prospects, MARIE, NOW)


def test_seed_five_languages() -> None:
    # given a split over five languages, matched by primary subtag
    languages = ["fr", "en", "de", "es", "pt"]
    branches = [
        parse_condition(contact("language", "eq", code, match_subtags=True)) for code in languages
    ]
    # when / then pt-BR takes the Portuguese branch, en-GB the English one
    for tag, expected in [("pt-BR", "pt"), ("en-GB", "en"), ("fr", "fr"), ("de-CH", "de")]:
        facts = Facts(language=tag)
        assert [languages[i] for i, b in enumerate(branches) if evaluate(b, facts, NOW)] == [
            expected
        ]


def test_seed_frequency_rule_exits_contacts_who_already_had_the_email() -> None:
    # given « nombre d'e-mails reçus > 1, il y a moins de 2 jours, catégorie cross-sell »
    rule = parse_condition(messages("email", "gt", 1, "cross-sell", 2 * DAY))
    twice = Facts(
        messages=[
            MessageRecord(Channel.EMAIL, NOW - timedelta(hours=30), "cross-sell"),
            MessageRecord(Channel.EMAIL, NOW - timedelta(hours=2), "cross-sell"),
        ]
    )
    # when / then those who had it twice lately match, the others do not
    assert evaluate(rule, twice, NOW)
    assert not evaluate(rule, MARIE, NOW)


# --- parsing and refusals ------------------------------------------------------------------

REFUSED = [
    (contact("email", "gt", "a"), "does not apply to string"),
    (custom("vip", "boolean", "lt", True), "does not apply to boolean"),
    (custom("d", "date", "contains", "2026"), "does not apply to date"),
    (custom("n", "number", "starts_with", "1"), "does not apply to number"),
    (contact("email", "exists", "a"), "takes no value"),
    (contact("email", "in", "a"), "takes a list"),
    (contact("email", "in", []), "takes a list"),
    (contact("email", "in", [f"a{n}" for n in range(101)]), "takes a list"),
    (contact("created_at", "within_last", "7d"), "duration in seconds"),
    (contact("created_at", "within_last", True), "duration in seconds"),
    (contact("created_at", "older_than", 0), "durations are"),
    (custom("n", "number", "eq", "abc"), "not a number"),
    (custom("n", "number", "eq", "NaN"), "finite"),
    (custom("n", "number", "eq", True), "expected a number"),
    (custom("b", "boolean", "eq", "true"), "true or false"),
    (custom("d", "date", "eq", "2026-01-01T10:00"), "UTC offset"),
    (custom("d", "date", "eq", "soon"), "Invalid isoformat"),
    (custom("d", "date", "eq", 3), "expected a date"),
    (contact("email", "eq", "  "), "non-blank"),
    (contact("email", "eq", 3), "non-blank"),
    (contact("email", "eq", "x", match_subtags=True), "match_subtags"),
    (contact("language", "contains", "x", match_subtags=True), "match_subtags"),
    (contact("nickname", "eq", "x"), "Input should be 'email'"),
    (contact("email", "like", "x"), "Input should be 'eq'"),
    (custom("k", "text", "eq", "x"), "Input should be 'string'"),
    (custom("a b", "string", "eq", "x"), "String should match pattern"),
    (prop("order..total", "number", "gt", 1), "String should match pattern"),
    (prop(".".join("abcdefghi"), "string", "exists"), "String should match pattern"),
    ({"type": "purchased"}, "at least one product"),
    (messages("email", "in", 1), "message counts compare"),
    (messages("email", "gte", -1), "greater than or equal to 0"),
    (messages("fax", "gte", 1), "Input should be 'email'"),
    (messages("email", "gte", 1, within=0), "greater than or equal to 1"),
    (tags("has_any"), "at least 1 item"),
    (tags("contains_any", "x"), "Input should be 'has_any'"),
    (consent("email", "eq", "maybe"), "Input should be 'subscribed'"),
    (in_list("in", ""), "at least 1 character"),
    ({"type": "segment", "segment_id": "x"}, "does not match any of the expected tags"),
    ({**contact("email", "exists"), "extra": 1}, "Extra inputs are not permitted"),
    (not_({}), "Unable to extract tag"),
]


@pytest.mark.parametrize(("data", "message"), REFUSED)
def test_bad_conditions_are_refused_with_a_clear_error(data: dict[str, Any], message: str) -> None:
    # given stored data that is not a valid condition
    # when / then parsing names the problem
    with pytest.raises(ValidationError, match=message):
        parse_condition(data)


def test_conditions_round_trip_through_json() -> None:
    # given every condition of the evaluation table, in one group
    condition = parse_condition(any_of(*(param.values[0] for param in CASES[:MAX_PREDICATES])))
    # when it is stored as JSON and read back
    stored = json.dumps(dump_condition(condition))
    # then it is the same condition, and stored values keep their JSON-friendly form
    assert parse_condition(stored) == condition
    assert parse_condition(stored.encode()) == condition
    first = dump_condition(parse_condition(stat("total_spent", "gte", "249.90")))
    assert first == {"type": "order_stat", "stat": "total_spent", "op": "gte", "value": "249.90"}


def test_conditions_built_in_code_are_checked_too() -> None:
    # given a predicate built from Python values
    built = ContactFieldPredicate(field=ContactField.CREATED_AT, op=Op.GT, value=date(2026, 6, 1))
    # when / then its value is converted and it evaluates
    assert built.value == datetime(2026, 6, 1, tzinfo=UTC)
    assert evaluate(built, MARIE, NOW)
    with pytest.raises(ValidationError, match="does not apply"):
        ContactFieldPredicate(field=ContactField.EMAIL, op=Op.LT, value="x")


# --- limits and publish-time violations ----------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    condition = YES
    for _ in range(depth - 1):
        condition = not_(condition)
    return condition


def test_depth_limit() -> None:
    # given conditions nested exactly to the limit and one level deeper
    # when / then the first parses, the second is refused at its deepest node
    parse_condition(nested(MAX_DEPTH))
    with pytest.raises(InvalidCondition, match="nest at most 8 levels") as refused:
        parse_condition(nested(MAX_DEPTH + 1))
    assert [(v.path, v.code) for v in refused.value.violations] == [
        (".".join(["condition"] * MAX_DEPTH), "too_deep")
    ]


def test_predicate_limit() -> None:
    # given exactly the limit of predicates, then one more, spread over groups
    enough = all_of(all_of(*[YES] * 50), any_of(*[YES] * 50))
    too_many = all_of(all_of(*[YES] * 50), any_of(*[YES] * 51))
    # when / then
    parse_condition(enough)
    with pytest.raises(InvalidCondition, match="at most 100 predicates"):
        parse_condition(too_many)
    with pytest.raises(ValidationError, match="at most 100 items"):
        parse_condition(all_of(*[YES] * 101))


def test_condition_violations_name_each_problem_with_its_path() -> None:
    # given an entry filter with an unknown list, an empty group and a known list
    condition = parse_condition(
        all_of(in_list("in", "vips"), not_(in_list("not_in", "gone")), any_of())
    )
    # when it is checked against the store's lists
    violations = condition_violations(condition, "entry_filter", known_lists=frozenset({"vips"}))
    # then each problem is reported at its field
    assert violations == [
        Violation(
            "entry_filter.conditions.1.condition.list_id", "unknown_list", "no list has id 'gone'"
        ),
        Violation("entry_filter.conditions.2", "empty_group", "an empty 'any' group always fails"),
    ]
    # and without known lists, lists are not checked
    assert [v.code for v in condition_violations(condition)] == ["empty_group"]


def test_condition_violations_report_limits_of_conditions_built_in_code() -> None:
    # given a condition built in Python, never parsed, breaking both limits
    deep: Condition = ContactFieldPredicate(field=ContactField.EMAIL, op=Op.EXISTS)
    for _ in range(MAX_DEPTH):
        deep = Not(condition=deep)
    wide = AllOf(conditions=(AnyOf(conditions=(deep,) * 60), AnyOf(conditions=(deep,) * 60)))
    # when it is checked
    codes = [(v.path, v.code) for v in condition_violations(wide, "exit")]
    # then both are reported once, at the root and at the first node too deep
    assert codes[0] == ("exit", "too_many_predicates")
    assert codes[1] == ("exit.conditions.0.conditions.0" + ".condition" * 6, "too_deep")
    assert len(codes) == 2


# --- requirements --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (contact("email", "exists"), Requirements()),
        (contact("created_at", "within_last", DAY), Requirements(time_dependent=True)),
        (prop("order.total", "number", "gt", 1), Requirements(event=True)),
        (
            any_of(
                messages("email", "gt", 1, "c", 2 * DAY), not_(messages("sms", "eq", 0, None, DAY))
            ),
            Requirements(messages=True, message_lookback=2 * DAY, time_dependent=True),
        ),
        (
            all_of(messages("email", "gt", 1, "c", DAY), messages("email", "eq", 0)),
            Requirements(messages=True, message_lookback=None, time_dependent=True),
        ),
        (messages("email", "eq", 0), Requirements(messages=True)),
        (
            bought(products=("p",), within=7 * DAY),
            Requirements(purchases=True, purchase_lookback=7 * DAY, time_dependent=True),
        ),
        (bought(products=("p",)), Requirements(purchases=True)),
    ],
)
def test_requirements_say_what_to_load(data: dict[str, Any], expected: Requirements) -> None:
    # given a condition
    # when / then its requirements name the facts it reads and how far back
    assert requirements(parse_condition(data)) == expected


# --- properties ----------------------------------------------------------------------------

LEAVES = [
    param.values[0]
    for param in CASES + MISSING_CASES
    if param.values[0]["type"] not in {"all", "any", "not"}
]


def combine(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    lists = st.lists(children, max_size=4)
    return st.one_of(
        lists.map(lambda c: all_of(*c)), lists.map(lambda c: any_of(*c)), children.map(not_)
    )


conditions = st.recursive(st.sampled_from(LEAVES), combine, max_leaves=12)


def parse_within_limits(data: dict[str, Any]) -> Condition:
    """Parse a generated condition; discard the example if it nests deeper than the limit."""
    try:
        return parse_condition(data)
    except InvalidCondition:
        assume(False)
        raise


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["k", "order", "lines", "sku", "properties", "0"]), inner, max_size=3
        )
    ),
    max_leaves=10,
)
#: Any datetime, naive or with an extreme offset (UTC cannot hold 0001-01-01 00:00+14:00).
moments = st.datetimes() | st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))])
)
junk = st.one_of(json_values, st.decimals(), moments, st.dates(), st.text())
facts = st.builds(
    Facts,
    email=st.none() | st.text(max_size=12),
    language=st.none() | st.sampled_from(["pt", "pt-BR", "", "PT_br", "x-"]),
    created_at=st.none() | moments,
    custom_fields=st.dictionaries(
        st.sampled_from(["k", "vip", "score", "colors", "birthday"]), junk, max_size=4
    ),
    consents=st.dictionaries(st.sampled_from(["email", "sms"]), st.text(max_size=12), max_size=2),
    orders_count=st.integers(0, 10),
    first_order_at=st.none() | moments,
    last_order_at=st.none() | moments,
    purchases=st.lists(
        st.builds(PurchaseRecord, st.just("prod-1"), st.none() | st.just("var-1"), moments),
        max_size=3,
    ),
    event=st.none()
    | st.dictionaries(
        st.sampled_from(["properties", "order", "event_type"]), json_values, max_size=3
    ),
    messages=st.lists(
        st.builds(
            MessageRecord, st.sampled_from(list(Channel)), moments, st.none() | st.just("upsell")
        ),
        max_size=4,
    ),
)


@settings(max_examples=300, deadline=None)
@given(data=conditions)
def test_any_condition_round_trips(data: dict[str, Any]) -> None:
    # given any valid condition
    condition = parse_within_limits(data)
    # when it is stored as JSON and read back
    again = parse_condition(json.dumps(dump_condition(condition)))
    # then nothing changed
    assert again == condition


@settings(max_examples=300, deadline=None)
@given(data=conditions, known=facts, now=st.datetimes(timezones=st.just(UTC)))
def test_evaluation_is_total_and_negation_is_exact(
    data: dict[str, Any], known: Facts, now: datetime
) -> None:
    # given any condition and any facts, including junk of every type
    condition = parse_within_limits(data)
    # when it is evaluated, then it never raises and `not` is the exact opposite
    assert evaluate(Not(condition=condition), known, now) is not evaluate(condition, known, now)
