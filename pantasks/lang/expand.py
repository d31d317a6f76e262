# -*- test-case-name: tests.lang.test_expand -*-
"""Variable expansion (C{$name}) with the original's rules.

Expansion works right to left: in C{$a$b}, C{$b} is replaced first and
the result builds a new name (C{a<value of b>}); this is how C{$DB:$i}
reaches C{$DB:0}.  The result is scanned again, so values that contain
C{$name} are expanded too.  C{$?name} tests existence, C{$0}..C{$N} are
macro arguments, and C{$$ref} is indirection (the inner name stops at
C{:}).  The assignment target at the start of a line is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pantasks.lang.errors import ScriptError

if TYPE_CHECKING:  # pragma: no cover
    from pantasks.lang.context import Context

NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:")
MAX_SUBSTITUTIONS = 10000
MAX_LENGTH = 16 * 1024 * 1024
ASSIGN_OPS = ("=", "+=", "-=", "++", "--")


def _name_end(line: str, start: int, stop_at_colon: bool) -> int:
    n = len(line)
    j = start
    while j < n:
        c = line[j]
        if c not in NAME_CHARS or (stop_at_colon and c == ":"):
            break
        j += 1
    return j


def _is_assignment_target(line: str, end: int) -> bool:
    rest = line[end:].lstrip(" \t")
    return rest.startswith(ASSIGN_OPS)


def lookup(ctx: "Context", name: str) -> str:
    """The value of C{$name} in C{ctx}, with macro arguments for digits.

    @raise ScriptError: C{variable NAME not found} / C{not in a macro}.
    """
    if name.isdigit():
        if not ctx.frames:
            raise ScriptError("not in a macro")
        args = ctx.frames[-1].args
        i = int(name)
        if i == 0:
            return str(len(args))
        if i < len(args):
            return args[i]
        raise ScriptError(f"variable {name} not found")
    v = ctx.get_var(name)
    if v is None:
        raise ScriptError(f"variable {name} not found")
    return v


def exists(ctx: "Context", name: str) -> bool:
    if name.isdigit():
        return bool(ctx.frames) and int(name) < len(ctx.frames[-1].args)
    return ctx.get_var(name) is not None


def expand(ctx: "Context", line: str) -> str:
    """Expand every C{$name} in C{line} (see the module docstring).

    @raise ScriptError: an undefined variable, or expansion that never ends.
    """
    pos = line.rfind("$")
    if pos < 0:
        return line
    count = 0
    while pos >= 0:
        j = pos + 1
        if j < len(line) and line[j] == "?":
            end = _name_end(line, j + 1, False)
            if end == j + 1:
                pos = line.rfind("$", 0, pos)
                continue
            value = "1" if exists(ctx, line[j + 1 : end]) else "0"
        else:
            indirect = pos > 0 and line[pos - 1] == "$"
            end = _name_end(line, j, indirect)
            if end == j:
                pos = line.rfind("$", 0, pos)
                continue
            if pos == 0 and _is_assignment_target(line, end):
                break
            value = lookup(ctx, line[j:end])
        line = line[:pos] + value + line[end:]
        count += 1
        if count > MAX_SUBSTITUTIONS or len(line) > MAX_LENGTH:
            raise ScriptError("variable expansion does not end (a value refers to itself?)")
        pos = line.rfind("$", 0, pos + len(value))
    return line
