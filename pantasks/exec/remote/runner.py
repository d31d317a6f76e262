# -*- test-case-name: tests.exec.test_remote -*-
"""L{RemoteRunner}: the L{IJobRunner} that runs jobs on controller slots.

Jobs wait in one FIFO queue until a slot is IDLE; a job whose spec names a
C{host} waits for a slot of that host (names compared ignoring case).
This is the seam the controller's placement passes (NEED, WANT, ANY,
OLDWANT, the throttle) will replace; everything else (connections, the
agent protocol, results) is done here.

A job whose connection is lost while it runs ends as L{LOST}: its output
so far, a line in C{messages}, and no exit status.  The runner does not
run it again by itself: the caller (the scheduler) decides, up to
C{max_retries}.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.application.internet import backoffPolicy
from twisted.internet import defer
from twisted.internet.defer import DeferredSemaphore
from twisted.logger import Logger
from zope.interface import implementer

from pantasks.exec.interfaces import IJobRunner, JobSpec
from pantasks.exec.local import DEFAULT_MAX_OUTPUT, _Stream
from pantasks.exec.remote.slot import Slot, check_host
from pantasks.exec.result import (
    KILLED,
    LOST,
    SPAWNFAIL,
    STATUS_CANNOT_RUN,
    JobResult,
)

#: The default C{[controller] connect_command} of pantasks.conf.
DEFAULT_CONNECT = "ssh -x -o BatchMode=yes {host} pantasks_agent"


class _RemoteJob:
    """The runner's book-keeping for one job, queued or on a slot."""

    def __init__(self, spec: JobSpec, started: float, limit: int) -> None:
        self.spec = spec
        self.started = started
        self.deferred: defer.Deferred[JobResult] = defer.Deferred()
        self.messages: list[str] = []
        self.stdout = _Stream("stdout", limit, spec.stdout_path, self.messages)
        self.stderr = _Stream("stderr", limit, spec.stderr_path, self.messages)
        self.slot: Slot | None = None
        self.wire_id = 0
        self.pid: int | None = None
        self.kill_requested = False


@implementer(IJobRunner)
class RemoteRunner:
    """
    Run jobs on the slots of remote hosts, each slot a connection to a
    C{pantasks_agent} (see L{pantasks.exec.remote.slot}).

    @ivar slots: every slot, in the order they were added.
    @ivar handshakes: the semaphore that keeps at most C{max_handshakes}
        connections handshaking at once.
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        connect_command: str = DEFAULT_CONNECT,
        max_handshakes: int = 8,
        kill_grace: float = 5.0,
        connect_timeout: float = 30.0,
        heartbeat_interval: float = 30.0,
        heartbeat_timeout: float = 90.0,
        backoff: Callable[[int], float] | None = None,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT,
        connect_time: float = 36000.0,
    ) -> None:
        """
        @param reactor: provides C{IReactorTime} and C{IReactorProcess}.
        @param connect_command: starts the agent; C{{host}} is replaced by
            the host name (pantasks.conf C{[controller] connect_command}).
        @param max_handshakes: connections allowed to handshake at once.
        @param kill_grace: seconds between SIGTERM and SIGKILL on the hosts.
        @param connect_timeout: seconds a handshake may take.
        @param heartbeat_interval: seconds of silence before a ping.
        @param heartbeat_timeout: seconds of silence after which the agent
            is taken for dead.
        @param backoff: attempt number (0, 1, ...) to seconds before the
            next connection attempt; default 10 s doubling, capped at 300 s
            (the original doubled without a cap).
        @param max_output_bytes: output kept in memory per stream and job.
        @param connect_time: seconds after which an idle slot's connection
            is renewed (the original's C{connect_time}, 36000); 0: never.
        """
        self.reactor = reactor
        self.connect_command = connect_command
        self.kill_grace = kill_grace
        self.connect_timeout = connect_timeout
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.backoff = backoff or backoffPolicy(initialDelay=10.0, maxDelay=300.0, factor=2.0)
        self.max_output_bytes = max_output_bytes
        self.connect_time = connect_time
        self.handshakes = DeferredSemaphore(max_handshakes)
        self.slots: list[Slot] = []
        self._next_slot_id = 1
        self._jobs: dict[int, _RemoteJob] = {}
        self._pending: list[_RemoteJob] = []
        self._stopping = False
        self._unfired = 0
        self._stop_waiters: list[defer.Deferred[None]] = []

    # Slots

    def add_slot(self, host: str, threads: int = 0) -> Slot:
        """
        Add one slot for C{host} and start connecting it.

        @raise ValueError: if C{host} is not a valid host name.
        """
        check_host(host)
        slot = Slot(self, self._next_slot_id, host, threads)
        self._next_slot_id += 1
        self.slots.append(slot)
        slot.connect()
        return slot

    def close(self) -> defer.Deferred[None]:
        """
        Kill every job and take every slot off (the agents exit).

        @return: a Deferred that fires when all connections are closed.
        """
        stopped = self.stop(now=True)
        offs = [slot.off() for slot in self.slots]
        return defer.gatherResults([stopped] + offs).addCallback(lambda _: None)

    def _slot_idle(self, slot: Slot) -> None:
        self._dispatch()

    def _slot_down(self, slot: Slot) -> None:
        self.log.info(
            "controller slot {id} ({host}) is DOWN: {error}; next attempt in {delay:.0f}s",
            id=slot.slot_id,
            host=slot.host,
            error=slot.error,
            delay=(slot.next_attempt or 0) - self.reactor.seconds(),
        )

    def _dispatch(self) -> None:
        """Give each idle slot the first queued job it may run (FIFO)."""
        for slot in self.slots:
            if not self._pending:
                return
            if not slot.accepting():
                continue
            for i, rjob in enumerate(self._pending):
                wanted = rjob.spec.host
                if wanted is None or wanted.casefold() == slot.host.casefold():
                    del self._pending[i]
                    rjob.stdout.open()
                    rjob.stderr.open()
                    slot.run(rjob)
                    break

    # IJobRunner

    def start(self, spec: JobSpec) -> defer.Deferred[JobResult]:
        """
        Queue C{spec} for the next free slot; see L{IJobRunner.start}.
        """
        if spec.job_id in self._jobs:
            raise ValueError(f"job {spec.job_id} is already running")
        now = self.reactor.seconds()
        rjob = _RemoteJob(spec, now, self.max_output_bytes)
        if self._stopping:
            rjob.stderr.write(b"pantasks: the controller is stopping; job not started\n")
            self._finish(rjob, self._result(rjob, SPAWNFAIL, STATUS_CANNOT_RUN, None, hostname=""))
            return rjob.deferred
        self._jobs[spec.job_id] = rjob
        self._pending.append(rjob)
        self._dispatch()
        return rjob.deferred

    def kill(self, job_id: int) -> bool:
        """
        Kill a job: a queued one ends KILLED at once, a running one when
        its agent has killed it; see L{IJobRunner.kill}.
        """
        rjob = self._jobs.get(job_id)
        if rjob is None:
            return False
        if rjob in self._pending:
            self._pending.remove(rjob)
            self._finish(rjob, self._result(rjob, KILLED, 0, None, hostname=""))
            return True
        if not rjob.kill_requested:
            rjob.kill_requested = True
            if rjob.slot is not None:
                rjob.slot.kill(rjob)
        return True

    def running(self) -> int:
        """@return: how many jobs are queued or running."""
        return len(self._jobs)

    def stop(self, now: bool) -> defer.Deferred[None]:
        """See L{IJobRunner.stop}; queued jobs count as running."""
        self._stopping = True
        if now:
            for job_id in list(self._jobs):
                self.kill(job_id)
        d: defer.Deferred[None] = defer.Deferred()
        self._stop_waiters.append(d)
        self._maybe_stopped()
        return d

    # Results

    def _result(
        self,
        rjob: _RemoteJob,
        state: str,
        exit_status: int,
        term_signal: int | None,
        hostname: str | None = None,
    ) -> JobResult:
        rjob.stdout.close()
        rjob.stderr.close()
        ended = self.reactor.seconds()
        if hostname is None:
            hostname = rjob.slot.host if rjob.slot is not None else ""
        return JobResult(
            job_id=rjob.spec.job_id,
            state=state,
            exit_status=exit_status,
            term_signal=term_signal,
            stdout=rjob.stdout.buffer.getvalue(),
            stderr=rjob.stderr.buffer.getvalue(),
            truncated_stdout=rjob.stdout.buffer.truncated,
            truncated_stderr=rjob.stderr.buffer.truncated,
            hostname=hostname,
            started=rjob.started,
            ended=ended,
            dtime=ended - rjob.started,
            pid=rjob.pid,
            messages=rjob.messages,
        )

    def _finish(self, rjob: _RemoteJob, result: JobResult) -> None:
        """Forget C{rjob} and fire its Deferred on the next reactor turn."""
        if self._jobs.get(rjob.spec.job_id) is rjob:
            del self._jobs[rjob.spec.job_id]
        self._unfired += 1
        self.reactor.callLater(0, self._fire, rjob, result)

    def _fire(self, rjob: _RemoteJob, result: JobResult) -> None:
        self._unfired -= 1
        try:
            rjob.deferred.callback(result)
        finally:
            self._maybe_stopped()

    def _job_ended(
        self, rjob: _RemoteJob, state: str, exit_status: int, term_signal: int | None
    ) -> None:
        self._finish(rjob, self._result(rjob, state, exit_status, term_signal))

    def _job_refused(self, rjob: _RemoteJob, why: str) -> None:
        rjob.stderr.write(f"pantasks: {why}\n".encode("utf-8", "replace"))
        self._finish(rjob, self._result(rjob, SPAWNFAIL, STATUS_CANNOT_RUN, None))

    def _job_lost(self, rjob: _RemoteJob, why: str) -> None:
        rjob.messages.append(f"job {rjob.spec.job_id} {why}")
        self._finish(rjob, self._result(rjob, LOST, 0, None))

    def _maybe_stopped(self) -> None:
        if not self._stopping or self._jobs or self._unfired:
            return
        self._stopping = False
        waiters, self._stop_waiters = self._stop_waiters, []
        for d in waiters:
            d.callback(None)
        self._dispatch()
