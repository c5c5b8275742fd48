"""One condition language for entry filters, exit conditions, splits, segments and keyword rules.

A condition is data: a discriminated union of frozen pydantic models keyed on ``type``. Three
combinators (``all``, ``any``, ``not``) nest predicates; every predicate is declarative — a
subject (a field, a tag set, a list, a channel…), an operator and a value — and holds no callable.
:func:`evaluate` decides a condition against :class:`Facts` at an instant ``now``.

Stored ``type`` keys (part of the JSON format, never rename one): ``all``, ``any``, ``not``,
``contact_field``, ``custom_field``, ``tags``, ``list_membership``, ``consent``, ``order_stat``,
``purchased``, ``event_property``, ``message_count``. Operator values (:class:`Op`) are stored too.

Semantics (the same in Python and, later, in SQL):

- **Two-valued logic.** Every predicate is true or false, never "unknown"; ``not`` is plain
  negation; an empty ``all`` is true and an empty ``any`` is false (both are reported by
  :func:`condition_violations` as ``empty_group``).
- **Missing values.** A value is missing when it is absent, ``None``, a blank string, or not of the
  predicate's value type (a custom field holding ``"abc"`` compared as a number). With a missing
  value every operator is false except ``not_exists`` — ``ne`` and ``not_in`` included, as in SQL:
  "language ne fr" does not match a contact without a language; write
  ``any(language ne fr, language not_exists)`` for that. Evaluation never raises on facts.
- **Never missing:** tags, lists (sets, possibly empty), consent (a channel with no record is
  ``none``), ``orders_count`` and ``total_spent`` (0), message counts (0).
- **Strings** compare case-insensitively (``str.lower`` on both sides); ``lt``/``gt`` do not
  apply to them. With ``match_subtags`` (language only) a value is a BCP 47 language range matched
  by RFC 4647 basic filtering: ``pt`` matches ``pt``, ``pt-BR`` and ``pt-PT``; ``pt-BR`` matches
  only ``pt-BR`` and its extensions. Tags, list ids, product ids and categories compare exactly.
- **Numbers** are :class:`~decimal.Decimal` (money in the currency's major unit); a fact may be an
  int, a finite float, a Decimal or a numeric string; booleans are never numbers.
- **Dates** are instants: aware datetimes in UTC; a calendar date means 00:00 UTC that day; a
  naive fact datetime is read as UTC. ``within_last`` takes a duration in seconds and holds when
  ``now - value ≤ fact ≤ now``; ``older_than`` holds when ``fact < now - value``.
- **Several values.** A custom field or event property holding a list, or an event path crossing a
  list (``order.lines.sku``), yields several values; a comparison holds when *at least one* value
  satisfies it (``exists`` when at least one is present). Use ``not`` for "none of them".

Compiling to SQL (dynamic lists): each predicate maps to one boolean expression that is never
NULL (wrap comparisons in ``COALESCE(…, FALSE)``), so ``all``/``any``/``not`` become
``AND``/``OR``/``NOT`` unchanged. ``contact_field`` and ``order_stat`` are columns of the contact
row (``lower(col) = lower(:v)``; a language range as ``lower(col) = :r OR lower(col) LIKE :r ||
'-%'``, LIKE wildcards escaped); ``custom_field`` reads a JSON column with a cast per
``value_type``; ``tags``, ``list_membership`` and ``purchased`` are ``EXISTS`` sub-queries;
``consent`` is ``COALESCE(status, 'none')``; ``message_count`` is a correlated ``count(*)`` over
messages sent since ``:now - within``. Relative dates bind ``now`` as a parameter (see
:attr:`Requirements.time_dependent`). ``event_property`` exists only at enrollment time and has
no SQL form: a segment compiler refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

if TYPE_CHECKING:
    from relance.automation.validation import Violation

#: Deepest nesting: a lone predicate has depth 1, ``all(predicate)`` depth 2.
MAX_DEPTH = 8
#: Most predicates (leaves) in one condition.
MAX_PREDICATES = 100
#: Most values in one ``in``/``not_in`` list, tag set or product list.
MAX_VALUES = 100
#: Longest look-back of a relative date or history window: ten years, in seconds.
MAX_WINDOW_SECONDS = 10 * 366 * 86400
#: Most values one path or list field yields for a comparison (the rest are ignored).
MAX_FANOUT = 1000

Identifier = Annotated[str, Field(min_length=1, max_length=64)]
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
#: Dotted path into the trigger's context: ``properties.source``, ``order.lines.0.sku``.
Path = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$")]
WindowSeconds = Annotated[int, Field(ge=1, le=MAX_WINDOW_SECONDS)]

Scalar = str | bool | Decimal | datetime
#: A predicate's value: a scalar, a tuple for ``in``/``not_in``, seconds (int) for relative
#: dates, ``None`` for ``exists``/``not_exists``.
Operand = Scalar | int | tuple[Scalar, ...] | None


class Op(StrEnum):
    """Comparison operators (stored values)."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"
    WITHIN_LAST = "within_last"  #: value: seconds
    OLDER_THAN = "older_than"  #: value: seconds


class ValueType(StrEnum):
    """How a value is read and compared (stored values)."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


_PRESENCE = frozenset({Op.EXISTS, Op.NOT_EXISTS})
_ORDER = frozenset({Op.EQ, Op.NE, Op.LT, Op.LTE, Op.GT, Op.GTE})
_SETS = frozenset({Op.IN, Op.NOT_IN})
_RELATIVE = frozenset({Op.WITHIN_LAST, Op.OLDER_THAN})
_OPS: dict[ValueType, frozenset[Op]] = {
    ValueType.STRING: _PRESENCE | _SETS | {Op.EQ, Op.NE, Op.CONTAINS, Op.STARTS_WITH},
    ValueType.NUMBER: _PRESENCE | _SETS | _ORDER,
    ValueType.BOOLEAN: _PRESENCE | {Op.EQ, Op.NE},
    ValueType.DATE: _PRESENCE | _ORDER | _RELATIVE,
}


class ContactField(StrEnum):
    """Built-in contact fields (stored values; each is a :class:`Facts` attribute)."""

    EMAIL = "email"
    PHONE = "phone"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    LANGUAGE = "language"
    COUNTRY = "country"
    GENDER = "gender"
    TIME_ZONE = "time_zone"
    PLATFORM_USER_ID = "platform_user_id"
    CREATED_AT = "created_at"


class OrderStat(StrEnum):
    """Order statistics kept on the contact (stored values; each is a :class:`Facts` attribute)."""

    ORDERS_COUNT = "orders_count"
    TOTAL_SPENT = "total_spent"
    FIRST_ORDER_AT = "first_order_at"
    LAST_ORDER_AT = "last_order_at"


class Channel(StrEnum):
    """Channels that carry consent and messages."""

    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class ConsentStatus(StrEnum):
    """A contact's consent on one channel; ``none`` when nothing was ever recorded."""

    SUBSCRIBED = "subscribed"
    PENDING = "pending"  #: double opt-in not confirmed yet
    UNSUBSCRIBED = "unsubscribed"
    NONE = "none"


def _field_type(name: ContactField) -> ValueType:
    return ValueType.DATE if name is ContactField.CREATED_AT else ValueType.STRING


def _stat_type(name: OrderStat) -> ValueType:
    numeric = name in {OrderStat.ORDERS_COUNT, OrderStat.TOTAL_SPENT}
    return ValueType.NUMBER if numeric else ValueType.DATE


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Comparison(_Frozen):
    """A predicate ``<subject> <op> <value>``: ``value`` is checked and converted for ``op``.

    Each subclass declares ``op: Op`` and ``value: Operand = None`` after its subject, so the
    stored form reads ``type``, subject, ``op``, ``value``.
    """

    @classmethod
    def _value_type(cls, data: Mapping[str, Any]) -> ValueType:
        """The value type of the raw ``data``; raises ``ValueError`` if its subject is unknown."""
        raise NotImplementedError

    @model_validator(mode="before")
    @classmethod
    def _check_value(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        try:
            op, kind = Op(str(data.get("op"))), cls._value_type(data)
        except ValueError:
            return data  # the field validators name the bad field
        return {**data, "value": _operand(kind, op, data.get("value"))}


class ContactFieldPredicate(_Comparison):
    """Compare a built-in contact field; ``created_at`` is a date, the others strings."""

    type: Literal["contact_field"] = "contact_field"
    field: ContactField
    op: Op
    value: Operand = None
    match_subtags: bool = False  #: language only: the value is a BCP 47 range (RFC 4647)

    @classmethod
    def _value_type(cls, data: Mapping[str, Any]) -> ValueType:
        return _field_type(ContactField(str(data.get("field"))))

    @model_validator(mode="after")
    def _check_subtags(self) -> ContactFieldPredicate:
        if self.match_subtags and (
            self.field is not ContactField.LANGUAGE or self.op not in {Op.EQ, Op.NE, *_SETS}
        ):
            raise ValueError("match_subtags applies to language with eq, ne, in or not_in")
        return self


class CustomFieldPredicate(_Comparison):
    """Compare the custom field ``key``, read as ``value_type``."""

    type: Literal["custom_field"] = "custom_field"
    key: Key
    value_type: ValueType = ValueType.STRING
    op: Op
    value: Operand = None

    @classmethod
    def _value_type(cls, data: Mapping[str, Any]) -> ValueType:
        return ValueType(str(data.get("value_type", ValueType.STRING)))


class OrderStatPredicate(_Comparison):
    """Compare an order statistic: counts and totals are numbers, first/last order dates."""

    type: Literal["order_stat"] = "order_stat"
    stat: OrderStat
    op: Op
    value: Operand = None

    @classmethod
    def _value_type(cls, data: Mapping[str, Any]) -> ValueType:
        return _stat_type(OrderStat(str(data.get("stat"))))


class EventPropertyPredicate(_Comparison):
    """Compare a value of the trigger's context at ``path`` (``properties.x``, ``order.total``)."""

    type: Literal["event_property"] = "event_property"
    path: Path
    value_type: ValueType = ValueType.STRING
    op: Op
    value: Operand = None

    @classmethod
    def _value_type(cls, data: Mapping[str, Any]) -> ValueType:
        return ValueType(str(data.get("value_type", ValueType.STRING)))


class TagsPredicate(_Frozen):
    """The contact's tags include any / all / none of ``tags`` (exact, case-sensitive)."""

    type: Literal["tags"] = "tags"
    op: Literal["has_any", "has_all", "has_none"]
    tags: tuple[Identifier, ...] = Field(min_length=1, max_length=MAX_VALUES)


class ListPredicate(_Frozen):
    """The contact is (``in``) or is not (``not_in``) a member of list ``list_id``."""

    type: Literal["list_membership"] = "list_membership"
    op: Literal["in", "not_in"]
    list_id: Identifier


class ConsentPredicate(_Frozen):
    """The contact's consent on ``channel`` is (``eq``) or is not (``ne``) ``status``."""

    type: Literal["consent"] = "consent"
    channel: Channel
    op: Literal["eq", "ne"] = "eq"
    status: ConsentStatus


class PurchasedPredicate(_Frozen):
    """The contact bought one of ``products`` or ``variants`` — ever, or within the window.

    Invariant: at least one product or variant id. ``within_seconds``: look-back in seconds.
    """

    type: Literal["purchased"] = "purchased"
    products: tuple[Identifier, ...] = Field(default=(), max_length=MAX_VALUES)
    variants: tuple[Identifier, ...] = Field(default=(), max_length=MAX_VALUES)
    within_seconds: WindowSeconds | None = None

    @model_validator(mode="after")
    def _check_ids(self) -> PurchasedPredicate:
        if not (self.products or self.variants):
            raise ValueError("name at least one product or variant")
        return self


class MessageCountPredicate(_Frozen):
    """The number of ``channel`` messages [of ``category``] received [within the window] ``op`` k.

    The seeds' frequency rule: "emails of category C received within the last 2 days ≥ 1" is
    ``channel=email, category=C, within_seconds=172800, op=gte, value=1``. Categories compare
    exactly; ``category=None`` counts every category; ``within_seconds=None`` counts all history.
    """

    type: Literal["message_count"] = "message_count"
    channel: Channel
    category: Identifier | None = None
    within_seconds: WindowSeconds | None = None
    op: Op
    value: int = Field(ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _check_op(self) -> MessageCountPredicate:
        if self.op not in _ORDER:
            raise ValueError("message counts compare with eq, ne, lt, lte, gt or gte")
        return self


class AllOf(_Frozen):
    """True when every condition is (an empty group is true)."""

    type: Literal["all"] = "all"
    conditions: tuple[Condition, ...] = Field(default=(), max_length=MAX_PREDICATES)


class AnyOf(_Frozen):
    """True when at least one condition is (an empty group is false)."""

    type: Literal["any"] = "any"
    conditions: tuple[Condition, ...] = Field(default=(), max_length=MAX_PREDICATES)


class Not(_Frozen):
    """True when ``condition`` is false."""

    type: Literal["not"] = "not"
    condition: Condition


Predicate = (
    ContactFieldPredicate
    | CustomFieldPredicate
    | TagsPredicate
    | ListPredicate
    | ConsentPredicate
    | OrderStatPredicate
    | PurchasedPredicate
    | EventPropertyPredicate
    | MessageCountPredicate
)
Condition = Annotated[AllOf | AnyOf | Not | Predicate, Field(discriminator="type")]
for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()
_COMPARISONS = (
    ContactFieldPredicate,
    CustomFieldPredicate,
    OrderStatPredicate,
    EventPropertyPredicate,
)
_ADAPTER: TypeAdapter[Condition] = TypeAdapter(Condition, config=ConfigDict(title="Condition"))


# --- facts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One message the contact received: its channel, category and when it was sent (UTC).

    ``transactional`` messages count in ``message_count`` like any other, but not toward the
    store's marketing frequency cap.
    """

    channel: Channel
    sent_at: datetime
    category: str | None = None
    transactional: bool = False


@dataclass(frozen=True, slots=True)
class PurchaseRecord:
    """One purchased line: product and/or variant id, and when the order was placed (UTC)."""

    product_id: str | None
    variant_id: str | None
    purchased_at: datetime


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a condition may read about one contact, supplied by the caller.

    Attributes are named after :class:`ContactField` and :class:`OrderStat` values. ``event`` is
    the trigger's JSON-safe context (``DomainEvent.context()``: ``event_type``, ``properties``,
    ``order``), ``None`` outside an enrollment. ``messages`` and ``purchases`` need only reach
    back as far as :func:`requirements` says. Money is Decimal in the major unit; datetimes are
    UTC (naive ones are read as UTC).
    """

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    country: str | None = None
    gender: str | None = None
    time_zone: str | None = None
    platform_user_id: str | None = None
    created_at: datetime | None = None
    custom_fields: Mapping[str, object] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    consents: Mapping[str, str] = field(default_factory=dict)  #: channel → ConsentStatus value
    orders_count: int = 0
    total_spent: Decimal = Decimal(0)
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    purchases: Sequence[PurchaseRecord] = ()
    event: Mapping[str, object] | None = None
    messages: Sequence[MessageRecord] = ()


# --- evaluation ----------------------------------------------------------------------------


def evaluate(condition: Condition, facts: Facts, now: datetime) -> bool:
    """Whether ``condition`` holds for ``facts`` at ``now``. Pure and deterministic.

    Parameters:
        condition(Condition): any condition, parsed or built in code.
        facts(Facts): what is known of the contact; missing values follow the module's rules.
        now(datetime): the instant relative dates and windows are measured from.

    Raises:
        ValueError: ``now`` is naive (a programming error; facts never make it raise).

    Example:
        >>> ok = ContactFieldPredicate(field="email", op="eq", value="me@shop.fr")
        >>> evaluate(ok, Facts(email="Me@Shop.fr"), datetime(2026, 1, 1, tzinfo=UTC))
        True
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return _evaluate(condition, facts, now.astimezone(UTC))


def _evaluate(condition: Condition, facts: Facts, now: datetime) -> bool:
    c = condition
    match c:
        case AllOf():
            return all(_evaluate(child, facts, now) for child in c.conditions)
        case AnyOf():
            return any(_evaluate(child, facts, now) for child in c.conditions)
        case Not():
            return not _evaluate(c.condition, facts, now)
        case ContactFieldPredicate():
            raw = getattr(facts, c.field.value)
            kind = _field_type(c.field)
            return _compare(c.op, c.value, kind, [raw], now, subtags=c.match_subtags)
        case CustomFieldPredicate():
            raws = _flatten([facts.custom_fields.get(c.key)])
            return _compare(c.op, c.value, c.value_type, raws, now)
        case OrderStatPredicate():
            raw = getattr(facts, c.stat.value)
            return _compare(c.op, c.value, _stat_type(c.stat), [raw], now)
        case EventPropertyPredicate():
            return _compare(c.op, c.value, c.value_type, _resolve(facts.event, c.path), now)
        case TagsPredicate():
            if c.op == "has_all":
                return facts.tags.issuperset(c.tags)
            return facts.tags.isdisjoint(c.tags) == (c.op == "has_none")
        case ListPredicate():
            return (c.list_id in facts.lists) == (c.op == "in")
        case ConsentPredicate():
            status = facts.consents.get(c.channel, ConsentStatus.NONE)
            return (status == c.status) == (c.op == "eq")
        case PurchasedPredicate():
            since = None if c.within_seconds is None else _before(now, c.within_seconds)
            return any(
                (p.product_id in c.products or p.variant_id in c.variants)
                and _in_window(p.purchased_at, since, now)
                for p in facts.purchases
            )
        case MessageCountPredicate():
            since = None if c.within_seconds is None else _before(now, c.within_seconds)
            count = sum(
                1
                for m in facts.messages
                if m.channel == c.channel
                and (c.category is None or m.category == c.category)
                and _in_window(m.sent_at, since, now)
            )
            return _holds(c.op, Decimal(c.value), Decimal(count), now, subtags=False)
        case _:
            assert_never(c)


def _compare(
    op: Op,
    expected: Operand,
    kind: ValueType,
    raws: Sequence[object],
    now: datetime,
    *,
    subtags: bool = False,
) -> bool:
    present = [v for raw in raws[:MAX_FANOUT] if (v := _read_fact(kind, raw)) is not None]
    if op is Op.EXISTS:
        return bool(present)
    if op is Op.NOT_EXISTS:
        return not present
    return any(_holds(op, expected, actual, now, subtags=subtags) for actual in present)


def _holds(op: Op, expected: Operand, actual: Scalar, now: datetime, *, subtags: bool) -> bool:
    match op:
        case Op.EQ:
            return _equal(actual, expected, subtags=subtags)
        case Op.NE:
            return not _equal(actual, expected, subtags=subtags)
        case Op.LT | Op.LTE | Op.GT | Op.GTE:
            order = _order(actual, expected)
            if order is None:
                return False
            if op is Op.LT:
                return order < 0
            if op is Op.LTE:
                return order <= 0
            return order > 0 if op is Op.GT else order >= 0
        case Op.IN | Op.NOT_IN:
            found = isinstance(expected, tuple) and any(
                _equal(actual, item, subtags=subtags) for item in expected
            )
            return found == (op is Op.IN)
        case Op.CONTAINS | Op.STARTS_WITH:
            if not (isinstance(actual, str) and isinstance(expected, str)):
                return False
            text, part = actual.lower(), expected.lower()
            return part in text if op is Op.CONTAINS else text.startswith(part)
        case Op.WITHIN_LAST | Op.OLDER_THAN:
            if not (isinstance(actual, datetime) and isinstance(expected, int)):
                return False
            since = _before(now, expected)
            return since <= actual <= now if op is Op.WITHIN_LAST else actual < since
        case Op.EXISTS | Op.NOT_EXISTS:
            return True  # decided by _compare before any value is looked at
        case _:
            assert_never(op)


def _equal(actual: Scalar, expected: Operand, *, subtags: bool) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        if subtags:  # RFC 4647 basic filtering: the range is the tag or a prefix of its subtags
            tag, wanted = actual.lower().replace("_", "-"), expected.lower().replace("_", "-")
            return tag == wanted or tag.startswith(wanted + "-")
        return actual.lower() == expected.lower()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return _order(actual, expected) == 0


def _order(actual: Scalar, expected: Operand) -> int | None:
    if isinstance(actual, Decimal) and isinstance(expected, Decimal):
        return (actual > expected) - (actual < expected)
    if isinstance(actual, datetime) and isinstance(expected, datetime):
        return (actual > expected) - (actual < expected)
    return None


def _before(now: datetime, seconds: int) -> datetime:
    """``now - seconds``, or the earliest datetime when that would be before year 1."""
    try:
        return now - timedelta(seconds=seconds)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _in_window(moment: datetime, since: datetime | None, now: datetime) -> bool:
    """A record's time counts: any time when ``since`` is ``None``, else ``since ≤ t ≤ now``."""
    if since is None:
        return True
    instant = _utc(moment)
    return instant is not None and since <= instant <= now


def _utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC (naive is read as UTC); ``None`` if UTC cannot hold it (years 1/9999)."""
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _flatten(raws: Sequence[object]) -> list[object]:
    values: list[object] = []
    for raw in raws:
        if isinstance(raw, list | tuple):
            values.extend(raw)
        else:
            values.append(raw)
    return values


def _resolve(root: Mapping[str, object] | None, path: str) -> list[object]:
    """Values at ``path``: keys of mappings, indexes of lists, and every element of a list."""
    nodes: list[object] = [] if root is None else [root]
    for segment in path.split("."):
        following: list[object] = []
        for node in nodes:
            if isinstance(node, Mapping):
                if segment in node:
                    following.append(node[segment])
            elif isinstance(node, list | tuple):
                if segment.isdigit():
                    following.extend(node[int(segment) : int(segment) + 1])
                else:
                    following.extend(
                        item[segment]
                        for item in node
                        if isinstance(item, Mapping) and segment in item
                    )
        nodes = following[:MAX_FANOUT]
    return _flatten(nodes)


# --- values --------------------------------------------------------------------------------


def _read_fact(kind: ValueType, raw: object) -> Scalar | None:
    """A fact as a value of ``kind``, or ``None`` when missing or of another type. Never raises."""
    match kind:
        case ValueType.STRING:
            return raw if isinstance(raw, str) and raw.strip() else None
        case ValueType.BOOLEAN:
            return raw if isinstance(raw, bool) else None
        case ValueType.NUMBER:
            try:
                return _number(raw)
            except (ValueError, TypeError):
                return None
        case ValueType.DATE:
            try:
                return _instant(raw, naive_is_utc=True)
            except (ValueError, TypeError):
                return None
        case _:
            assert_never(kind)


def _number(raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise TypeError("not a number")
    try:
        number = Decimal(str(raw).strip()) if isinstance(raw, float | str) else Decimal(raw)
    except InvalidOperation as error:
        raise ValueError(f"not a number: {raw!r}") from error
    if not number.is_finite():
        raise ValueError("numbers must be finite")
    return number


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _instant(raw: object, *, naive_is_utc: bool) -> datetime:
    if isinstance(raw, str):
        text = raw.strip()
        raw = date.fromisoformat(text) if _DATE_ONLY.match(text) else datetime.fromisoformat(text)
    if isinstance(raw, datetime):
        if raw.utcoffset() is None and not naive_is_utc:
            raise ValueError("datetimes need a UTC offset")
        instant = _utc(raw)
        if instant is None:
            raise ValueError("date out of range")
        return instant
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    raise TypeError("not a date")


def _operand(kind: ValueType, op: Op, value: object) -> Operand:
    """Check and convert a predicate's stored value for ``op``; raises ``ValueError``."""
    if op not in _OPS[kind]:
        raise ValueError(f"operator {op.value!r} does not apply to {kind.value} values")
    if op in _PRESENCE:
        if value is not None:
            raise ValueError(f"{op.value!r} takes no value")
        return None
    if op in _RELATIVE:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{op.value!r} takes a duration in seconds")
        if not 1 <= value <= MAX_WINDOW_SECONDS:
            raise ValueError(f"durations are 1 to {MAX_WINDOW_SECONDS} seconds")
        return value
    if op in _SETS:
        if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_VALUES:
            raise ValueError(f"{op.value!r} takes a list of 1 to {MAX_VALUES} values")
        return tuple(_scalar(kind, item) for item in value)
    return _scalar(kind, value)


def _scalar(kind: ValueType, value: object) -> Scalar:
    match kind:
        case ValueType.STRING:
            if not isinstance(value, str) or not value.strip() or len(value) > 1000:
                raise ValueError("expected a non-blank string of at most 1000 characters")
            return value
        case ValueType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        case ValueType.NUMBER:
            try:
                return _number(value)
            except TypeError as error:
                raise ValueError("expected a number") from error
        case ValueType.DATE:
            try:
                return _instant(value, naive_is_utc=False)
            except TypeError as error:
                raise ValueError("expected a date or an ISO 8601 datetime with offset") from error
        case _:
            assert_never(kind)


# --- parsing, limits and what a condition needs --------------------------------------------


class InvalidCondition(ValueError):
    """A condition that parses but breaks a limit; ``violations`` says where and why."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.path or '<root>'}: {v.message}" for v in violations))


def parse_condition(data: object) -> Condition:
    """Parse a stored condition (JSON text/bytes, or Python data) and enforce the size limits.

    Raises:
        pydantic.ValidationError: the data is not a condition (names the offending field).
        InvalidCondition: deeper than :data:`MAX_DEPTH` or more than :data:`MAX_PREDICATES`.
    """
    if isinstance(data, str | bytes):
        condition = _ADAPTER.validate_json(data)
    else:
        condition = _ADAPTER.validate_python(data)
    limits = [v for v in condition_violations(condition) if v.code in _LIMIT_CODES]
    if limits:
        raise InvalidCondition(limits)
    return condition


def dump_condition(condition: Condition) -> dict[str, Any]:
    """The JSON-safe stored form of ``condition`` (parse it back with :func:`parse_condition`)."""
    dumped: dict[str, Any] = _ADAPTER.dump_python(condition, mode="json")
    return dumped


_LIMIT_CODES = frozenset({"too_deep", "too_many_predicates"})


def _walk(condition: Condition, path: str) -> Iterator[tuple[Condition, str, int]]:
    """Every node with its path and depth (1 at the root), parents first, in document order."""
    stack: list[tuple[Condition, str, int]] = [(condition, path, 1)]
    while stack:  # iterative: a condition built in code may be deeper than Python's stack
        node, at, depth = stack.pop()
        yield node, at, depth
        if isinstance(node, AllOf | AnyOf):
            children = enumerate(node.conditions)
            stack.extend(
                (child, _join(at, f"conditions.{i}"), depth + 1)
                for i, child in reversed([*children])
            )
        elif isinstance(node, Not):
            stack.append((node.condition, _join(at, "condition"), depth + 1))


def _join(prefix: str, suffix: str) -> str:
    return f"{prefix}.{suffix}" if prefix else suffix


def condition_violations(
    condition: Condition, path_prefix: str = "", *, known_lists: frozenset[str] | None = None
) -> list[Violation]:
    """Every publish-time problem of ``condition``, each with its path under ``path_prefix``.

    Codes: ``too_deep`` (at the first node below :data:`MAX_DEPTH`), ``too_many_predicates``
    (at the root), ``empty_group`` (an ``all``/``any`` without conditions), and ``unknown_list``
    (at ``….list_id``, only when ``known_lists`` is given). Pure; an empty list means valid.
    """
    # Imported here: validation imports definitions, which will import this module.
    from relance.automation.validation import Violation

    violations: list[Violation] = []
    predicates = 0
    too_deep = False
    for node, path, depth in _walk(condition, path_prefix):
        if depth > MAX_DEPTH and not too_deep:
            too_deep = True
            message = f"conditions may nest at most {MAX_DEPTH} levels"
            violations.append(Violation(path, "too_deep", message))
        if isinstance(node, AllOf | AnyOf):
            if not node.conditions:
                outcome = "matches" if node.type == "all" else "fails"
                message = f"an empty {node.type!r} group always {outcome}"
                violations.append(Violation(path, "empty_group", message))
        elif not isinstance(node, Not):
            predicates += 1
        if (
            known_lists is not None
            and isinstance(node, ListPredicate)
            and node.list_id not in known_lists
        ):
            message = f"no list has id {node.list_id!r}"
            violations.append(Violation(_join(path, "list_id"), "unknown_list", message))
    if predicates > MAX_PREDICATES:
        message = f"at most {MAX_PREDICATES} predicates are allowed, found {predicates}"
        violations.insert(0, Violation(path_prefix, "too_many_predicates", message))
    return violations


@dataclass(frozen=True, slots=True)
class Requirements:
    """Which facts a condition reads, so a caller loads only those (look-backs in seconds).

    ``message_lookback``/``purchase_lookback`` are ``None`` when the whole history is needed (or,
    if ``messages``/``purchases`` is false, none of it). ``time_dependent``: the result can change
    as ``now`` moves with no change to the facts (relative dates, windows), so a segment using it
    must also be re-evaluated over time.
    """

    event: bool = False
    messages: bool = False
    message_lookback: int | None = None
    purchases: bool = False
    purchase_lookback: int | None = None
    time_dependent: bool = False


def requirements(condition: Condition) -> Requirements:
    """What :func:`evaluate` will read for ``condition``. Pure."""
    event = messages = purchases = time_dependent = False
    message_lookbacks: list[int | None] = []
    purchase_lookbacks: list[int | None] = []
    for node, _path, _depth in _walk(condition, ""):
        if isinstance(node, EventPropertyPredicate):
            event = True
        elif isinstance(node, MessageCountPredicate):
            messages = True
            message_lookbacks.append(node.within_seconds)
        elif isinstance(node, PurchasedPredicate):
            purchases = True
            purchase_lookbacks.append(node.within_seconds)
        if isinstance(node, _COMPARISONS) and node.op in _RELATIVE:
            time_dependent = True
        if isinstance(node, MessageCountPredicate | PurchasedPredicate) and node.within_seconds:
            time_dependent = True
    return Requirements(
        event=event,
        messages=messages,
        message_lookback=_longest(message_lookbacks),
        purchases=purchases,
        purchase_lookback=_longest(purchase_lookbacks),
        time_dependent=time_dependent,
    )


def _longest(lookbacks: list[int | None]) -> int | None:
    if not lookbacks or None in lookbacks:
        return None
    return max(lb for lb in lookbacks if lb is not None)
