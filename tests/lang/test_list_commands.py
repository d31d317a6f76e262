"""Tests for L{pantasks.lang.commands.lists} (all forms but the literal
block, which the interpreter reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred, succeed

from pantasks.lang.commands import lists
from pantasks.lang.context import Context
from pantasks.lang.errors import ScriptError
from pantasks.lang.registry import FILES, LANGUAGE, RUNS, VARIABLES

from tests.lang.fakes import FakeInterp, err, one_error, out


def drive(gen: Any) -> Any:
    """Run a generator command to its end, answering each yielded
    Deferred with its (already available) result."""
    try:
        step = gen.send(None)
        while True:
            results: list[Any] = []
            step.addCallback(results.append)
            assert results, "a Deferred that has not fired"
            step = gen.send(results[0])
    except StopIteration as stop:
        return stop.value


def run(ctx: Context, *argv: str) -> Any:
    """Run C{list} as the dispatcher would: a ScriptError becomes one
    error line and status 0."""
    try:
        return drive(LANGUAGE.commands["list"].func(ctx, list(argv)))
    except ScriptError as e:
        ctx.error(str(e))
        return 0


def test_registration() -> None:
    cmd = LANGUAGE.commands["list"]
    assert cmd.generator is True
    assert cmd.effect_of(["list", "L", "-x", "ls"]) == RUNS
    assert cmd.effect_of(["list", "L", "-exec", "ls"]) == RUNS
    assert cmd.effect_of(["list", "L", "-file", "/etc/passwd"]) == FILES
    assert cmd.effect_of(["list", "L", "-split", "a", "b"]) == VARIABLES
    # -x among data words still counts: refused rather than guessed about
    assert cmd.effect_of(["list", "L", "-add", "-x"]) == RUNS


# -- -split / -splitbychar -------------------------------------------------


def test_split(ctx: Context) -> None:
    assert run(ctx, "list", "word", "-split", "XY01", "ipp014") == 1
    assert ctx.get_list("word") == ["XY01", "ipp014"]
    assert ctx.get_var("word:n") == "2"
    assert out(ctx) == err(ctx) == ""


def test_split_data_words_are_not_options(ctx: Context) -> None:
    assert run(ctx, "list", "w", "-split", "-x", "-file", "-add") == 1
    assert ctx.get_list("w") == ["-x", "-file", "-add"]


def test_split_keeps_old_tail(ctx: Context) -> None:
    run(ctx, "list", "w", "-split", "a", "b", "c")
    run(ctx, "list", "w", "-split", "z")
    assert ctx.get_list("w") == ["z"]
    assert ctx.get_var("w:2") == "c"  # as in the original


def test_split_usage(ctx: Context) -> None:
    assert run(ctx, "list", "w", "-split") == 0
    one_error(ctx, "USAGE: list (root) -split (word) (word) ...")


def test_splitbychar(ctx: Context) -> None:
    assert run(ctx, "list", "word", "-splitbychar", ".", "skycell.1234.056") == 1
    assert ctx.get_list("word") == ["skycell", "1234", "056"]
    assert run(ctx, "list", "w2", "-splitbychar", ":", "a:b", "c::d e") == 1
    assert ctx.get_list("w2") == ["a", "b", "c", "d", "e"]


def test_splitbychar_no_words(ctx: Context) -> None:
    assert run(ctx, "list", "w", "-splitbychar", ".") == 1
    assert ctx.get_var("w:n") == "0"


def test_splitbychar_usage(ctx: Context) -> None:
    assert run(ctx, "list", "w", "-splitbychar") == 0
    one_error(ctx, "USAGE: list (root) -splitbychar (char) (word) [(word)...]")


# -- -add / -del -----------------------------------------------------------


def test_add_to_missing_and_existing(ctx: Context) -> None:
    assert run(ctx, "list", "DB", "-add", "gpc1") == 1
    assert ctx.get_list("DB") == ["gpc1"]
    assert run(ctx, "list", "DB", "-add", "ssp", "isp") == 1
    assert ctx.get_list("DB") == ["gpc1", "ssp", "isp"]
    assert ctx.get_var("DB:n") == "3"


def test_add_usage(ctx: Context) -> None:
    assert run(ctx, "list", "DB", "-add") == 0
    one_error(ctx, "USAGE: list (root) -add (word) (word) ...")


def test_del_middle(ctx: Context) -> None:
    ctx.set_list("LABEL", ["a", "b", "c", "b"])
    assert run(ctx, "list", "LABEL", "-del", "b") == 1
    assert ctx.get_list("LABEL") == ["a", "c", "b"]
    assert ctx.get_var("LABEL:3") is None
    assert run(ctx, "list", "LABEL", "-del", "b") == 1
    assert run(ctx, "list", "LABEL", "-del", "a") == 1
    assert ctx.get_list("LABEL") == ["c"]
    assert run(ctx, "list", "LABEL", "-del", "c") == 1
    assert ctx.get_var("LABEL:n") == "0"
    assert ctx.get_var("LABEL:0") is None


def test_del_not_found(ctx: Context) -> None:
    ctx.set_list("LABEL", ["a"])
    assert run(ctx, "list", "LABEL", "-del", "zz") == 0
    one_error(ctx, "value zz not found in list")
    assert ctx.get_list("LABEL") == ["a"]


def test_del_usage(ctx: Context) -> None:
    assert run(ctx, "list", "L", "-del", "a", "b") == 0
    one_error(ctx, "USAGE: list (root) -del (word)")


# -- -copy / -join ---------------------------------------------------------


def test_copy(ctx: Context) -> None:
    ctx.set_list("old", ["x", "y"])
    assert run(ctx, "list", "new", "-copy", "old") == 1
    assert ctx.get_list("new") == ["x", "y"]


def test_copy_missing(ctx: Context) -> None:
    assert run(ctx, "list", "new", "-copy", "old") == 0
    one_error(ctx, "ERROR: missing input list old")
    assert run(ctx, "list", "new", "-copy") == 0
    assert err(ctx).splitlines()[-1] == "USAGE: list (newlist) -copy (oldlist)"


def test_join(ctx: Context) -> None:
    ctx.set_list("L", ["a", "b", "c"])
    assert run(ctx, "list", "L", "-join", "all") == 1
    assert ctx.get_var("all") == "a b c"
    assert run(ctx, "list", "L", "-join", "rest", "-start", "1") == 1
    assert ctx.get_var("rest") == "b c"
    assert run(ctx, "list", "L", "-join", "none", "-start", "5") == 1
    assert ctx.get_var("none") == ""


def test_join_stops_at_hole(ctx: Context) -> None:
    ctx.set_var("L:0", "a")
    ctx.set_var("L:n", "3")
    assert run(ctx, "list", "L", "-join", "v") == 1
    assert ctx.get_var("v") == "a"


def test_join_missing_list(ctx: Context) -> None:
    assert run(ctx, "list", "L", "-join", "v") == 0
    one_error(ctx, "list L not found")


def test_join_usage(ctx: Context) -> None:
    assert run(ctx, "list", "L", "-join") == 0
    one_error(ctx, "USAGE: list (root) -join (variable) [-start N]")


# -- -glob / -file ---------------------------------------------------------


def test_glob(ctx: Context, tmp_path: Path) -> None:
    for name in ("b.log", "a.log", "c.txt", ".hidden.log"):
        (tmp_path / name).write_text("")
    assert run(ctx, "list", "logs", "-glob", str(tmp_path / "*.log")) == 1
    assert ctx.get_list("logs") == [str(tmp_path / "a.log"), str(tmp_path / "b.log")]


def test_glob_no_match(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, "list", "logs", "-glob", str(tmp_path / "*.none")) == 1
    assert ctx.get_var("logs:n") == "0"


def test_file(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "labels.list"
    f.write_bytes(b"  one \n\ntwo\r\nthree\rfour")
    assert run(ctx, "list", "L", "-file", str(f)) == 1
    assert ctx.get_list("L") == ["  one ", "", "two", "three", "four"]


def test_file_missing(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, "list", "L", "-file", str(tmp_path / "no")) == 0
    one_error(ctx, f"cannot open file {tmp_path / 'no'} for list")


def test_file_usage(ctx: Context) -> None:
    assert run(ctx, "list", "L", "extra", "-file", "f") == 0
    one_error(ctx, "USAGE: list (root) -file (filename)")


# -- -x / -exec ------------------------------------------------------------


def test_exec_lines(ctx: Context, interp: FakeInterp) -> None:
    interp.replies["ps -p 42 -o rss"] = (0, "  RSS\n 1234\n")
    assert run(ctx, "list", "word", "-x", "ps -p 42 -o rss") == 1
    assert interp.commands == ["ps -p 42 -o rss"]
    assert ctx.get_list("word") == ["RSS", "1234"]
    assert out(ctx) == err(ctx) == ""


def test_exec_blank_lines_and_no_final_newline(ctx: Context, interp: FakeInterp) -> None:
    interp.replies["c"] = (0, "\n\n  a b  \n\t\n  c")
    assert run(ctx, "list", "-exec", "c", "w") == 1
    assert ctx.get_list("w") == ["a b  ", "c"]


def test_exec_no_output(ctx: Context, interp: FakeInterp) -> None:
    assert run(ctx, "list", "w", "-x", "true") == 1
    assert ctx.get_var("w:n") == "0"


def test_exec_failure_only_warns(ctx: Context, interp: FakeInterp) -> None:
    interp.replies["false"] = (1, "partial\n")
    assert run(ctx, "list", "w", "-x", "false") == 1
    assert err(ctx) == "warning: exit status of command 256\n"
    assert ctx.get_list("w") == ["partial"]


def test_exec_killed_warns(ctx: Context, interp: FakeInterp) -> None:
    interp.replies["k"] = (-9, "")
    assert run(ctx, "list", "w", "-x", "k") == 1
    assert err(ctx) == "warning: exit status of command 9\n"


def test_exec_yields_without_blocking(ctx: Context, interp: FakeInterp) -> None:
    d: Deferred = Deferred()
    interp.shell_capture = lambda cmd, err=None: d  # type: ignore[method-assign]
    gen = LANGUAGE.commands["list"].func(ctx, ["list", "w", "-x", "slow"])
    assert gen.send(None) is d
    assert ctx.get_var("w:n") is None
    with pytest.raises(StopIteration) as stop:
        gen.send((0, "x\n"))
    assert stop.value.value == 1
    assert ctx.get_list("w") == ["x"]


def test_exec_missing_command(ctx: Context, interp: FakeInterp) -> None:
    assert run(ctx, "list", "w", "-x") == 0
    one_error(ctx, "USAGE: list (root) -x (command)")
    assert interp.commands == []


def test_exec_extra_words(ctx: Context, interp: FakeInterp) -> None:
    assert run(ctx, "list", "w", "-x", "ls", "junk") == 0
    one_error(ctx, "USAGE: list (root) -x (command)")
    assert interp.commands == []


# -- -excel ----------------------------------------------------------------


@pytest.mark.parametrize("index, name", [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (52, "BA")])
def test_excel_name(index: int, name: str) -> None:
    assert lists.excel_name(index) == name


def test_excel_split(ctx: Context) -> None:
    assert run(ctx, "list", "col", "-excel", "-split", "x", "y") == 1
    assert (ctx.get_var("col:A"), ctx.get_var("col:B"), ctx.get_var("col:n")) == ("x", "y", "2")


# -- the block form and usage ----------------------------------------------


def test_block_form_delegates(ctx: Context, interp: FakeInterp) -> None:
    interp.block_result = 1
    assert run(ctx, "list", "hostmatch") == 1
    assert interp.blocks == [["list", "hostmatch"]]


def test_block_form_deferred_result(ctx: Context, interp: FakeInterp) -> None:
    interp.block_result = succeed(0)
    assert run(ctx, "list", "hostmatch") == 0
    assert interp.blocks == [["list", "hostmatch"]]


def test_usage(ctx: Context, interp: FakeInterp) -> None:
    assert run(ctx, "list") == 0
    assert run(ctx, "list", "L", "extra") == 0
    assert err(ctx).count("\n") == 2
    assert err(ctx).startswith("USAGE: list (root)")
    assert interp.blocks == []


def test_unsupported_forms(ctx: Context) -> None:
    assert run(ctx, "list", "L", "-vectors") == 0
    one_error(ctx, "list -vectors is not supported (pantasks has no vectors)")


def test_locals_are_written(ctx: Context) -> None:
    from pantasks.lang.context import Frame

    ctx.frames.append(Frame("m", ["m"]))
    ctx.locals["m.1.w:n"] = "0"
    assert run(ctx, "list", "w", "-add", "a") == 1
    assert ctx.locals["m.1.w:n"] == "1"
    assert ctx.interp.variables == {"w:0": "a"}
