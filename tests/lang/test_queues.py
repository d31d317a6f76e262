"""Tests for L{pantasks.lang.queues}."""

from __future__ import annotations

import pytest

from pantasks.lang.errors import ScriptError
from pantasks.lang.queues import (
    Queue,
    c_atoi,
    iter_word_spans,
    iter_words,
    line_key,
    nth_word,
    parse_key,
    split_push_text,
)
from pantasks.lang.words import split_words


class TestSplitPushText:
    @pytest.mark.parametrize(
        "text, lines",
        [
            ("", []),
            ("a", ["a"]),
            ("a\n", ["a"]),
            ("\n", [""]),
            ("a\n\nb\n", ["a", "", "b"]),
            ("a\n\n", ["a", ""]),
            ("  x  \ny", ["  x  ", "y"]),
        ],
    )
    def test_split(self, text: str, lines: list[str]) -> None:
        assert split_push_text(text) == lines


class TestWords:
    @pytest.mark.parametrize(
        "line",
        [
            "a b c",
            "  a\tb  ",
            '"x y" z',
            '"ab"cd e',
            '""',
            "(a (b) c) d",
            "f(x y",
            "it's fine",
        ],
    )
    def test_agrees_with_split_words(self, line: str) -> None:
        assert list(iter_words(line)) == split_words(line)

    def test_misbalanced_only_when_reached(self) -> None:
        it = iter_words('a b "c d')
        assert next(it) == "a"
        assert next(it) == "b"
        with pytest.raises(ValueError, match="misbalanced quotes"):
            next(it)
        with pytest.raises(ScriptError):
            split_words('a b "c d')

    def test_misbalanced_parenthesis(self) -> None:
        with pytest.raises(ValueError, match="misbalanced parenthesis"):
            list(iter_words("a (b"))

    def test_spans(self) -> None:
        assert list(iter_word_spans('ab "c d"  (e)')) == [("ab", 2), ("c d", 8), ("(e)", 13)]

    def test_nth_word(self) -> None:
        assert nth_word("a b c", 0) == "a"
        assert nth_word("a b c", 2) == "c"
        assert nth_word("a b c", 3) is None
        assert nth_word('a "b', 0) == "a"
        assert nth_word('a "b', 1) is None


class TestKeys:
    @pytest.mark.parametrize(
        "text, value", [("0", 0), ("12", 12), ("1x", 1), ("x", 0), (" -3", -3), ("", 0)]
    )
    def test_atoi(self, text: str, value: int) -> None:
        assert c_atoi(text) == value

    def test_parse_key(self) -> None:
        assert parse_key("0:1") == [0, 1]
        assert parse_key("2") == [2]
        assert parse_key("a:1") == [0, 1]

    @pytest.mark.parametrize(
        "line, key, expected",
        [
            ("a b c", None, "a b c"),
            ("a b c", "0", "a"),
            ("a b c", "0:2", "a:c"),
            ("a b c", "2:0", "c:a"),
            ("a b c", "0:5", "a:"),
            ("a b c", "-1", "a b c"),
            ("a b c", "-2", "a"),
            ('"x y" z', "0", "x y"),
            ('a "b', "0:1", "a:"),
            ("", "0", ""),
        ],
    )
    def test_line_key(self, line: str, key: str, expected: str) -> None:
        assert line_key(line, key) == expected


class TestQueue:
    def test_push_pop_fifo(self) -> None:
        q = Queue("q")
        q.push("a\nb\n")
        q.push("c")
        assert list(q) == ["a", "b", "c"]
        assert len(q) == 3
        assert q.pop() == "a"
        assert q.pop() == "b"
        assert q.pop() == "c"
        assert q.pop() is None

    def test_append_line_keeps_newlines(self) -> None:
        q = Queue("q")
        q.append_line("a\nb")
        assert list(q) == ["a\nb"]

    def test_push_unique_whole_line(self) -> None:
        q = Queue("q", ["a 1", "b 2"])
        q.push_unique("a 1\nc 3\nc 3\n")
        assert list(q) == ["a 1", "b 2", "c 3"]

    def test_push_unique_by_key(self) -> None:
        q = Queue("q", ["a 1", "b 2"])
        q.push_unique("a 9", "0")
        q.push_unique("d 1", "1")
        q.push_unique("e 5", "1")
        assert list(q) == ["a 1", "b 2", "e 5"]

    def test_push_replace_by_key(self) -> None:
        q = Queue("q", ["a 1", "b 2", "a 3"])
        q.push_replace("a 9", "0")
        assert list(q) == ["a 9", "b 2", "a 3"]
        q.push_replace("z 0", "0")
        assert list(q) == ["a 9", "b 2", "a 3", "z 0"]

    def test_push_replace_multi_key(self) -> None:
        q = Queue("q", ["x 1 old", "x 2 old"])
        q.push_replace("x 2 new\nx 3 new", "0:1")
        assert list(q) == ["x 1 old", "x 2 new", "x 3 new"]

    def test_pop_match(self) -> None:
        q = Queue("q", ["a 1", "b 2", "c 2"])
        assert q.pop_match("1", "2") == "b 2"
        assert list(q) == ["a 1", "c 2"]
        assert q.pop_match("1", "7") is None
        assert q.pop_match("0:1", "c:2") == "c 2"
        assert list(q) == ["a 1"]

    def test_drop(self) -> None:
        q = Queue("q", ["a 1", "b 2", "c 2", "d"])
        assert q.drop("1", "2") == 2
        assert list(q) == ["a 1", "d"]
        assert q.drop("1", "") == 1
        assert list(q) == ["a 1"]

    def test_clear(self) -> None:
        q = Queue("q", ["a"])
        q.clear()
        assert len(q) == 0

    def test_substr_repeats_while_match_remains(self) -> None:
        q = Queue("q", ["aaaa", "xyz", "@A@-@A@"])
        q.substr("aa", "a")
        assert list(q) == ["a", "xyz", "@A@-@A@"]
        q.substr("@A@", "gpc1")
        assert list(q) == ["a", "xyz", "gpc1-gpc1"]

    def test_substr_does_not_loop_forever(self) -> None:
        q = Queue("q", ["a-a"])
        q.substr("a", "aa")
        assert list(q) == ["aa-aa"]
        q.substr("", "x")
        assert list(q) == ["aa-aa"]

    def test_long_queue_pops_quickly(self) -> None:
        q = Queue("q")
        q.push("".join(f"line {i}\n" for i in range(200_000)))
        n = 0
        while q.pop() is not None:
            n += 1
        assert n == 200_000
