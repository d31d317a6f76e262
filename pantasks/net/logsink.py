# -*- test-case-name: tests.net.test_logsink -*-
"""The server log: where scheduler messages and task-macro output go.

As in the original, they go to the files named by
C{PANTASKS_SERVER_STDOUT} and C{PANTASKS_SERVER_STDERR} (appended to), or
to the process's own stdout/stderr when those keys are unset or say
C{stdout}/C{stderr}.  Unlike the original, the files are reopened on
SIGHUP (for logrotate), and every complete line is also handed to the
watchers: connections that asked for C{watch on} get it as an C{L} line.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Any, Callable, Optional

from pantasks.lang.context import OutputSink
from pantasks.lang.internal import escape, failure_key

#: Control characters that have no business in a log line (all of C0 but
#: tab and newline, DEL, C1): escape sequences start with them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape_control(match: "re.Match[str]") -> str:
    return "\\x%02x" % ord(match.group())


def defang(text: str) -> str:
    """
    C{text} with its control characters (but tab and newline) written as
    C{\\xNN}: whatever a job or a client made a macro print reaches the
    log files and the watchers' terminals as plain text, never as an
    escape sequence or a carriage return hiding what came before.
    """
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escape_control, text)


#: Values of the ptolemy.rc keys that mean "no file, the process's own
#: stream".
STANDARD_NAMES = frozenset(("", "stdout", "stderr"))


def log_path(value: Optional[str]) -> Optional[str]:
    """The file a C{PANTASKS_SERVER_STDOUT/STDERR} value names, or None."""
    if value is None or value.strip() in STANDARD_NAMES:
        return None
    return value.strip()


class ServerLog(OutputSink):
    """
    An L{OutputSink} writing to the log files and feeding watchers.

    @ivar stdout_path: the stdout log file, or None for C{sys.stdout}.
    @ivar stderr_path: the stderr log file, or None for C{sys.stderr}.
    @ivar watchers: callables given each complete log line (no newline),
        from both streams, in the order written.
    """

    def __init__(self, stdout_path: Optional[str] = None,
                 stderr_path: Optional[str] = None) -> None:
        """
        @raise OSError: a log file cannot be opened (the caller reports
            C{failed to open FILE for output}).
        """
        super().__init__(out=None, err=None)
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self._files: dict[str, Any] = {}
        self.watchers: list[Callable[[str], None]] = []
        self._partial = {"out": "", "err": ""}
        self._feeding = False
        self.write_error: Optional[tuple[str, OSError]] = None
        self.reopen()

    # -- files ------------------------------------------------------------
    def _open(self, which: str, path: Optional[str]) -> None:
        old = self._files.pop(which, None)
        if path is None:
            if old is not None:
                old.close()
            return
        try:
            self._files[which] = open(path, "a", encoding="utf-8", errors="replace")
        except OSError:
            if old is not None:
                self._files[which] = old  # keep writing somewhere
            raise
        if old is not None:
            old.close()

    def reopen(self) -> None:
        """
        (Re)open the log files in append mode (after logrotate moved them).
        When both names are the same file it is opened once.

        @raise OSError: a file cannot be opened; the old one stays in use.
        """
        self._open("out", self.stdout_path)
        if self.stderr_path is not None and self.stderr_path == self.stdout_path:
            self._files.pop("err", None)
            self._files["err"] = self._files["out"]
        else:
            self._open("err", self.stderr_path)

    def stream(self, which: str) -> Any:
        """The file object the C{out} or C{err} stream writes to now."""
        f = self._files.get(which)
        if f is not None:
            return f
        return sys.stdout if which == "out" else sys.stderr

    def dup_onto_stdio(self) -> None:
        """
        Point file descriptors 1 and 2 at the log files (those that are
        set) and 0 at /dev/null, so stray output (a library warning, a
        traceback) lands in the log and never on the terminal.
        """
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for which, fd in (("out", 1), ("err", 2)):
            f = self._files.get(which)
            if f is not None:
                f.flush()
                os.dup2(f.fileno(), fd)

    def close(self) -> None:
        """Close the files (at exit)."""
        for f in set(self._files.values()):
            try:
                f.close()
            except OSError:
                pass
        self._files.clear()

    # -- OutputSink -------------------------------------------------------
    def write_out(self, text: str) -> None:
        self._write("out", text)

    def write_err(self, text: str) -> None:
        self._write("err", text)

    def _write(self, which: str, text: str) -> None:
        f = self.stream(which)
        try:
            f.write(text)
            f.flush()
        except OSError as e:
            # A full disk must not stop a running scheduler; at start-up
            # L{confirm} reports it.
            path = self.stdout_path if which == "out" else self.stderr_path
            if self.write_error is None and path is not None and which in self._files:
                self.write_error = (path, e)
        except ValueError:
            pass

    def confirm(self, text: str) -> bool:
        """
        Start-up check: write C{text} to the log files (those that are
        set; not to the process's own stdout/stderr) and make sure it and
        everything before reached them.

        @return: True when there is a log file (C{text} was written).
        @raise OSError: a write failed now or since the files were opened
            (a full disk, say); C{filename} names the file.
        """
        files = dict(self._files)
        for which, f in files.items():
            path = self.stdout_path if which == "out" else self.stderr_path
            try:
                if which == "out" or "out" not in files:
                    f.write(text)
                f.flush()
                try:
                    os.fsync(f.fileno())  # NFS may say "full" only here
                except OSError as e:
                    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
                        raise
            except OSError as e:
                if e.filename is None:
                    e.filename = path
                raise
        if self.write_error is not None:
            path, e = self.write_error
            if e.filename is None:
                e.filename = path
            raise e
        return bool(files)

    def log_only(self, text: str) -> None:
        """Write C{text} to the error log, never to watchers (tracebacks)."""
        super().err(text)

    def out(self, text: str) -> None:
        text = defang(text)
        super().out(text)
        self._feed("out", text)

    def err(self, text: str) -> None:
        text = defang(text)
        super().err(text)
        self._feed("err", text)

    # -- watchers ---------------------------------------------------------
    def _feed(self, which: str, text: str) -> None:
        if not self.watchers:
            self._partial[which] = ""
            return
        data = self._partial[which] + text
        lines = data.split("\n")
        self._partial[which] = lines.pop()
        if len(self._partial[which]) > 65536:  # no newline for a long time
            lines.append(self._partial[which])
            self._partial[which] = ""
        if not lines or self._feeding:
            return
        self._feeding = True  # a watcher that logs must not recurse
        try:
            for line in lines:
                for watcher in list(self.watchers):
                    watcher(line)
        finally:
            self._feeding = False


class EventFilter:
    """
    Merges repeated server events, so that no input can make the log grow
    faster than a few lines a second.

    A line identical to the one before is only counted, and written as
    C{last message repeated N times} when another line comes or at the end
    of the period.  Beyond C{burst} lines of one C{kind} within C{period}
    seconds, lines of that kind are only counted, and written as
    C{N more KIND messages suppressed} at the end of the period.

    @ivar write: takes one complete line (no newline).
    @ivar clock: C{IReactorTime} (C{callLater}).
    """

    def __init__(self, write: Callable[[str], None], clock: Any, burst: int = 20,
                 period: float = 10.0) -> None:
        self.write = write
        self.clock = clock
        self.burst = burst
        self.period = period
        self._last: Optional[str] = None
        self._repeats = 0
        self._counts: dict[Optional[str], int] = {}
        self._suppressed: dict[Optional[str], int] = {}
        self._timer: Any = None

    def __call__(self, text: str, kind: Optional[str] = None) -> None:
        """Log one event line C{text} of C{kind} (None: its own kind)."""
        if text == self._last:
            self._repeats += 1
            self._arm()
            return
        self._flush_repeats()
        n = self._counts.get(kind, 0)
        if n >= self.burst:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            self._last = None
            self._arm()
            return
        self._counts[kind] = n + 1
        self._last = text
        self.write(text)
        self._arm()

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self.clock.callLater(self.period, self._tick)

    def _flush_repeats(self) -> None:
        if self._repeats:
            n, self._repeats = self._repeats, 0
            self.write(f"last message repeated {n} times")

    def _tick(self) -> None:
        self._timer = None
        self._flush_repeats()
        self._last = None
        suppressed, self._suppressed = self._suppressed, {}
        for kind, n in suppressed.items():
            self.write(f"{n} more {kind or 'similar'} messages suppressed "
                       f"in the last {self.period:g} s")
        self._counts = {}
        if suppressed:
            self._arm()

    def flush(self) -> None:
        """Write what is pending now (at shutdown)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._tick()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


#: Characters of one log line written for a twisted.logger event, and of a
#: whole traceback.
MAX_EVENT_LINE = 1000
MAX_EVENT_TEXT = 65536


class LogObserver:
    """
    A twisted.logger observer writing warnings and errors to the server
    log, each line escaped and cut (L{escape}), the whole text bounded.

    Events with a traceback (C{log_failure}) or marked C{log_private} go
    to the log file only, never to watchers as C{L} lines: a traceback
    is for the operator.  The same traceback (exception type and the place
    it was raised), from whatever part of the server, is written in full
    the first time, then as one line at its 2nd, 4th, 8th... occurrence.
    """

    MAX_KINDS = 1000

    def __init__(self, server_log: Any) -> None:
        self.server_log = server_log
        self._seen: dict[tuple[str, str], int] = {}

    def __call__(self, event: dict) -> None:
        from twisted.logger import formatEventAsClassicLogText

        failure = event.get("log_failure")
        if failure is not None:
            key = failure_key(failure)
            if len(self._seen) >= self.MAX_KINDS and key not in self._seen:
                self._seen.clear()
            n = self._seen[key] = self._seen.get(key, 0) + 1
            if n > 1:
                if n & (n - 1) == 0:
                    self._private(f"pantasks_server: error {key[0]} at {key[1]} has happened "
                                  f"{n} times (traceback logged the first time)\n")
                return
        text = formatEventAsClassicLogText(event)
        if not text:
            return
        lines = [escape(line, MAX_EVENT_LINE) for line in text.rstrip("\n").split("\n")]
        text = "\n".join(lines)
        if len(text) > MAX_EVENT_TEXT:
            text = text[:MAX_EVENT_TEXT] + f"... ({len(text) - MAX_EVENT_TEXT} more characters)"
        text += "\n"
        if failure is not None or event.get("log_private"):
            self._private(text)
        else:
            self.server_log.err(text)

    def _private(self, text: str) -> None:
        log_only = getattr(self.server_log, "log_only", None)
        if log_only is not None:
            log_only(text)
        else:
            self.server_log.err(text)
