# -*- test-case-name: tests.lang.test_basic -*-
"""Tests for L{pantasks.lang.commands.basic}: echo, input/module, set,
opihi, quit/exit, output, help and friends, sleep."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

from pantasks.lang.context import CollectingSink
from pantasks.lang.interp import Interpreter


def run(text: str, interp: Interpreter | None = None) -> tuple[Any, str, str]:
    interp = interp or Interpreter(log_sink=CollectingSink())
    sink = CollectingSink()
    box: list[Any] = []
    interp.execute_text(interp.new_context(sink), text, "b.pro").addBoth(box.append)
    assert box, "the script waited"
    return box[0], sink.stdout(), sink.stderr()


def test_echo() -> None:
    assert run("echo a  b\techo")[1] == "a b echo\n"
    assert run("echo -no-return a\necho b")[1] == "ab\n"
    assert run("echo a -no-return b\necho")[1] == "a b"
    assert run("echo\necho -no-return")[1] == ""
    assert run('echo ""')[1] == "\n"
    assert run("echo -no-return -no-return")[1] == "-no-return"


def test_nop_and_comments() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    ctx = interp.new_context(CollectingSink())
    for line in ("nop", "# a comment", "## two", "### three", "nop anything at all"):
        assert interp.run_line(ctx, line) == 1
    assert interp.run_line(ctx, "#text") == -1


def test_input_and_module(tmp_path: Path) -> None:
    (tmp_path / "a.pro").write_text("echo in a $argv\n")
    status, o, e = run(f"$argv = x\ninput {tmp_path}/a.pro\necho after")
    assert (status, o, e) == (1, "in a x\nafter\n", "")
    status, o, e = run("input")
    assert e == "b.pro:1: USAGE: input <filename>\n"
    status, o, e = run(f"input {tmp_path}")
    assert e == f"b.pro:1: input: {tmp_path} is a directory, not a script file\n"
    status, o, e = run("$MODULES:n = 2\nmodule a.pro")
    assert e == "b.pro:2: MODULES list element 1 not found\n"
    interp = Interpreter(log_sink=CollectingSink())
    del interp.variables["MODULES:n"]
    assert run("module a.pro", interp)[2] == "b.pro:1: MODULES list not found\n"


def test_set() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    run("set a = 1 + 2\nset b = 010\nset c = (1 < 2)\nset L:n = 0", interp)
    v = interp.variables
    assert (v["a"], v["b"], v["c"], v["L:n"]) == ("3", "010", "1", "0")
    status, o, e = run("set x = word", interp)
    assert e == "b.pro:1: set x: syntax error: not a math expression: word\n"
    status, o, e = run("set x 1", interp)
    assert e == "b.pro:1: USAGE: set NAME = (expression)\n"


def test_opihi() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    assert run("opihi verbose", interp)[2] == "opihi verbose mode: off\n"
    run("opihi VERBOSE Error", interp)
    assert interp.verbose == "error"
    assert run("opihi verbose loud", interp)[2] == (
        "b.pro:1: unknown verbose mode loud\nerror on line: opihi verbose loud\n")
    run("opihi verbose off", interp)
    assert run("opihi chatty", interp)[2] == "b.pro:1: unknown mode chatty\n"
    assert run("opihi", interp)[2] == "b.pro:1: USAGE: opihi (verbose) [on/off/error]\n"


def test_quit_and_exit() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    assert run("quit", interp)[2] == "b.pro:1: quit: not available here\n"
    calls = []
    interp.quit_handler = lambda ctx, code: calls.append(code)
    for line in ("quit", "exit 3", "exit 2.7", "exit 300", "exit junk"):
        run(line, interp)
    assert calls == [0, 3, 2, 44, 0]
    # quit stops the execution: nothing after it runs, not even in the caller.
    calls.clear()
    out = run("macro m\nfor i 0 3\necho $i\nif ($i == 1) exit 5\nend\nend\nm\necho never", interp)
    assert calls == [5]
    assert out[1] == "0\n1\n"


def test_output_redirection(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    interp = Interpreter(log_sink=CollectingSink())
    sink = CollectingSink()
    ctx = interp.new_context(sink)
    interp.execute_text(ctx, f"echo before\noutput {path}\necho inside\noutput -current where\n"
                             "output stdout\necho after\necho $where")
    assert sink.stdout() == f"before\nafter\n{path}\n"
    assert path.read_text() == "inside\n"
    interp.execute_text(ctx, f"output {path}\necho again\noutput stdout\noutput -err {path}\n"
                             "nosuch\noutput -err stderr\noutput -current w\necho $w")
    assert path.read_text() == "inside\nagain\nnosuch: Command not found.\n"
    assert run(f"output {tmp_path}/no/such/dir/f")[2].startswith(
        f"b.pro:1: cannot open {tmp_path}/no/such/dir/f")
    assert run("output a b")[2] == "b.pro:1: USAGE: output <filename> [-err] [-current var]\n"


def test_help_which_and_lists() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    run('macro mine -c "my macro"\nend', interp)
    status, o, e = run("help echo\nhelp mine\nwhich echo", interp)
    # help NAME: the command's entry of pantasks-script(7), as text.
    assert o == ("echo [-no-return] word ...\n    Prints the words separated by single "
                 "spaces, and a newline unless\n    -no-return.\nmine -- my macro\n")
    assert e == "echo                      -- echo [-no-return] words...: print the words\n"
    assert run("help nosuch", interp)[2] == (
        "b.pro:1: No help for: nosuch (not a command or macro; help lists them)\n")
    assert run("which ech", interp)[2] == "b.pro:1: no exact match to ech\n"
    status, o, e = run("?", interp)
    assert "mine                      -- my macro\n" in e
    status, o, e = run("$zz = last\n??", interp)
    assert e.endswith("zz = last\n") and "HOME = " in e
    status, o, e = run("help", interp)
    assert o.count("\n") == len(interp.names())


class SleepTests(unittest.TestCase):
    """C{sleep} and C{usleep} wait on the reactor."""

    timeout = 10

    @defer.inlineCallbacks
    def test_sleep_truncates(self) -> Any:
        interp = Interpreter(reactor=reactor, log_sink=CollectingSink())
        sink = CollectingSink()
        start = time.monotonic()
        status = yield interp.execute_text(interp.new_context(sink),
                                           "sleep 0.9\nsleep -3\nusleep 1000.7\necho done")
        self.assertLess(time.monotonic() - start, 0.85)  # sleep 0.9 truncates to 0
        self.assertEqual((status, sink.stdout()), (1, "done\n"))

    @defer.inlineCallbacks
    def test_sleep_waits(self) -> Any:
        interp = Interpreter(reactor=reactor, log_sink=CollectingSink())
        start = time.monotonic()
        yield interp.execute_text(interp.new_context(CollectingSink()), "sleep 1")
        self.assertGreaterEqual(time.monotonic() - start, 0.95)

    def test_usage(self) -> None:
        status, o, e = run("sleep")
        self.assertEqual(e, "b.pro:1: usage: sleep N\n")


def test_exit_leaves_loops_even_without_auto_break() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    calls = []
    interp.quit_handler = lambda ctx, code: calls.append(code)
    out = run("break -auto off\nfor i 0 3\necho $i\nexit 2\nend\necho after", interp)
    assert calls == [2]
    assert out[1] == "0\n"
