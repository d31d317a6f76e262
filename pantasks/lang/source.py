# -*- test-case-name: tests.lang.test_flow -*-
"""Lines of script with their origin, and the rules for blocks.

A file, a macro body or a loop body runs as a I{list} of raw lines read
through a L{Cursor}; block commands (C{if}, C{for}, C{macro}, C{task}...)
read their body from the same cursor, as in the original.  The opener and
terminator rules here decide how deep a line nests; the interactive shell
and the server use them to know when a typed block is complete.
"""

from __future__ import annotations

from typing import Iterable, Optional

from pantasks.lang.context import Origin
from pantasks.lang.errors import ScriptError
from pantasks.lang.words import WHITESPACE, split_words

Line = tuple[str, Origin]

#: C{list NAME} followed by one of these is a one-line command, not a block.
LIST_OPTIONS = frozenset(
    "-x -exec -split -splitbychar -add -del -copy -join -glob -file -vectors "
    "-buffers".split()
)
#: C{macro SUB ...} forms that are not definitions.
MACRO_SUBCOMMANDS = frozenset("delete list edit read write".split())
LOOP_OPENERS = frozenset(("for", "foreach", "while", "task", "task.exec", "task.exit"))


def is_end(line: str) -> bool:
    """True for a block terminator: C{end} in any case, matched by prefix
    (so C{endif} and C{END} close a block too, as in the original)."""
    return line[:3].lower() == "end"


def is_else(line: str) -> bool:
    """True for C{else} in any case, matched by prefix; the rest of the
    line is ignored (there is no C{else if}), as in the original."""
    return line[:4].lower() == "else"


def opens_block(line: str) -> bool:
    """True when the raw line starts a block that needs an C{end}."""
    head = line.split(None, 1)
    if not head:
        return False
    word = head[0]
    if word in LOOP_OPENERS:
        return True
    if word == "if":
        # "if (cond)" opens a block, "if (cond) command" does not.  A line
        # the word splitter rejects counts as an opener, as in the original.
        try:
            return len(split_words(line)) == 2
        except ScriptError:
            return True
    if word == "list":
        parts = line.split()[1:]
        while parts and parts[0].startswith("-excel"):
            del parts[0]
        if not parts:
            return False
        rest = [p for p in parts[1:] if not p.startswith("-excel")]
        return not rest or rest[0] not in LIST_OPTIONS
    if word == "macro":
        parts = line.split()
        if len(parts) < 2:
            return False
        if parts[1] == "create":
            return len(parts) >= 3
        return parts[1] not in MACRO_SUBCOMMANDS
    return False


def block_depth(lines: Iterable[str]) -> int:
    """How many blocks are still open after C{lines} (never below 0).

    The C{list NAME} body does not nest: its first C{end} line closes it.
    """
    depth = 0
    in_list = 0
    for raw in lines:
        line = raw.strip(WHITESPACE)
        if not line:
            continue
        if in_list:
            if is_end(line):
                in_list = 0
                depth -= 1
            continue
        if is_end(line):
            depth = max(0, depth - 1)
        elif opens_block(line):
            depth += 1
            if line.split(None, 1)[0] == "list":
                in_list = 1
    return depth


def read_script(text: str, filename: Optional[str]) -> list[Line]:
    """Split a file's text into lines as C{input} reads them.

    Lines end at LF or CR; each is stripped; empty lines and lines starting
    with C{#} or C{!} are dropped.  Line numbers count physical lines.
    """
    out: list[Line] = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(WHITESPACE)
        if not line or line[0] in "#!":
            continue
        out.append((line, Origin(filename, n)))
    return out


class Cursor:
    """Reads a list of lines in order; block commands share it."""

    __slots__ = ("lines", "pos")

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        self.pos = 0

    def next(self) -> Optional[Line]:
        """The next line, or None at the end of the list."""
        if self.pos >= len(self.lines):
            return None
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def collect_body(self) -> tuple[list[Line], bool]:
        """Read lines up to the C{end} that closes the current block.

        @return: (body lines, True if the closing C{end} was found).
        """
        body: list[Line] = []
        depth = 0
        in_list = False
        while True:
            item = self.next()
            if item is None:
                return body, False
            line = item[0]
            if in_list:
                if is_end(line):
                    in_list = False
                    depth -= 1
                body.append(item)
                continue
            if is_end(line):
                if depth == 0:
                    return body, True
                depth -= 1
            elif opens_block(line):
                depth += 1
                if line.split(None, 1)[0] == "list":
                    in_list = True
            body.append(item)
