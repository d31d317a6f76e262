"""User regular expressions (L{pantasks.lang.patterns}): POSIX extended
syntax, linear time, one-line errors, a bounded cache."""

from __future__ import annotations

import pytest

from pantasks.lang import patterns
from pantasks.lang.errors import ScriptError
from pantasks.lang.patterns import compile_optional, compile_pattern


@pytest.mark.parametrize("pattern, text, found", [
    ("eep", "sleeper", True),           # unanchored, as regexec
    ("^lo|long$", "load", True),
    ("^lo|long$", "sleeper.long", True),
    ("^lo|long$", "slow", False),
    ("chip\\.(load|run)", "chip.run", True),
    ("chip\\.(load|run)", "chipXrun", False),
    ("[[:digit:]]{3}$", "task.123", True),   # POSIX bracket classes
    ("[[:upper:]]", "lower.only", False),
    ("a{2,3}", "caab", True),
    ("[^a-z.]", "abc.def", False),
    ("x*", "", True),
])
def test_posix_extended_syntax(pattern: str, text: str, found: bool) -> None:
    assert (compile_pattern(pattern).search(text) is not None) is found


@pytest.mark.parametrize("pattern", [
    "(.|.)*Q", "(a+)+$", "(a|aa)*b", "(a*)*b", "([a-zA-Z]+)*Q", "(.*a){20}Q",
])
def test_catastrophic_patterns_are_linear(pattern: str) -> None:
    """Patterns that make a backtracking engine take exponential time
    answer at once here (a 60-character text would take years with
    Python's re)."""
    assert compile_pattern(pattern).search("a" * 60 + "!") is None


def test_backreference_is_one_clear_error() -> None:
    with pytest.raises(ScriptError) as e:
        compile_pattern("(a)\\1")
    assert str(e.value) == (
        "invalid regular expression (a)\\1: backreferences (\\1) are not supported "
        "(patterns are matched in linear time)")


@pytest.mark.parametrize("pattern, reason", [
    ("(", "missing ): ("),
    ("[", "missing ]: ["),
    ("a**", "bad repetition operator: **"),
])
def test_malformed_pattern_is_one_line(pattern: str, reason: str) -> None:
    with pytest.raises(ScriptError) as e:
        compile_pattern(pattern)
    assert str(e.value) == f"invalid regular expression {pattern}: {reason}"


def test_too_long_and_too_large_patterns_are_refused() -> None:
    with pytest.raises(ScriptError) as e:
        compile_pattern("a" * (patterns.MAX_PATTERN + 1))
    assert "longer than 4096 characters" in str(e.value)
    assert "\n" not in str(e.value)
    with pytest.raises(ScriptError) as e:
        compile_pattern("\\pL{1000}\\pL{1000}\\pL{1000}")  # over MAX_MEMORY
    assert str(e.value).endswith(": pattern too large")
    with pytest.raises(ScriptError) as e:
        compile_pattern("((a{100}){100})")
    assert str(e.value).endswith(": invalid repetition size: {100}")


def test_cache_is_bounded_and_reused() -> None:
    first = compile_pattern("cached.one")
    assert compile_pattern("cached.one") is first
    for i in range(patterns.CACHE_SIZE * 3):
        compile_pattern(f"filler{i}")
    assert len(patterns._cache) == patterns.CACHE_SIZE
    assert compile_pattern("cached.one") is not first  # evicted, compiled again


def test_optional() -> None:
    assert compile_optional(None) is None
    assert compile_optional("x").search("axb")
