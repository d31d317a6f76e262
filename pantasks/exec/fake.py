# -*- test-case-name: tests.exec.test_runner_conformance -*-
"""A job runner for unit tests of the scheduler: no processes, no waiting.

Jobs end when the test says so (L{FakeRunner.finish}, L{FakeRunner.crash}),
or when the injected clock passes their timeout or kill grace, so a test can
drive every way a job ends with C{task.Clock.advance}.  The conformance
suite runs the same checks on it as on the real runners, so it cannot drift
from them.
"""

from __future__ import annotations

import signal
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from zope.interface import implementer

from pantasks.exec.interfaces import IJobRunner, JobSpec
from pantasks.exec.result import (
    CRASH,
    EXIT,
    KILLED,
    SPAWNFAIL,
    STATUS_CANNOT_RUN,
    STATUS_NOT_FOUND,
    TIMEOUT,
    JobResult,
    TailBuffer,
)


class _FakeJob:
    """One job the fake pretends to run."""

    def __init__(self, spec: JobSpec, started: float, pid: int, limit: int) -> None:
        self.spec = spec
        self.started = started
        self.pid = pid
        self.deferred: defer.Deferred[JobResult] = defer.Deferred()
        self.stdout = TailBuffer(limit)
        self.stderr = TailBuffer(limit)
        self.ending_state: str | None = None
        self.timeout_call: IDelayedCall | None = None
        self.kill_call: IDelayedCall | None = None


@implementer(IJobRunner)
class FakeRunner:
    """
    An L{IJobRunner} whose jobs are ended by the test.

    A timed-out or killed job ends C{kill_grace} seconds (of the clock)
    after the timeout or kill, as if SIGTERM had ended it (C{exit_status}
    and C{term_signal} 15); with the default C{kill_grace} of 0 that is at
    the next C{clock.advance(0)}.

    @ivar started: every L{JobSpec} ever started (spawn failures included),
        in order.
    @ivar not_found: command names (C{argv[0]}) that fail with SPAWNFAIL 127
        as if they were not in C{PATH}.
    @ivar hostname: what results report as C{hostname}.
    """

    def __init__(
        self,
        clock: Any,
        kill_grace: float = 0.0,
        hostname: str = "localhost",
        not_found: frozenset[str] | set[str] = frozenset(),
        max_output_bytes: int = 16 * 2**20,
    ) -> None:
        """
        @param clock: an C{IReactorTime}, usually a C{task.Clock}.
        @param kill_grace: clock seconds from a timeout or kill to the end.
        @param hostname: reported in results.
        @param not_found: see L{not_found}.
        @param max_output_bytes: in-memory bound per stream, as the real ones.
        """
        self.clock = clock
        self.kill_grace = kill_grace
        self.hostname = hostname
        self.not_found = set(not_found)
        self.max_output_bytes = max_output_bytes
        self.started: list[JobSpec] = []
        self._jobs: dict[int, _FakeJob] = {}
        self._stopping = False
        self._stop_waiters: list[defer.Deferred[None]] = []
        self._next_pid = 10000

    # IJobRunner

    def start(self, spec: JobSpec) -> defer.Deferred[JobResult]:
        """
        Pretend to start C{spec}; see L{IJobRunner.start}.
        """
        if spec.job_id in self._jobs:
            raise ValueError(f"job {spec.job_id} is already running")
        self.started.append(spec)
        now = self.clock.seconds()
        name = spec.argv[0] if spec.argv else ""
        if self._stopping:
            return self._spawnfail(
                spec,
                now,
                f"cannot run '{name}': the runner is stopping",
                STATUS_CANNOT_RUN,
            )
        if not spec.argv:
            return self._spawnfail(spec, now, "cannot run an empty command", STATUS_CANNOT_RUN)
        if name in self.not_found:
            return self._spawnfail(
                spec,
                now,
                f"cannot run '{name}': No such file or directory",
                STATUS_NOT_FOUND,
            )
        self._next_pid += 1
        job = _FakeJob(spec, now, self._next_pid, self.max_output_bytes)
        self._jobs[spec.job_id] = job
        if spec.timeout and spec.timeout > 0:
            job.timeout_call = self.clock.callLater(spec.timeout, self._terminate, job, TIMEOUT)
        return job.deferred

    def kill(self, job_id: int) -> bool:
        """
        Start killing a job; see L{IJobRunner.kill}.
        """
        job = self._jobs.get(job_id)
        if job is None:
            return False
        self._terminate(job, KILLED)
        return True

    def running(self) -> int:
        """
        @return: how many jobs have not ended.
        """
        return len(self._jobs)

    def stop(self, now: bool) -> defer.Deferred[None]:
        """
        See L{IJobRunner.stop}.
        """
        self._stopping = True
        if now:
            for job in list(self._jobs.values()):
                self._terminate(job, KILLED)
        d: defer.Deferred[None] = defer.Deferred()
        self._stop_waiters.append(d)
        self._maybe_stopped()
        return d

    # What tests call

    def is_running(self, job_id: int) -> bool:
        """
        @return: whether job C{job_id} has not ended yet.
        """
        return job_id in self._jobs

    def spec(self, job_id: int) -> JobSpec:
        """
        @return: the spec of running job C{job_id}.
        @raise KeyError: if it is not running.
        """
        return self._jobs[job_id].spec

    def output(self, job_id: int, stdout: bytes = b"", stderr: bytes = b"") -> None:
        """
        Let a running job print something (kept for its result, whatever
        way it ends).

        @raise KeyError: if the job is not running.
        """
        job = self._jobs[job_id]
        job.stdout.write(stdout)
        job.stderr.write(stderr)

    def finish(
        self, job_id: int, exit_status: int = 0, stdout: bytes = b"", stderr: bytes = b""
    ) -> None:
        """
        End a running job as if it exited with C{exit_status}, after
        printing C{stdout} and C{stderr}.  Its Deferred fires now.

        @raise KeyError: if the job is not running.
        """
        self.output(job_id, stdout, stderr)
        self._end(self._jobs[job_id], EXIT, exit_status, None)

    def crash(
        self,
        job_id: int,
        sig: int = signal.SIGSEGV,
        stdout: bytes = b"",
        stderr: bytes = b"",
    ) -> None:
        """
        End a running job as if signal C{sig} killed it (state CRASH).

        @raise KeyError: if the job is not running.
        """
        self.output(job_id, stdout, stderr)
        self._end(self._jobs[job_id], CRASH, int(sig), int(sig))

    # Internals

    def _terminate(self, job: _FakeJob, state: str) -> None:
        if job.ending_state is not None:
            return
        job.ending_state = state
        self._cancel(job)
        term = int(signal.SIGTERM)
        job.kill_call = self.clock.callLater(self.kill_grace, self._end, job, state, term, term)

    def _cancel(self, job: _FakeJob) -> None:
        for name in ("timeout_call", "kill_call"):
            call = getattr(job, name)
            setattr(job, name, None)
            if call is not None and call.active():
                call.cancel()

    def _end(self, job: _FakeJob, natural: str, exit_status: int, sig: int | None) -> None:
        self._cancel(job)
        del self._jobs[job.spec.job_id]
        now = self.clock.seconds()
        result = JobResult(
            job_id=job.spec.job_id,
            state=job.ending_state or natural,
            exit_status=exit_status,
            term_signal=sig,
            stdout=job.stdout.getvalue(),
            stderr=job.stderr.getvalue(),
            truncated_stdout=job.stdout.truncated,
            truncated_stderr=job.stderr.truncated,
            hostname=self.hostname,
            started=job.started,
            ended=now,
            dtime=now - job.started,
            pid=job.pid,
        )
        try:
            job.deferred.callback(result)
        finally:
            self._maybe_stopped()

    def _spawnfail(
        self, spec: JobSpec, now: float, why: str, status: int
    ) -> defer.Deferred[JobResult]:
        result = JobResult(
            job_id=spec.job_id,
            state=SPAWNFAIL,
            exit_status=status,
            stderr=f"pantasks: {why}\n".encode("utf-8", "replace"),
            hostname=self.hostname,
            started=now,
            ended=now,
        )
        d: defer.Deferred[JobResult] = defer.Deferred()
        self.clock.callLater(0, d.callback, result)
        return d

    def _maybe_stopped(self) -> None:
        if not self._stopping or self._jobs:
            return
        self._stopping = False
        waiters, self._stop_waiters = self._stop_waiters, []
        for d in waiters:
            d.callback(None)
