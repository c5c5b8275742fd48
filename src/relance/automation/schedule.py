"""Time arithmetic for ``delay`` and ``wait_until`` steps, in the contact's time zone.

All inputs and outputs are timezone-aware datetimes; results are in UTC. Weekdays are numbered as
:meth:`datetime.weekday` does: Monday is 0, Sunday is 6. Nothing here reads the clock.

- A **delay** is elapsed time: :func:`after_delay` adds seconds in UTC, so "2 days" across a DST
  change is 48 real hours.
- A **window** (:class:`DailyWindow`) is judged on the local wall clock. A local moment is
  *allowed* when it lies in ``[start, start + length)`` of an allowed day, where ``length`` is
  ``end - start``, or ``end - start + 24 h`` when ``end`` is earlier (the window crosses midnight:
  22:00-02:00 on Friday covers Friday 22:00 to Saturday 02:00 and belongs to Friday), or 24 h when
  ``start == end``. Windows are half-open: ``end`` itself is outside.
- **DST** follows from the wall-clock rule. In a spring-forward gap the wall clock skips the
  missing hour, so a window or time of day that begins inside it begins at the first valid
  instant after the gap (Paris, 2026-03-29 02:30 → 03:00 CEST). In a fall-back overlap the earlier
  (first) occurrence of a repeated wall time comes first; a window whose wall time repeats is open
  during both passes (a moment is allowed by its wall time), while :func:`time_of_day` fires once
  per local date, at the first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Every day of the week (Monday = 0).
EVERY_DAY = frozenset(range(7))
#: Monday to Friday.
WEEKDAYS = frozenset(range(5))

_DAY = timedelta(days=1)
#: Offsets are sampled this far apart when looking for a DST change. Every zone's changes since
#: 1970 are more than six days apart, so two changes never hide between samples.
_SCAN_STEP = timedelta(hours=6)
#: Days searched forward before giving up: a week covers every weekday; the rest absorbs a window
#: that a DST gap swallows on its only allowed day.
_HORIZON_DAYS = 15
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,2}$")


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """Local wall-clock hours ``[start, end)``; ``end < start`` crosses midnight, ``==`` is 24 h.

    Invariant: both times are naive (local to whatever zone the window is applied in).
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times: no tzinfo")

    @property
    def length(self) -> timedelta:
        """How long the window stays open on one allowed day (0 < length ≤ 24 h)."""
        span = _as_delta(self.end) - _as_delta(self.start)
        return span if span > timedelta(0) else span + _DAY


#: Open all day: every moment of an allowed day.
ALL_DAY = DailyWindow(time(0), time(0))


def after_delay(now: datetime, seconds: int) -> datetime:
    """``now`` plus ``seconds`` of elapsed time, in UTC (wall clocks and DST play no part)."""
    _require_aware(now)
    return now.astimezone(UTC) + timedelta(seconds=seconds)


def next_allowed_time(
    now: datetime, *, tz: ZoneInfo, window: DailyWindow, weekdays: frozenset[int]
) -> datetime:
    """The earliest instant ≥ ``now`` that is allowed by ``window`` on ``weekdays`` in ``tz``.

    Returns ``now`` itself (in UTC) when it is already allowed, so the result is a fixed point:
    calling again with it returns it unchanged (safe to retry). See the module docstring for
    windows crossing midnight and DST.

    Parameters:
        now(datetime): aware; the search starts here.
        tz(ZoneInfo): the contact's zone (see :func:`resolve_timezone`).
        window(DailyWindow): allowed local hours.
        weekdays(frozenset[int]): allowed local days, Monday = 0 … Sunday = 6; not empty.

    Returns:
        datetime: aware, in UTC, ``≥ now``.

    Raises:
        ValueError: ``now`` is naive or ``weekdays`` is empty or out of 0..6.

    Example:
        >>> paris = ZoneInfo("Europe/Paris")
        >>> saturday_noon = datetime(2026, 6, 6, 10, tzinfo=UTC)
        >>> office = DailyWindow(time(9), time(17))
        >>> next_allowed_time(saturday_noon, tz=paris, window=office, weekdays=WEEKDAYS)
        datetime.datetime(2026, 6, 8, 7, 0, tzinfo=datetime.timezone.utc)
    """
    _require_aware(now)
    _check_weekdays(weekdays)
    moment = now.astimezone(UTC)
    limit = moment + _HORIZON_DAYS * _DAY
    while moment < limit:
        offset = _offset(moment, tz)
        wall = _first_allowed_wall(moment.replace(tzinfo=None) + offset, window, weekdays)
        candidate = (wall - offset).replace(tzinfo=UTC)
        change = _first_change(moment, candidate, tz)
        if change is None:  # the offset holds until the candidate: the wall clock is linear
            return candidate
        moment = change  # the wall clock jumps here; look again from the new offset
    raise AssertionError("unreachable: some allowed day comes within two weeks")


def time_of_day(now: datetime, tz: ZoneInfo, at: time, weekdays: frozenset[int]) -> datetime:
    """The next occurrence of local time ``at`` on an allowed day, at or after ``now``.

    Boundary: when ``now`` is exactly an occurrence, ``now`` is returned (``≥``, not ``>``), so the
    result is a fixed point and a retried computation gives the same wake-up. One occurrence per
    local date: if ``at`` is repeated (fall-back), the first one; if ``at`` does not exist
    (spring-forward), the first valid instant after the gap.

    Returns:
        datetime: aware, in UTC, ``≥ now``.

    Raises:
        ValueError: ``now`` is naive, ``at`` has a tzinfo, or ``weekdays`` is empty or out of 0..6.

    Example:
        >>> paris = ZoneInfo("Europe/Paris")
        >>> night = datetime(2026, 3, 28, 23, tzinfo=UTC)
        >>> time_of_day(night, paris, time(2, 30), EVERY_DAY)  # 02:30 does not exist that night
        datetime.datetime(2026, 3, 29, 1, 0, tzinfo=datetime.timezone.utc)
    """
    _require_aware(now)
    _check_weekdays(weekdays)
    if at.tzinfo is not None:
        raise ValueError("at is a local wall-clock time: no tzinfo")
    moment = now.astimezone(UTC)
    today = moment.astimezone(tz).date()
    for days in range(-1, _HORIZON_DAYS):
        day = today + timedelta(days=days)
        if day.weekday() in weekdays:
            occurrence = _local_to_utc(datetime.combine(day, at), tz)
            if occurrence >= moment:
                return occurrence
    raise AssertionError("unreachable: some allowed day comes within two weeks")


def resolve_timezone(contact_tz: str | None, store_tz: str) -> ZoneInfo:
    """The contact's zone if it names one, else the store's, else UTC. Never raises.

    Names are IANA keys (``Europe/Paris``); blank, malformed or unknown names fall through.
    """
    for name in (contact_tz, store_tz):
        zone = _zone(name)
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None or not _ZONE_NAME.match(name.strip()):
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _first_allowed_wall(wall: datetime, window: DailyWindow, weekdays: frozenset[int]) -> datetime:
    """The earliest naive wall-clock moment ≥ ``wall`` that the window allows (no DST here)."""
    for days in range(-1, 9):
        day = wall.date() + timedelta(days=days)
        if day.weekday() not in weekdays:
            continue
        opens = datetime.combine(day, window.start)
        if opens + window.length > wall:
            return max(opens, wall)
    raise AssertionError("unreachable: weekdays is not empty")


def _local_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant whose wall time in ``tz`` is ``wall`` or, in a gap, just after it."""
    earlier, later = sorted(wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    for instant in (earlier, later):
        if instant.astimezone(tz).replace(tzinfo=None) == wall:
            return instant
    # A gap: the two folds straddle the change; the change itself is the first valid instant.
    change = _first_change(earlier, later, tz)
    assert change is not None
    return change


def _first_change(start: datetime, end: datetime, tz: ZoneInfo) -> datetime | None:
    """The first instant in ``(start, end]`` whose UTC offset differs from ``start``'s, if any."""
    offset = _offset(start, tz)
    low = start
    while low < end:
        high = min(low + _SCAN_STEP, end)
        if _offset(high, tz) != offset:
            while high - low > timedelta(microseconds=1):  # offset(low) same, offset(high) not
                middle = low + (high - low) / 2
                if _offset(middle, tz) == offset:
                    low = middle
                else:
                    high = middle
            return high
        low = high
    return None


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _as_delta(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _require_aware(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _check_weekdays(weekdays: frozenset[int]) -> None:
    if not weekdays or not weekdays <= EVERY_DAY:
        raise ValueError("weekdays must be a non-empty set of 0 (Monday) … 6 (Sunday)")
