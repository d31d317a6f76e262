# -*- test-case-name: tests.lang.test_expand -*-
"""Tests for L{pantasks.lang.expand}: C{$name} expansion.

Besides fixed cases, a differential test compares L{expand} with a small
model of the original algorithm as the reference notes describe it
(repeated left-to-right passes; in a run of adjacent variables only the
last is expanded per pass), on many random lines.
"""

from __future__ import annotations

import random
from typing import Optional

import pytest

from pantasks.lang.context import CollectingSink, Context, Frame
from pantasks.lang.errors import ScriptError
from pantasks.lang.expand import expand
from pantasks.lang.interp import Interpreter

NAME = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:")
WS = " \t"


def make_ctx(variables: dict[str, str], args: Optional[list[str]] = None) -> Context:
    interp = Interpreter(log_sink=CollectingSink())
    interp.variables.clear()
    interp.variables.update(variables)
    ctx = interp.new_context()
    if args is not None:
        ctx.frames.append(Frame(args[0], list(args)))
    return ctx


VARS = {
    "a": "1", "b": "two", "ab": "AB", "a1": "A-ONE", "atwo": "glued",
    "DB:0": "alpha", "DB:1": "beta", "DB:n": "2", "i": "1", "ref": "DB",
    "tree_oak": "acorn", "branch": "oak", "empty": "", "holder": "$a and $b",
    "ptr": "$ref", "x": "$", "q": '"quoted text"', "i:": "colon",
}


@pytest.mark.parametrize("line,result", [
    ("echo plain", "echo plain"),
    ("echo $a $b", "echo 1 two"),
    ("echo $a$b", "echo glued"),
    ("echo $a$i", "echo A-ONE"),
    ("echo $tree_$branch", "echo acorn"),
    ("echo $DB:$i $DB:n", "echo beta 2"),
    ("echo $$ref:0 $$ref:n", "echo alpha 2"),
    ("echo $a/x.log $a-$b $a.$b", "echo 1/x.log 1-two 1.two"),
    ("echo $i: $i:", "echo colon colon"),
    ("echo [$empty]", "echo []"),
    ("echo $holder", "echo 1 and two"),
    ("echo $ptr", "echo DB"),
    ("echo $ptr:0", None),
    # the original left "$a" as text here (it waited for a pass that
    # never came); it is expanded now
    ("echo $a$", "echo 1$"),
    ("echo $a $$", "echo 1 $$"),
    ("echo $?a $?nothere $?DB:n $?DB:9", "echo 1 0 1 0"),
    ("echo $?", "echo $?"),
    ("echo word$ $$ ${a} $", "echo word$ $$ ${a} $"),
    ("echo $x", "echo $"),
    ("echo $q", 'echo "quoted text"'),
    ("echo \\$a", "echo \\1"),
    ("$a = $b", "$a = two"),
    ("$a += $a", "$a += 1"),
    ("$a ++", "$a ++"),
    ("$a--", "$a--"),
    ("$a == 2", "$a == 2"),
    ("$a", "1"),
    ("$a x", "1 x"),
    ("$$ref:1 = $b", "$DB:1 = two"),
    ("$DB:$i = z", "$DB:1 = z"),
    (" $a = 3", " 1 = 3"),
])
def test_expand(line: str, result: Optional[str]) -> None:
    if result is None:
        with pytest.raises(ScriptError):
            expand(make_ctx(VARS), line)
    else:
        assert expand(make_ctx(VARS), line) == result


@pytest.mark.parametrize("line,message", [
    ("echo $nothere", "variable nothere not found"),
    ("echo $a$nothere", "variable nothere not found"),
    ("echo $b$a", "variable b1 not found"),
    ("echo $1", "not in a macro"),
    ("echo $0", "not in a macro"),
])
def test_expand_errors(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        expand(make_ctx(VARS), line)
    assert str(e.value) == message


def test_macro_arguments() -> None:
    ctx = make_ctx(VARS, ["m", "first", "x y"])
    assert expand(ctx, "echo $0 $1 [$2]") == "echo 3 first [x y]"
    assert expand(ctx, "echo $?1 $?2 $?3") == "echo 1 1 0"
    with pytest.raises(ScriptError, match="variable 3 not found"):
        expand(ctx, "echo $3")


def test_self_reference_is_an_error() -> None:
    ctx = make_ctx({"loop": "$loop", "grow": "x$grow"})
    with pytest.raises(ScriptError, match="does not end"):
        expand(ctx, "echo $loop")
    with pytest.raises(ScriptError, match="does not end|too long"):
        expand(ctx, "echo $grow")


def test_locals_and_private_variables() -> None:
    ctx = make_ctx({"v": "global"}, ["m", "arg"])
    ctx.declare_local("v")
    assert expand(ctx, "echo $v") == "echo NULL"
    ctx.set_var("v", "local")
    assert expand(ctx, "echo $v") == "echo local"
    ctx.frames.pop()
    assert expand(ctx, "echo $v") == "echo global"
    ctx.private_vars["JOB_STATUS"] = "0"
    assert expand(ctx, "echo $JOB_STATUS $?JOB_STATUS") == "echo 0 1"


def test_long_line_is_linear() -> None:
    """Many variables on a long line: time in proportion to the length."""
    import time

    ctx = make_ctx({"v": "1", "w": "xyz"})
    line = "echo " + "$v a$w " * 100_000
    start = time.perf_counter()
    out = expand(ctx, line)
    assert time.perf_counter() - start < 5
    assert out == "echo " + "1 axyz " * 100_000


# -- a model of the original algorithm -------------------------------------


class ModelError(Exception):
    pass


class Stuck(Exception):
    """The original would stop with a variable left unexpanded."""


def model_expand(variables: dict[str, str], line: str) -> str:
    """Repeated passes; in each, a variable followed (after blanks) by
    another C{$} is copied as it is, to wait for the next pass, and any
    other is replaced; a pass that replaced nothing is the last.

    Such a last pass may leave a variable waiting behind a C{$} that
    starts no variable (C{$a$}, C{$a $$}): the original printed it
    unexpanded, which is a defect we do not copy.  The model raises
    L{Stuck} for those lines."""
    for _ in range(200):
        line, found, waited = _model_pass(variables, line)
        if not found:
            if waited:
                raise Stuck(line)
            return line
    raise ModelError("no end")


def _model_pass(variables: dict[str, str], line: str) -> tuple[str, bool, bool]:
    out = []
    n = len(line)
    i = 0
    found = waited = False
    while i < n:
        c = line[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        start = i + 2 if line[i + 1 : i + 2] == "?" else i + 1
        k = start
        while k < n and line[k] in NAME:
            k += 1
        if k == start:
            out.append("$")
            i += 1
            continue
        m = k
        while m < n and line[m] in WS:
            m += 1
        if m < n and line[m] == "$":
            out.append("$")
            waited = True
            i += 1
            continue
        if i == 0 and (line[m : m + 1] == "=" or line[m : m + 2] in ("+=", "-=", "++", "--")):
            out.append("$")
            i += 1
            continue
        is_ref = i > 0 and line[i - 1] == "$"
        end = k
        if is_ref:
            end = start
            while end < n and line[end] in NAME and line[end] != ":":
                end += 1
            if end == start:
                # "$$:x" (the original crashed here): a plain "$"
                out.append("$")
                i += 1
                continue
        name = line[start:end]
        if start == i + 2:
            out.append("1" if name in variables else "0")
        else:
            if name not in variables:
                raise ModelError(name)
            out.append(variables[name])
        found = True
        i = end
    return "".join(out), found, waited


TOKENS = ["$a", "$b", "$i", "$", "$$", "$?", "$?a", "$?zz", ":", ":n", ":0", "x", "a", "1",
          " ", " ", "-", "/", "$DB", "$ref", "$ptr", "$empty", "two", "$tree_", "$branch",
          "=", "+=", "'", '"', "\\", "{", "$a1", "$DB:$i", "$$ref:", "$x"]


def test_same_as_the_original_algorithm() -> None:
    rng = random.Random(20240501)
    variables = dict(VARS)
    variables["DBalpha"] = "db-a"
    ctx = make_ctx(variables)
    checked = stuck = 0
    for _ in range(20000):
        line = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 8)))
        try:
            want: Optional[str] = model_expand(variables, line)
        except ModelError:
            want = None
        except Stuck:
            stuck += 1
            continue
        try:
            got: Optional[str] = expand(ctx, line)
        except ScriptError:
            got = None
        assert got == want, line
        checked += want is not None
    assert checked > 5000
    assert stuck < 2000


def test_many_references_to_a_large_value_are_refused_before_the_join() -> None:
    """C{echo $x $x $x ...} with a 1 MB C{$x}, 3,000 times, would build 3 GB:
    the length is checked as the pieces are collected, not after joining
    them."""
    import tracemalloc

    ctx = make_ctx({"x": "y" * 1_000_000})
    tracemalloc.start()
    with pytest.raises(ScriptError) as e:
        expand(ctx, "echo" + " $x" * 3000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "too long" in str(e.value)
    assert peak < 64 * 1024 * 1024, peak
