# -*- test-case-name: tests.lang.test_expand -*-
"""Variable expansion (C{$name}) with the original's rules.

Expansion works right to left: in C{$a$b}, C{$b} is replaced first and
the result builds a new name (C{a<value of b>}); this is how C{$DB:$i}
reaches C{$DB:0}.  A value that contains C{$name} is expanded in its
turn.  C{$?name} tests existence, C{$0}..C{$N} are macro arguments, and
C{$$ref} is indirection (the inner name stops at C{:}).  The assignment
target at the start of a line is left alone.

The original rescanned the whole line after every pass, which costs
time proportional to the square of the line for a line with many
variables.  Here a value is scanned again only when it can take part in
a later expansion (it contains C{$}, or it continues a name or an
indirection to its left); everything else is final as soon as it is
produced, so a long line costs time in proportion to its length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pantasks.lang.errors import ScriptError

if TYPE_CHECKING:  # pragma: no cover
    from pantasks.lang.context import Context

NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:")
#: How many values containing C{$} one line may expand (a value that
#: refers to itself would otherwise never end).
MAX_RESCANS = 10000
ASSIGN_OPS = ("=", "+=", "-=", "++", "--")


def _name_end(line: str, start: int, limit: int, stop_at_colon: bool) -> int:
    j = start
    if stop_at_colon:
        while j < limit:
            c = line[j]
            if c not in NAME_CHARS or c == ":":
                break
            j += 1
    else:
        while j < limit and line[j] in NAME_CHARS:
            j += 1
    return j


def lookup(ctx: "Context", name: str) -> str:
    """The value of C{$name} in C{ctx}, with macro arguments for digits.

    @param ctx: the execution context.
    @param name: the variable name, without C{$}.
    @return: the value text.
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
    """C{$?name}: whether the variable (or macro argument) exists.

    @param ctx: the execution context.
    @param name: the variable name, without C{$?}.
    """
    if name.isdigit():
        return bool(ctx.frames) and int(name) < len(ctx.frames[-1].args)
    return ctx.get_var(name) is not None


def expand(ctx: "Context", line: str) -> str:
    """Expand every C{$name} in C{line} (see the module docstring).

    @param ctx: the execution context (variables, macro arguments).
    @param line: one piece of a command line.
    @return: the expanded text.
    @raise ScriptError: an undefined variable, or expansion that never ends.
    """
    pos = line.rfind("$")
    if pos < 0:
        return line
    head = line  # the part still to scan is head[:limit]
    limit = len(line)
    tail: list[str] = []  # finished text, last chunk first
    done = 0  # its length: checked as it grows, never built too long
    rescans = 0
    while pos >= 0:
        j = pos + 1
        if j < limit and head[j] == "?":
            end = _name_end(head, j + 1, limit, pos > 0 and head[pos - 1] == "$")
            if end == j + 1:
                pos = head.rfind("$", 0, pos)
                continue
            if pos == 0 and _is_assignment_target(head, end, limit, tail):
                break
            value = "1" if exists(ctx, head[j + 1 : end]) else "0"
        else:
            indirect = pos > 0 and head[pos - 1] == "$"
            end = _name_end(head, j, limit, indirect)
            if end == j:
                # A lone "$" ("word$", "$$", "${"): kept as it is.
                pos = head.rfind("$", 0, pos)
                continue
            if pos == 0 and _is_assignment_target(head, end, limit, tail):
                break
            value = lookup(ctx, head[j:end])
        rest = head[end:limit]
        if "$" in value or _glues(head, pos):
            # The value may build a name with what is at its left, or
            # holds variables itself: scan it again.
            if "$" in value:
                rescans += 1
                if rescans > MAX_RESCANS:
                    raise ScriptError(
                        "variable expansion does not end (a value refers to itself?)")
            if rest and rest[0] in NAME_CHARS:
                head = head[:pos] + value + rest
            else:
                if rest:
                    tail.append(rest)
                    done += len(rest)
                head = head[:pos] + value
            limit = len(head)
            if limit + done > ctx.interp.max_line:
                raise _too_long(ctx)
            pos = head.rfind("$", 0, limit)
        else:
            # ("$x $x $x..." with a large $x: refused before the join)
            done += len(rest) + len(value)
            if done + pos > ctx.interp.max_line:
                raise _too_long(ctx)
            if rest:
                tail.append(rest)
            tail.append(value)
            limit = pos
            pos = head.rfind("$", 0, pos)
    if not tail:
        return head if limit == len(head) else head[:limit]
    tail.append(head[:limit])
    tail.reverse()
    out = "".join(tail)
    if len(out) > ctx.interp.max_line:
        raise _too_long(ctx)
    return out


def _too_long(ctx: "Context") -> ScriptError:
    """The error for a line longer than the interpreter's C{max_line}
    (twice C{[limits] max_value}, and some room)."""
    return ScriptError(f"variable expansion makes the line too long "
                       f"(over {ctx.interp.max_line} characters)")


def _glues(head: str, pos: int) -> bool:
    """Whether a value put at C{pos} continues a C{$name} (or a C{$$} or
    C{$?}) that starts to its left."""
    k = pos
    while k > 0 and head[k - 1] in NAME_CHARS:
        k -= 1
    return k > 0 and head[k - 1] in "$?"


def _is_assignment_target(head: str, end: int, limit: int, tail: list[str]) -> bool:
    after = head[end:limit].lstrip(" \t")
    if not after and tail:
        after = "".join(reversed(tail)).lstrip(" \t")
    return after.startswith(ASSIGN_OPS)
