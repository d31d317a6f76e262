# -*- test-case-name: tests.lang.test_numbers -*-
"""Turning script words into numbers a command can use, safely.

Every word a command reads as a number is hostile input: C{nan},
C{inf}, C{1e400} and 5,000-digit integers all parse, and Python then
refuses them later (C{int(nan)} is a C{ValueError}, C{int(inf)} an
C{OverflowError}, C{int("9" * 5000)} exceeds the interpreter's digit
limit).  The helpers here are the one place those cases are decided:
L{int_of_digits} reads digit strings of any length without the digit
limit (clamping what no C integer can hold), and L{finite} and L{whole}
turn a value that is not a usable number into the command's own usage
error, so no command ends in C{internal error}.
"""

from __future__ import annotations

import math
import re
from typing import Optional

from pantasks.lang.errors import UsageError

#: The range of a C C{long} (64-bit).
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1

#: Beyond this many significant digits a number cannot fit a C long in any
#: base from 2 up, so its exact value is never needed.
_MAX_SIGNIFICANT = 64


def int_of_digits(digits: str, base: int = 10) -> int:
    """C{int(digits, base)} for digit strings of any length.

    @param digits: ASCII digits of C{base}, no sign (leading zeros allowed).
    @return: the value, or C{2**64} when the number has more significant
        digits than any C integer holds (callers clamp it to their range;
        Python's 4,300-digit limit is never reached).
    """
    significant = digits.lstrip("0")
    if not significant:
        return 0
    if len(significant) > _MAX_SIGNIFICANT:
        return 2**64
    return int(significant, base)


def clamp_long(value: int) -> int:
    """C{value} clamped to a C long, as C{strtol} saturates."""
    return max(LONG_MIN, min(LONG_MAX, value))


def finite(
    value: float, usage: str, lo: Optional[float] = None, hi: Optional[float] = None
) -> float:
    """C{value} when it is a finite number in C{[lo, hi]}.

    @param value: a number read from a word (C{atof} and friends give NaN
        and infinities for C{nan}, C{inf}, C{1e400}).
    @param usage: the command's usage (or error) line.
    @raise UsageError: with C{usage}, for NaN, infinities and values out of range.
    """
    if not math.isfinite(value):
        raise UsageError(usage)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise UsageError(usage)
    return value


def whole(value: float, usage: str, lo: int = LONG_MIN, hi: int = LONG_MAX) -> int:
    """C{value} truncated toward zero (C's double-to-int cast) when it is
    finite and the result lies in C{[lo, hi]}.

    @raise UsageError: with C{usage} otherwise.
    """
    if not math.isfinite(value):
        raise UsageError(usage)
    n = int(value)
    if n < lo or n > hi:
        raise UsageError(usage)
    return n


_WHOLE_WORD = re.compile(r"[+-]?[0-9]+", re.ASCII)


def parse_whole(text: str, usage: str, lo: int = LONG_MIN, hi: int = LONG_MAX) -> int:
    """A word that is entirely a decimal whole number (C{12}, C{+3},
    C{08}; white space around it allowed) in C{[lo, hi]}.

    Unlike Python's C{int}, neither C{1_000} nor non-ASCII digits are
    numbers, and any number of digits is read without error.

    @raise UsageError: with C{usage} for anything else.
    """
    s = text.strip(" \t\n\v\f\r")
    if not _WHOLE_WORD.fullmatch(s):
        raise UsageError(usage)
    value = int_of_digits(s.lstrip("+-"))
    if s[0] == "-":
        value = -value
    if value < lo or value > hi:
        raise UsageError(usage)
    return value
