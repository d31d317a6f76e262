# -*- test-case-name: tests.lang.test_hooks -*-
"""The interpreter hooks the client relies on (forwarding to a server)."""

from __future__ import annotations

from pantasks.lang.context import CollectingSink
from pantasks.lang.interp import Interpreter


def make():
    interp = Interpreter()
    sink = CollectingSink()
    return interp, interp.new_context(sink), sink


def test_fallback_receives_unknown_and_ambiguous_commands() -> None:
    interp, ctx, sink = make()
    seen = []
    interp.fallback = lambda c, argv: seen.append(list(argv)) or 1
    interp.execute_text(ctx, "$x = 5\nnosuch $x a\nst\necho local")
    assert seen == [["nosuch", "5", "a"], ["st"]]
    assert sink.stdout() == "local\n" and sink.stderr() == ""


def test_raw_commands_get_the_line_unexpanded() -> None:
    interp, ctx, sink = make()
    seen = []
    interp.raw_commands["server"] = lambda c, rest: seen.append(rest) or 1
    interp.execute_text(ctx, "server $LABEL = new\nserver   input  $FILE")
    assert seen == ["$LABEL = new", "input  $FILE"]
    assert sink.chunks == []


def test_without_hooks_unknown_commands_fail() -> None:
    interp, ctx, sink = make()
    d = interp.execute_text(ctx, "nosuch")
    assert d.result == 0
    assert "nosuch: Command not found." in sink.stderr()
