# -*- test-case-name: tests.lang.test_flow -*-
"""Tests for L{pantasks.lang.commands.flow} and the block rules of
L{pantasks.lang.source}: if/else, loops, loop flags under auto_break,
macros, locals and getargs."""

from __future__ import annotations

from typing import Any

import pytest

from pantasks.lang.context import CollectingSink, Origin
from pantasks.lang.interp import Interpreter
from pantasks.lang.source import Cursor, block_depth, is_else, is_end, opens_block, read_script


def run(text: str, interp: Interpreter | None = None) -> tuple[Any, str, str]:
    interp = interp or Interpreter(log_sink=CollectingSink())
    sink = CollectingSink()
    box: list[Any] = []
    interp.execute_text(interp.new_context(sink), text, "f.pro").addBoth(box.append)
    assert box, "the script waited"
    return box[0], sink.stdout(), sink.stderr()


def out(text: str) -> str:
    status, o, e = run(text)
    assert e == "", e
    return o


# -- if --------------------------------------------------------------------------

def test_if_forms() -> None:
    assert out("if (1) echo yes\nif (0) echo no\nif (2 > 1) echo a b") == "yes\na b\n"
    assert out("if (1)\n  echo t\nelse\n  echo f\nend") == "t\n"
    assert out("if (0)\n  echo t\nelse\n  echo f\nend") == "f\n"
    assert out("if (0)\n  echo t\nend\necho after") == "after\n"
    assert out("if (1)\n  if (0)\n    echo a\n  else\n    echo b\n  end\n"
               "else\n  echo c\nend") == "b\n"
    assert out("if (0)\n  for i 0 2\n    echo $i\n  end\n  macro m\n  end\nelse\n  echo e\nend") \
        == "e\n"
    # prefixes and case: ELSE, Else..., END, endif
    assert out("if (0)\n  echo a\nELSE whatever\n  echo b\nENDIF") == "b\n"
    # 0.5 is false: the truth is (int) atof(result)
    assert out("if (0.5) echo no\nif (-1) echo yes") == "yes\n"
    # the inline form re-splits its words: quotes are gone by then
    assert out('if (1) echo "a   b"') == "a b\n"


def test_if_errors() -> None:
    status, o, e = run("if ($x == 1)\n  echo a\nend\necho b")
    assert (status, o, e) == (0, "", "f.pro:1: variable x not found\n")
    status, o, e = run("break -auto off\nif (1 +)\n  echo a\nend\necho b")
    assert o == "b\n"
    assert e.startswith("f.pro:2: syntax error in logic: (1 +)")
    status, o, e = run("if (0)\nelse\nelse\nend")
    assert e == "f.pro:3: multiple 'ELSE' statements in if block\n"
    status, o, e = run("if")
    assert e.startswith("f.pro:1: USAGE: if (condition)")


def test_if_block_stops_at_failure_and_flags() -> None:
    # a failing line ends the block and the list (auto_break)
    status, o, e = run("if (1)\n  echo a\n  nosuch\n  echo b\nend\necho c")
    assert (status, o) == (0, "a\n")
    # flags take effect at once (the original ran the rest of the block)
    assert out("for i 0 3\n  if ($i == 1)\n    continue\n    echo skipped\n  end\n"
               "  echo $i\nend") == "0\n2\n"
    assert out("macro m\n  if (1)\n    return\n    echo skipped\n  end\n  echo skipped too\n"
               "end\nm\necho after") == "after\n"


# -- for -------------------------------------------------------------------------

@pytest.mark.parametrize("args,values", [
    ("0 3", "0 1 2"), ("0 3 -incl", "0 1 2 3"), ("3 0 -1", "3 2 1"),
    ("0 1 0.25", "0 0.25 0.5 0.75"), ("0 0.35 0.1", "0 0.1 0.2 0.3"), ("5 5", ""),
    ("0 10 4", "0 4 8"), ("-2 1", "-2 -1 0"), ("0x10 0x12", "16 17"), ("1e1 12", "10 11"),
    ("0 2 -incl 1", "0 1 2"),
])
def test_for_values(args: str, values: str) -> None:
    got = out(f"for i {args}\n  echo -no-return \"$i \"\nend\necho \"\"")
    assert got == (values + " " if values else "") + "\n"


@pytest.mark.parametrize("line,message", [
    ("for i x 3", "for loop starting value must be numerical (x)"),
    ("for i 0 3y", "for loop ending value must be numerical (3y)"),
    ("for i 0 3 z", "for loop delta value must be numerical (z)"),
    ("for i 0 3 0", "for loop delta value must not be zero (0)"),
    ("for i 0", "USAGE: for (var) (start) (stop) [delta]"),
])
def test_for_errors(line: str, message: str) -> None:
    status, o, e = run(f"{line}\n  echo body\nend\necho after")
    assert (status, o) == (0, "")
    assert e.startswith(f"f.pro:1: {message}")


def test_for_reads_the_variable_back() -> None:
    assert out("for i 0 10\n  echo $i\n  $i = $i + 3\nend") == "0\n4\n8\n"
    status, o, e = run("for i 0 3\n  $i = none\nend")
    assert e == "f.pro:2: for loop variable i is not a number: none\n"
    # a local loop variable stays local
    assert out("macro m\n  local i\n  for i 0 2\n    echo $i\n  end\nend\n$i = g\nm\necho $i") \
        == "0\n1\ng\n"


def test_loops_with_blocks_inside() -> None:
    assert out("for i 0 2\n  for j 0 2\n    if ($i == $j)\n      echo $i$j\n    end\n  end\nend"
               .replace("$i$j", "$i-$j")) == "0-0\n1-1\n"
    assert out("for i 0 2\n  list L\n    end\n  echo $L:n\nend") == "0\n0\n"


def test_foreach() -> None:
    assert out('foreach w a "b c" d\n  echo [$w]\nend') == "[a]\n[b c]\n[d]\n"
    assert out("foreach w\n  echo never\nend\necho done") == "done\n"
    assert out("foreach w a b c\n  if ($w == b) last\n  echo $w\nend") == "a\n"


def test_while() -> None:
    assert out("$n = 0\nwhile ($n < 3)\n  echo $n\n  $n ++\nend") == "0\n1\n2\n"
    # continue tests the condition again (the original did not)
    assert out("$n = 0\nwhile ($n < 3)\n  $n ++\n  continue\nend\necho $n") == "3\n"
    # a false condition at the start is a success (the original failed)
    assert out("while (0)\n  echo never\nend\necho after") == "after\n"
    status, o, e = run("while ($nope)\n  echo x\nend")
    assert e == "f.pro:1: variable nope not found\n"


def test_loop_flags_and_auto_break() -> None:
    # break ends every enclosing loop, macro and the file
    status, o, e = run("macro m\n  for i 0 3\n    for j 0 3\n      if ($j == 1) break\n"
                       "      echo $i$j\n    end\n  end\nend\nm\necho never"
                       .replace("$i$j", "$i.$j"))
    assert (status, o, e) == (0, "0.0\n", "")
    # with auto_break off, break leaves only the innermost loop
    assert out("break -auto off\nfor i 0 2\n  for j 0 3\n    if ($j == 1) break\n"
               "    echo $i.$j\n  end\nend\necho after") == "0.0\n1.0\nafter\n"
    # last/next/continue affect one loop
    assert out("for i 0 2\n  for j 0 5\n    if ($j == 2) last\n    if ($j == 0) next\n"
               "    echo $i.$j\n  end\nend") == "0.1\n1.1\n"
    # return inside a loop in a macro only leaves the loop (original rule)
    assert out("macro m\n  for i 0 5\n    return\n  end\n  echo after loop\nend\nm") \
        == "after loop\n"
    status, o, e = run("break -auto\nbreak -auto maybe")
    assert o == "" and e.startswith("auto break on\n")


def test_top_level_flags_are_cleared() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    assert run("echo a\nreturn\necho b", interp)[1] == "a\n"
    assert run("echo c", interp)[1] == "c\n"
    assert run("continue", interp)[0] == 1
    assert run("break", interp)[0] == 0
    assert run("echo d", interp)[1] == "d\n"


# -- macros ----------------------------------------------------------------------

def test_macro_definition_and_calls() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    assert run('macro hello -c "say hello"\n  echo hello $1 ($0)\nend\nhello world',
               interp)[1] == "hello world (2)\n"
    assert interp.macros["hello"].help == "say hello"
    assert run("macro create other\n  echo other\nend\nother", interp)[1] == "other\n"
    status, o, e = run("macro list hello", interp)
    assert e == "  echo hello $1 ($0)\n"
    run("macro delete hello", interp)
    assert "hello" not in interp.macros
    status, o, e = run("macro delete hello", interp)
    assert e == "f.pro:1: macro hello not found\n"
    status, o, e = run("macro a b c\n  echo x\nend\necho after", interp)
    assert (o, e.splitlines()[0]) == ("", 'f.pro:1: USAGE: macro <name> [-c "comment line"] '
                                          "(then lines, then 'END')")


def test_nested_macro_definition_counts_as_a_block() -> None:
    # the original did not count "macro NAME" as an opener and ended the
    # outer macro at the inner one's "end"
    text = ("macro outer\n  macro inner\n    echo in inner\n  end\n  echo in outer\nend\n"
            "outer\ninner")
    assert out(text) == "in outer\nin inner\n"


def test_macro_args_and_recursion() -> None:
    assert out("macro count\n  if ($1 > 0)\n    echo $1\n    count {$1 - 1}\n  end\nend\ncount 3") \
        == "3\n2\n1\n"
    interp = Interpreter(log_sink=CollectingSink())
    interp.max_macro_depth = 10
    status, o, e = run("macro r\n  r\nend\nr\n", interp)
    assert e == "f.pro:2: macro recursion too deep (r called at depth 10)\n"
    assert run("echo alive", interp)[1] == "alive\n"


def test_locals() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    text = ("$v = global\nmacro m\n  local v\n  echo in m: $v\n  $v = mine\n  inner\n"
            "  echo $v\nend\nmacro inner\n  echo inner sees: $v\nend\nm\necho $v")
    assert run(text, interp)[1] == "in m: NULL\ninner sees: global\nmine\nglobal\n"
    text = "macro s\n  local -static n\n  if ($n == NULL) set n = 0\n  $n ++\n  echo $n\nend\ns\ns"
    assert run(text, interp)[1] == "1\n2\n"
    # static values survive into a new execution context
    assert run("s", interp)[1] == "3\n"
    # outside a macro, local works too (the original's depth-0 locals)
    assert run("$w = g\nlocal w\n$w = l\necho $w", interp)[1] == "l\n"
    assert interp.variables["w"] == "g"


def test_getargs() -> None:
    text = ("macro m\n  local v l\n  getargs -v bool -var v\n  getargs -l value -var l\n"
            "  echo $0 [$v] [$l] $1\nend\nm a -l 5 -v\nm b")
    assert out(text) == "2 [1] [5] a\n2 [0] [NULL] b\n"
    status, o, e = run("macro m\n  getargs -l value -var l\nend\nm -l")
    assert e == "f.pro:2: ERROR: missing value for argument -l\n"
    status, o, e = run("macro m\n  getargs -l maybe\nend\nm -l")
    assert e == "f.pro:2: ERROR: invalid mode maybe\n"
    status, o, e = run("getargs -l bool")
    assert e == "f.pro:1: getargs: not in a macro\n"


# -- block rules -----------------------------------------------------------------

@pytest.mark.parametrize("line,opens", [
    ("if ($a)", True), ("if ($a) echo", False), ("if", False), ("if ((a)", True),
    ("for i 0 3", True), ("foreach x a", True), ("while (1)", True),
    ("task t", True), ("task.exec", True), ("task.exit 0", True),
    ("macro m", True), ("macro m -c help", True), ("macro create m", True),
    ("macro delete m", False), ("macro list m", False), ("macro", False),
    ("list L", True), ("list L -x cmd", False), ("list L -split a", False),
    ("list -excel L", True), ("list -excel L -split a", False), ("list L other", True),
    ("list", False), ("echo for", False), ("fore x", False), ("", False),
])
def test_opens_block(line: str, opens: bool) -> None:
    assert opens_block(line) is opens


def test_terminators() -> None:
    assert is_end("end") and is_end("END") and is_end("endif") and is_end("endless")
    assert not is_end("en") and not is_end(" end")
    assert is_else("else") and is_else("ELSE if") and is_else("elsewhere")
    assert not is_else("els")


def test_block_depth() -> None:
    assert block_depth(["macro m", "  for i 0 2", "  end"]) == 1
    assert block_depth(["macro m", "  for i 0 2", "  end", "end"]) == 0
    assert block_depth(["list L", "  if (1)", "end"]) == 0
    assert block_depth(["end", "end"]) == 0
    assert block_depth(["if (1) echo", "echo"]) == 0


def test_collect_body_and_read_script() -> None:
    lines = read_script("macro m\n  list L\n    for\n  end\n  if (1)\n  end\nend\necho x\n", "s")
    cur = Cursor(lines)
    assert cur.next()[0] == "macro m"
    body, closed = cur.collect_body()
    assert closed and [b[0] for b in body] == ["list L", "for", "end", "if (1)", "end"]
    assert cur.next() == ("echo x", Origin("s", 8))
    assert cur.next() is None
    body, closed = Cursor(read_script("for i 0 2\n  echo", None)).collect_body()
    assert not closed
    assert read_script("a\r\nb\rc\n\n#x\n!y\n \t d \v\n", "f") == [
        ("a", Origin("f", 1)), ("b", Origin("f", 2)), ("c", Origin("f", 3)),
        ("d", Origin("f", 7))]
