# -*- test-case-name: tests.lang.test_badinput -*-
"""Bad script input never gives a Python traceback.

Each case is a small file with one defect (unbalanced quotes, parentheses
or braces, a missing C{end}, division by zero, an unknown command, C{for}
with non-numeric bounds, a 1 MB line, binary bytes, recursion without
end...).  Loading it must print exactly one error line, naming the file
and the line, and the interpreter must go on working afterwards.  The
last tests drive the real C{pantasks} shell through its standard input
and check that it keeps running after every one of them.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pantasks.lang.context import CollectingSink
from pantasks.lang.interp import Interpreter

ROOT = Path(__file__).resolve().parents[2]
MB = 1 << 20

#: (case name, file content, line of the error, pattern of the message).
CASES: list[tuple[str, Any, int, str]] = [
    ("quote", 'echo ok\necho "abc def\n', 2, r"misbalanced quotes"),
    ("quote-in-if", 'echo ok\nif (1) echo "abc\n', 2, r"misbalanced quotes"),
    ("paren", "echo ok\necho (abc def\n", 2, r"misbalanced parenthesis"),
    ("paren-in-if", "echo ok\nif ((1 == 1) echo y\n", 2, r"misbalanced parenthesis"),
    ("paren-in-expr", "$a = 1\nif ($a == (1) echo y\n", 2, r"misbalanced parenthesis"),
    ("brace-open", "echo ok\necho {1 + 2\n", 2, r"no close brackets!"),
    ("brace-nested", "echo ok\necho {1 + {2}}\n", 2, r"can't nest brackets!"),
    ("brace-word", "echo ok\necho {abc}\n", 2, r"cannot evaluate expression in brackets: abc"),
    ("end-if-true", "echo ok\nif (1)\n  echo in\n", 2, r"missing 'END' in if block"),
    ("end-if-false", "echo ok\nif (0)\n  echo in\n", 2, r"missing 'END' in if block"),
    ("end-if-else", "if (1)\n  echo a\nelse\n  echo b\n", 1, r"missing 'END' in if block"),
    ("end-for", "echo ok\nfor i 0 3\n  echo $i\n", 2, r"misbalanced loop: 'for' has no 'END'"),
    ("end-foreach", "foreach x a b\n  echo $x\n", 1, r"'foreach' has no 'END'"),
    ("end-while", "$n = 0\nwhile ($n < 3)\n  $n ++\n", 2, r"'while' has no 'END'"),
    ("end-macro", "echo ok\nmacro m\n  echo in m\n", 2, r"missing 'END' in macro m"),
    ("end-nested", "macro m\n  for i 0 2\n    echo $i\n  end\n", 1, r"missing 'END' in macro m"),
    ("end-list", "echo ok\nlist L\n  a\n  b\n", 2, r"missing 'END' in list L"),
    ("end-in-loop", "for i 0 2\n  if (1)\n    echo x\nend\n", 1, r"'for' has no 'END'"),
    ("else-twice", "if (0)\nelse\n  echo a\nelse\n  echo b\nend\n", 4, r"multiple 'ELSE'"),
    ("div-assign", "echo ok\n$x = 7 % 0\n", 2, r"division by zero"),
    ("div-braces", "echo ok\necho {7 % 0}\n", 2, r"cannot evaluate expression in brackets: 7 % 0"),
    ("div-if", "echo ok\nif (7 % 0) echo y\n", 2, r"syntax error in logic: \(7 % 0\)"),
    ("div-set", "echo ok\nset x = 7 % 0\n", 2, r"set x: division by zero"),
    ("div-while", "while (1 % 0)\n  echo x\nend\n", 1, r"syntax error in logic"),
    ("unknown", "echo ok\nfrobnicate 1 2\n", 2, r"frobnicate: Command not found\."),
    ("ambiguous", "echo ok\nq\n", 2, r"ambiguous command: q \( "),
    ("for-start", "echo ok\nfor i a 3\n  echo $i\nend\n", 2,
     r"for loop starting value must be numerical \(a\)"),
    ("for-end", "for i 0 3x\n  echo $i\nend\n", 1,
     r"for loop ending value must be numerical \(3x\)"),
    ("for-step", "for i 0 3 one\n  echo $i\nend\n", 1, r"for loop delta value must be numerical"),
    ("for-zero-step", "for i 0 3 0\n  echo $i\nend\n", 1, r"for loop delta value must not be zero"),
    ("for-var-text", "for i 0 3\n  $i = text\nend\n", 2, r"for loop variable i is not a number"),
    ("undefined", "echo ok\necho $nothere\n", 2, r"variable nothere not found"),
    ("arg-outside", "echo ok\necho $1\n", 2, r"not in a macro"),
    ("assign-junk", "$x = 1\n$x ++ junk\n", 2, r"syntax error"),
    # (not an assignment operator: $x is expanded and "1" is the command)
    ("assign-op", "$x = 1\n$x *= 2\n", 2, r"^\S+: 1: Command not found"),
    ("backtick-open", "$x = 1\n$x = `echo hi\n", 2, r"syntax error"),
    ("plus-equals-text", "$x = 1\n$x += abc\n", 2, r"syntax error"),
    ("inherent", "echo ok\nmacro echo\n  echo no\nend\n", 2,
     r"cannot redefine inherent command echo"),
    ("no-file", "echo ok\ninput /no/such/file.pro\n", 2, r"no file /no/such/file.pro"),
    ("self-reference", "list L\n  $L:0\nend\necho $L:0\n", 4,
     r"variable expansion does not end"),
    ("recursion", "macro r\n  r\nend\nr\n", 2, r"macro recursion too deep \(r "),
    ("recursion-blocks",
     "macro r\n  for i 0 1\n    if (1)\n      foreach x a\n        r\n      end\n    end\n"
     "  end\nend\nr\n", 5, r"macro recursion too deep"),
    ("recursion-mutual", "macro a\n  b\nend\nmacro b\n  a\nend\na\n", 0,
     r"macro recursion too deep"),
    ("deep-blocks", "if (1)\n" * 3000 + "echo deep\n" + "end\n" * 3000, 0,
     r"nested too deep"),
    ("long-unknown", "echo ok\n" + "x" * MB + "\n", 2, r"x{20,}\.\.\.: Command not found\."),
    ("long-quote", "echo ok\necho \"" + "a" * MB + "\n", 2, r"misbalanced quotes"),
    ("long-paren", "echo ok\necho " + "(" * MB + "\n", 2, r"misbalanced parenthesis"),
    ("long-dollars", "$v = 1\necho " + "$v " * (MB // 3) + "$nothere\n", 2,
     r"variable nothere not found"),
    ("binary", b"echo ok\n\x00\x01\x02\xff\xfe\x80 junk \x1b[31m\n", 2,
     r"\\x00\\x01\\x02\ufffd\ufffd\ufffd: Command not found\."),
    ("binary-dollar", b"echo ok\necho $\xff\xfe\x00abc\n$\x01 = 3\n", 3, r"syntax error"),
    ("binary-cr", b"echo ok\r\x7f\x7f\r\necho never\n", 2, r"\\x7f\\x7f: Command not found"),
]


def _run(interp: Interpreter, ctx: Any, text: str) -> Any:
    box: list[Any] = []
    interp.execute_text(ctx, text).addBoth(box.append)
    assert box, "the script waited for the reactor"
    return box[0]


@pytest.fixture
def interp() -> Interpreter:
    return Interpreter(log_sink=CollectingSink())


@pytest.mark.parametrize("name,content,line,pattern", CASES, ids=[c[0] for c in CASES])
def test_one_error_line(tmp_path: Path, interp: Interpreter, name: str, content: Any,
                        line: int, pattern: str) -> None:
    """The defect gives exactly one error line, naming the file and line
    (0: any line), and the interpreter carries on."""
    path = tmp_path / f"{name}.pro"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    sink = CollectingSink()
    ctx = interp.new_context(sink)
    start = time.perf_counter()
    status = _run(interp, ctx, f"input {path}")
    elapsed = time.perf_counter() - start
    assert status == 0
    err = sink.stderr()
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err[:2000]
    where = str(line) if line else r"\d+"
    assert re.match(rf"{re.escape(str(path))}:{where}: ", lines[0]), lines[0][:300]
    assert re.search(pattern, lines[0]), lines[0][:300]
    assert len(lines[0]) < 400
    assert elapsed < 10
    # The interpreter keeps working, in the same context and a new one.
    sink.chunks.clear()
    assert _run(interp, ctx, "echo still alive") == 1
    assert sink.stdout() == "still alive\n"
    assert ctx.frames == [] and not (ctx.loop_break or ctx.loop_next or ctx.loop_last)
    other = CollectingSink()
    assert _run(interp, interp.new_context(other), "$z = 2 + 2\necho $z") == 1
    assert other.stdout() == "4\n"


def test_errors_do_not_stop_a_file_without_auto_break(tmp_path: Path,
                                                      interp: Interpreter) -> None:
    """With auto_break off, every bad line reports and the next one runs."""
    bad = [c for c in CASES if isinstance(c[1], str) and c[1].count("\n") == 2
           and c[1].startswith("echo ok\n")]
    assert len(bad) > 8
    path = tmp_path / "all.pro"
    path.write_text("".join(c[1].split("\n")[1] + "\necho next\n" for c in bad))
    interp.auto_break = False
    sink = CollectingSink()
    _run(interp, interp.new_context(sink), f"input {path}")
    errs = sink.stderr().splitlines()
    assert len(errs) == len(bad)
    for n, (err, case) in enumerate(zip(errs, bad)):
        assert err.startswith(f"{path}:{2 * n + 1}: "), err
        assert re.search(case[3], err), err
    assert sink.stdout().count("next\n") == len(bad)


def test_long_line_runs(tmp_path: Path, interp: Interpreter) -> None:
    """A 1 MB line that is valid runs, quickly, with its whole output."""
    path = tmp_path / "long.pro"
    words = " ".join(f"w{i}" for i in range(MB // 8))
    path.write_text(f"$v = x\necho {words} $v\n")
    sink = CollectingSink()
    start = time.perf_counter()
    assert _run(interp, interp.new_context(sink), f"input {path}") == 1
    assert time.perf_counter() - start < 5
    assert sink.stdout() == words + " x\n"


def test_binary_file_with_auto_break_off(tmp_path: Path, interp: Interpreter) -> None:
    """Every line of a binary file gives at most one error; none is a
    traceback, and nothing of it escapes as raw control bytes."""
    path = tmp_path / "blob.pro"
    # Seeded: random bytes now and then spell a real command ("he" prints
    # the help list), which would make the test flaky.
    path.write_bytes(bytes(range(256)) * 64 + b"\n" + random.Random(20261202).randbytes(1 << 16))
    interp.auto_break = False
    sink = CollectingSink()
    _run(interp, interp.new_context(sink), f"input {path}")
    err = sink.stderr()
    assert "Traceback" not in err and "internal error" not in err
    for line in err.splitlines():
        assert line.startswith(f"{path}:"), line[:200]
        assert "\x00" not in line and "\x1b" not in line


# -- the real shell ------------------------------------------------------------

SHELL_CASES = ["quote", "paren", "brace-open", "end-macro", "div-assign", "unknown",
               "for-start", "long-unknown", "binary", "recursion", "end-if-true"]


def test_shell_keeps_running(tmp_path: Path) -> None:
    """The C{pantasks} shell, fed through its standard input, reports each
    bad file in one line and goes on to the next command."""
    by_name = {c[0]: c for c in CASES}
    commands = []
    for name in SHELL_CASES:
        _name, content, _line, _pattern = by_name[name]
        path = tmp_path / f"{name}.pro"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        commands.append(f"input {path}\n")
        commands.append(f"echo after {name}\n")
    commands.append("frobnicate\n")
    commands.append("echo last line\n")
    commands.append("quit 3\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", "from pantasks.cli.shell import main; main()"],
        input="".join(commands), capture_output=True, text=True, env=env,
        cwd=str(tmp_path), timeout=60,
    )
    assert "Traceback" not in proc.stderr
    out = proc.stdout.splitlines()
    for name in SHELL_CASES:
        assert f"after {name}" in out
    assert "last line" in out
    errs = proc.stderr.splitlines()
    assert len(errs) == len(SHELL_CASES) + 1, proc.stderr[-3000:]
    for name, err in zip(SHELL_CASES, errs):
        _name, _content, line, pattern = by_name[name]
        where = str(line) if line else r"\d+"
        assert re.match(rf"{re.escape(str(tmp_path / name))}\.pro:{where}: ", err), err[:300]
        assert re.search(pattern, err), err[:300]
    assert errs[-1] == "frobnicate: Command not found."
    assert proc.returncode == 3
