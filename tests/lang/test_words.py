# -*- test-case-name: tests.lang.test_words -*-
"""Tests for L{pantasks.lang.words}: pieces at C{;}, words, quotes and
parentheses, as opihi splits them."""

from __future__ import annotations

import pytest

from pantasks.lang.errors import ScriptError
from pantasks.lang.words import first_word, split_pieces, split_words


@pytest.mark.parametrize("line,pieces", [
    ("", []),
    ("   ", []),
    ("echo a", ["echo a"]),
    ("  echo a  ", ["echo a"]),
    ("a; b ;c", ["a", "b", "c"]),
    ("$x = 0;", ["$x = 0"]),
    ("break;", ["break"]),
    (";;a;;", ["a"]),
    ('echo "a;b"; echo c', ['echo "a;b"', "echo c"]),
    ('echo "a;b" "c;d";e', ['echo "a;b" "c;d"', "e"]),
    # an unbalanced quote keeps the rest of the line in its piece
    ('echo "a;b', ['echo "a;b']),
    ('echo a; echo "b;c', ["echo a", 'echo "b;c']),
    # parentheses and backticks do not protect ";" (as in the original)
    ("if (a;b)", ["if (a", "b)"]),
    ("$x = `a;b`", ["$x = `a", "b`"]),
    ("\techo\ta\t;\tb\t", ["echo\ta", "b"]),
])
def test_split_pieces(line: str, pieces: list[str]) -> None:
    assert split_pieces(line) == pieces


@pytest.mark.parametrize("line,words", [
    ("", []),
    ("echo", ["echo"]),
    ("echo  a\t b\v\fc\r", ["echo", "a", "b", "c"]),
    ('echo "a b"  c', ["echo", "a b", "c"]),
    ('echo ""', ["echo", ""]),
    ('echo "ab"cd', ["echo", "ab", "cd"]),
    ('echo ab"cd"', ["echo", 'ab"cd"']),
    ('echo ab"c d"', ["echo", 'ab"c', 'd"']),
    ("echo 'a b'", ["echo", "'a", "b'"]),
    ("if ($a == 1)", ["if", "($a == 1)"]),
    ("if (($a == 1) && ($b))  cmd x", ["if", "(($a == 1) && ($b))", "cmd", "x"]),
    ("echo a(b c)", ["echo", "a(b", "c)"]),
    ("echo (a)(b)", ["echo", "(a)", "(b)"]),
    ('echo ("a)" x")', ["echo", '("a)', " x", ")"]),
    ('echo "(a"', ["echo", "(a"]),
    ("echo \u00a0x", ["echo", "\u00a0x"]),
    ("echo a\x1cb", ["echo", "a\x1cb"]),
])
def test_split_words(line: str, words: list[str]) -> None:
    assert split_words(line) == words


@pytest.mark.parametrize("line,message", [
    ('echo "abc', "misbalanced quotes"),
    ('echo a "b', "misbalanced quotes"),
    ("echo (abc", "misbalanced parenthesis"),
    ("echo ((a)", "misbalanced parenthesis"),
    ("if ((1)", "misbalanced parenthesis"),
    # quotes do not protect parentheses: the word ends at the first ")"
    ('echo ("a)")', "misbalanced quotes"),
])
def test_split_errors(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        split_words(line)
    assert str(e.value) == message


def test_close_paren_alone_is_a_word() -> None:
    assert split_words("echo a) b") == ["echo", "a)", "b"]


def test_long_lines() -> None:
    """Long lines of words, quotes or parentheses split in one pass."""
    n = 50_000
    assert len(split_words("w " * n)) == n
    assert split_words('"a b" ' * n) == ["a b"] * n
    assert split_words("(x) " * n) == ["(x)"] * n
    assert len(split_pieces("a;" * n)) == n
    assert len(split_pieces('"a;b";' * n)) == n
    with pytest.raises(ScriptError):
        split_words("(" * n)


def test_first_word() -> None:
    assert first_word("  task.exec  x") == "task.exec"
    assert first_word('"a b" c') == '"a'
    assert first_word("") == ""
