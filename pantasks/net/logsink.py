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

import os
import sys
from typing import Any, Callable, Optional

from pantasks.lang.context import OutputSink

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
        except (OSError, ValueError):
            pass  # a full disk must not stop the scheduler

    def out(self, text: str) -> None:
        super().out(text)
        self._feed("out", text)

    def err(self, text: str) -> None:
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
