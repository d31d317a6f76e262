# -*- test-case-name: tests.lang.test_file_commands -*-
"""File and clock built-ins: date, file, mkdir, cd, pwd, basename, dirname.

Task scripts time their jobs (C{date -var dtime -seconds -reftime $start}),
check for files (C{file labels.list found}) and make their log
directories (C{mkdir $LOGDIR}) with these.  C{cd} and C{mkdir} change the
server process itself, so only they are declared to write (L{WRITES}).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable

from pantasks.lang.args import take_flag, take_value
from pantasks.lang.commands.strings import c_atof, fmt_g12
from pantasks.lang.context import Context
from pantasks.lang.errors import CommandError, UsageError
from pantasks.lang.registry import VARIABLES, WRITES, command

#: The wall clock C{date} reads (seconds since the epoch); tests replace it.
wallclock: Callable[[], float] = time.time


@command("date", help="get current date", effect=VARIABLES)
def date(ctx: Context, argv: list[str]) -> int:
    """C{date [-var V] [-seconds] [-reftime S]}.

    Without C{-seconds}: the C{ctime} text of now in the local time zone
    (C{Thu Jan  1 00:00:00 1970}).  With C{-seconds}: now in seconds since
    the epoch minus S (C{atof}, default 0), as C{%.12g}.  The result goes
    to V, else to stderr.
    """
    usage = "USAGE: date [-var variable] [-seconds] [-reftime seconds]"
    seconds = take_flag(argv, "-seconds")
    reftime = take_value(argv, "-reftime", usage)
    var = take_value(argv, "-var", usage)
    if len(argv) != 1:
        raise UsageError(usage)
    now = wallclock()
    if seconds:
        text = fmt_g12(now - (c_atof(reftime) if reftime is not None else 0.0))
    else:
        text = time.ctime(int(now))
    if var is not None:
        ctx.set_var(var, text)
    else:
        ctx.err(text + "\n")
    return 1


_STAT_FIELDS = (
    ("devID", "st_dev"),
    ("inode", "st_ino"),
    ("mode", "st_mode"),
    ("nlink", "st_nlink"),
    ("uid", "st_uid"),
    ("gid", "st_gid"),
    ("rdev", "st_rdev"),
    ("size", "st_size"),
    ("blksize", "st_blksize"),
    ("blocks", "st_blocks"),
)


def _utc_date(seconds: float) -> str:
    """C{yyyy/mm/dd,hh:mm:ss} in UTC, as the original printed file times."""
    return time.strftime("%Y/%m/%d,%H:%M:%S", time.gmtime(seconds))


@command("file", help="test file existence", effect=VARIABLES)
def file(ctx: Context, argv: list[str]) -> int:
    """C{file PATH [V] [-can-read | -can-write | -stats]}.

    By default tests that PATH exists: V = 1/0, else prints
    C{file P is found} / C{file P is not found} to stdout.  C{-can-read}
    and C{-can-write} test access (C{file P can[not] be read|written}).
    C{-stats} sets C{V:devID}, C{V:inode}, C{V:mode}, C{V:nlink},
    C{V:uid}, C{V:gid}, C{V:rdev}, C{V:size}, C{V:blksize}, C{V:blocks}
    and C{V:atime}/C{V:mtime}/C{V:ctime} (epoch seconds), or prints them;
    a missing PATH is then an error (the original printed garbage).
    """
    usage = "USAGE: file (path) [var] [-can-read | -can-write | -stats]"
    if "-h" in argv[1:] or "-help" in argv[1:]:
        raise UsageError(usage)
    can_read = take_flag(argv, "-can-read")
    can_write = take_flag(argv, "-can-write")
    get_stats = take_flag(argv, "-stats")
    if can_read + can_write + get_stats > 1:
        raise UsageError("only one (or none) of -can-read, -can-write, -stats is allowed")
    if len(argv) not in (2, 3):
        raise UsageError(usage)
    path = argv[1]
    var = argv[2] if len(argv) == 3 else None

    if can_read or can_write:
        mode = os.R_OK | (os.W_OK if can_write else 0)
        ok = os.access(path, mode)
        if var is not None:
            ctx.set_var(var, "1" if ok else "0")
        else:
            verb = "written" if can_write else "read"
            ctx.out(f"file {path} can{'' if ok else 'not'} be {verb}\n")
        return 1

    try:
        st = os.stat(path)
    except (OSError, ValueError):
        st = None
    if not get_stats:
        if var is not None:
            ctx.set_var(var, "1" if st else "0")
        else:
            ctx.out(f"file {path} is {'' if st else 'not '}found\n")
        return 1

    if st is None:
        raise CommandError(f"file {path} is not found")
    times = (("atime", st.st_atime), ("mtime", st.st_mtime), ("ctime", st.st_ctime))
    if var is not None:
        for name, attr in _STAT_FIELDS:
            ctx.set_var(f"{var}:{name}", str(getattr(st, attr, 0)))
        for name, value in times:
            ctx.set_var(f"{var}:{name}", fmt_g12(int(value)))
    else:
        lines = []
        for name, attr in _STAT_FIELDS:
            value = getattr(st, attr, 0)
            text = format(value, "o") if name == "mode" else str(value)
            lines.append(f"{name:<8}: {text}\n")
        for name, value in times:
            lines.append(f"{name:<8}: {_utc_date(value)}\n")
        ctx.out("".join(lines))
    return 1


def _make_dirs(path: str, mode: int) -> None:
    """Create C{path} and any missing parents, each with C{mode}."""
    try:
        os.mkdir(path, mode)
    except FileNotFoundError:
        parent = os.path.dirname(path.rstrip("/"))
        if not parent or parent == path:
            raise
        _make_dirs(parent, mode)
        os.mkdir(path, mode)


@command("mkdir", help="built-in mkdir command", effect=WRITES)
def mkdir(ctx: Context, argv: list[str]) -> int:
    """C{mkdir PATH}: create the directory PATH with its parents.

    An existing directory is fine; an existing file is an error.  New
    directories get mode 0775 (less the umask).
    """
    if len(argv) < 2:
        raise UsageError("USAGE: mkdir (path)")
    path = argv[1]
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        st = None
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise CommandError(f"cannot create directory {path}: is an existing file")
        return 1
    try:
        _make_dirs(path, 0o775)
    except FileExistsError:
        if not os.path.isdir(path):
            raise CommandError(f"cannot create directory {path}: is an existing file") from None
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise CommandError(f"cannot create directory {path}: {reason}") from None
    return 1


@command("cd", help="change directory", effect=WRITES)
def cd(ctx: Context, argv: list[str]) -> int:
    """C{cd [-q] PATH}: change the server's working directory.

    Prints C{cwd: DIR} to stdout unless C{-q}.
    """
    quiet = take_flag(argv, "-q")
    if len(argv) != 2:
        raise UsageError("USAGE: cd [-q] (path)")
    try:
        os.chdir(argv[1])
        cwd = os.getcwd()
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise CommandError(f"error changing to {argv[1]}: {reason}") from None
    if not quiet:
        ctx.out(f"cwd: {cwd}\n")
    return 1


@command("pwd", help="print current working directory", effect=VARIABLES)
def pwd(ctx: Context, argv: list[str]) -> int:
    """C{pwd [-var V]}: the working directory into V, else C{cwd: DIR}
    to stdout."""
    usage = "USAGE: pwd [-var variable]"
    var = take_value(argv, "-var", usage)
    if len(argv) != 1:
        raise UsageError(usage)
    try:
        cwd = os.getcwd()
    except OSError:
        raise CommandError("error getting cwd") from None
    if var is not None:
        ctx.set_var(var, cwd)
    else:
        ctx.out(f"cwd: {cwd}\n")
    return 1


def base_name(path: str, suffix: str | None = None) -> str:
    """What follows the last C{/} of C{path} (empty after a trailing C{/}),
    less C{suffix} when it ends the name and is shorter than it."""
    name = path[path.rfind("/") + 1 :]
    if suffix and len(name) > len(suffix) and name.endswith(suffix):
        name = name[: -len(suffix)]
    return name


def dir_name(path: str) -> str:
    """What precedes the last C{/} of C{path}, or C{.} when there is none.

    As in the original a trailing C{/} is not special (C{a/b/} gives
    C{a/b}) and C{/x} gives the empty string.
    """
    i = path.rfind("/")
    return "." if i < 0 else path[:i]


@command("basename", help="built-in basename function", effect=VARIABLES)
def basename(ctx: Context, argv: list[str]) -> int:
    """C{basename PATH [-var V] [-suffix S]}: see L{base_name}; the result
    goes to V, else to stdout."""
    usage = "USAGE: basename (path) [-var name] [-suffix suffix]"
    var = take_value(argv, "-var", usage)
    suffix = take_value(argv, "-suffix", usage)
    if len(argv) < 2:
        raise UsageError(usage)
    name = base_name(argv[1], suffix)
    if var is not None:
        ctx.set_var(var, name)
    else:
        ctx.out(name + "\n")
    return 1


@command("dirname", help="built-in dirname function", effect=VARIABLES)
def dirname(ctx: Context, argv: list[str]) -> int:
    """C{dirname PATH [-var V]}: see L{dir_name}; the result goes to V,
    else to stdout."""
    usage = "USAGE: dirname (path) [-var name]"
    var = take_value(argv, "-var", usage)
    if len(argv) < 2:
        raise UsageError(usage)
    name = dir_name(argv[1])
    if var is not None:
        ctx.set_var(var, name)
    else:
        ctx.out(name + "\n")
    return 1
