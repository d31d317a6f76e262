# -*- test-case-name: tests.exec.test_agent -*-
"""C{pantasks_agent}: runs the controller's jobs on one host.

The controller starts it through SSH (one agent per slot, see
L{pantasks.exec.remote.slot}) and speaks L{pantasks.exec.remote.wire} to it
over its standard input and output.  The agent is a
L{pantasks.exec.local.LocalRunner} (own process group per job, C{nice},
timeout and kill as SIGTERM then SIGKILL to the whole group) whose output
is streamed back in chunks instead of kept: events are pushed the moment
they happen, nothing is polled.

When its standard input closes (the server went away, SSH dropped) the
agent kills its jobs and exits, so nothing is left running for a
controller that no longer knows about it.  A request it cannot parse gets
an error answer; input that is not AMP at all (framing lost) ends the
connection with one line on stderr and exit status 1.

Standard output is the protocol channel only: at start the agent moves it
to a private descriptor and points fd 1 at stderr, so a stray print (its
own, a library's) cannot corrupt the stream.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from typing import Any

from twisted.internet import defer
from twisted.protocols import amp
from twisted.python.failure import Failure
from zope.interface import implementer
from twisted.internet.interfaces import IPushProducer

from pantasks import __version__
from pantasks.exec.interfaces import JobSpec
from pantasks.exec.local import LocalRunner
from pantasks.exec.remote.ledger import DEFAULT_DIR, Ledger
from pantasks.exec.remote.wire import (
    CHUNK,
    MAX_SPEC,
    PROTOCOL,
    BadRequest,
    Ended,
    Hello,
    Kill,
    Output,
    Ping,
    Run,
    SpecPart,
    decode_spec,
)
from pantasks.exec.result import SPAWNFAIL, JobResult

#: Exit status after the controller closed the connection.
EXIT_OK = 0
#: Exit status after a protocol error (the peer is not a controller).
EXIT_PROTOCOL = 1
#: Exit status for a bad command line.
EXIT_USAGE = 2


class _Forward:
    """
    Stands in for one of a running job's output streams in the
    L{LocalRunner}: chunks go to the controller instead of being kept.
    Everything else (close, the empty buffer) is the original stream's.
    """

    def __init__(self, inner: Any, send: Any) -> None:
        self._inner = inner
        self._send = send

    def write(self, data: bytes) -> None:
        self._send(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class StreamingRunner(LocalRunner):
    """
    A L{LocalRunner} that hands every chunk of output to C{on_output} as it
    is read.  It swaps the job's streams right after the (synchronous)
    spawn, before the reactor could have read anything; this leans on
    L{LocalRunner}'s internals (C{_jobs}, the jobs' C{stdout}/C{stderr}),
    which the agent tests cover.
    """

    def __init__(self, reactor: Any, on_output: Any, **kw: Any) -> None:
        super().__init__(reactor, **kw)
        self._on_output = on_output

    def start(self, spec: JobSpec) -> defer.Deferred[JobResult]:
        d = super().start(spec)
        job = self._jobs.get(spec.job_id)
        if job is not None:
            job_id = spec.job_id
            job.stdout = _Forward(job.stdout, lambda data: self._on_output(job_id, 1, data))
            job.stderr = _Forward(job.stderr, lambda data: self._on_output(job_id, 2, data))
        return d

    def pids(self) -> list[int]:
        """@return: the pids (= process group ids) of the running jobs."""
        return [job.pid for job in self._jobs.values() if job.pid is not None]

    def pid_of(self, job_id: int) -> int | None:
        """@return: the pid of a running job, if it has one."""
        job = self._jobs.get(job_id)
        return None if job is None else job.pid

    def transports(self) -> list[Any]:
        """@return: the process transports of the running jobs."""
        return [job.transport for job in self._jobs.values() if job.transport is not None]


@implementer(IPushProducer)
class Agent(amp.AMP):
    """
    The agent's end of the connection: answers the controller's requests
    and pushes job events.  It is also the producer feeding its stdout, so
    when SSH cannot keep up it stops reading its jobs' pipes (the jobs
    then block on a full pipe) instead of buffering without bound.
    """

    def __init__(self, reactor: Any, kill_grace: float = 5.0, ledger: Ledger | None = None) -> None:
        super().__init__()
        self._reactor = reactor
        self.ledger = ledger or Ledger(None)
        self.runner = StreamingRunner(
            reactor, self._send_output, max_output_bytes=4096, kill_grace=kill_grace
        )
        self._parts: dict[int, list[bytes]] = {}
        self._part_bytes: dict[int, int] = {}
        self._paused = False
        self.exit_code = EXIT_OK
        self.done: defer.Deferred[int] = defer.Deferred()
        self._ending = False

    # The connection

    def connectionMade(self) -> None:
        register = getattr(self.transport, "registerProducer", None)
        if register is not None:
            register(self, True)

    def dataReceived(self, data: bytes) -> None:
        try:
            super().dataReceived(data)
        except Exception as e:
            self._protocol_error(f"{type(e).__name__}: {e}")

    def lengthLimitExceeded(self, length: int) -> None:
        self._protocol_error("input is not the pantasks agent protocol")

    def unhandledError(self, failure: Failure) -> None:
        self._protocol_error(failure.getErrorMessage())

    def _protocol_error(self, why: str) -> None:
        if self._ending:
            return
        sys.stderr.write(f"pantasks_agent: protocol error: {why}; closing\n")
        sys.stderr.flush()
        self.exit_code = EXIT_PROTOCOL
        if self.transport is not None:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        """The controller is gone: kill every job, then report we are done."""
        self._ending = True
        try:
            super().connectionLost(reason)
        except Exception:
            pass
        d = self.runner.stop(now=True)

        def stopped(_: Any) -> None:
            self.ledger.remove()
            self.done.callback(self.exit_code)

        d.addBoth(stopped)

    # IPushProducer (for the stdout transport)

    def pauseProducing(self) -> None:
        self._paused = True
        for transport in self.runner.transports():
            transport.pauseProducing()

    def resumeProducing(self) -> None:
        self._paused = False
        for transport in self.runner.transports():
            transport.resumeProducing()

    def stopProducing(self) -> None:
        pass

    # Events to the controller

    def _send(self, command: type[amp.Command], **kw: Any) -> None:
        if self._ending or self.transport is None:
            return
        try:
            self.callRemote(command, **kw)
        except Exception:
            # The connection is going; connectionLost does the rest.
            pass

    def _send_output(self, job: int, fd: int, data: bytes) -> None:
        for start in range(0, len(data), CHUNK):
            self._send(Output, job=job, fd=fd, data=data[start : start + CHUNK])

    def _ended(self, result: JobResult) -> None:
        self.ledger.record(self.runner.pids())
        if result.state == SPAWNFAIL:
            # Never streamed: the reason is in the result's stderr.
            self._send_output(result.job_id, 1, result.stdout)
            self._send_output(result.job_id, 2, result.stderr)
        self._send(
            Ended,
            job=result.job_id,
            state=result.state,
            exit_status=result.exit_status,
            term_signal=result.term_signal,
            pid=result.pid,
            dtime=float(result.dtime),
            messages=list(result.messages),
        )

    # Requests from the controller

    @Hello.responder
    def hello(self, protocol: int, version: str, kill_grace: float) -> dict:
        if not 0 <= kill_grace <= 3600:
            raise BadRequest(f"kill grace {kill_grace} is not within 0..3600 seconds")
        self.runner.kill_grace = kill_grace
        return {
            "protocol": PROTOCOL,
            "version": __version__,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
        }

    @SpecPart.responder
    def spec_part(self, job: int, data: bytes) -> dict:
        size = self._part_bytes.get(job, 0) + len(data)
        if size > MAX_SPEC:
            # Dropped; the Run that follows is refused.
            self._parts[job] = []
            self._part_bytes[job] = MAX_SPEC + 1
            return {}
        self._parts.setdefault(job, []).append(data)
        self._part_bytes[job] = size
        return {}

    @Run.responder
    def run(self, job: int, spec: bytes, nice: int, timeout: float | None = None) -> dict:
        parts = self._parts.pop(job, [])
        size = self._part_bytes.pop(job, 0)
        if size > MAX_SPEC:
            raise BadRequest(f"job specification larger than {MAX_SPEC} bytes")
        parts.append(spec)
        try:
            argv, env, cwd = decode_spec(b"".join(parts))
        except ValueError as e:
            raise BadRequest(str(e)) from None
        if not 0 <= nice <= 20:
            raise BadRequest(f"nice level {nice} is not within 0..20")
        if timeout is not None and not timeout >= 0:
            raise BadRequest(f"timeout {timeout} is negative")
        if self.runner.pid_of(job) is not None or job in self.runner._jobs:
            raise BadRequest(f"job {job} is already running")
        d = self.runner.start(JobSpec(job, argv, nice=nice, timeout=timeout, env=env, cwd=cwd))
        d.addCallback(self._ended)
        d.addErrback(lambda f: self._protocol_error(f.getErrorMessage()))
        if self._paused:
            for transport in self.runner.transports():
                transport.pauseProducing()
        pid = self.runner.pid_of(job)
        if pid is not None:
            self.ledger.record(self.runner.pids())
        return {"pid": pid}

    @Kill.responder
    def kill(self, job: int) -> dict:
        return {"killed": self.runner.kill(job)}

    @Ping.responder
    def ping(self) -> dict:
        return {}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the agent's command line (exits 2 with a usage line on error)."""
    p = argparse.ArgumentParser(
        prog="pantasks_agent",
        description=(
            "Runs jobs for the pantasks controller, which starts it over SSH and "
            "speaks to it on standard input and output; it is not meant to be run "
            "by hand.  See pantasks_agent(8)."
        ),
    )
    p.add_argument(
        "--version", action="version", version=f"pantasks_agent {__version__} (protocol {PROTOCOL})"
    )
    p.add_argument(
        "--state-dir",
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"where agents list their running jobs, so the next agent kills those a "
        f"killed agent left behind (default {DEFAULT_DIR})",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """
    Run the agent on stdio until the controller closes the connection.

    @return: the exit status (L{EXIT_OK}, L{EXIT_PROTOCOL}, L{EXIT_USAGE}).
    """
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else EXIT_OK

    from twisted.internet import reactor
    from twisted.internet.stdio import StandardIO

    ledger = Ledger(args.state_dir)
    ledger.reap_orphans()
    # The protocol gets a private copy of stdout; fd 1 becomes stderr.
    sys.stdout.flush()
    proto_out = os.dup(1)
    os.dup2(2, 1)
    agent = Agent(reactor, ledger=ledger)
    StandardIO(agent, stdin=0, stdout=proto_out, reactor=reactor)

    def finished(code: int) -> None:
        if reactor.running:
            reactor.stop()

    agent.done.addCallback(finished)
    # SIGTERM/SIGINT (Twisted's handlers) and SIGHUP stop the reactor,
    # which kills the jobs first.
    signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(reactor.stop))
    reactor.addSystemEventTrigger("before", "shutdown", agent.runner.stop, True)
    reactor.run()
    return agent.exit_code


def console_main() -> None:
    """The C{pantasks_agent} console script."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover - python -m pantasks.exec.remote.agent
    console_main()
