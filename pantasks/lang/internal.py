# -*- test-case-name: tests.lang.test_internal -*-
"""Internal errors (bugs): a short line for the user, the traceback once
in the server log.

Why: an exception that input can trigger again and again (a request a
watcher repeats in a loop) used to log a critical traceback quoting the
whole request every time, and the client got the exception text.  Now
the first occurrence of each distinct bug (exception type and the place
it was raised) logs its traceback, with the request cut short and
escaped; later ones log one line at the 2nd, 4th, 8th... occurrence.  A
network client (its context has a C{role}) is told only
C{internal error (see server log)}; a local shell still sees the
exception's type and (quoted) message.

Tracebacks are logged through twisted.logger with C{log_private=True},
which the server's log observer keeps out of the C{L} lines sent to
watchers (see L{pantasks.net.logsink.LogObserver}).
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.logger import Logger
from twisted.python.failure import Failure

log = Logger()

#: What a network client is told.
REMOTE_MESSAGE = "internal error (see server log)"

#: Request text quoted in the log at most this long.
MAX_LOGGED = 200

#: Distinct bugs remembered (their counts); beyond, the table starts again.
MAX_KINDS = 1000

_seen: dict[tuple[str, str], int] = {}


def escape(text: str, limit: int = MAX_LOGGED) -> str:
    """
    C{text} safe for one log line: control and other non-printable
    characters (escape sequences too) written as C{\\xNN}/C{\\uNNNN}, cut
    to C{limit} characters with a note of how much was left out.
    """
    cut = text[:limit]
    if not cut.isprintable():
        cut = "".join(c if c.isprintable() else
                      ("\\x%02x" % ord(c) if ord(c) < 256 else "\\u%04x" % ord(c))
                      for c in cut)
    if len(text) > limit:
        cut += f"... ({len(text) - limit} more characters)"
    return cut


def failure_key(failure: Failure) -> tuple[str, str]:
    """What makes two failures the same bug: (exception type, where raised)."""
    frames = failure.frames
    where = f"{frames[-1][1]}:{frames[-1][2]}" if frames else "?"
    return (failure.type.__name__ if failure.type else "?", where)


def report(what: str, failure: Optional[Failure] = None) -> tuple[str, str]:
    """
    Log an internal error: the traceback the first time this bug is seen,
    one line at its 2nd, 4th, 8th... occurrence, nothing otherwise.

    @param what: what was being done, e.g. C{running 'sleep nan'} (it is
        escaped and cut here).
    @param failure: the failure (default: the exception being handled).
    @return: (exception type name, where it was raised).
    """
    if failure is None:
        failure = Failure()
    key = failure_key(failure)
    if len(_seen) >= MAX_KINDS and key not in _seen:
        _seen.clear()
    n = _seen[key] = _seen.get(key, 0) + 1
    if n == 1:
        log.failure("internal error {what}", failure, what=escape(what), log_private=True)
    elif n & (n - 1) == 0:  # a power of two
        log.error("internal error {type} at {where} has happened {n} times "
                  "(traceback logged the first time); last while {what}",
                  type=key[0], where=key[1], n=n, what=escape(what))
    return key


def message(ctx: Any, exc: BaseException) -> str:
    """The one line the user who ran into C{exc} sees."""
    if ctx.role:  # a network user's role; "" for local executions
        return REMOTE_MESSAGE
    return f"internal error: {exc.__class__.__name__}: {escape(str(exc), 80)}"
