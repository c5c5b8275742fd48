"""schedule: windows and times of day in the contact's zone, DST-correct.

Table tests pin known DST dates; property tests check every result against an oracle that only
reads the wall clock (``_allowed``), independent of how the module searches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.automation.schedule import (
    ALL_DAY,
    EVERY_DAY,
    WEEKDAYS,
    DailyWindow,
    after_delay,
    next_allowed_time,
    resolve_timezone,
    time_of_day,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
ZONES = (PARIS, NEW_YORK, SYDNEY, KOLKATA)
FRIDAYS = frozenset({4})
WEEKENDS = frozenset({5, 6})
QUARTER = timedelta(minutes=15)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def at_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def window(start: str, end: str) -> DailyWindow:
    return DailyWindow(time.fromisoformat(start), time.fromisoformat(end))


# --- oracle: the wall-clock definition, written independently --------------------------------


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _allowed(instant: datetime, tz: ZoneInfo, win: DailyWindow, weekdays: frozenset[int]) -> bool:
    wall = _wall(instant, tz)
    start = datetime.combine(date(2000, 1, 1), win.start)
    end = datetime.combine(date(2000, 1, 1), win.end)
    length = (end - start) % timedelta(days=1) or timedelta(days=1)
    for back in (0, 1):
        day = wall.date() - timedelta(days=back)
        opens = datetime.combine(day, win.start)
        if day.weekday() in weekdays and opens <= wall < opens + length:
            return True
    return False


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    return any(
        _wall(wall.replace(tzinfo=tz, fold=fold).astimezone(UTC), tz) == wall for fold in (0, 1)
    )


def _first_reaching(target: datetime, tz: ZoneInfo) -> datetime:
    """The first quarter-hour instant whose wall time is ≥ target (offsets are within ±14 h)."""
    instant = target.replace(tzinfo=UTC) - timedelta(hours=15)
    while _wall(instant, tz) < target:
        instant += QUARTER
    return instant


@cache
def _transitions(tz: ZoneInfo) -> tuple[datetime, ...]:
    """Every offset change of ``tz`` in 2020-2036, to the second."""
    found = []
    moment = utc(2020, 1, 1)
    while moment < utc(2036, 1, 1):
        following = moment + timedelta(days=1)
        before = moment.astimezone(tz).utcoffset()
        if following.astimezone(tz).utcoffset() != before:
            low, high = (
                0,
                86_400,
            )  # seconds after `moment`: offset unchanged at low, changed at high
            while high - low > 1:
                middle = (low + high) // 2
                same = (moment + timedelta(seconds=middle)).astimezone(tz).utcoffset() == before
                low, high = (middle, high) if same else (low, middle)
            found.append(moment + timedelta(seconds=high))
        moment = following
    return tuple(found)


# --- strategies ----------------------------------------------------------------------------

zones = st.sampled_from(ZONES)
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)
tricky_times = st.sampled_from(
    [time(0), time(1, 30), time(2), time(2, 30), time(3), time(9), time(17), time(22), time(23)]
)
any_times = tricky_times | st.times()
quarter_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
plain_instants = st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31), timezones=st.just(UTC))


@st.composite
def instants(draw: st.DrawFn, tz: ZoneInfo) -> datetime:
    """Any instant in 2020-2035, often within two days of one of ``tz``'s DST changes."""
    near: tuple[datetime, ...] = _transitions(tz)
    close: bool = draw(st.booleans())
    if near and close:
        shift: timedelta = draw(st.timedeltas(-timedelta(days=2), timedelta(days=2)))
        return draw(st.sampled_from(near)) + shift
    return draw(plain_instants)


# --- next_allowed_time: table ----------------------------------------------------------------

ALLOWED_CASES = [
    # (case, zone, window, weekdays, now UTC, expected UTC)
    ("Paris 2026-03-29 02:30 does not exist: opens 03:00 CEST", PARIS, "02:30-04:00", EVERY_DAY,
     "2026-03-29 00:00", "2026-03-29 01:00"),
    ("a window ending in the gap closes at the jump", PARIS, "01:30-02:30", EVERY_DAY,
     "2026-03-29 01:00", "2026-03-29 23:30"),
    ("Paris 2026-10-25 02:30 is ambiguous: the first (CEST) opens", PARIS, "02:30-04:00", EVERY_DAY,
     "2026-10-24 22:00", "2026-10-25 00:30"),
    ("after the first pass the repeated hour opens it again (CET)", PARIS, "02:00-02:30", EVERY_DAY,
     "2026-10-25 00:45", "2026-10-25 01:00"),
    ("New York 2026-03-08 02:30 does not exist: 03:00 EDT", NEW_YORK, "02:30-03:30", EVERY_DAY,
     "2026-03-08 06:00", "2026-03-08 07:00"),
    ("Sydney 2026-10-04 02:30 does not exist: 03:00 AEDT", SYDNEY, "02:30-05:00", EVERY_DAY,
     "2026-10-03 14:00", "2026-10-03 16:00"),
    ("Kolkata, Friday 17:30 IST: Monday 09:00 IST", KOLKATA, "09:00-17:00", WEEKDAYS,
     "2026-06-05 12:00", "2026-06-08 03:30"),
    ("already inside: now itself", PARIS, "09:00-17:00", WEEKDAYS,
     "2026-06-08 10:00", "2026-06-08 10:00"),
    ("exactly at the start: now itself (start is inside)", PARIS, "09:00-17:00", WEEKDAYS,
     "2026-06-08 07:00", "2026-06-08 07:00"),
    ("exactly at the end: the next allowed day (end is outside)", PARIS, "09:00-17:00", WEEKDAYS,
     "2026-06-08 15:00", "2026-06-09 07:00"),
    ("crossing midnight: Saturday 00:30 is Friday's 22:00-02:00", PARIS, "22:00-02:00", FRIDAYS,
     "2026-06-05 22:30", "2026-06-05 22:30"),
    ("crossing midnight: Saturday 03:00 waits for next Friday", PARIS, "22:00-02:00", FRIDAYS,
     "2026-06-06 01:00", "2026-06-12 20:00"),
    ("crossing midnight: Friday 01:00 is Thursday's window", PARIS, "22:00-02:00", FRIDAYS,
     "2026-06-04 23:00", "2026-06-05 20:00"),
    ("all day on weekends: Friday 23:59 waits for Saturday 00:00", PARIS, "00:00-00:00", WEEKENDS,
     "2026-06-05 21:59", "2026-06-05 22:00"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "tz", "hours", "weekdays", "now", "expected"), ALLOWED_CASES)
def test_next_allowed_time_at_known_dates(
    case: str, tz: ZoneInfo, hours: str, weekdays: frozenset[int], now: str, expected: str
) -> None:
    # given a window and a moment (case says which)
    start, end = hours.split("-")
    # when the next allowed instant is computed
    result = next_allowed_time(at_utc(now), tz=tz, window=window(start, end), weekdays=weekdays)
    # then it is the expected instant, in UTC
    assert result == at_utc(expected), case
    assert result.tzinfo is UTC


def test_a_non_utc_now_gives_a_utc_result() -> None:
    # given now expressed in Paris time, inside the window
    now = datetime(2026, 6, 8, 10, 0, tzinfo=PARIS)
    # when
    result = next_allowed_time(now, tz=PARIS, window=window("09:00", "17:00"), weekdays=WEEKDAYS)
    # then the same instant comes back, in UTC
    assert result == now
    assert result.tzinfo is UTC


# --- time_of_day: table ----------------------------------------------------------------------

TIME_OF_DAY_CASES = [
    # (case, zone, local time, weekdays, now UTC, expected UTC)
    ("Paris 02:30 missing on 2026-03-29: 03:00 CEST", PARIS, "02:30", EVERY_DAY,
     "2026-03-28 23:00", "2026-03-29 01:00"),
    ("Paris 02:30 twice on 2026-10-25: the first (CEST)", PARIS, "02:30", EVERY_DAY,
     "2026-10-24 22:00", "2026-10-25 00:30"),
    ("between the two 02:30s: the next day, never twice a date", PARIS, "02:30", EVERY_DAY,
     "2026-10-25 01:00", "2026-10-26 01:30"),
    ("New York 01:30 twice on 2026-11-01: the first (EDT)", NEW_YORK, "01:30", EVERY_DAY,
     "2026-11-01 04:00", "2026-11-01 05:30"),
    ("New York, after the first 01:30: the next day (EST)", NEW_YORK, "01:30", EVERY_DAY,
     "2026-11-01 05:45", "2026-11-02 06:30"),
    ("Sydney 02:30 missing on 2026-10-04: 03:00 AEDT", SYDNEY, "02:30", EVERY_DAY,
     "2026-10-03 14:00", "2026-10-03 16:00"),
    ("Sydney 02:30 twice on 2026-04-05: the first (AEDT)", SYDNEY, "02:30", EVERY_DAY,
     "2026-04-04 13:00", "2026-04-04 15:30"),
    ("Kolkata 08:00 on weekdays, from Saturday: Monday", KOLKATA, "08:00", WEEKDAYS,
     "2026-06-06 00:00", "2026-06-08 02:30"),
    ("imported at 02:00, sent at 08:00 the same day", PARIS, "08:00", EVERY_DAY,
     "2026-06-08 00:00", "2026-06-08 06:00"),
    ("exactly at the occurrence: now itself", PARIS, "08:00", EVERY_DAY,
     "2026-06-08 06:00", "2026-06-08 06:00"),
    ("a microsecond later: the next day", PARIS, "08:00", EVERY_DAY,
     "2026-06-08 06:00:00.000001", "2026-06-09 06:00"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "tz", "at", "weekdays", "now", "expected"), TIME_OF_DAY_CASES)
def test_time_of_day_at_known_dates(
    case: str, tz: ZoneInfo, at: str, weekdays: frozenset[int], now: str, expected: str
) -> None:
    # given a local time and a moment (case says which)
    # when its next occurrence is computed
    result = time_of_day(at_utc(now), tz, time.fromisoformat(at), weekdays)
    # then it is the expected instant, in UTC
    assert result == at_utc(expected), case
    assert result.tzinfo is UTC


# --- errors, delays, zones -----------------------------------------------------------------

NAIVE = datetime(2026, 1, 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: next_allowed_time(NAIVE, tz=PARIS, window=ALL_DAY, weekdays=EVERY_DAY),
        lambda: next_allowed_time(utc(2026, 1, 1), tz=PARIS, window=ALL_DAY, weekdays=frozenset()),
        lambda: next_allowed_time(
            utc(2026, 1, 1), tz=PARIS, window=ALL_DAY, weekdays=frozenset({7})
        ),
        lambda: time_of_day(NAIVE, PARIS, time(8), EVERY_DAY),
        lambda: time_of_day(utc(2026, 1, 1), PARIS, time(8, tzinfo=UTC), EVERY_DAY),
        lambda: time_of_day(utc(2026, 1, 1), PARIS, time(8), frozenset({-1})),
        lambda: DailyWindow(time(9, tzinfo=UTC), time(17)),
        lambda: after_delay(NAIVE, 60),
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], object]) -> None:
    # given a call with a naive now, an empty or out-of-range weekday set, or an aware local time
    # when / then
    with pytest.raises(ValueError):  # noqa: PT011 - each call names its own problem
        call()


def test_a_delay_is_elapsed_time_across_dst() -> None:
    # given noon UTC the day before Paris springs forward
    now = utc(2026, 3, 28, 12, 0)
    # when one day passes
    result = after_delay(now, 86_400)
    # then it is 24 real hours later (the Paris wall clock shows 14:00, not 13:00)
    assert result == utc(2026, 3, 29, 12, 0)
    assert result.astimezone(PARIS).hour == 14


def test_window_lengths() -> None:
    assert window("09:00", "17:00").length == timedelta(hours=8)
    assert window("22:00", "02:00").length == timedelta(hours=4)
    assert ALL_DAY.length == timedelta(days=1)
    assert window("09:00", "09:00").length == timedelta(days=1)


@pytest.mark.parametrize(
    ("contact_tz", "store_tz", "expected"),
    [
        ("America/New_York", "Europe/Paris", "America/New_York"),
        (" Asia/Kolkata ", "Europe/Paris", "Asia/Kolkata"),
        (None, "Europe/Paris", "Europe/Paris"),
        ("", "Europe/Paris", "Europe/Paris"),
        ("Nowhere/Atlantis", "Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Australia/Sydney", "Australia/Sydney"),
        ("Europe", "Europe/Paris", "Europe/Paris"),
        ("../../etc/passwd", "Europe/Paris", "Europe/Paris"),
        ("/etc/localtime", "Europe/Paris", "Europe/Paris"),
        ("zone.tab", "Europe/Paris", "Europe/Paris"),
        ("Europe/Paris\x00", "Asia/Kolkata", "Asia/Kolkata"),
        ("x" * 300, "Asia/Kolkata", "Asia/Kolkata"),
        ("Nowhere/Atlantis", "Not a zone", "UTC"),
        (None, "", "UTC"),
    ],
)
def test_resolve_timezone_falls_back(contact_tz: str | None, store_tz: str, expected: str) -> None:
    # given a contact's zone name and the store's
    # when the zone is resolved
    zone = resolve_timezone(contact_tz, store_tz)
    # then the first usable name wins, else UTC
    assert zone.key == expected


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(data=st.data(), tz=zones, start=any_times, end=any_times, weekdays=weekday_sets)
def test_next_allowed_time_is_the_first_allowed_instant(
    data: st.DataObject, tz: ZoneInfo, start: time, end: time, weekdays: frozenset[int]
) -> None:
    # given any instant (often near a DST change), zone, window and weekdays
    now = data.draw(instants(tz))
    win = DailyWindow(start, end)
    # when
    result = next_allowed_time(now, tz=tz, window=win, weekdays=weekdays)
    # then it is allowed on the local wall clock, not before now, and where it begins
    assert result >= now
    assert result.tzinfo is UTC
    assert _allowed(result, tz, win, weekdays)
    assert result == now or not _allowed(result - timedelta(microseconds=1), tz, win, weekdays)
    # and asking again from it gives it back (safe to retry)
    assert next_allowed_time(result, tz=tz, window=win, weekdays=weekdays) == result


@settings(max_examples=200, deadline=None)
@given(data=st.data(), tz=zones, start=quarter_times, end=quarter_times, weekdays=weekday_sets)
def test_no_allowed_instant_is_skipped(
    data: st.DataObject, tz: ZoneInfo, start: time, end: time, weekdays: frozenset[int]
) -> None:
    # given quarter-hour windows: in these zones every boundary of the allowed set (window edges,
    # DST changes, offsets of whole half-hours) falls on a UTC quarter hour
    now = data.draw(instants(tz))
    win = DailyWindow(start, end)
    # when
    result = next_allowed_time(now, tz=tz, window=win, weekdays=weekdays)
    # then stepping every quarter hour from now finds nothing allowed before the result
    if _allowed(now, tz, win, weekdays):
        assert result == now
        return
    step = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0) + QUARTER
    while step < result:
        assert not _allowed(step, tz, win, weekdays), step
        step += QUARTER


@settings(max_examples=300, deadline=None)
@given(data=st.data(), tz=zones, at=quarter_times | tricky_times, weekdays=weekday_sets)
def test_time_of_day_is_the_first_occurrence_from_now(
    data: st.DataObject, tz: ZoneInfo, at: time, weekdays: frozenset[int]
) -> None:
    # given any instant (often near a DST change), a quarter-hour local time and weekdays
    now = data.draw(instants(tz))
    # when
    result = time_of_day(now, tz, at, weekdays)
    # then it is the earliest of the oracle's occurrences (one per allowed local date: the first
    # instant whose wall clock reaches `at`) that is not before now
    first_day = now.astimezone(tz).date() - timedelta(days=1)
    occurrences = (
        _first_reaching(datetime.combine(first_day + timedelta(days=n), at), tz)
        for n in range(16)
        if (first_day + timedelta(days=n)).weekday() in weekdays
    )
    assert result == next(o for o in occurrences if o >= now)
    assert time_of_day(result, tz, at, weekdays) == result


@settings(max_examples=300, deadline=None)
@given(data=st.data(), tz=zones, at=any_times, weekdays=weekday_sets)
def test_time_of_day_lands_on_the_time_or_just_after_a_gap(
    data: st.DataObject, tz: ZoneInfo, at: time, weekdays: frozenset[int]
) -> None:
    # given any instant, any local time (to the microsecond) and weekdays
    now = data.draw(instants(tz))
    # when
    result = time_of_day(now, tz, at, weekdays)
    # then it is not before now, on an allowed local date, at `at` unless `at` does not exist
    wall = _wall(result, tz)
    assert result >= now
    assert wall.date().weekday() in weekdays
    if wall.time() != at:
        missing = datetime.combine(wall.date(), at)
        assert not _exists(missing, tz)
        assert _wall(result - timedelta(microseconds=1), tz) < missing < wall
    assert time_of_day(result, tz, at, weekdays) == result


def test_the_transition_table_covers_each_dst_zone() -> None:
    # the property tests lean on these instants; Kolkata has no DST
    assert utc(2026, 3, 29, 1, 0) in _transitions(PARIS)
    assert utc(2026, 11, 1, 6, 0) in _transitions(NEW_YORK)
    assert utc(2026, 10, 3, 16, 0) in _transitions(SYDNEY)
    assert _transitions(KOLKATA) == ()
