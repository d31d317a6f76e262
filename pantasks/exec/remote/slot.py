# -*- test-case-name: tests.exec.test_remote -*-
"""One slot: one connection to one C{pantasks_agent}, running one job at a
time.

Why one connection per slot, not one per host
=============================================
A host added N times (C{controller host add H} N times, as site scripts
do) gets N slots, each with its own C{ssh} process and its own agent.  The
agent could run many jobs over one connection (it is a full local runner),
but per-slot connections were chosen because:

  - B{failure isolation}: an agent or ssh process that dies (C{kill -9},
    OOM killer, a crash) loses the one job of its slot, not every job on
    the host; only a host-wide failure (its network, a reboot) loses all
    of them, as it must anyway;
  - B{no head-of-line blocking}: a job printing 50 MB fills its own SSH
    channel; a neighbour's exit event never waits behind it;
  - B{the original's model}: each slot is on, off, down, draining or
    recycled on its own (C{host off} takes one slot, C{connect_time}
    recycles one connection), so the C{controller} commands and layouts
    map one to one;
  - B{cost is bounded}: the extra handshakes are limited to
    C{max_handshakes} at once (sshd's C{MaxStartups} is never tripped),
    and the C{remote} benchmark (bench/remote.py) shows 8 slots to one host
    dispatch far faster than GNU parallel's C{--sshlogin 8/localhost}.
    Sites that want one TCP connection per host anyway can say so in
    C{connect_command} with OpenSSH's C{ControlMaster}/C{ControlPersist}:
    the slots then share it and still get an agent each.

States: C{DOWN} (not connected; a reconnect is scheduled with capped
exponential backoff, the last error is kept), C{CONNECTING} (waiting for a
handshake turn, or handshaking), C{IDLE}, C{BUSY} (one job), C{OFF}.  A
connection is watched by heartbeats: a slot that hears nothing from its
agent (no event, no answer to a L{Ping}) for C{heartbeat_timeout} seconds
is dropped, its job reported C{LOST}.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
from typing import TYPE_CHECKING, Any

from twisted.internet import defer, error
from twisted.internet.address import _ProcessAddress as PipeAddress
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import LoopingCall
from twisted.protocols import amp
from twisted.python.failure import Failure

from pantasks import __version__
from pantasks.exec.remote.wire import (
    PROTOCOL,
    BadRequest,
    Ended,
    Hello,
    Kill,
    Output,
    Ping,
    Run,
    SpecPart,
    chunks,
    encode_spec,
)
from pantasks.exec.result import LOST, STATES
from pantasks.exec.spawn import spawn_in_session

if TYPE_CHECKING:  # pragma: no cover
    from pantasks.exec.remote.runner import RemoteRunner, _RemoteJob

DOWN = "DOWN"
CONNECTING = "CONNECTING"
IDLE = "IDLE"
BUSY = "BUSY"
OFF = "OFF"

#: A host name as C{controller host add} takes it: no option-like leading
#: C{-} (ssh would read C{-oProxyCommand=...} as an option), no spaces or
#: shell or control characters.
HOST_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@%+-]*\Z")

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def check_host(host: str) -> str:
    """
    @return: C{host} if it is a usable host name.
    @raise ValueError: with a one-line reason otherwise.
    """
    if len(host) > 255 or not HOST_RE.match(host):
        raise ValueError(f"invalid host name {host!r}")
    return host


def connect_argv(command: str, host: str) -> list[str]:
    """
    Build the argv that starts the agent for C{host}: C{command} is split
    as a shell would (shlex) but never run by one, then C{{host}} is
    replaced inside each word (C{str.format}, so C{{{}} is a literal brace),
    so a host name can never become more words.
    """
    check_host(host)
    words = shlex.split(command)
    if not words:
        raise ValueError("empty connect command")
    try:
        # str.format per word, as pantasks.conf validates it ({{ is a brace).
        return [word.format(host=host) for word in words]
    except (ValueError, KeyError, IndexError, AttributeError) as e:
        raise ValueError(f"bad placeholder in connect command {command!r}: {e}") from None


def one_line(text: str | bytes, most: int = 300) -> str:
    """Make text from a remote end safe for a one-line message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _UNPRINTABLE.sub("?", text.strip())
    return text if len(text) <= most else text[: most - 3] + "..."


class AgentClient(amp.AMP):
    """The controller's end of one agent connection."""

    def __init__(self, slot: Slot) -> None:
        super().__init__()
        self.slot = slot

    def dataReceived(self, data: bytes) -> None:
        self.slot._heard()
        try:
            super().dataReceived(data)
        except Exception as e:
            why = one_line(str(e) or type(e).__name__)
            self.slot._abort(f"protocol error from the agent: {why}")

    def lengthLimitExceeded(self, length: int) -> None:
        self.slot._abort("protocol error: the agent's output is not the pantasks agent protocol")

    def unhandledError(self, failure: Failure) -> None:
        self.slot._abort(f"protocol error from the agent: {one_line(failure.getErrorMessage())}")

    @Output.responder
    def output(self, job: int, fd: int, data: bytes) -> dict:
        self.slot._output(job, fd, data)
        return {}

    @Ended.responder
    def ended(
        self,
        job: int,
        state: str,
        exit_status: int,
        dtime: float,
        messages: list[str],
        term_signal: int | None = None,
        pid: int | None = None,
    ) -> dict:
        self.slot._ended(job, state, exit_status, term_signal, pid, messages)
        return {}


class _PipeTransport:
    """
    The process transport as AMP sees it: writes go to the agent's stdin,
    and it has the addresses AMP logs (a process transport raises there).
    """

    def __init__(self, process: Any) -> None:
        self._process = process

    def getPeer(self) -> PipeAddress:
        return PipeAddress()

    def getHost(self) -> PipeAddress:
        return PipeAddress()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._process, name)


class _AgentProcess(ProcessProtocol):
    """Wires the connect command's stdio to an L{AgentClient}."""

    def __init__(self, slot: Slot, client: AgentClient) -> None:
        self.slot = slot
        self.client = client
        self.stderr = b""
        #: Whether the command leads a process group of its own.
        self.own_group = False

    def connectionMade(self) -> None:
        self.client.makeConnection(_PipeTransport(self.transport))

    def outReceived(self, data: bytes) -> None:
        self.client.dataReceived(data)

    def errReceived(self, data: bytes) -> None:
        self.stderr = (self.stderr + data)[-4096:]

    def processEnded(self, reason: Failure) -> None:
        self.slot._process_ended(self, reason)


class Slot:
    """
    One slot of a host: its connection, its state and its one job.

    @ivar host: the name the host was added under (what results report).
    @ivar slot_id: the controller's id for the slot (C{HostID}).
    @ivar threads: the C{-threads} it was added with.
    @ivar state: L{DOWN}, L{CONNECTING}, L{IDLE}, L{BUSY} or L{OFF}.
    @ivar error: the last connection error (one line), or C{None}.
    @ivar failures: connection attempts that failed since the last success.
    @ivar next_attempt: reactor time of the next reconnect, when DOWN.
    @ivar agent_version: the version the agent announced.
    @ivar agent_pid: the agent's process id on its host.
    @ivar connected_at: reactor time the current connection came up.
    """

    def __init__(self, runner: RemoteRunner, slot_id: int, host: str, threads: int = 0) -> None:
        self.runner = runner
        self.slot_id = slot_id
        self.host = check_host(host)
        self.threads = threads
        self.state = DOWN
        self.error: str | None = None
        self.failures = 0
        self.next_attempt: float | None = None
        self.agent_version: str | None = None
        self.agent_pid: int | None = None
        self.connected_at: float | None = None
        self.job: _RemoteJob | None = None
        self._reactor = runner.reactor
        self._proc: _AgentProcess | None = None
        self._client: AgentClient | None = None
        self._holding_turn = False
        self._attempt = 0
        self._abort_reason: str | None = None
        self._want_off = False
        self._up = False
        self._retry_call: Any = None
        self._handshake_call: Any = None
        self._close_call: Any = None
        self._recycle_call: Any = None
        self._recycling = False
        self._abort_reason_was: str | None = None
        self._heartbeat: LoopingCall | None = None
        self._ping_out = False
        self._last_heard = 0.0
        self._seq = 0
        self._closed_waiters: list[defer.Deferred[None]] = []

    def __repr__(self) -> str:
        return f"<Slot {self.slot_id} {self.host} {self.state}>"

    @property
    def ssh_pid(self) -> int | None:
        """The pid of the local connect command (ssh), while it runs."""
        proc = self._proc
        return None if proc is None or proc.transport is None else proc.transport.pid

    # Connecting

    def connect(self) -> None:
        """Connect now (from DOWN or OFF): wait for a handshake turn first."""
        if self.state not in (DOWN, OFF):
            return
        self._cancel(("_retry_call",))
        self.next_attempt = None
        self._want_off = False
        self.state = CONNECTING
        self._attempt += 1
        self.runner.handshakes.acquire().addCallback(self._got_turn, self._attempt)

    def _got_turn(self, _: Any, attempt: int) -> None:
        if attempt != self._attempt or self.state != CONNECTING or self._proc is not None:
            # Taken off (or reconnected) while waiting for the turn.
            self.runner.handshakes.release()
            return
        self._holding_turn = True
        try:
            argv = connect_argv(self.runner.connect_command, self.host)
        except ValueError as e:
            self._release_turn()
            self._went_down(f"bad connect command: {e}")
            return
        client = AgentClient(self)
        proc = _AgentProcess(self, client)
        self._proc, self._client = proc, client
        self._abort_reason = None
        self._up = False
        env = dict(os.environ)
        fds = {0: "w", 1: "r", 2: "r"}
        try:
            transport = spawn_in_session(self._reactor, proc, argv[0], argv, env, fds)
            proc.own_group = transport is not None
            if transport is None:
                transport = self._reactor.spawnProcess(proc, argv[0], argv, env=env, childFDs=fds)
        except Exception as e:
            self._proc = self._client = None
            self._release_turn()
            why = getattr(e, "strerror", None) or str(e)
            self._went_down(f"cannot run {argv[0]}: {why}")
            return
        self._last_heard = self._reactor.seconds()
        self._handshake_call = self._reactor.callLater(
            self.runner.connect_timeout, self._handshake_timeout
        )
        d = client.callRemote(
            Hello, protocol=PROTOCOL, version=__version__, kill_grace=float(self.runner.kill_grace)
        )
        d.addCallbacks(self._hello, self._hello_failed, (client,), None, (client,))

    def _release_turn(self) -> None:
        if self._holding_turn:
            self._holding_turn = False
            self.runner.handshakes.release()

    def _handshake_timeout(self) -> None:
        self._handshake_call = None
        self._abort(f"no answer from the agent within {self.runner.connect_timeout:g}s")

    def _hello(self, answer: dict, client: AgentClient) -> None:
        if client is not self._client:
            return
        self._cancel(("_handshake_call",))
        self._release_turn()
        self.agent_version = answer["version"]
        self.agent_pid = answer["pid"]
        if answer["protocol"] != PROTOCOL:
            self._abort(
                f"agent on {self.host} is pantasks_agent {one_line(answer['version'])} speaking "
                f"protocol {answer['protocol']}; this server (pantasks {__version__}) speaks "
                f"protocol {PROTOCOL}: install the same pantasks version on both"
            )
            return
        self._up = True
        self.failures = 0
        self.error = None
        self.connected_at = self._reactor.seconds()
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = self._reactor
        self._heartbeat.start(self.runner.heartbeat_interval, now=False)
        if self.runner.connect_time:
            self._recycle_call = self._reactor.callLater(
                self.runner.connect_time, self._recycle_due
            )
        if self._want_off:
            self._close_connection()
            return
        self.state = IDLE
        self.runner._slot_idle(self)

    def _recycle_due(self) -> None:
        """The connection is C{connect_time} old: renew it once idle (the
        original did this against pclient's growth; here it bounds what a
        long-lived agent and ssh may accumulate)."""
        self._recycle_call = None
        self._recycling = True
        if self.state == IDLE and self.job is None:
            self._close_connection()

    def _hello_failed(self, failure: Failure, client: AgentClient) -> None:
        if client is not self._client:
            return
        if failure.check(error.ConnectionDone, error.ConnectionLost, amp.ConnectionLost):
            return  # _process_ended says why
        self._abort(f"the agent refused the handshake: {one_line(failure.getErrorMessage())}")

    # Heartbeats

    def _heard(self) -> None:
        self._last_heard = self._reactor.seconds()

    def _beat(self) -> None:
        silent = self._reactor.seconds() - self._last_heard
        if silent >= self.runner.heartbeat_timeout:
            self._abort(f"no heartbeat from the agent for {silent:.0f}s")
            return
        if silent >= self.runner.heartbeat_interval and not self._ping_out:
            client = self._client
            if client is None:
                return
            self._ping_out = True

            def answered(_: Any) -> None:
                self._ping_out = False

            client.callRemote(Ping).addBoth(answered)

    # Jobs

    def accepting(self) -> bool:
        """@return: whether the slot can take a job now."""
        return (
            self.state == IDLE
            and self._client is not None
            and not self._want_off
            and not self._recycling
        )

    def run(self, rjob: _RemoteJob) -> None:
        """Send C{rjob} to the agent (the slot must be IDLE)."""
        client = self._client
        assert self.state == IDLE and client is not None, self
        self.state = BUSY
        self.job = rjob
        self._seq += 1
        rjob.wire_id = self._seq
        rjob.slot = self
        spec = rjob.spec
        pieces = chunks(encode_spec(list(spec.argv), spec.env, spec.cwd))
        for piece in pieces[:-1]:
            client.callRemote(SpecPart, job=rjob.wire_id, data=piece)
        timeout = float(spec.timeout) if spec.timeout and spec.timeout > 0 else None
        d = client.callRemote(
            Run, job=rjob.wire_id, spec=pieces[-1], nice=int(spec.nice or 0), timeout=timeout
        )
        d.addCallbacks(self._run_answered, self._run_failed, (rjob,), None, (rjob,))
        if rjob.kill_requested:
            self.kill(rjob)

    def _run_answered(self, answer: dict, rjob: _RemoteJob) -> None:
        if rjob.pid is None:
            rjob.pid = answer.get("pid")

    def _run_failed(self, failure: Failure, rjob: _RemoteJob) -> None:
        if self.job is not rjob:
            return
        if failure.check(error.ConnectionDone, error.ConnectionLost, amp.ConnectionLost):
            return  # the job is reported LOST by _process_ended
        why = one_line(failure.getErrorMessage())
        if not failure.check(BadRequest):
            why = f"agent error: {why}"
        self.job = None
        self.runner._job_refused(rjob, f"cannot run '{rjob.spec.argv[0]}' on {self.host}: {why}")
        self._job_done()

    def kill(self, rjob: _RemoteJob) -> None:
        """Ask the agent to kill C{rjob}; its L{Ended} says KILLED."""
        client = self._client
        if client is None or self.job is not rjob:
            return
        client.callRemote(Kill, job=rjob.wire_id).addErrback(lambda _: None)

    def _output(self, job: int, fd: int, data: bytes) -> None:
        rjob = self.job
        if rjob is None or rjob.wire_id != job or fd not in (1, 2):
            return
        (rjob.stdout if fd == 1 else rjob.stderr).write(data)

    def _ended(
        self,
        job: int,
        state: str,
        exit_status: int,
        term_signal: int | None,
        pid: int | None,
        messages: list[str],
    ) -> None:
        rjob = self.job
        if rjob is None or rjob.wire_id != job:
            return
        if state not in STATES or state == LOST:
            self._abort(f"protocol error: the agent reported state {one_line(state)!r}")
            return
        self.job = None
        if pid is not None:
            rjob.pid = pid
        rjob.messages.extend(one_line(m, 1000) for m in messages)
        self.runner._job_ended(rjob, state, exit_status, term_signal)
        self._job_done()

    def _job_done(self) -> None:
        if self._client is None:
            return
        self.state = IDLE
        if self._want_off or self._recycling:
            self._close_connection()
            return
        self.runner._slot_idle(self)

    # Going off and down

    def off(self) -> defer.Deferred[None]:
        """
        Take the slot off: at once when it has no job, after its job ends
        otherwise (the original's graceful C{host off}).

        @return: a Deferred that fires once the slot is OFF.
        """
        d: defer.Deferred[None] = defer.Deferred()
        if self.state == OFF:
            d.callback(None)
            return d
        self._closed_waiters.append(d)
        self._want_off = True
        if self.state == DOWN:
            self._cancel(("_retry_call",))
            self._became_off()
        elif self.state == CONNECTING and self._proc is None:
            # A turn that arrives later is given back by _got_turn.
            self._became_off()
        elif self.state == IDLE:
            self._close_connection()
        # BUSY: closed when the job ends; CONNECTING with a process: after Hello.
        return d

    def _close_connection(self) -> None:
        """Close the agent's stdin (it kills its jobs and exits); kill the
        connect command if it is still there a while later."""
        proc = self._proc
        if proc is None or proc.transport is None:
            return
        try:
            proc.transport.closeStdin()
        except Exception:
            pass
        if self._close_call is None:
            self._close_call = self._reactor.callLater(
                self.runner.kill_grace + 5.0, self._abort, "the agent did not exit when asked"
            )

    def _abort(self, why: str) -> None:
        """Drop the connection now (kill the connect command); C{why} becomes
        the slot's error once the process has ended."""
        if self._abort_reason is None:
            self._abort_reason = why
        proc = self._proc
        if proc is None or proc.transport is None:
            return
        try:
            if proc.own_group:
                # ssh and whatever it started (a ProxyCommand...).
                os.killpg(proc.transport.pid, signal.SIGKILL)
            else:
                proc.transport.signalProcess("KILL")
        except (error.ProcessExitedAlready, OSError):
            pass
        # A child of the command may still hold the pipes: do not wait for it.
        proc.transport.loseConnection()

    def _process_ended(self, proc: _AgentProcess, reason: Failure) -> None:
        if proc is not self._proc:
            return
        client = self._client
        self._proc = self._client = None
        self._cancel(("_handshake_call", "_close_call", "_recycle_call"))
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        self._heartbeat = None
        self._ping_out = False
        self._release_turn()
        why = self._abort_reason or self._describe(reason, proc.stderr)
        self._abort_reason_was, self._abort_reason = self._abort_reason, None
        if client is not None:
            try:
                client.connectionLost(reason)
            except Exception:
                pass
        rjob, self.job = self.job, None
        if rjob is not None:
            self.runner._job_lost(rjob, f"lost with its host {self.host}: {why}")
        was_up, self._up = self._up, False
        self.connected_at = None
        self.agent_pid = None
        recycling, self._recycling = self._recycling, False
        if self._want_off:
            self._became_off()
            return
        if was_up:
            self.failures = 0
        if recycling and rjob is None and self._abort_reason_was is None:
            # A planned renewal: reconnect at once, not as a failure.
            self.state = DOWN
            self.connect()
            return
        self._went_down(why)

    def _describe(self, reason: Failure, stderr: bytes) -> str:
        lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        said = one_line(lines[-1]) if lines else ""
        value = reason.value
        if getattr(value, "signal", None):
            status = f"killed by signal {value.signal}"
        else:
            status = f"exit status {getattr(value, 'exitCode', 0) or 0}"
        prefix = "connection lost" if self._up else "cannot connect"
        if not said:
            said = "connect command ended"
        return f"{prefix}: {said} ({status})"

    def _went_down(self, why: str) -> None:
        self.state = DOWN
        self.error = why
        delay = self.runner.backoff(self.failures)
        self.failures += 1
        self.next_attempt = self._reactor.seconds() + delay
        self._retry_call = self._reactor.callLater(delay, self._retry)
        self.runner._slot_down(self)

    def _retry(self) -> None:
        self._retry_call = None
        self.connect()

    def retry(self) -> bool:
        """Reconnect a DOWN slot now (C{host retry}); C{False} if not DOWN."""
        if self.state != DOWN:
            return False
        self.connect()
        return True

    def _became_off(self) -> None:
        self.state = OFF
        self.next_attempt = None
        self._want_off = False
        waiters, self._closed_waiters = self._closed_waiters, []
        for d in waiters:
            d.callback(None)

    def _cancel(self, names: tuple[str, ...]) -> None:
        for name in names:
            call = getattr(self, name)
            setattr(self, name, None)
            if call is not None and call.active():
                call.cancel()
