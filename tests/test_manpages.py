"""The manual pages under man/: well formed, and complete.

Every page must format without a warning from C{man --warnings}, and
pantasks-script(7) must name, in bold, every command the interpreter
registers, so that a command added to the code without documentation
fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MAN_DIR = Path(__file__).resolve().parent.parent / "man"

#: Manual pages: files named like C{NAME.SECTION}.
PAGES = sorted(
    p for p in MAN_DIR.glob("*") if p.is_file() and re.search(r"\.[1-9][a-z]*$", p.name)
)

#: The language reference that must name every command.
SCRIPT_PAGE = MAN_DIR / "pantasks-script.7"

#: Registered commands that pantasks-script(7) need not name in bold.
NOT_DOCUMENTED: frozenset[str] = frozenset()

_need_man = pytest.mark.skipif(
    shutil.which("man") is None or shutil.which("groff") is None,
    reason="man and groff are not installed",
)


def _man_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"})
    return env


def test_pages_exist() -> None:
    assert SCRIPT_PAGE in PAGES
    assert MAN_DIR / "pantasks.1" in PAGES


@_need_man
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_formats_without_warnings(page: Path) -> None:
    result = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_man_env(),
        timeout=120,
        check=False,
    )
    assert result.stderr == ""
    assert result.returncode == 0


# -- what pantasks-script(7) sets in bold -------------------------------------

_ESCAPES = [
    (re.compile(r"\\f(\[[^]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\[&c%]"), ""),
    (re.compile(r"\\[~ 0|^]"), " "),
    (re.compile(r"\\-"), "-"),
    (re.compile(r"\\e"), "\\\\"),
    (re.compile(r"\\\(dq"), '"'),
    (re.compile(r"\\\(aq"), "'"),
    (re.compile(r"\\\(ga"), "`"),
    (re.compile(r"\\\(ti"), "~"),
    (re.compile(r"\\\(ha"), "^"),
]


def _plain(text: str) -> str:
    """Roff text with the escapes used in our pages turned into characters."""
    for pattern, replacement in _ESCAPES:
        text = pattern.sub(replacement, text)
    return text


def _macro_args(text: str) -> list[str]:
    """The arguments of a macro line: words, or C{"quoted strings"}."""
    return [a if a[:1] != '"' else a[1:-1] for a in re.findall(r'"[^"]*"|\S+', text)]


def bold_words(source: str) -> set[str]:
    """Every white-space separated word the page sets in bold: the
    arguments of C{.B}, the bold halves of C{.BR .BI .RB .IB}, and
    C{\\fB...} runs in text."""
    words: set[str] = set()
    bold_parts: list[str] = []
    for line in source.splitlines():
        m = re.match(r"\.(B|BR|BI|RB|IB)(?:\s+(.*))?$", line)
        if m:
            macro, args = m.group(1), _macro_args(m.group(2) or "")
            if macro == "B":
                bold_parts.append(" ".join(args))
            elif macro in ("BR", "BI"):
                bold_parts.extend(args[0::2])
            else:
                bold_parts.extend(args[1::2])
        bold_parts.extend(re.findall(r"\\fB(.*?)(?=\\f[RIP]|$)", line))
    for part in bold_parts:
        words.update(_plain(part).split())
    return words


def registered_commands() -> set[str]:
    """The names of every command an engine's interpreter knows."""
    from pantasks.engine import make_engine

    return set(make_engine(reactor=None).interp.commands)


def test_script_page_names_every_command() -> None:
    documented = bold_words(SCRIPT_PAGE.read_text(encoding="utf-8"))
    missing = sorted(registered_commands() - documented - NOT_DOCUMENTED)
    assert missing == [], f"commands missing from {SCRIPT_PAGE.name}: {missing}"


def test_bold_words_parser() -> None:
    source = "\n".join([
        ".B echo",
        '.BR "flush jobs" (1) queuepop',
        ".RB [ \\-key ]",
        '.BI \\-var " V"',
        "\\fBtask.exit\\fR \\fIN\\fR and \\fB#\\fR",
        ".B !\\c",
    ])
    words = bold_words(source)
    assert {"echo", "flush", "jobs", "queuepop", "-key", "-var", "task.exit", "#", "!"} <= words
    assert not {"(1)", "[", "V", "N", "and"} & words
