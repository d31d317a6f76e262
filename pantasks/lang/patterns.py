# -*- test-case-name: tests.lang.test_patterns -*-
"""The one place where regular expressions typed by users are compiled.

Anyone who can reach the server may type a pattern (a C{watch} user's
C{status -taskstats "(.|.)*Q"}), so a pattern must never cost time
exponential in its input, as a backtracking engine (Python's C{re}) can.
Patterns are therefore compiled with RE2, which matches in time linear in
the text, and keeps the POSIX extended syntax scripts use (C{|}, C{()},
C{[...]} with C{[:alpha:]} classes, C{^ $ * + ? {m,n}}) with POSIX
leftmost-longest semantics.  What RE2 cannot do in linear time
(backreferences such as C{\\1}) is refused with one clear line.

Memory is bounded too: a pattern may be at most L{MAX_PATTERN} characters,
each compiled pattern may use at most L{MAX_MEMORY} bytes (its program and
its lazily built DFA), and at most L{CACHE_SIZE} compiled patterns are
kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Optional, Protocol

import re2

from pantasks.lang.errors import ScriptError

#: The longest pattern accepted, in characters.
MAX_PATTERN = 4096
#: The memory budget of one compiled pattern (RE2 C{max_mem}), in bytes.
MAX_MEMORY = 1 << 20
#: How many compiled patterns are kept for reuse.
CACHE_SIZE = 32


class Pattern(Protocol):
    """What callers may use of a compiled pattern."""

    def search(self, text: str) -> Any:
        """A match object when C{text} contains a match, else None."""


def _options() -> "re2.Options":
    options = re2.Options()
    options.longest_match = True  # POSIX: the leftmost-longest match
    options.max_mem = MAX_MEMORY
    options.log_errors = False  # errors become ScriptErrors, not stderr noise
    return options


_OPTIONS = _options()
_cache: "OrderedDict[str, Pattern]" = OrderedDict()


def _reason(error: Exception) -> str:
    """RE2's message as text (it gives bytes), with a hint for the
    constructs that are refused on purpose."""
    arg = error.args[0] if error.args else str(error)
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    if text.startswith("invalid escape sequence: \\") and text[-1:].isdigit():
        return (
            f"backreferences ({text.rsplit(' ', 1)[-1]}) are not supported "
            "(patterns are matched in linear time)"
        )
    if "pattern too large" in text:
        return "pattern too large"
    return text


def compile_pattern(text: str) -> Pattern:
    """Compile the user pattern C{text} (POSIX extended syntax, RE2).

    @return: a compiled pattern; C{search} is unanchored, as POSIX
        C{regexec} is.
    @raise ScriptError: C{invalid regular expression TEXT: REASON} (one
        line) when the pattern is malformed, uses a backreference, is
        longer than L{MAX_PATTERN} or needs more than L{MAX_MEMORY}.
    """
    found = _cache.get(text)
    if found is not None:
        _cache.move_to_end(text)
        return found
    if len(text) > MAX_PATTERN:
        raise ScriptError(
            f"invalid regular expression {text[:40]}...: longer than {MAX_PATTERN} characters"
        )
    try:
        # re2.compile would also keep the pattern in the package's own
        # cache, whose entries are not bounded in size: build it directly.
        compiled: Pattern = re2._Regexp(text, _OPTIONS)
    except re2.error as e:
        shown = text.replace("\n", "\\n")
        raise ScriptError(f"invalid regular expression {shown}: {_reason(e)}") from None
    _cache[text] = compiled
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return compiled


def compile_optional(text: Optional[str]) -> Optional[Pattern]:
    """L{compile_pattern}, or None when no pattern was given."""
    return None if text is None else compile_pattern(text)
