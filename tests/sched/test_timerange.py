"""Tests for L{pantasks.sched.timerange}: C{trange} parsing and validity."""

from __future__ import annotations

import calendar

import pytest

from pantasks.lang.errors import ScriptError, UsageError
from pantasks.sched.model import TimeRange
from pantasks.sched.timerange import (
    ABS,
    DAY,
    USAGE,
    WEEK,
    bump_ranges,
    format_range_time,
    parse_trange,
    range_warning,
    time_valid,
)


def utc(*fields: int) -> int:
    """Epoch seconds of a UTC date (year, month, day[, h, m, s])."""
    return calendar.timegm(tuple(fields) + (0,) * (6 - len(fields)))


#: Wednesday 2024-01-03 and Saturday 2024-01-06.
WED_NOON = utc(2024, 1, 3, 12, 0, 0)
SAT_NOON = utc(2024, 1, 6, 12, 0, 0)


def at(hms: str, day: tuple[int, int, int] = (2024, 1, 3)) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return utc(*day, h, m, s)


# --- parsing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("08:00", 8 * 3600),
        ("8:00:30", 8 * 3600 + 30),
        ("0:00:00", 0),
        ("23:59:59", 86399),
    ],
)
def test_parse_day(text: str, value: int) -> None:
    rng = parse_trange([text, "23:59:59"])
    assert (rng.kind, rng.start, rng.stop) == (DAY, value, 86399)
    assert (rng.nmax, rng.exclude, rng.nrun) == (0, False, 0)


@pytest.mark.parametrize(
    "text, value",
    [
        ("Sun", 0),
        ("Mon", 86400),
        ("monday", 86400),
        ("MON@08", 86400 + 8 * 3600),
        ("Fri@17:00", 5 * 86400 + 17 * 3600),
        ("Saturday@23:59:59", 6 * 86400 + 86399),
        ("wed@1:02:03", 3 * 86400 + 3723),
    ],
)
def test_parse_week(text: str, value: int) -> None:
    rng = parse_trange([text, "Sat@23:59:59"])
    assert (rng.kind, rng.start) == (WEEK, value)


@pytest.mark.parametrize(
    "text, value",
    [
        ("2024/01/03", utc(2024, 1, 3)),
        ("2024/01/03,12:30:15", utc(2024, 1, 3, 12, 30, 15)),
        ("2024/1/3,12:30", utc(2024, 1, 3, 12, 30)),
        ("2024-01-03T12:30:15", utc(2024, 1, 3, 12, 30, 15)),
        ("2024-01-03", utc(2024, 1, 3)),
        ("24/01/03", utc(2024, 1, 3)),
        ("99/02/23,03:22:18", utc(1999, 2, 23, 3, 22, 18)),
        ("1704283200s", 1704283200),
        ("2440587.5j", 0),
        ("40588J", 86400),
        ("NOW", WED_NOON),
        ("now", WED_NOON),
        ("TODAY", utc(2024, 1, 3)),
        ("today,08:15", utc(2024, 1, 3, 8, 15)),
        ("TODAY,08:15:30", utc(2024, 1, 3, 8, 15, 30)),
    ],
)
def test_parse_abs(text: str, value: int) -> None:
    rng = parse_trange([text, "2100/01/01"], now=WED_NOON + 0.7)
    assert (rng.kind, rng.start) == (ABS, value)


def test_options_anywhere() -> None:
    rng = parse_trange(["-nmax", "2", "08:00", "-exclude", "09:00"])
    assert rng == TimeRange(kind=DAY, start=28800, stop=32400, nmax=2, exclude=True)
    rng = parse_trange(["18:38:45", "18:39:10", "-nmax", "2"])
    assert (rng.start, rng.stop, rng.nmax, rng.exclude) == (67125, 67150, 2, False)


@pytest.mark.parametrize(
    "args, message",
    [
        (["25:00", "26:00"], "invalid time 25:00"),
        (["08:00", "08:60"], "invalid time 08:60"),
        (["08:00:60", "09:00"], "invalid time 08:00:60"),
        (["Mon@24:00", "Fri"], "invalid day/time Mon@24:00"),
        (["Mon", "Fri@17:75"], "invalid day/time Fri@17:75"),
        (["2024/13/01", "2024/12/01"], "invalid date/time 2024/13/01"),
        (["2024/02/30", "2024/03/01"], "invalid date/time 2024/02/30"),
        (["2024/02/01,24:00", "2024/03/01"], "invalid date/time 2024/02/01,24:00"),
        (["TODAY,25:00", "NOW"], "invalid date/time TODAY,25:00"),
        (["foo", "bar"], "invalid date/time foo"),
        (["Hourly@00:00", "Hourly@00:10"], "invalid date/time Hourly@00:00"),
        (["2024", "2025"], "invalid date/time 2024"),
        (["08:00", "09:00", "-nmax", "abc"], "invalid -nmax value abc (need an integer >= 0)"),
        (["08:00", "09:00", "-nmax", "-1"], "invalid -nmax value -1 (need an integer >= 0)"),
        (
            ["08:00", "Mon"],
            "trange start and end must be the same kind: 08:00 is a time of day "
            "(HH:MM[:SS]), Mon is a day of the week (Day[@HH:MM:SS])",
        ),
        (
            ["Mon", "2024/01/01"],
            "trange start and end must be the same kind: Mon is a day of the week "
            "(Day[@HH:MM:SS]), 2024/01/01 is a date",
        ),
    ],
)
def test_parse_errors(args: list[str], message: str) -> None:
    with pytest.raises(ScriptError) as e:
        parse_trange(args)
    assert str(e.value) == message
    assert "\n" not in str(e.value)
    assert not isinstance(e.value, UsageError)


@pytest.mark.parametrize(
    "args",
    [[], ["08:00"], ["08:00", "09:00", "10:00"], ["08:00", "09:00", "-nmax"], ["-reset"]],
)
def test_parse_usage(args: list[str]) -> None:
    with pytest.raises(UsageError) as e:
        parse_trange(args)
    assert str(e.value) == USAGE
    assert USAGE == "USAGE: trange start end [-nmax N] [-exclude]\nUSAGE: trange -reset"


# --- validity --------------------------------------------------------------


def day(start: str, stop: str, nmax: int = 0) -> TimeRange:
    return parse_trange([start, stop, "-nmax", str(nmax)])


def test_no_ranges_always_valid() -> None:
    assert time_valid([], WED_NOON)


def test_day_window_inclusive_whole_seconds() -> None:
    ranges = [day("08:00", "09:00")]
    assert not time_valid(ranges, at("07:59:59"))
    assert time_valid(ranges, at("08:00:00"))
    assert time_valid(ranges, at("08:30:00"))
    assert time_valid(ranges, at("09:00:00"))
    assert time_valid(ranges, at("09:00:00") + 0.9)
    assert not time_valid(ranges, at("09:00:01"))
    # Same window any day.
    assert time_valid(ranges, at("08:30:00", (2031, 7, 19)))


def test_week_window() -> None:
    ranges = [parse_trange(["Mon@08:00", "Fri@17:00"])]
    assert time_valid(ranges, WED_NOON)
    assert not time_valid(ranges, SAT_NOON)
    assert not time_valid(ranges, at("07:59:59", (2024, 1, 1)))  # Monday
    assert time_valid(ranges, at("08:00:00", (2024, 1, 1)))
    assert time_valid(ranges, at("17:00:00", (2024, 1, 5)))  # Friday
    assert not time_valid(ranges, at("17:00:01", (2024, 1, 5)))
    assert not time_valid(ranges, at("12:00:00", (2024, 1, 7)))  # Sunday


def test_week_whole_days_end_at_midnight() -> None:
    """C{Mon Fri} ends at Friday 00:00:00, as in the original."""
    ranges = [parse_trange(["Mon", "Fri"])]
    assert time_valid(ranges, at("00:00:00", (2024, 1, 5)))
    assert not time_valid(ranges, at("00:00:01", (2024, 1, 5)))


def test_abs_window() -> None:
    ranges = [parse_trange(["2024/01/03,11:00", "2024/01/03,13:00"])]
    assert time_valid(ranges, WED_NOON)
    assert not time_valid(ranges, WED_NOON + 86400)
    assert not time_valid(ranges, WED_NOON - 86400)


def test_no_wrap_around() -> None:
    """A window across midnight never matches; the warning says so."""
    rng = day("22:00", "02:00")
    for t in ("23:00:00", "01:00:00", "12:00:00"):
        assert not time_valid([rng], at(t))
    assert range_warning(rng) == (
        "warning: trange 22:00:00 - 02:00:00 never matches (ranges do not wrap; "
        "use two ranges)"
    )
    assert range_warning(day("02:00", "22:00")) is None
    week = parse_trange(["Fri", "Mon"])
    assert not time_valid([week], SAT_NOON)
    assert range_warning(week).startswith("warning: trange Fri@00:00:00 - Mon@00:00:00 ")


def test_stacked_windows_span_midnight() -> None:
    ranges = [day("22:00:00", "23:59:59"), day("00:00:00", "10:00:00")]
    assert not time_valid(ranges, at("21:59:59"))
    assert time_valid(ranges, at("22:00:00"))
    assert time_valid(ranges, at("23:59:59") + 0.5)
    assert time_valid(ranges, at("00:00:00", (2024, 1, 4)))
    assert time_valid(ranges, at("10:00:00", (2024, 1, 4)))
    assert not time_valid(ranges, at("10:00:01", (2024, 1, 4)))


def test_stacked_windows_each_capped() -> None:
    """Two capped windows across midnight count their jobs apart."""
    ranges = [day("22:00:00", "23:59:59", nmax=1), day("00:00:00", "02:00:00", nmax=1)]
    t = at("23:00:00")
    assert time_valid(ranges, t)
    bump_ranges(ranges, t)
    assert [r.nrun for r in ranges] == [1, 0]
    assert not time_valid(ranges, t + 60)
    t = at("00:30:00", (2024, 1, 4))
    assert time_valid(ranges, t)  # resets the first window, second not used yet
    assert [r.nrun for r in ranges] == [0, 0]
    bump_ranges(ranges, t)
    assert not time_valid(ranges, t + 60)
    assert [r.nrun for r in ranges] == [0, 1]


def test_exclude_blocks_inside_only() -> None:
    """FIXED semantics: an exclude window blocks while inside it."""
    ranges = [parse_trange(["12:00", "13:00", "-exclude"])]
    assert ranges[0].exclude
    assert not time_valid(ranges, at("12:00:00"))
    assert not time_valid(ranges, at("12:30:00"))
    assert not time_valid(ranges, at("13:00:00"))
    assert time_valid(ranges, at("11:59:59"))
    assert time_valid(ranges, at("14:00:00"))


def test_include_and_exclude() -> None:
    ranges = [
        parse_trange(["Mon@00:00", "Fri@23:59:59"]),
        parse_trange(["11:00", "13:00", "-exclude"]),
    ]
    assert not time_valid(ranges, WED_NOON)  # weekday but excluded hours
    assert time_valid(ranges, at("14:00:00"))  # weekday, outside the exclusion
    assert not time_valid(ranges, SAT_NOON + 7200)  # weekend


def test_nmax_caps_window_and_resets_outside() -> None:
    ranges = [day("08:00", "09:00", nmax=2)]
    t = at("08:10:00")
    assert time_valid(ranges, t)
    bump_ranges(ranges, t)
    assert time_valid(ranges, t + 60)
    bump_ranges(ranges, t + 60)
    assert ranges[0].nrun == 2
    assert not time_valid(ranges, t + 120)
    assert not time_valid(ranges, at("08:59:59"))
    assert ranges[0].nrun == 2  # stays capped while inside
    assert not time_valid(ranges, at("10:00:00"))  # outside: invalid anyway...
    assert ranges[0].nrun == 0  # ...and the count is reset
    assert time_valid(ranges, at("08:05:00", (2024, 1, 4)))


def test_nmax_without_check_outside_stays_capped() -> None:
    """As in the original, only a check made outside the window resets it."""
    ranges = [day("08:00", "09:00", nmax=1)]
    bump_ranges(ranges, at("08:10:00"))
    assert not time_valid(ranges, at("08:10:00", (2024, 1, 4)))


def test_capped_window_does_not_hide_another_include() -> None:
    ranges = [day("08:00", "09:00", nmax=1), day("00:00", "23:59:59")]
    t = at("08:10:00")
    bump_ranges(ranges, t)
    assert ranges[0].nrun == 1
    assert time_valid(ranges, t)


def test_nmax_zero_is_unlimited() -> None:
    ranges = [day("08:00", "09:00")]
    t = at("08:10:00")
    for _ in range(5):
        bump_ranges(ranges, t)
    assert ranges[0].nrun == 0
    assert time_valid(ranges, t)


def test_bump_only_capped_includes_containing_now() -> None:
    inside = day("08:00", "09:00", nmax=3)
    outside = day("10:00", "11:00", nmax=3)
    excluded = parse_trange(["08:00", "09:00", "-exclude", "-nmax", "3"])
    bump_ranges([inside, outside, excluded], at("08:30:00"))
    assert (inside.nrun, outside.nrun, excluded.nrun) == (1, 0, 0)


# --- formatting ------------------------------------------------------------


def test_format_range_time() -> None:
    assert format_range_time(DAY, 0) == "00:00:00"
    assert format_range_time(DAY, 8 * 3600 + 61) == "08:01:01"
    assert format_range_time(DAY, 86399) == "23:59:59"
    assert format_range_time(WEEK, 0) == "Sun@00:00:00"
    assert format_range_time(WEEK, 86400 + 8 * 3600) == "Mon@08:00:00"
    assert format_range_time(WEEK, 6 * 86400 + 86399) == "Sat@23:59:59"
    assert format_range_time(ABS, utc(2024, 1, 3, 12, 30, 15)) == "2024/01/03,12:30:15"
    assert format_range_time(ABS, 0) == "1970/01/01,00:00:00"


def test_format_round_trips_parse() -> None:
    for start, stop in (("Mon@08:00", "Fri@17:00"), ("08:00", "09:30:15")):
        rng = parse_trange([start, stop])
        again = parse_trange(
            [format_range_time(rng.kind, rng.start), format_range_time(rng.kind, rng.stop)]
        )
        assert (again.kind, again.start, again.stop) == (rng.kind, rng.start, rng.stop)
    rng = parse_trange(["2024/01/03,12:30:15", "2024-02-01"])
    text = format_range_time(rng.kind, rng.start)
    assert parse_trange([text, text]).start == rng.start
