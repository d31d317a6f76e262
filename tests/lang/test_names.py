# -*- test-case-name: tests.lang.test_names -*-
"""Task, macro and host names are restricted to a safe set, so no event
line can be forged; every name in real scripts still passes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pantasks.lang.errors import ScriptError
from pantasks.lang.names import MAX_NAME, check_name, is_safe_name

from tests.sched.helpers import Harness

ROOT = Path(__file__).resolve().parents[2]

#: Names taken from the IPP's ippTasks/*.pro and pantasks.pro.
IPP_NAMES = [
    "chip.imfile.load", "chip.imfile.run", "chip.advanceexp", "chip.revert",
    "set.host.for.camera", "add_poll_args", "change_polllimit", "init.simtest.default.db",
    "detrend.revert.off", "ipp004", "ippc01.0", "user@host", "a:b", "x+y", "-list",
]

BAD_NAMES = [
    "", "a b EXIT 0 fakehost", "a\tb", "x\x1b[31m", "a\nb", "é", "a/b", "a;b", "$x",
    "a\x00b", "日本", "x" * (MAX_NAME + 1), "a'b", 'a"b',
]


@pytest.mark.parametrize("name", IPP_NAMES)
def test_real_names_pass(name: str) -> None:
    assert is_safe_name(name) and check_name("task", name) == name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_refused(name: str) -> None:
    assert not is_safe_name(name)
    with pytest.raises(ScriptError) as e:
        check_name("task", name)
    text = str(e.value)
    assert text.startswith("invalid task name")
    assert text.isprintable() and len(text) < 300


def _script_names() -> set[str]:
    """Every task and macro name defined in the repository's scripts (the
    conformance scripts, the original test scripts, etc/)."""
    names: set[str] = set()
    for path in [*ROOT.glob("tests/**/*.pro"), *ROOT.glob("etc/**/*.pro")]:
        for m in re.finditer(r"^\s*(?:task|macro)\s+(\S+)", path.read_text(errors="replace"),
                             re.MULTILINE):
            word = m.group(1)
            if not word.startswith(("$", '"')) and word not in ("delete", "list", "create"):
                names.add(word)
    return names


def test_repository_scripts_names_pass() -> None:
    names = _script_names()
    assert len(names) > 20
    assert [n for n in names if not is_safe_name(n)] == []


def _run(h: Harness, text: str) -> tuple[Any, str]:
    h.clear()
    box: list[Any] = []
    h.interp.execute_text(h.ctx, text, "t.pro").addBoth(box.append)
    return box[0], h.err()


@pytest.mark.parametrize("name", ["a b EXIT 0 fakehost", "", "x\x1b[2Jy", "a\x00b"])
def test_task_with_bad_name_refused(name: str) -> None:
    """The definition is refused as a whole: no task, and its body lines
    are not run as top-level commands."""
    h = Harness()
    h.interp.auto_break = False  # see what runs after the refused block
    result, err = _run(h, f'task "{name}"\n  command true\n  echo INSIDE\nend\necho after')
    assert err.startswith("t.pro:1: invalid task name"), err
    assert len(err.splitlines()) == 1 and "\x1b" not in err
    assert h.sched.tasks == {}
    assert h.out() == "after\n"


def test_macro_with_bad_name_refused() -> None:
    h = Harness()
    h.interp.auto_break = False
    result, err = _run(h, 'macro "a b"\n  echo INSIDE\nend\nmacro "\x1b[31m"\nend\necho after')
    assert err.count("invalid macro name") == 2, err
    assert h.interp.macros == {}
    assert h.out() == "after\n"


def test_host_with_bad_name_refused() -> None:
    h = Harness()
    h.interp.auto_break = False
    result, err = _run(h, 'task t\n  host "a b"\n  command true\nend\njob -host "x y" true')
    assert "invalid host name 'a b'" in err and "invalid host name 'x y'" in err, err
    assert h.task("t").host is None and h.launches() == []
    result, err = _run(h, "task u\n  host ipp004.0 -required\n  command true\nend")
    assert err == "" and h.task("u").host == "ipp004.0"


def test_good_names_work() -> None:
    h = Harness()
    result, err = _run(h, "macro set.host.for_camera\n  echo m\nend\nset.host.for_camera\n"
                          "task chip.imfile.load\n  command true\nend")
    assert result == 1 and err == "", err
    assert h.out() == "m\n" and "chip.imfile.load" in h.sched.tasks
