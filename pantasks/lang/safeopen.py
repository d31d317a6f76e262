# -*- test-case-name: tests.lang.test_safeopen -*-
"""Opening the files scripts name, without ever blocking the server.

A task's C{stdout}/C{stderr} dump file, an C{output} redirection, a
C{queuesave} target: each is a name a user typed, and C{open(2)} on the
wrong kind of file blocks (a FIFO without a reader blocks a writer until
one appears; a tape or terminal device may block or act on open) --
which would stall the whole server.  L{open_output} opens only regular
files, or creates one, and never blocks: it opens with C{O_NONBLOCK} and
C{O_NOCTTY}, checks with C{fstat} what it got, and refuses anything else
with one clear line.  C{/dev/null} is accepted (it discards, as the
C{NULL} name does).  Odd names (spaces, newlines, non-UTF-8 bytes) are
just names; a NUL byte or an over-long name is an error, never an
exception.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Optional

#: The one device an output may name: it discards, like C{NULL}.
DEV_NULL = "/dev/null"


class FileRefused(Exception):
    """A file a script named cannot be used; the message says why (one line)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _is_dev_null(st: os.stat_result) -> bool:
    try:
        null = os.stat(DEV_NULL)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev


def output_problem(path: str) -> Optional[str]:
    """Why C{path} could not be an output file, judged without opening it
    (for checks at definition time), or None when it looks usable: a
    regular file, C{/dev/null}, or a name that does not exist yet."""
    if "\0" in path:
        return "the name contains a NUL byte"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return e.strerror or str(e)
    except ValueError:
        return "invalid file name"
    if stat.S_ISREG(st.st_mode) or _is_dev_null(st):
        return None
    return f"not a regular file ({_kind(st.st_mode)})"


def open_output(path: str, append: bool = True) -> int:
    """Open C{path} for writing without blocking: an existing regular file
    (appended to, or truncated when not C{append}), a new one (mode 0666
    less the umask), or C{/dev/null}.

    @return: a blocking, close-on-exec file descriptor.
    @raise FileRefused: anything else (a FIFO, a directory, a device,
        a socket, a bad name, no permission), with the reason.
    """
    problem = output_problem(path)
    if problem is not None:
        raise FileRefused(problem)
    flags = (os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
             | (os.O_APPEND if append else os.O_TRUNC))
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a FIFO created since the check, no reader
            raise FileRefused("not a regular file (a FIFO)") from None
        raise FileRefused(e.strerror or str(e)) from None
    except ValueError:
        raise FileRefused("invalid file name") from None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISREG(st.st_mode) or _is_dev_null(st)):
            raise FileRefused(f"not a regular file ({_kind(st.st_mode)})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_input(path: str) -> int:
    """Open C{path} for reading without blocking; only a regular file.

    @return: a blocking, close-on-exec file descriptor.
    @raise FileRefused: anything else, with the reason.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        raise FileRefused(e.strerror or str(e)) from None
    except ValueError:
        raise FileRefused("invalid file name") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"not a regular file ({_kind(st.st_mode)})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
