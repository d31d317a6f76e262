# -*- test-case-name: tests.sched.test_timerange -*-
"""The C{trange} windows of a task: parsing, validity, per-window caps.

A task may only launch a job while the UTC clock is inside its include
windows and outside its exclude ("avoid") windows.  This module holds the
pure rules, so the scheduler (which calls L{time_valid} and
L{bump_ranges}), the C{trange} command (L{parse_trange}) and the status
listings (L{format_range_time}) agree on them and can be tested with fixed
epoch instants.

Behaviour, with the points where it differs from the original:

  - Three kinds, picked by how C{start} parses; C{stop} must be the same
    kind.  C{WEEK}: C{Day[@HH[:MM[:SS]]]} (full or three-letter day name,
    any case; Sunday = 0), seconds into the UTC week.  C{DAY}:
    C{HH:MM[:SS]}, seconds into the UTC day.  C{ABS}: epoch seconds, from
    C{YYYY/MM/DD[,HH[:MM[:SS]]]}, C{YYYY-MM-DD[THH[:MM[:SS]]]} (two-digit
    years: < 50 is 20xx, else 19xx), C{NOW}, C{TODAY}, C{TODAY,HH:MM[:SS]},
    or a number with the ohana suffix C{s} (epoch seconds), C{j} (Julian
    date) or C{J} (modified Julian date).  C{NOW} and C{TODAY} are read
    when the C{trange} line runs, as in the original.
  - Stricter than the original: hours must be 0-23 and minutes and seconds
    0-59 (glibc's C{strptime} allowed second 60 and 61), dates must exist,
    and anything else is an error.  The original fell back to libohana's
    date parser, which accepts nearly any text: C{trange 25:00 26:00}
    silently became an absolute window in the year 2025.
  - Inclusive bounds (C{start <= t <= stop}) on whole seconds, so stacked
    windows such as C{22:00:00 23:59:59} plus C{00:00:00 10:00:00} leave no
    gap at midnight.
  - No wrap-around, as in the original: a window whose start is after its
    stop (C{22:00 02:00}, C{Fri Mon}) never matches.  Real scripts stack
    two windows across UT midnight instead; L{range_warning} names the
    mistake so the C{trange} command can print it.
  - FIXED: an exclude window blocks the task while the clock is I{inside}
    it (the original blocked it while outside).
  - C{-nmax N} on an include window: once C{nrun >= nmax}, that window no
    longer counts as "inside" until the clock leaves it, which resets
    C{nrun} to 0.  Another include window that also contains the clock
    still makes the task valid (the original declared the whole task
    invalid as soon as any capped window contained the clock, and skipped
    the resets of the windows after it).
  - WEEK times print with the right day name (the original formatted them
    with C{gmtime}, whose day 0 is a Thursday, so C{Mon} printed as
    C{Fri}).
"""

from __future__ import annotations

import calendar
import math
import re
import time
from datetime import datetime, timezone
from typing import Optional

from pantasks.lang.errors import ScriptError, UsageError
from pantasks.sched.model import TimeRange

DAY = "DAY"
WEEK = "WEEK"
ABS = "ABS"

USAGE = "USAGE: trange start end [-nmax N] [-exclude]\nUSAGE: trange -reset"

#: Day names in C{tm_wday} order (Sunday = 0).
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_INDEX = {}
for _i, _name in enumerate(DAY_NAMES):
    _DAY_INDEX[_name.lower()] = _i
    _DAY_INDEX[_name[:3].lower()] = _i

_KIND_WORDS = {
    DAY: "a time of day (HH:MM[:SS])",
    WEEK: "a day of the week (Day[@HH:MM:SS])",
    ABS: "a date",
}

_HMS = r"(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}))?)?"
_DAY_RE = re.compile(r"^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$")
_WEEK_RE = re.compile(r"^([A-Za-z]+)(?:@" + _HMS + r")?$")
_DATE_RE = re.compile(r"^(\d{4}|\d{2})([/-])(\d{1,2})\2(\d{1,2})(?:[,T]" + _HMS + r")?$")
_TODAY_RE = re.compile(r"^today(?:[,@]" + _HMS + r")?$", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))([sjJ])$")


def _hms(hours: Optional[str], minutes: Optional[str], seconds: Optional[str]) -> Optional[int]:
    """Seconds into the day for optional H, M, S fields, or None when a
    field is out of range (hours 0-23, minutes and seconds 0-59)."""
    h = int(hours) if hours else 0
    m = int(minutes) if minutes else 0
    s = int(seconds) if seconds else 0
    if h > 23 or m > 59 or s > 59:
        return None
    return h * 3600 + m * 60 + s


def _classify(text: str, now: float) -> tuple[str, float]:
    """Parse one C{trange} bound.

    @param text: the bound as typed.
    @param now: epoch seconds used for C{NOW} and C{TODAY}.
    @return: C{(kind, value)}.
    @raise ScriptError: the text is not a valid bound of any kind.
    """
    m = _WEEK_RE.match(text)
    if m and m.group(1).lower() in _DAY_INDEX:
        sec = _hms(m.group(2), m.group(3), m.group(4))
        if sec is None:
            raise ScriptError(f"invalid day/time {text}")
        return WEEK, float(_DAY_INDEX[m.group(1).lower()] * 86400 + sec)

    m = _DAY_RE.match(text)
    if m:
        sec = _hms(m.group(1), m.group(2), m.group(3))
        if sec is None:
            raise ScriptError(f"invalid time {text}")
        return DAY, float(sec)

    if text.lower() == "now":
        return ABS, float(math.floor(now))

    m = _TODAY_RE.match(text)
    if m:
        midnight = 86400 * (math.floor(now) // 86400)
        sec = _hms(m.group(1), m.group(2), m.group(3))
        if sec is None:
            raise ScriptError(f"invalid date/time {text}")
        return ABS, float(midnight + sec)

    m = _DATE_RE.match(text)
    if m:
        year = int(m.group(1))
        if len(m.group(1)) == 2:
            year += 2000 if year < 50 else 1900
        sec = _hms(m.group(5), m.group(6), m.group(7))
        try:
            day = datetime(year, int(m.group(3)), int(m.group(4)), tzinfo=timezone.utc)
        except ValueError:
            day = None
        if day is None or sec is None:
            raise ScriptError(f"invalid date/time {text}")
        return ABS, float(calendar.timegm(day.timetuple()) + sec)

    m = _NUMBER_RE.match(text)
    if m:
        value = float(m.group(1))
        suffix = m.group(2)
        if suffix == "j":
            value = (value - 2440587.5) * 86400.0
        elif suffix == "J":
            value = (value - 40587.0) * 86400.0
        return ABS, float(math.floor(value))

    raise ScriptError(f"invalid date/time {text}")


def parse_trange(args: list[str], now: Optional[float] = None) -> TimeRange:
    """Parse the arguments of C{trange start stop [-nmax N] [-exclude]}.

    The options may appear anywhere, as in the original.  C{-reset} is the
    caller's business; passed here it is a usage error.

    @param args: the words after C{trange}.
    @param now: epoch seconds for C{NOW}/C{TODAY} (default: the clock).
    @return: a new L{TimeRange} with C{nrun} 0.
    @raise UsageError: wrong number of arguments or a dangling C{-nmax}.
    @raise ScriptError: a bad bound, bad C{-nmax} value, or start and
        stop of different kinds (one line).
    """
    if now is None:
        now = time.time()
    rest: list[str] = []
    nmax = 0
    exclude = False
    i = 0
    while i < len(args):
        word = args[i]
        if word == "-nmax":
            if i + 1 >= len(args):
                raise UsageError(USAGE)
            value = args[i + 1]
            if not re.fullmatch(r"\+?\d+", value):
                raise ScriptError(f"invalid -nmax value {value} (need an integer >= 0)")
            nmax = int(value)
            i += 2
            continue
        if word == "-exclude":
            exclude = True
        else:
            rest.append(word)
        i += 1
    if len(rest) != 2:
        raise UsageError(USAGE)
    kind, start = _classify(rest[0], now)
    stop_kind, stop = _classify(rest[1], now)
    if stop_kind != kind:
        raise ScriptError(
            f"trange start and end must be the same kind: {rest[0]} is "
            f"{_KIND_WORDS[kind]}, {rest[1]} is {_KIND_WORDS[stop_kind]}"
        )
    return TimeRange(kind=kind, start=start, stop=stop, nmax=nmax, exclude=exclude)


def range_warning(rng: TimeRange) -> Optional[str]:
    """Say why a window can never match, if it cannot.

    @return: one line for a window whose start is after its stop (ranges
        do not wrap around midnight or the end of the week), else None.
    """
    if rng.start <= rng.stop:
        return None
    start = format_range_time(rng.kind, rng.start)
    stop = format_range_time(rng.kind, rng.stop)
    return (
        f"warning: trange {start} - {stop} never matches (ranges do not wrap; "
        "use two ranges)"
    )


def _test_time(kind: str, now: float) -> int:
    """The clock as a range of C{kind} sees it: whole seconds into the
    UTC day, into the UTC week (Sunday 00:00 = 0), or since the epoch."""
    t = math.floor(now)
    if kind == DAY:
        return t % 86400
    if kind == WEEK:
        days = t // 86400
        # 1970-01-01 was a Thursday (wday 4).
        return ((days + 4) % 7) * 86400 + t % 86400
    if kind == ABS:
        return t
    raise ValueError(f"unknown time range kind {kind!r}")


def _inside(rng: TimeRange, now: float) -> bool:
    t = _test_time(rng.kind, now)
    return rng.start <= t <= rng.stop


def time_valid(ranges: list[TimeRange], now: float) -> bool:
    """Whether a task with these windows may launch a job at C{now}.

    Valid = (no include windows, or inside an include window that is not
    capped) and not inside any exclude window.  Side effect, as in the
    original: a capped include window (C{nmax > 0}) whose C{nrun} is set
    and which does not contain C{now} has C{nrun} reset to 0; the status
    listings call this too.

    @param ranges: the task's windows.
    @param now: epoch seconds (UTC).
    """
    n_include = 0
    include = False
    exclude = False
    for rng in ranges:
        inside = _inside(rng, now)
        if rng.exclude:
            if inside:
                exclude = True
            continue
        n_include += 1
        if rng.nmax > 0:
            if not inside:
                rng.nrun = 0
            elif rng.nrun >= rng.nmax:
                continue
        if inside:
            include = True
    if n_include == 0:
        include = True
    return include and not exclude


def bump_ranges(ranges: list[TimeRange], now: float) -> None:
    """Count one submitted job in every capped include window containing
    C{now} (call when a job is submitted, with the C{now} that
    L{time_valid} saw).

    @param ranges: the task's windows.
    @param now: epoch seconds (UTC).
    """
    for rng in ranges:
        if rng.exclude or rng.nmax <= 0:
            continue
        if _inside(rng, now):
            rng.nrun += 1


def format_range_time(kind: str, value: float) -> str:
    """Print one window bound as the status listings do.

    @param kind: C{DAY}, C{WEEK} or C{ABS}.
    @param value: the bound (see L{TimeRange}).
    @return: C{HH:MM:SS}, C{Day@HH:MM:SS} (three-letter day) or
        C{YYYY/MM/DD,HH:MM:SS} (UTC).
    """
    v = int(math.floor(value))
    if kind == ABS:
        try:
            tm = time.gmtime(v)
        except (OverflowError, OSError, ValueError):
            return "INVALID DATE"
        return "%04d/%02d/%02d,%02d:%02d:%02d" % (
            tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec
        )
    sec = v % 86400
    hms = "%02d:%02d:%02d" % (sec // 3600, sec // 60 % 60, sec % 60)
    if kind == DAY:
        return hms
    if kind == WEEK:
        return "%s@%s" % (DAY_NAMES[(v // 86400) % 7][:3], hms)
    raise ValueError(f"unknown time range kind {kind!r}")
