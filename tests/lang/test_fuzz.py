# -*- test-case-name: tests.lang.test_fuzz -*-
"""Tens of thousands of generated command lines never give an internal error.

A seeded generator (so a failure can be replayed) calls every registered
command -- language, scheduler and server-only -- with words drawn from
numeric edge cases (NaN, infinities, huge and tiny numbers, 5,000-digit
integers), option names and sub-command words taken from the sources,
unicode, control characters, empty words and format directives.  The
interpreter is the one C{pantasks_server} builds, on a C{task.Clock} with
the fake job runner, and shell commands answer at once, so nothing really
runs or sleeps.  Every line must end in normal output or one-line errors:
never C{internal error}, never a traceback, never a logged failure.
"""

from __future__ import annotations

import inspect
import os
import random
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from twisted.internet.defer import succeed
from twisted.logger import globalLogPublisher

from pantasks.lang.context import CollectingSink
from pantasks.net.commands import ServerHooks, install

from tests.sched.helpers import Harness

ROOT = Path(__file__).resolve().parents[2]

#: Lines per seed; the test runs a few seeds.
LINES = int(os.environ.get("PANTASKS_FUZZ_LINES", "15000"))
SEEDS = [int(s) for s in os.environ.get("PANTASKS_FUZZ_SEEDS", "1,2,3").split(",")]

BIG = "9" * 5000
NUMBERS = [
    "nan", "NaN", "-nan", "+nan", "inf", "-inf", "+inf", "Infinity", "-infinity", "1e400",
    "-1e400", "1e-400", "1e308", "-1e308", "4e-320", BIG, "-" + BIG, "0x" + "f" * 3000,
    "0" * 5000 + "1", "1" + "0" * 400, "2147483647", "2147483648", "-2147483648",
    "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808",
    "-9223372036854775809", "18446744073709551616", "0", "-0", "1", "-1", "2", "3", "7", "10",
    "100", "65536", "1.5", "-2.5", "0.000001", "1e6", "1e9", "1e12", "0x10", "0x", "0b101",
    "010", "08", "1_000", "3x", "x3", ".", "-", "+", "e", "1e", "1e+", "--1", "1.2.3",
    "１２", "٣", "0.1e-2", "12:30", "12:30:15", "2026/01/02", "2026-01-02", "99:99:99",
    "-12:00", "now", "mon@12:00", "1970/01/01,00:00:00",
]
ODD = [
    "", " ", "''", '""', "é", "ünïcødé", "日本語", "\u202e", "\x1b[31m", "\x00", "a\x00b", "\x7f",
    "\ufffd", "a\tb", "%", "%d", "%x", "%s", "%f", "%g", "%e", "%c", "%5000d", "%.5000f",
    "%*d", "%" + "9" * 5000 + "d", "%.0" + "1" * 400 + "f",
    "%-+ #0d", "%lld", "%n", "%%", "%1$s", "%99999999999999999999d", "{", "}", "(",
    ")", "[", "]", "`", "\\", "$", "$x", "$x:0", "$x:n", "@", ";", "&&", "|", ">", "<",
    "/", ".", "..", "-", "--", "end", "END", "else", "true", "false", "on", "off", "yes",
    "stdout", "stderr", "local", "anyhost", "x", "y", "L", "Q", "B", "t", "a.b", "a:b",
    "task", "job", "all", "-1x", "x" * 300,
]
OPERATORS = ["+", "-", "*", "/", "%", "^", "<", ">", "==", "!=", "&&", "||", "&", "|",
             "<<", ">>", "@", "max", "min"]

#: Loops, given a body that breaks out of them.
LOOPS = frozenset(("for", "while"))


def _source_words() -> tuple[list[str], list[str]]:
    """Option names (C{-var}) and short literal words of the command
    modules: the flags and sub-commands the commands look for."""
    options: set[str] = set()
    words: set[str] = set()
    for path in list((ROOT / "pantasks/lang/commands").glob("*.py")) + [
        ROOT / "pantasks/sched/commands.py", ROOT / "pantasks/net/commands.py",
        ROOT / "pantasks/lang/books.py", ROOT / "pantasks/lang/queues.py",
    ]:
        text = path.read_text()
        options.update(re.findall(r'"(-[A-Za-z][A-Za-z0-9_.-]{0,20})"', text))
        words.update(re.findall(r'"([a-z][a-z0-9_.]{1,14})"', text))
    return sorted(options), sorted(words)


OPTIONS, WORDS = _source_words()


def _command_words(func: Any) -> list[str]:
    """The literal words in a command's own source (its sub-commands and
    options), so generated lines reach past the first argument check."""
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        return []
    return sorted(set(re.findall(r'"([^"\s\\{}]{1,20})"', text)))


def _word(rng: random.Random, own: list[str]) -> str:
    pick = rng.random()
    if own and pick < 0.2:
        return rng.choice(own)
    pick = rng.random()
    if pick < 0.45:
        return rng.choice(NUMBERS)
    if pick < 0.65:
        return rng.choice(ODD)
    if pick < 0.8:
        return rng.choice(OPTIONS)
    if pick < 0.95:
        return rng.choice(WORDS)
    return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 8)))


def _quoted(word: str) -> str:
    """One script word holding exactly C{word} where possible."""
    if word == "" or any(c in word for c in ' \t"'):
        return '"' + word.replace('"', "") + '"'
    return word


def _lines(rng: random.Random, commands: dict[str, Any], count: int) -> Iterator[str]:
    names = sorted(commands)
    own = {name: _command_words(cmd.func) for name, cmd in commands.items()}
    for _ in range(count):
        name = rng.choice(names)
        argv = [_quoted(_word(rng, own[name]))
                for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5)))]
        line = " ".join([name, *argv])
        shape = rng.random()
        if name in LOOPS:
            # A body that leaves at once: a loop of 1e308 passes is the
            # time-slice's business, not this test's.
            line = f"{line}\n  break\nend"
        elif shape < 0.08:
            # Inside a task definition, where the task keywords act on it.
            line = f"task fz{rng.randrange(5)}\n  {line}\n  command true\nend"
        elif shape < 0.12:
            line = f"macro fzm\n  {line}\nend\nfzm {' '.join(argv)}"
        elif shape < 0.15:
            var = rng.choice(("x", "x:n", "L:n", "MODULES:n", "t:0"))
            line = f"${var} = {_quoted(_word(rng, []))}\n{line}"
        elif shape < 0.2:
            a, b = _word(rng, []), _word(rng, [])
            op = rng.choice(OPERATORS)
            line = rng.choice((f"echo {{{a} {op} {b}}}", f"if ({a} {op} {b}) echo y",
                               f"$x = {a} {op} {b}", f"set x = {a} {op} {b}",
                               f"$x = {_quoted(a)}\n$x {op}= {b}", f"$x = {_quoted(a)}\n$x ++"))
        yield line


class _Failures:
    """Collects every failure the interpreter logs (C{log.failure})."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("log_failure") is not None:
            self.events.append(event)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """The server's interpreter on a fake clock and runner, in a scratch
    directory, with shell commands answered at once and C{cd} faked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    h = Harness()
    shutdowns: list[bool] = []
    install(h.interp, ServerHooks(h.sched, h.sink, shutdowns.append, lambda code: None))
    h.interp.shell_capture = lambda command, err=None: succeed((0, "out\n"))
    h.interp.shell_run = lambda ctx, command, timeout=None: succeed(0)

    def fake_chdir(path: Any) -> None:
        if not os.path.isdir(path):
            raise FileNotFoundError(2, "No such file or directory", path)

    monkeypatch.setattr(os, "chdir", fake_chdir)
    yield h


@pytest.mark.parametrize("seed", SEEDS)
def test_no_internal_error(harness: Harness, seed: int) -> None:
    """No generated line gives C{internal error}, a traceback or a logged
    failure; the interpreter still answers afterwards."""
    h = harness
    rng = random.Random(seed)
    commands = dict(h.interp.commands)
    assert len(commands) > 90  # language, scheduler and server commands
    failures = _Failures()
    globalLogPublisher.addObserver(failures)
    bad: dict[str, str] = {}  # the first failing line of each command
    try:
        for n, line in enumerate(_lines(rng, commands, LINES)):
            sink = CollectingSink()
            ctx = h.interp.new_context(sink)
            box: list[Any] = []
            h.interp.execute_text(ctx, line, "fuzz.pro").addBoth(box.append)
            if n % 50 == 0:
                h.clock.advance(rng.choice((0, 1, 30, 3600)))
            text = sink.stderr() + sink.stdout()
            result = box[0] if box else 0
            if ("internal error" in text or "Traceback" in text
                    or not isinstance(result, int) or failures.events):
                name = line.split("\n")[-1].split(" ", 1)[0]
                bad.setdefault(name, f"{line[:200]!r}: {text[:300]!r} {result!r}")
                failures.events.clear()
    finally:
        globalLogPublisher.removeObserver(failures)
    assert not bad, "\n".join(bad.values())
    log = h.sink.stderr() + h.sink.stdout()
    assert "internal error" not in log and "Traceback" not in log, log[-3000:]
    sink = CollectingSink()
    box = []
    h.interp.execute_text(h.interp.new_context(sink), "echo alive", "x.pro").addBoth(box.append)
    assert box == [1] and sink.stdout() == "alive\n"
