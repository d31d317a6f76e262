# -*- test-case-name: tests.lang.test_interp -*-
"""Tests for L{pantasks.lang.interp}: the line pipeline, assignments,
command lookup, statuses, the fast assignment plans, and (on the real
reactor) the commands that wait: backticks, C{exec}, C{sleep}."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import pytest
from twisted.internet import defer, reactor
from twisted.trial import unittest

from pantasks.lang.context import CollectingSink, Context
from pantasks.lang.errors import ScriptError
from pantasks.lang.interp import Interpreter
from pantasks.lang.text import (
    atof,
    format_number,
    quote,
    remove_backslashes,
    substitute_braces,
)
from pantasks.lang.registry import CommandTable


def run(text: str, interp: Interpreter | None = None) -> tuple[Any, str, str, Interpreter]:
    """Run script text that does not wait; (status, stdout, stderr, interp)."""
    interp = interp or Interpreter(log_sink=CollectingSink())
    sink = CollectingSink()
    ctx = interp.new_context(sink)
    box: list[Any] = []
    interp.execute_text(ctx, text, "t.pro").addBoth(box.append)
    assert box, "the script waited"
    return box[0], sink.stdout(), sink.stderr(), interp


def out_of(text: str) -> str:
    status, out, err, _ = run(text)
    assert err == "", err
    return out


# -- assignments ---------------------------------------------------------------

@pytest.mark.parametrize("rhs,value", [
    ("5", "5"), ("007", "007"), ("1.50", "1.50"), ("0x10", "0x10"),
    ("1 + 2", "3"), ("7 / 2", "3.5"), ("1/3", "0.333333333333"), ("2^10", "1024"),
    ("abc def", "abc def"), ('"a b"', '"a b"'), ("2010-01-05", "2004"),
    ("1 + two", "1 + two"), ("", ""), ("1e20+0", "1e+20"), ("-5 % 3", "-2"),
    ("10 > 3 && 2", "1"), ("a\\:b", "a:b"),
])
def test_assignment_values(rhs: str, value: str) -> None:
    status, out, err, interp = run(f"$x = {rhs}")
    assert (status, err) == (1, "")
    assert interp.variables["x"] == value


@pytest.mark.parametrize("text,value", [
    ("$x ++", "1"), ("$x --", "-1"), ("$x = 5\n$x ++", "6"), ("$x = 1.5\n$x ++", "2.5"),
    ("$x = 5\n$x += 2.5", "7.5"), ("$x = 5\n$x -= 1 + 1", "3"), ("$x = abc\n$x ++", "1"),
    ("$x = 0x10\n$x ++", "17"), ("$x = 1e20\n$x ++", "1e+20"), ("$x=3", "3"),
    ("$x++", "1"),
])
def test_increments(text: str, value: str) -> None:
    status, out, err, interp = run(text)
    assert (status, err) == (1, "")
    assert interp.variables["x"] == value


@pytest.mark.parametrize("line,message", [
    ("$x ++ 1", "syntax error"), ("$x +=", "syntax error"), ("$x += abc", "syntax error"),
    ("$x = `echo", "syntax error"), ("$ = 3", "syntax error"),
    ("$x = 5 % 0", "division by zero in: 5 % 0"),
])
def test_assignment_errors(line: str, message: str) -> None:
    status, out, err, interp = run(line)
    assert status == 0
    assert err.startswith(f"t.pro:1: {message}")
    assert interp.variables["STATUS"] == "0"


def test_assignment_target_is_not_expanded() -> None:
    status, out, err, interp = run("$a = b\n$b = 1\n$$a = 2\n$a = $a.$a")
    assert interp.variables["a"] == "b.b"
    assert interp.variables["b"] == "2"
    # "$a$a" builds the name "ab" from the right
    status, out, err, interp = run("$a = b\n$ab = built\n$c = $a$a")
    assert interp.variables["c"] == "built"


def test_assignment_writes_locals_and_privates() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    ctx = interp.new_context(CollectingSink())
    ctx.private_vars["JOB_STATUS"] = "0"
    interp.execute_text(ctx, "$JOB_STATUS = 5\n$other = 1\nlocal v\n$v = 2")
    assert ctx.private_vars["JOB_STATUS"] == "5"
    assert "JOB_STATUS" not in interp.variables
    assert interp.variables["other"] == "1"
    assert ctx.locals["..0.v"] == "2" and "v" not in interp.variables


# -- lines, pieces and statuses ------------------------------------------------

def test_pieces_run_in_order_and_stop_on_failure() -> None:
    status, out, err, interp = run('echo a; echo "b;c" ; nosuch; echo d')
    assert out == "a\nb;c\n"
    assert err == "t.pro:1: nosuch: Command not found.\n"
    assert status == 0


def test_status_variable() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    run("echo a", interp)
    assert interp.variables["STATUS"] == "1"
    interp.auto_break = False
    run("nosuch", interp)
    assert interp.variables["STATUS"] == "-1"
    run("file /no/such found", interp)
    assert interp.variables["STATUS"] == "1"
    run("echo $undefined", interp)
    assert interp.variables["STATUS"] == "0"


def test_errormsg_is_printed_on_failure() -> None:
    status, out, err, interp = run("$ERRORMSG = custom message\nbreak")
    assert err == "custom message\n"
    status, out, err, interp = run("$ERRORMSG = custom message\nnosuch")
    assert err == "t.pro:2: nosuch: Command not found.\n"


def test_opihi_verbose() -> None:
    status, out, err, _ = run("opihi verbose on\n$a = 1\necho $a\nopihi verbose off\necho x")
    assert err == "opihi: $a = 1\nopihi: echo 1\nopihi: opihi verbose off\n"
    status, out, err, _ = run("break -auto off\nopihi verbose error\nfile /no/x v\nnosuch\n"
                              "echo {1 % 0}")
    assert err.splitlines() == [
        "t.pro:4: nosuch: Command not found.",
        "t.pro:5: cannot evaluate expression in brackets: 1 % 0 (division by zero)",
        "error on line: echo {1 % 0}",
    ]


def test_variable_alone_runs_its_value() -> None:
    assert out_of("$cmd = echo from a variable\n$cmd") == "from a variable\n"


def test_shell_escape_spacing() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    seen = []

    def fake_run(ctx: Context, command: str, timeout: Any = None) -> Any:
        seen.append(command)
        return defer.succeed(0)

    interp.shell_run = fake_run  # type: ignore[method-assign]
    ctx = interp.new_context(CollectingSink())
    for line in ("!ls -l", "! echo hi", "exec a   b"):
        assert interp.run_line(ctx, line).send(None).result == 0
    assert seen == ["ls -l", "echo hi", "a b"]
    # in a file, a line starting with "!" is dropped
    assert run("!echo x\necho y", interp)[1] == "y\n"


def test_while_lines_are_not_expanded_by_the_line() -> None:
    # "while ($n < 3)" is expanded on each test, not once before the loop
    assert out_of("$n = 0\nwhile ($n < 3)\n  $n ++\nend\necho $n") == "3\n"


def test_braces_and_backslashes() -> None:
    assert substitute_braces("a {1+1} b {2*3}") == "a 2 b 6"
    assert substitute_braces("a \\{1+1} b") == "a {1+1} b"
    assert substitute_braces("x\\\\{1+1}") == "x\\{1+1}"
    with pytest.raises(ScriptError, match="no close brackets!"):
        substitute_braces("a {1+1")
    with pytest.raises(ScriptError, match="can't nest brackets!"):
        substitute_braces("a {1+{1}}")
    with pytest.raises(ScriptError, match="cannot evaluate expression in brackets: abc"):
        substitute_braces("a {abc}")
    assert remove_backslashes("a\\b\\\\c\\") == "ab\\c"
    assert out_of('echo "n={1+1}" \\{x} a\\ b') == "n=2 {x} a b\n"
    # braces in an assignment stay text, and are evaluated on use
    assert out_of("$e = {2*3}\necho $e") == "6\n"


# -- command lookup ------------------------------------------------------------

def test_unique_prefix_and_ambiguity() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    assert interp.resolve("echo").name == "echo"
    assert interp.resolve("ech").name == "echo"
    assert interp.resolve("nosuch") is None
    assert interp.resolve("") is None
    with pytest.raises(ScriptError, match=r"ambiguous command: s \( "):
        interp.resolve("s")
    run("macro zebra.one\n  echo z1\nend", interp)
    assert interp.resolve("zeb").name == "zebra.one"
    run("macro zebra.two\n  echo z2\nend", interp)
    with pytest.raises(ScriptError, match=r"zebra.one zebra.two"):
        interp.resolve("zeb")
    assert "zebra.two" in interp.names()


def test_first_registration_wins() -> None:
    table = CommandTable()

    @table.command("echo")
    def other_echo(ctx: Context, argv: list[str]) -> int:
        ctx.out("other\n")
        return 1

    @table.command("extra.cmd")
    def extra(ctx: Context, argv: list[str]) -> int:
        ctx.out(" ".join(argv) + "\n")
        return 1

    interp = Interpreter(tables=[table], log_sink=CollectingSink())
    assert run("echo x\nextra a b\n", interp)[1] == "x\nextra.cmd a b\n"


def test_command_returning_none_or_bool() -> None:
    table = CommandTable()
    table.command("gives.none")(lambda ctx, argv: None)
    table.command("gives.true")(lambda ctx, argv: True)
    interp = Interpreter(tables=[table], log_sink=CollectingSink())
    assert run("gives.true\necho ok", interp)[:2] == (1, "ok\n")
    assert run("gives.none\necho ok", interp)[:2] == (0, "")


def test_internal_error_is_one_line() -> None:
    table = CommandTable()

    def broken(ctx: Context, argv: list[str]) -> int:
        raise KeyError("boom")

    table.command("broken")(broken)
    interp = Interpreter(tables=[table], log_sink=CollectingSink())
    status, out, err, _ = run("broken\necho after", interp)
    assert status == 0
    assert err == "t.pro:1: internal error: KeyError: 'boom'\n"
    assert run("echo next", interp)[1] == "next\n"


def test_helpers() -> None:
    assert format_number(3.0) == "3"
    assert format_number(1e20) == "1e+20"
    assert format_number(float("nan")) == "nan"
    assert format_number(-float("inf")) == "-inf"
    assert atof("12abc") == 12.0 and atof("") == 0.0 and atof(None) == 0.0
    assert atof(" 3") == 3.0 and atof("0x10") == 16.0
    assert quote("a\x00b") == "a\\x00b"
    assert quote("x" * 500).endswith("...") and len(quote("x" * 500)) == 80


# -- fast assignment plans -----------------------------------------------------

VALUES = ["0", "1", "-1", "7", "12", "2147483647", "-2147483647", "2147483648",
          "-2147483648", "007", "0x10", "1.5", "1e3", "abc", '"q"', "-0", "", "12abc",
          "999999999", "1000000000", "4294967296", "nan", "inf", "1e", "08"]
TEMPLATES = ["$a + $b % 7", "$a * $b - 3", "($a - $b) * -$c", "$a == $b", "$a != 3",
             "$a < $b && $c", "$a || $b", "$a % $b", "$a / $b", "$a ^ 2", "$a",
             "-$a", "$a - -$b", "$a >= $b", "$a <= $b + $c * $a", "$a + 1 > $b",
             "$a * $b * $c * $a", "$a % 0", "$a-$b", "$a max $b", "($a)"]


def _assign_all(interp: Interpreter, script: str) -> tuple[Any, str, str]:
    status, out, err, _ = run(script, interp)
    return status, err, interp.variables.get("r", "<unset>")


def test_plans_give_the_general_result() -> None:
    """Every template and value mix: a plan-running interpreter and one
    with plans turned off end with the same value, status and errors."""
    rng = random.Random(7)
    cases = list(itertools.product(TEMPLATES, VALUES, VALUES))
    rng.shuffle(cases)
    fast = Interpreter(log_sink=CollectingSink())
    slow = Interpreter(log_sink=CollectingSink())
    slow._plan = lambda piece: None  # type: ignore[method-assign]
    fast.auto_break = slow.auto_break = False
    for template, a, b in cases[:4000]:
        c = rng.choice(VALUES)
        script = f"$a = {a}\n$b = {b}\n$c = {c}\n$r = {template}"
        for interp in (fast, slow):
            interp.variables.pop("r", None)
        got = _assign_all(fast, script)
        want = _assign_all(slow, script)
        assert got == want, (template, a, b, c)


def test_plan_in_a_loop_sees_every_change() -> None:
    out = out_of("$n = 0\nfor i 0 1000\n  $n = $n + $i % 7\nend\necho $n\n"
                 "$m = 2147483640\nfor i 0 20\n  $m = $m + 1\nend\necho $m\n"
                 "$x = 1\nfor i 0 3\n  $x = $x * 1000000\nend\necho $x")
    # (10^12 is beyond the C int range, so it is a float operand)
    assert out == "2997\n2147483660\n1e+18\n"


def test_plans_with_locals_and_private_variables() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    sink = CollectingSink()
    ctx = interp.new_context(sink)
    ctx.private_vars["p"] = "10"
    interp.execute_text(ctx, "macro m\n  local t\n  $t = 0\n  for i 0 5\n    $t = $t + $i\n"
                             "  end\n  $p = $p + $t\n  echo $t\nend\nm\n$g = $p + 1")
    assert sink.stdout() == "10\n"
    assert ctx.private_vars["p"] == "20"
    assert interp.variables["g"] == "21"
    assert "t" not in interp.variables and "p" not in interp.variables


def test_loop_speed() -> None:
    """The interpreter's benchmark loop stays well under a second here."""
    interp = Interpreter(log_sink=CollectingSink())
    start = time.perf_counter()
    run("$n = 0\nfor i 0 50000\n  $n = $n + $i % 7\nend", interp)
    assert interp.variables["n"] == "149997"
    assert time.perf_counter() - start < 2


# -- files ---------------------------------------------------------------------

def test_load_file_line_numbers_and_endings(tmp_path: Any) -> None:
    path = tmp_path / "f.pro"
    path.write_bytes(b"echo one\r\n\r\n# comment\r!shell\n  \techo two\t\nnosuch\n")
    status, out, err, _ = run(f"input {path}")
    assert out == "one\ntwo\n"
    assert err == f"{path}:6: nosuch: Command not found.\n"


def test_empty_file_warns(tmp_path: Any) -> None:
    path = tmp_path / "empty.pro"
    path.write_text("# only a comment\n\n")
    status, out, err, _ = run(f"input {path}\necho after")
    assert (status, out) == (1, "after\n")
    assert err == f"WARNING: input file ({path}) was empty\n"


def test_module_search(tmp_path: Any) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "m.pro").write_text("echo from b\n")
    text = f"$MODULES:0 = {tmp_path}/a\n$MODULES:1 = {tmp_path}/b\n$MODULES:n = 2\nmodule m.pro"
    assert out_of(text) == "from b\n"
    status, out, err, _ = run(text + "\nmodule nope.pro")
    assert err == "t.pro:5: module nope.pro not found\n"


# -- on the real reactor -------------------------------------------------------

class WaitingCommandTests(unittest.TestCase):
    """Backticks, C{exec} and C{sleep} run on the reactor without blocking it."""

    timeout = 20

    def setUp(self) -> None:
        self.sink = CollectingSink()
        self.interp = Interpreter(reactor=reactor, log_sink=self.sink)
        self.ctx = self.interp.new_context(self.sink)

    def go(self, text: str) -> Any:
        return self.interp.execute_text(self.ctx, text, "w.pro")

    @defer.inlineCallbacks
    def test_backticks(self) -> Any:
        # (the script's "\\n" reaches the shell as "\n")
        status = yield self.go("$x = `seq 1 3`\n$ok = $EXECSTATUS\n"
                               "$e = `printf 'a\\\\nb'`\n"
                               "$n = `printf 'x\\\\n\\\\n'`\n"
                               "$y = `exit 3`\n$bad = $EXECSTATUS\n"
                               "$plain = `printf 'p\\nq'`")
        self.assertEqual(status, 1)
        v = self.interp.variables
        self.assertEqual((v["x"], v["ok"]), ("1 2 3", "0"))
        self.assertEqual(v["e"], "a b")
        self.assertEqual(v["n"], "x ")
        self.assertEqual((v["y"], v["bad"]), ("", "768"))
        self.assertEqual(v["plain"], "pnq")
        self.assertEqual(self.sink.stderr(), "warning: exit status of command 768\n")

    @defer.inlineCallbacks
    def test_command_stderr_reaches_the_caller(self) -> Any:
        """Backticks, C{list -x} and C{queueload -x}: stdout is captured,
        stderr goes to whoever ran the line (the original's terminal)."""
        status = yield self.go('$x = `echo out && echo err1 >&2`\n'
                               'list L -x "echo item; echo err2 >&2"\n'
                               'queueload q -x "echo line; echo err3 >&2"')
        self.assertEqual(status, 1)
        self.assertEqual((self.interp.variables["x"], self.interp.variables["L:0"]),
                         ("out", "item"))
        self.assertEqual(self.sink.stderr(), "err1\nerr2\nerr3\n")

    @defer.inlineCallbacks
    def test_backtick_limits(self) -> Any:
        status = yield self.go("$long = `printf %05000d 0`")
        self.assertEqual(status, 1)
        self.assertEqual(len(self.interp.variables["long"]), 1023)
        # ";" splits the line before the backticks are seen (original rule)
        status = yield self.go("$z = `echo one; echo two`")
        self.assertEqual(status, 0)
        self.assertIn("w.pro:1: syntax error", self.sink.stderr())

    @defer.inlineCallbacks
    def test_exec(self) -> Any:
        status = yield self.go("exec echo out && echo err >&2\nexec exit 0\necho next")
        self.assertEqual(status, 1)
        self.assertEqual(self.sink.stdout(), "out\nnext\n")
        status = yield self.go("exec exit 4\necho never")
        self.assertEqual(status, 0)
        self.assertEqual(self.sink.stderr(), "err\n")

    @defer.inlineCallbacks
    def test_exec_timeout_kills(self) -> Any:
        start = time.monotonic()
        status = yield self.go("exec -timeout 0.3 sleep 5; echo not\necho never")
        self.assertLess(time.monotonic() - start, 3)
        self.assertEqual(status, 0)
        self.assertEqual(self.sink.stdout(), "")
        self.assertIn("w.pro:1: timeout on sleep 5", self.sink.stderr())

    @defer.inlineCallbacks
    def test_exec_signal(self) -> Any:
        status = yield self.go("exec kill -9 $$\necho never")
        self.assertEqual(status, 0)
        self.assertEqual(self.sink.stderr(), "w.pro:1: kill exited on signal 9\n")

    @defer.inlineCallbacks
    def test_sleep_does_not_block(self) -> Any:
        other = CollectingSink()
        octx = self.interp.new_context(other)
        start = time.monotonic()
        d1 = self.go("usleep 300000\necho slept")
        d2 = self.interp.execute_text(octx, "echo meanwhile")
        self.assertEqual(other.stdout(), "meanwhile\n")
        self.assertFalse(d1.called)
        self.assertTrue(d2.called)
        yield d1
        self.assertGreaterEqual(time.monotonic() - start, 0.25)
        self.assertEqual(self.sink.stdout(), "slept\n")

    @defer.inlineCallbacks
    def test_waiting_inside_loops_and_macros(self) -> Any:
        status = yield self.go(
            "macro m\n  $v = `echo $1`\n  echo got $v\nend\n"
            "for i 0 3\n  if ($i > 0)\n    m $i\n  end\nend\n"
            "foreach w a b\n  exec echo $w\nend")
        self.assertEqual(status, 1)
        self.assertEqual(self.sink.stdout(), "got 1\ngot 2\na\nb\n")

    def test_no_reactor(self) -> None:
        interp = Interpreter(log_sink=CollectingSink())
        status, out, err, _ = run("$x = `echo hi`\necho never", interp)
        self.assertEqual(status, 0)
        self.assertEqual(err, "t.pro:1: this command needs the event loop, which is not running\n")
