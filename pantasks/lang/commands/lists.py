# -*- test-case-name: tests.lang.test_list_commands -*-
"""The C{list} command: build and edit lists (C{NAME:0..}, C{NAME:n}).

opihi has no arrays; a list is a run of variables.  Scripts keep their
database and label sets this way (C{list DB -add x}, C{list DB -del x}),
split words (C{list word -split $str}, C{list word -splitbychar . $id})
and capture shell output (C{list word -x "ps -p $PID -o rss"}).

The literal block form (C{list NAME}, lines, C{end}) belongs to the
interpreter, which reads the block; this module hands it over.  C{-x}
waits for a child process without blocking the reactor, so C{list} is a
generator command: it yields the Deferred of
C{ctx.interp.shell_capture(cmd)} and receives C{(exit_code, stdout)}
(the exit code is negative, minus the signal number, for a killed
command).

Forms whose words are data (C{-split}, C{-splitbychar}, C{-add}, C{-del},
C{-copy}, C{-join}) must name the form as the second argument, as in the
original; their data words are never read as options (the original
looked for C{-x}, C{-glob} and C{-file} among them too).
"""

from __future__ import annotations

import glob as _glob
import re
from collections.abc import Generator
from typing import Any

from pantasks.lang.args import take_flag, take_value
from pantasks.lang.chunks import CHUNK
from pantasks.lang.commands.strings import c_atof, c_atoi
from pantasks.lang.context import Context
from pantasks.lang.errors import CommandError, UsageError
from pantasks.lang.numbers import whole
from pantasks.lang.policy import check_values, value_too_long
from pantasks.lang.registry import FILES, RUNS, VARIABLES, command
from pantasks.lang.safeopen import FileRefused, open_input
from pantasks.lang.text import quote
from pantasks.lang.words import split_words

USAGE = (
    "USAGE: list (root) [-x|-exec (command) | -split (words) | "
    "-splitbychar (char) (words) | -add (words) | -del (word) | -copy (list) | "
    "-join (var) [-start N] | -glob (pattern) | -file (filename)] [-excel]"
)

#: Forms named by the second argument, whose other words are data.
POSITIONAL_FORMS = ("-split", "-splitbychar", "-add", "-del", "-copy", "-join")

_LINE_END = re.compile(r"\r\n|\r|\n")


def excel_name(index: int) -> str:
    """The C{-excel} element suffix for C{index}: C{A}..C{Z}, then C{AA}...

    Follows the original's scheme: the number is written in base 26 and
    the leading digit counts from 1 (26 is C{AA}, 52 is C{BA}).
    """
    digits = [index % 26]
    index //= 26
    while index:
        digits.append(index % 26)
        index //= 26
    digits.reverse()
    letters = [chr(ord("A") + d) for d in digits]
    if len(digits) > 1:
        letters[0] = chr(ord("A") + digits[0] - 1)
    return "".join(letters)


def _element(name: str, index: int, excel: bool) -> str:
    return f"{name}:{excel_name(index) if excel else index}"


def store_list(
    ctx: Context, name: str, values: list[str], excel: bool = False, first: int = 0
) -> None:
    """Set C{name:first..} to C{values} and C{name:n} to the new length.

    Elements beyond the new length are left alone, as in the original.

    @raise ScriptError: a value is too long, or the caller's policy
        refuses one of the variables; nothing is stored then.
    """
    check_values(ctx.interp, f"${name}", values)
    if ctx.policy is not None:
        items = [(_element(name, first + i, excel), v) for i, v in enumerate(values)]
        ctx.policy.check_many(ctx, items + [(f"{name}:n", str(first + len(values)))])
    for i, value in enumerate(values):
        ctx.set_var(_element(name, first + i, excel), value)
    ctx.set_var(f"{name}:n", str(first + len(values)))


def store_list_steps(
    ctx: Context, name: str, values: list[str], excel: bool = False, first: int = 0
) -> Generator[Any, Any, None]:
    """L{store_list} in chunks that respect the time slice (a list of
    100,000 words), all or nothing: when a chunk fails or the execution is
    cancelled, the variables it had set get their old values back."""
    if len(values) <= CHUNK:
        store_list(ctx, name, values, excel, first)
        return
    count = f"{name}:n"
    saved: list[tuple[str, str | None]] = [(count, ctx.get_var(count))]
    try:
        for start in range(0, len(values), CHUNK):
            part = values[start : start + CHUNK]
            for i in range(len(part)):
                key = _element(name, first + start + i, excel)
                saved.append((key, ctx.get_var(key)))
            store_list(ctx, name, part, excel, first + start)
            yield from ctx.checkpoint()
    except BaseException:
        for key, old in reversed(saved):
            if old is None:
                ctx.del_var(key)
            else:
                ctx.set_var(key, old)
        raise


def _count(ctx: Context, name: str) -> int | None:
    """C{name:n} read as a number (C{atof}), or None when it is missing."""
    n = ctx.get_var(f"{name}:n")
    if n is None:
        return None
    return whole(c_atof(n), f"list {name}: {name}:n is not a count ({quote(n)})")


def output_lines(text: str) -> list[str]:
    """The elements C{list -x} makes of a command's output.

    One element per line with its leading white space removed; blank lines
    are dropped.
    """
    lines = (line.lstrip(" \t\n\v\f\r") for line in text.split("\n"))
    return [line for line in lines if line]


def file_lines(text: str) -> list[str]:
    """The elements C{list -file} makes of a file: one per line, kept as
    they are (empty lines too).  C{\\n}, C{\\r\\n} and C{\\r} end a line."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _list_effect(argv: list[str]) -> str:
    """C{-x}/C{-exec} run a program, C{-file} reads a file; anything else
    changes only variables.  Any such word counts, even as data (C{list L
    -add -x}): a restricted caller is refused rather than guessed about."""
    words = argv[2:]
    if "-x" in words or "-exec" in words:
        return RUNS
    if "-file" in words:
        return FILES
    return VARIABLES


@command("list", help="get variable list", effect=_list_effect)
def list_command(ctx: Context, argv: list[str]) -> Generator[Any, Any, Any]:
    """C{list NAME [option...]}: see the module docstring.

    @return: (as the generator's value) 1 on success, 0 on failure; for
        the block form, whatever C{ctx.interp.read_list_block} gives.
    """
    argv = list(argv)
    excel = take_flag(argv, "-excel", "-excel-style")
    if len(argv) < 2:
        raise UsageError(USAGE)

    if len(argv) > 2 and argv[2] in POSITIONAL_FORMS:
        return (yield from _positional(ctx, argv, excel))

    cmd = take_value(argv, "-x", "USAGE: list (root) -x (command)")
    cmd_exec = take_value(argv, "-exec", "USAGE: list (root) -exec (command)")
    if cmd_exec is not None:
        cmd = cmd_exec
    pattern = take_value(argv, "-glob", "USAGE: list (root) -glob (fileglob)")
    filename = take_value(argv, "-file", "USAGE: list (root) -file (filename)")
    for option in ("-vectors", "-buffers"):
        if option in argv[1:]:
            raise CommandError(f"list {option} is not supported (pantasks has no {option[1:]})")
    if len(argv) < 2:
        raise UsageError(USAGE)
    name = argv[1]

    if cmd is not None:
        if len(argv) != 2:
            raise UsageError("USAGE: list (root) -x (command)")
        code, text = yield ctx.interp.shell_capture(cmd, ctx.err)
        if code:
            # the original printed the raw wait status (256 for exit 1)
            status = code * 256 if code > 0 else -code
            ctx.err(f"warning: exit status of command {status}\n")
        yield from store_list_steps(ctx, name, output_lines(text), excel)
        return 1

    if pattern is not None:
        if len(argv) != 2:
            raise UsageError("USAGE: list (root) -glob (fileglob)")
        yield from store_list_steps(ctx, name, sorted(_glob.glob(pattern)), excel)
        return 1

    if filename is not None:
        if len(argv) != 2:
            raise UsageError("USAGE: list (root) -file (filename)")
        try:  # never blocks on a FIFO or a device
            with open(filename, encoding="utf-8", errors="replace", newline="",
                      opener=lambda path, flags: open_input(path)) as f:
                text = f.read()
        except (FileRefused, OSError, ValueError):
            raise CommandError(f"cannot open file {filename} for list") from None
        yield from store_list_steps(ctx, name, file_lines(text), excel)
        return 1

    if len(argv) != 2:
        raise UsageError(USAGE)
    result = ctx.interp.read_list_block(ctx, argv)
    if hasattr(result, "addCallback"):  # a Deferred
        result = yield result
    elif hasattr(result, "send"):  # a generator
        result = yield from result
    return result


def _positional(ctx: Context, argv: list[str], excel: bool) -> Generator[Any, Any, int]:
    """The forms named by C{argv[2]}; see L{POSITIONAL_FORMS}."""
    name, form = argv[1], argv[2]
    words = argv[3:]

    if form == "-split":
        if not words:
            raise UsageError("USAGE: list (root) -split (word) (word) ...")
        yield from store_list_steps(ctx, name, words, excel)
        return 1

    if form == "-splitbychar":
        if not words:
            raise UsageError("USAGE: list (root) -splitbychar (char) (word) [(word)...]")
        splitter = words[0][:1]
        values: list[str] = []
        for word in words[1:]:
            if splitter:
                word = word.replace(splitter, " ")
            values.extend(split_words(word))
        yield from store_list_steps(ctx, name, values, excel)
        return 1

    if form == "-add":
        if not words:
            raise UsageError("USAGE: list (root) -add (word) (word) ...")
        yield from store_list_steps(ctx, name, words, excel, first=_count(ctx, name) or 0)
        return 1

    if form == "-del":
        if len(words) != 1:
            raise UsageError("USAGE: list (root) -del (word)")
        return _delete(ctx, name, words[0], excel)

    if form == "-copy":
        if not words:
            raise UsageError("USAGE: list (newlist) -copy (oldlist)")
        old = words[0]
        n = _count(ctx, old)
        if n is None:
            raise CommandError(f"ERROR: missing input list {old}")
        values = []
        for i in range(n):
            v = ctx.get_var(f"{old}:{i}")
            values.append("" if v is None else v)
        yield from store_list_steps(ctx, name, values, excel)
        return 1

    # -join VAR [-start N]
    usage = "USAGE: list (root) -join (variable) [-start N]"
    start_word = take_value(argv, "-start", usage)
    if len(argv) != 4:
        raise UsageError(usage)
    n = _count(ctx, name)
    if n is None:
        raise CommandError(f"list {name} not found")
    start = c_atoi(start_word, usage) if start_word is not None else 0
    joined = []
    size = -1
    for i in range(max(start, 0), n):
        v = ctx.get_var(f"{name}:{i}")
        if v is None:
            break
        size += len(v) + 1
        if size > ctx.interp.max_value:  # refused before the text is built
            raise value_too_long("list -join", size, ctx.interp.max_value)
        joined.append(v)
    ctx.set_var(argv[3], " ".join(joined))
    return 1


def _delete(ctx: Context, name: str, value: str, excel: bool) -> int:
    """Remove the first element equal to C{value}; later ones move down."""
    n = _count(ctx, name) or 0
    for i in range(n):
        if ctx.get_var(_element(name, i, excel)) != value:
            continue
        for j in range(i + 1, n):
            v = ctx.get_var(_element(name, j, excel))
            ctx.set_var(_element(name, j - 1, excel), "" if v is None else v)
        ctx.del_var(_element(name, n - 1, excel))
        ctx.set_var(f"{name}:n", str(n - 1))
        return 1
    raise CommandError(f"value {value} not found in list")
