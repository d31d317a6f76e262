# -*- test-case-name: tests.exec.test_local -*-
"""What a finished job hands back to the scheduler, and the bounded buffer
that keeps its output.

Every way a job can end (exit, signal, timeout, kill, failure to start) is
described by one L{JobResult}, so the scheduler has a single code path for
harvesting; runners never report a job-level failure as an exception.

Output kept in memory is bounded (DESIGN.md section 7): a job that prints
gigabytes costs at most C{max_output_bytes} per stream, because
L{TailBuffer} keeps only the I{last} bytes; the complete output goes to
the task's stdout/stderr files as it streams.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: The job exited by itself; C{exit_status} is its exit code.
EXIT = "EXIT"
#: The job was ended by a signal it did not get from us; C{exit_status} is
#: the signal number.
CRASH = "CRASH"
#: The runner ended the job because its timeout expired.
TIMEOUT = "TIMEOUT"
#: The job was ended on request (L{IJobRunner.kill}, C{stop(now=True)}).
KILLED = "KILLED"
#: The job never started (command not found, not executable, out of file
#: descriptors or processes...); the reason is a line in C{stderr}.
SPAWNFAIL = "SPAWNFAIL"

#: The connection to the job's host was lost while the job ran (its agent
#: or ssh killed, the host's network gone, heartbeats missed): how it
#: ended is unknown, it may even still run there.  Only remote runners
#: report it; the caller may run the job again (elsewhere).
LOST = "LOST"

#: Every state a L{JobResult} may carry.
STATES = frozenset({EXIT, CRASH, TIMEOUT, KILLED, SPAWNFAIL, LOST})

#: C{exit_status} of a SPAWNFAIL when the command was not found (as a shell).
STATUS_NOT_FOUND = 127
#: C{exit_status} of a SPAWNFAIL for any other reason (found but could not
#: be run: permission denied, no more processes...), as a shell.
STATUS_CANNOT_RUN = 126


@dataclass
class JobResult:
    """
    How one job ended, with the output it produced.

    @ivar job_id: the scheduler's job id, copied from the L{JobSpec}.
    @ivar state: one of L{EXIT}, L{CRASH}, L{TIMEOUT}, L{KILLED},
        L{SPAWNFAIL}, L{LOST} (remote runners only; C{exit_status} is then 0
        and the output is what arrived before the loss).
    @ivar exit_status: the exit code when the process exited by itself, the
        signal number when a signal ended it (always so for L{CRASH}; for
        L{TIMEOUT} and L{KILLED} whichever happened), L{STATUS_NOT_FOUND} or
        L{STATUS_CANNOT_RUN} for L{SPAWNFAIL}.
    @ivar term_signal: the signal that ended the process, or C{None} if it
        exited (or never started).
    @ivar stdout: the job's standard output, at most C{max_output_bytes}
        (the tail of it if it printed more).
    @ivar stderr: the same for standard error.  A L{SPAWNFAIL} carries a
        line such as C{pantasks: cannot run 'x': No such file or directory}.
    @ivar truncated_stdout: C{True} if C{stdout} lost its beginning.
    @ivar truncated_stderr: C{True} if C{stderr} lost its beginning.
    @ivar hostname: where the job ran (C{"localhost"} for local jobs).
    @ivar started: reactor time when the job was started.
    @ivar ended: reactor time when the job's end was harvested.
    @ivar dtime: C{ended - started}, in seconds.
    @ivar pid: the process id the job had (C{None} if it never started).
    @ivar messages: diagnostics of the runner about this job that are not
        the job's own output (e.g. C{unable to open stdout dump file F: ...});
        the scheduler should log them.
    """

    job_id: int
    state: str
    exit_status: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    truncated_stdout: bool = False
    truncated_stderr: bool = False
    hostname: str = "localhost"
    started: float = 0.0
    ended: float = 0.0
    dtime: float = 0.0
    term_signal: int | None = None
    pid: int | None = None
    messages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown job state {self.state!r}")


class TailBuffer:
    """
    Keep the last C{limit} bytes written to it, in chunks, so that memory
    stays bounded by about C{limit} plus one chunk however much is written,
    and no write costs more than copying its own data.

    @ivar limit: the most bytes L{getvalue} returns.
    @ivar truncated: C{True} once bytes had to be dropped from the front.
    @ivar total: bytes written in all.
    @ivar held: bytes currently held (may exceed C{limit} by less than the
        size of the oldest chunk).
    @ivar peak_held: the largest C{held} ever was.
    """

    def __init__(self, limit: int) -> None:
        """
        @param limit: how many trailing bytes to keep; at least 0.
        """
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.limit = limit
        self.truncated = False
        self.total = 0
        self.held = 0
        self.peak_held = 0
        self._chunks: deque[bytes] = deque()

    def write(self, data: bytes) -> None:
        """
        Append C{data}, dropping whole chunks from the front while what
        remains still covers the last C{limit} bytes.
        """
        if not data:
            return
        self.total += len(data)
        if len(data) > self.limit:
            # One chunk bigger than the limit: nothing older survives.
            data = data[len(data) - self.limit :] if self.limit else b""
            self._chunks.clear()
            self.held = 0
            self.truncated = True
        self._chunks.append(data)
        self.held += len(data)
        chunks = self._chunks
        while chunks and self.held - len(chunks[0]) >= self.limit:
            self.held -= len(chunks.popleft())
            self.truncated = True
        if self.held > self.peak_held:
            self.peak_held = self.held

    def getvalue(self) -> bytes:
        """
        @return: the last (at most) C{limit} bytes written.
        """
        value = b"".join(self._chunks)
        if len(value) > self.limit:
            value = value[len(value) - self.limit :]
            self.truncated = True
        return value
