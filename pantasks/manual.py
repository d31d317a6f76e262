# -*- test-case-name: tests.test_help -*-
"""Help for commands, read from the manual pages themselves.

C{help NAME} (in the shell, the client and over the protocol) prints the
entry of the command in pantasks-script(7) (for the server's own
commands, pantasks_server(8); for the client's, pantasks_client(1)): its
synopsis lines and its description, as plain text.  The manual page is
the one source, so help and manual cannot disagree;
C{tests/test_help.py} checks that every registered command has an entry.

An entry is a C{.TP} paragraph whose tag starts with the command's name
in bold (C{\\fBname\\fR ...} or C{.B name}, with C{.TQ} alternatives);
a command documented in several entries (C{list}, C{book}) gets them
all.  Only the small part of roff our pages use is understood.
"""

from __future__ import annotations

import re
import sys
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

#: The language reference, the server's page (its own commands) and the
#: client's page (the client's own commands).
SCRIPT_PAGE = "pantasks-script.7"
SERVER_PAGE = "pantasks_server.8"
CLIENT_PAGE = "pantasks_client.1"

#: Width help text is wrapped to.
WIDTH = 78


def page_path(name: str) -> Optional[Path]:
    """Where manual page C{name} is: the source tree's C{man/}, else the
    installed C{share/man/manN/}."""
    section = name.rsplit(".", 1)[-1][:1]
    for candidate in (
        Path(__file__).resolve().parent.parent / "man" / name,
        Path(sys.prefix) / "share" / "man" / f"man{section}" / name,
        Path("/usr/share/man") / f"man{section}" / name,
    ):
        if candidate.is_file():
            return candidate
    return None


# -- roff to text ---------------------------------------------------------------

_SPECIALS = {
    "bu": "*", "aq": "'", "dq": '"', "lq": '"', "rq": '"', "ga": "`", "ti": "~",
    "ha": "^", "em": "--", "en": "-", "mu": "x", "<=": "<=", ">=": ">=", "->": "->",
}
_ESCAPE = re.compile(r"\\(\((..)|\[([^]]*)\]|f(?:\[[^]]*\]|\(..|.)|[-e&c%~ 0|^]|.)")


def _unescape(text: str) -> str:
    def one(m: re.Match) -> str:
        whole = m.group(1)
        if m.group(2) or m.group(3):
            name = m.group(2) or m.group(3)
            return _SPECIALS.get(name, "")
        first = whole[0]
        if first == "f" or first in "&c%":
            return ""
        if first == "-":
            return "-"
        if first == "e":
            return "\\"
        if first in "~ 0":
            return " "
        if first in "|^":
            return ""
        return whole
    return _ESCAPE.sub(one, text)


def _args(text: str) -> list[str]:
    return [a[1:-1] if a[:1] == '"' else a for a in re.findall(r'"[^"]*"|\S+', text)]


def _text_of(line: str) -> Optional[str]:
    """The text a line adds (a font macro's words joined as roff does),
    or None for a request that adds none."""
    if not line.startswith("."):
        return _unescape(line)
    m = re.match(r"\.(B|I|SM|SB)(?:\s+(.*))?$", line)
    if m:
        return _unescape(" ".join(_args(m.group(2) or "")))
    m = re.match(r"\.(BR|BI|IB|IR|RB|RI)\s+(.*)$", line)
    if m:
        return _unescape("".join(_args(m.group(2))))
    return None


def _entries(source: str) -> list[tuple[list[str], list[str]]]:
    """Every C{.TP} entry outside C{.RS} blocks: (tag lines, body lines),
    both raw roff."""
    out: list[tuple[list[str], list[str]]] = []
    lines = source.splitlines()
    i = 0
    depth = 0
    current: Optional[tuple[list[str], list[str]]] = None
    while i < len(lines):
        line = lines[i]
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth = max(0, depth - 1)
        if depth == 0 and line.startswith((".TP", ".TQ")) and i + 1 < len(lines):
            tag = lines[i + 1]
            if line.startswith(".TQ") and current is not None and not current[1]:
                current[0].append(tag)
            else:
                current = ([tag], [])
                out.append(current)
            i += 2
            continue
        if depth == 0 and line.startswith((".SH", ".SS", ".PP", ".LP", ".P ", ".IP")) \
                and not line.startswith(".IP") or (depth == 0 and line.startswith((".SH", ".SS"))):
            current = None
        elif current is not None:
            current[1].append(line)
        i += 1
    return out


def _first_name(tag: str) -> Optional[str]:
    """The command a tag documents: its first bold word."""
    m = re.match(r"\\fB(.*?)(?:\\f[RIP]|$)", tag)
    if m:
        words = _unescape(m.group(1)).split()
    elif re.match(r"\.(BR|BI)\s", tag):
        args = _args(tag[4:])
        words = _unescape(args[0]).split() if args else []
    elif re.match(r"\.B\s", tag):
        words = _unescape(" ".join(_args(tag[3:]))).split()
    else:
        return None
    return words[0].rstrip(",") if words else None


def _render_body(body: list[str]) -> str:
    """Body lines as wrapped paragraphs (indented), examples verbatim."""
    paragraphs: list[tuple[str, str]] = []  # (kind, text)
    words: list[str] = []
    indent = "    "
    verbatim = False
    tag_next = False

    def flush() -> None:
        if words:
            paragraphs.append(("text", indent + " ".join(words)))
            words.clear()

    for line in body:
        if verbatim:
            if line.startswith(".EE"):
                verbatim = False
                continue
            if line.startswith("."):
                continue
            paragraphs.append(("verbatim", indent + "    " + _unescape(line)))
            continue
        if line.startswith(".EX"):
            flush()
            verbatim = True
            continue
        if line.startswith((".PP", ".LP", ".IP", ".sp")):
            flush()
            paragraphs.append(("break", ""))
            continue
        if line.startswith(".RS"):
            flush()
            indent += "  "
            continue
        if line.startswith(".RE"):
            flush()
            indent = indent[:-2] if len(indent) > 4 else indent
            continue
        if line.startswith((".TP", ".TQ")):
            flush()
            if line.startswith(".TP"):
                paragraphs.append(("break", ""))
            tag_next = True
            continue
        text = _text_of(line)
        if text is None:
            continue
        if tag_next:  # an item's tag: a line of its own, its text below
            paragraphs.append(("text", indent + " ".join(text.split())))
            tag_next = False
            continue
        words.extend(text.split())
    flush()
    out: list[str] = []
    for kind, text in paragraphs:
        if kind == "verbatim":
            out.append(text)
        elif kind == "break":
            if out and out[-1] != "":
                out.append("")
        else:
            pad = len(text) - len(text.lstrip(" "))
            out.append(textwrap.fill(text.strip(), WIDTH, initial_indent=" " * pad,
                                     subsequent_indent=" " * pad, break_on_hyphens=False))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def _render_tag(tag: str) -> str:
    text = _text_of(tag) or ""
    return " ".join(text.split())


#: Commands documented by a whole section rather than a C{.TP} entry:
#: name -> (C{SH} or C{SS}, title); the first paragraphs are shown.
SECTION_ENTRIES = {
    "if": ("SS", "if"), "for": ("SS", "for"), "foreach": ("SS", "foreach"),
    "while": ("SS", "while"), "macro": ("SH", "MACROS"), "task": ("SS", "Defining a task"),
}

#: Paragraphs of a section shown as help.
SECTION_PARAGRAPHS = 4


def _section_entry(source: str, kind: str, title: str) -> Optional[str]:
    lines = source.splitlines()
    head = f".{kind} {title}"
    try:
        start = lines.index(head) + 1
    except ValueError:
        return None
    body: list[str] = []
    paragraphs = 0
    for line in lines[start:]:
        if line.startswith((".SH", ".SS")):
            break
        if line.startswith((".PP", ".TP", ".IP")):
            paragraphs += 1
            if paragraphs >= SECTION_PARAGRAPHS:
                break
        body.append(line)
    text = _render_body(body)
    return text.replace("\n    ", "\n", 0) if text else None


@lru_cache(maxsize=None)
def _page_entries(page: str) -> dict[str, list[str]]:
    """Command name -> its rendered entries, for one page."""
    path = page_path(page)
    if path is None:
        return {}
    source = path.read_text(encoding="utf-8", errors="replace")
    table: dict[str, list[str]] = {}
    for tags, body in _entries(source):
        names = {_first_name(t) for t in tags} - {None}
        if not names:
            continue
        text = "\n".join(_render_tag(t) for t in tags)
        rendered = _render_body(body)
        entry = text + ("\n" + rendered if rendered else "")
        for tag in tags:
            # "nop, #, ##, ###" and "continue, next": every bold name.
            for name in _bold_names(tag):
                table.setdefault(name, []).append(entry)
    if page == SCRIPT_PAGE:
        for name, (kind, title) in SECTION_ENTRIES.items():
            text = _section_entry(source, kind, title)
            if text and name not in table:
                table[name] = [f"{name} (see pantasks-script(7), {title})\n{text}"]
    return table


def _bold_names(tag: str) -> list[str]:
    """Names a tag documents: the first bold word, and further bold words
    that follow a comma (C{\\fBnop\\fR, \\fB#\\fR})."""
    first = _first_name(tag)
    if first is None:
        return []
    names = [first]
    for m in re.finditer(r",\s*\\fB([^\\\s]+)\\f[RIP]", tag):
        names.append(_unescape(m.group(1)))
    if tag.startswith(".BR"):
        args = _args(tag[4:])
        for a in args[2::2]:
            word = _unescape(a).split()
            if word and args[args.index(a) - 1].strip() == ",":
                names.append(word[0])
    return names


def entry(name: str, pages: Iterable[str] = (SCRIPT_PAGE,)) -> Optional[str]:
    """The help text of command C{name} (synopsis, then description), from
    the first of C{pages} that documents it; None when none does."""
    for page in pages:
        found = _page_entries(page).get(name)
        if found:
            return "\n\n".join(dict.fromkeys(found))
    return None


def names(pages: Iterable[str] = (SCRIPT_PAGE,)) -> set[str]:
    """Every command name the pages document."""
    out: set[str] = set()
    for page in pages:
        out.update(_page_entries(page))
    return out
