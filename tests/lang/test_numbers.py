# -*- test-case-name: tests.lang.test_numbers -*-
"""Numbers read from script words: NaN, infinities, huge and
out-of-range values give the command's own error, never an internal one.

The first tests pin the helpers of L{pantasks.lang.numbers}; the rest run
each reproduction of issue 8 (and its neighbours) through the server's
interpreter on a fake clock and runner.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from pantasks.lang.errors import UsageError
from pantasks.lang.numbers import (
    LONG_MAX,
    LONG_MIN,
    finite,
    int_of_digits,
    parse_whole,
    whole,
)

from tests.sched.helpers import Harness

BIG = "9" * 5000


def test_int_of_digits() -> None:
    assert int_of_digits("0") == 0 and int_of_digits("") == 0
    assert int_of_digits("000123") == 123
    assert int_of_digits("ff", 16) == 255 and int_of_digits("017", 8) == 15
    assert int_of_digits(BIG) > LONG_MAX  # no 4,300-digit ValueError
    assert int_of_digits("0" * 6000 + "7") == 7
    assert int_of_digits("1" + "0" * 19) == 10**19  # exact while a long might hold it


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_finite_and_whole_refuse(value: float) -> None:
    with pytest.raises(UsageError, match="^USAGE: x$"):
        finite(value, "USAGE: x")
    with pytest.raises(UsageError, match="^USAGE: x$"):
        whole(value, "USAGE: x")


def test_ranges() -> None:
    assert finite(2.5, "u", 0, 3) == 2.5
    with pytest.raises(UsageError):
        finite(3.5, "u", 0, 3)
    assert whole(-2.9, "u") == -2  # C truncation
    assert whole(1e18, "u") == 10**18
    with pytest.raises(UsageError):
        whole(1e300, "u")
    with pytest.raises(UsageError):
        whole(5, "u", 0, 4)


@pytest.mark.parametrize("word,value", [("12", 12), (" +3 ", 3), ("08", 8), ("-7", -7),
                                        (str(LONG_MIN), LONG_MIN)])
def test_parse_whole(word: str, value: int) -> None:
    assert parse_whole(word, "u") == value


@pytest.mark.parametrize("word", ["", "1_000", "１２", "1.0", "0x10", "nan", "inf", BIG,
                                  str(LONG_MAX + 1), "1e3", "- 1"])
def test_parse_whole_refuses(word: str) -> None:
    with pytest.raises(UsageError, match="^u$"):
        parse_whole(word, "u")


def _run(h: Harness, text: str) -> tuple[Any, str]:
    h.clear()
    box: list[Any] = []
    h.interp.execute_text(h.ctx, text, "t.pro").addBoth(box.append)
    return (box[0] if box else None), h.err()


#: (script, pattern of its one error line).  The first ten are issue 8's.
CASES = [
    ("for i nan 1\nend", r"for loop starting value must be a finite number \(nan\)"),
    ("for i 0 1 inf\nend", r"for loop delta value must be a finite number \(inf\)"),
    ("sleep inf", r"usage: sleep N"),
    ("sleep nan", r"usage: sleep N"),
    ("usleep inf", r"usage: usleep N"),
    (f"sprintf x %d {BIG}", r"value out of range for %d: 9{20,}\.\.\."),
    (f"fprintf %x {BIG}", r"value out of range for %x"),
    (f"inthash {BIG} 7", r"USAGE: inthash"),
    (f"strhash a {BIG}", r"USAGE: strhash"),
    (f"book getpage b {BIG}", r"USAGE: book getpage"),
    ("for i 0 1e400\nend", r"for loop ending value must be a finite number"),
    ("for i 1e300 1e301\nend", r"for loop delta value too small"),
    ("for i 0 3\n  $i = inf\nend", r"for loop variable i is not a finite number: inf"),
    (f"sleep {BIG}", r"usage: sleep N"),
    ("sleep 1e300", r"usage: sleep N"),
    ("usleep -inf", r"usage: usleep N"),
    ("quit inf", r"USAGE: quit \[exit code\]"),
    (f"exit {BIG}", r"USAGE: exit \[exit code\]"),
    (f"sprintf x %{BIG}d 1", r"line too long"),
    (f"fprintf %d 0x{'f' * 3000}", r"value out of range for %d"),
    (f"substr abc 0x{'f' * 300} 1", r"start value out of range"),
    (f"book getbook {BIG}", r"USAGE: book getbook"),
    ("task t\n  periods -poll inf\n  command true\nend", r"periods: poll must be a number"),
    ("task t\n  periods -timeout nan\n  command true\nend", r"periods: timeout must be a"),
    ("task t\n  periods -exec 1e10\n  command true\nend", r"up to 1000000000"),
    (f"task t\n  nmax {BIG}\n  command true\nend", r"USAGE: nmax \(N\)"),
    ("task t\n  nice nan\n  command true\nend", r"nicelevel must be an integer 0 to 20"),
    (f"kill {BIG}", r"USAGE: kill \(JobID\)"),
    ("kill 1_0", r"USAGE: kill \(JobID\)"),
    ("$L:n = inf\nlist L -join v", r"list L: L:n is not a count \(inf\)"),
    ("$MODULES:n = nan\nmodule m.pro", r"MODULES:n is not a count"),
    (f"list L -split a b\nlist L -join v -start {BIG}", r"USAGE: list \(root\) -join"),
]


@pytest.mark.parametrize("script,pattern", CASES, ids=[c[0][:30] for c in CASES])
def test_bad_number_is_one_clear_error(script: str, pattern: str) -> None:
    h = Harness()
    result, err = _run(h, script)
    assert result is not None, "the script waited on the clock"
    assert "internal error" not in err and "Traceback" not in err, err[:500]
    lines = err.splitlines()
    assert any(re.search(pattern, line) for line in lines), err[:500]
    assert all(len(line) < 400 for line in lines)
    # The interpreter answers as before.
    assert _run(h, "echo ok")[0] == 1 and h.out() == "ok\n"


def test_numbers_that_work_still_work() -> None:
    """The C readings scripts rely on are unchanged."""
    h = Harness()
    script = (
        "sprintf a %d 12abc\n"          # atoi: leading number
        "sprintf b %d 2147483648\n"     # (int) cut of a long
        "sprintf c %5.1f nan\n"         # NaN is a fine value to print
        "inthash skycell 4 -var d\n"    # no number: 0
        "for i 0.5 2\n  $e = $i\nend\n"
        "for i 3 0 -1.5 -incl\n  $f = $i\nend\n"
        "task t\n  periods -poll 0.5 -exec 30 -timeout 0\n  nice 20\n  nmax 08\n"
        "  command true\nend\n"
    )
    result, err = _run(h, script)
    assert result == 1, err
    assert [h.var(v) for v in "abcdef"] == ["12", "-2147483648", "  nan", "0", "1.5", "0"]
    task = h.task("t")
    assert (task.poll_period, task.exec_period, task.nice, task.nmax) == (0.5, 30, 20, 8)
