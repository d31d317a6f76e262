# -*- test-case-name: tests.lang.test_interp -*-
"""Text helpers every layer of the language uses: numbers printed as C
prints them, C{atof}, quoting a user's text into a one-line message,
backslashes and C{{expr}} braces in a command line."""

from __future__ import annotations

import math
import re
from typing import Optional

from pantasks.lang import expr as _expr
from pantasks.lang.errors import ExprError, ScriptError
from pantasks.lang.words import WHITESPACE

#: Longest command name or line quoted in an error message.
MAX_QUOTE = 80

def format_number(value: float) -> str:
    """C's C{%.12g}, used by C{++}, C{+=} and friends.

    @param value: the number.
    @return: its text, integral values without a decimal point.
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "%.12g" % value


def atof(text: Optional[str]) -> float:
    """C's C{atof}: the longest numeric prefix, 0 when there is none.

    @param text: any text, or None (read as 0).
    """
    if not text:
        return 0.0
    try:
        return float(text) if text.strip(WHITESPACE) == text else _expr._atof(text)
    except ValueError:
        return _expr._atof(text)


def quote(text: str) -> str:
    """C{text} made safe to show in a one-line error message: control
    characters escaped, long text cut.

    @param text: a command name or line, as the user wrote it.
    """
    long = len(text) > MAX_QUOTE
    text = text[:MAX_QUOTE]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else
                       ("\\x%02x" if ord(c) < 256 else "\\u%04x") % ord(c) for c in text)
    if long or len(text) > MAX_QUOTE:
        text = text[: MAX_QUOTE - 3] + "..."
    return text


_BACKSLASH = re.compile(r"\\(.?)", re.S)


def remove_backslashes(text: str) -> str:
    """Every C{\\x} becomes C{x} (a final lone backslash disappears).

    @param text: a command line after expansion.
    """
    return _BACKSLASH.sub(r"\1", text)


def substitute_braces(line: str) -> str:
    """Replace each C{{expr}} by its value; C{\\{} is a literal brace.

    The expression runs to the first C{}}; braces do not nest.

    @param line: a command line after expansion.
    @raise ScriptError: C{no close brackets!}, C{can't nest brackets!},
        or C{cannot evaluate expression in brackets: EXPR}.
    """
    out = []
    i = 0
    while True:
        p = line.find("{", i)
        if p < 0:
            out.append(line[i:])
            break
        out.append(line[i:p])
        if p > 0 and line[p - 1] == "\\":
            # "\{" is a literal brace: the backslash becomes the brace.
            out[-1] = out[-1][:-1] + "{"
            i = p + 1
            continue
        close = line.find("}", p + 1)
        if close < 0:
            raise ScriptError("no close brackets!")
        nested = line.find("{", p + 1, close)
        if nested >= 0:
            raise ScriptError("can't nest brackets!")
        inner = line[p + 1 : close]
        try:
            value = _expr.evaluate(inner)
        except ExprError as e:
            raise ScriptError(
                f"cannot evaluate expression in brackets: {quote(inner)} ({e})") from None
        out.append(value)
        i = close + 1
    return "".join(out)
