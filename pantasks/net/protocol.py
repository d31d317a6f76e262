# -*- test-case-name: tests.net.test_protocol -*-
"""One connection of the line protocol (C{protocol.md}, version 1).

A L{LineServerProtocol} greets, authenticates through the factory's
twisted.cred portal, then runs each request line in the shared
interpreter with its own execution context whose output sink frames what
the command writes as C{O}/C{E} lines; C{STATUS n} ends the reply.

Requests are taken strictly in order: while one waits (for a process or
a timer, without blocking the reactor) the connection stops reading (the
transport's C{pauseProducing}), and reading resumes after C{STATUS}, so
pipelined replies come back in request order while other connections go
on.  Each request runs in time slices (L{pantasks.lang.driver}), so a
loop on one connection never stops the others.  While a request runs the
connection still reads, up to one line's worth, so that C{INTERRUPT}
(the client's Ctrl-C) is seen at once and cancels it; other lines wait
their turn.  A client that disconnects cancels its running request (the
programs it started are killed) and the requests it had queued.

The connection stops taking requests while the client does not read its
replies (a streaming producer registered on the transport tells when its
buffer is full), and the running request waits at its next statement
(and stops reading the pipes of the programs it started), so a client
cannot make the server buffer without bound; a client that still leaves
more than C{max_unread_bytes} unread is disconnected.

C{L} (server log) and C{J} (job end) lines are sent only between replies
to connections that asked with C{watch}; they wait, in a bounded queue,
while a reply or a block is in progress or the client is not reading.
"""

from __future__ import annotations

import secrets
from collections import deque
from typing import Any, Callable, Iterable, Optional

from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer, protocol
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from zope.interface import implementer

from pantasks import __version__
from pantasks.config import LimitsSection, load_server_config
from pantasks.lang import internal
from pantasks.lang.context import Origin, OutputSink
from pantasks.lang.internal import escape
from pantasks.lang.policy import policy_for
from pantasks.lang.source import is_end, opens_block
from pantasks.net import FAULTS, fault_line
from pantasks.net.access import AccessList
from pantasks.net.auth import (
    CONTROL,
    DEFAULT_USER,
    WATCH,
    FailureTracker,
    HMACCredentials,
    IPantasksAvatar,
)
from pantasks.net.limits import ConnectionLimits
from pantasks.net.logsink import EventFilter

log = Logger()

#: Protocol version in the greeting.
PROTOCOL_VERSION = 1

#: Default longest line (bytes) when no configuration says otherwise.
DEFAULT_MAX_LINE = 65536

#: Longest line before login (PASS/AUTH): a longer one is refused before
#: any work, as a failed login.
MAX_AUTH_LINE = 1024

#: Connections beyond the pools of L{ConnectionLimits} that may still be
#: closing; past that a newcomer is refused at once.
CLOSING_SLACK = 64

#: A block typed over the wire may hold at most this many lines, and this
#: many bytes; then it is discarded with an error.
MAX_BLOCK_LINES = 100_000
MAX_BLOCK_BYTES = 16 * 2**20

#: Watch lines kept for a connection that cannot take them now; older
#: ones are dropped (and the drop reported) beyond this.
MAX_HELD_WATCH_LINES = 10_000

#: Seconds a closing connection may take to go (flush its replies, finish
#: the TLS shutdown) before it is aborted.
CLOSE_GRACE = 30.0

#: An output line longer than this without a newline is sent in pieces.
MAX_PARTIAL = 65536


class BlockTracker:
    """
    How deep the blocks of lines typed so far nest; the incremental form
    of L{pantasks.lang.source.block_depth} (same rules), so a long block
    costs linear time.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.in_list = False

    def feed(self, raw: str) -> int:
        """Account for one more line; return the depth after it."""
        line = raw.strip()
        if not line:
            return self.depth
        if self.in_list:
            if is_end(line):
                self.in_list = False
                self.depth -= 1
            return self.depth
        if is_end(line):
            self.depth = max(0, self.depth - 1)
        elif opens_block(line):
            self.depth += 1
            if line.split(None, 1)[0] == "list":
                self.in_list = True
        return self.depth


class ConnectionSink(OutputSink):
    """
    The output sink of a connection's requests: text becomes C{O} and
    C{E} lines, in the order lines complete.  C{output FILE} still works
    (it redirects, as the base class does).

    @ivar connection: the L{LineServerProtocol}, for commands that act on
        their connection (C{watch}, C{shutdown}, C{quit}).
    """

    def __init__(self, connection: "LineServerProtocol") -> None:
        super().__init__(out=None, err=None)
        self.connection = connection
        self._partial: dict[str, str] = {}

    def write_out(self, text: str) -> None:
        self._emit("O", text)

    def write_err(self, text: str) -> None:
        self._emit("E", text)

    def _emit(self, kind: str, text: str) -> None:
        if not text:
            return
        data = self._partial.pop(kind, "") + text
        if "\n" not in data:
            if len(data) > MAX_PARTIAL:
                self.connection.output_lines(kind, [data])
            else:
                self._partial[kind] = data
            return
        lines = data.split("\n")
        rest = lines.pop()
        if rest:
            self._partial[kind] = rest
        self.connection.output_lines(kind, lines)

    def waiter(self) -> Optional[defer.Deferred]:
        """While the client does not read, a Deferred firing when it does."""
        return self.connection.write_waiter()

    def flush(self) -> None:
        """Complete the last line of each stream (in the order begun)."""
        partial, self._partial = self._partial, {}
        for kind, text in partial.items():
            self.connection.output_lines(kind, [text])

    def close_files(self) -> None:
        """Close files opened by C{output FILE}."""
        for attr in ("redirect_out", "redirect_err"):
            f = getattr(self, attr)
            setattr(self, attr, None)
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass


@implementer(IPushProducer)
class _WriteMonitor:
    """Registered on the transport: tells the connection when the client
    stops reading (the transport's buffer is full) and when it catches up."""

    def __init__(self, connection: "LineServerProtocol") -> None:
        self.connection = connection

    def pauseProducing(self) -> None:
        self.connection.set_paused("write", True)

    def resumeProducing(self) -> None:
        self.connection.set_paused("write", False)

    def stopProducing(self) -> None:
        pass


class LineServerProtocol(LineReceiver):
    """
    One client connection; see the module docstring.

    @ivar state: C{auth} (greeted, waiting for PASS/AUTH), C{checking}
        (a login is being checked or refused), C{ready} (authenticated),
        C{closed}.
    @ivar avatar: the L{pantasks.net.auth.Avatar} after login.
    @ivar nonce: the challenge sent in the greeting.
    @ivar peer: the peer's address (text).
    @ivar watch_log: send C{L} lines; @ivar watch_jobs: send C{J} lines.
    """

    delimiter = b"\n"

    def __init__(self, factory: "LineServerFactory") -> None:
        self.factory = factory
        self.MAX_LENGTH = min(MAX_AUTH_LINE, factory.max_line_length)  # until login
        self.state = "auth"
        self.avatar: Any = None
        self.policy: Any = None
        self.nonce = secrets.token_hex(16)
        self.peer = ""
        self.sink = ConnectionSink(self)
        self.watch_log = False
        self.watch_jobs = False
        self._logout: Callable[[], None] = lambda: None
        self._block: list[str] = []
        self._block_bytes = 0
        self._tracker = BlockTracker()
        self._busy = False
        self._pause_reasons: set[str] = set()
        self._reading_paused = False
        self._held: deque[str] = deque()
        self._dropped = 0
        self._close_after_reply = False
        self._closing = False
        self._gone = False
        self._timer: Any = None
        self._refusal: Any = None
        self._abort_call: Any = None
        #: The context of the request running now (None between requests).
        self._ctx: Any = None
        self._write_waiter: Optional[defer.Deferred] = None
        self._unread = 0
        self._held_bytes = 0
        #: For C{sessions}: an id, when the connection began, the CPU
        #: seconds its finished requests used.
        self.session_id = factory.next_session_id()
        self.since = factory.clock.seconds()
        self.cpu = 0.0

    # -- connection ---------------------------------------------------------
    def connectionMade(self) -> None:
        peer = self.transport.getPeer()
        self.peer = str(getattr(peer, "host", peer))
        self.factory.connections.add(self)
        self.transport.registerProducer(_WriteMonitor(self), True)
        name = f" {self.factory.name}" if self.factory.name else ""
        self.send_line(f"PANTASKS {PROTOCOL_VERSION} {self.factory.version} {self.nonce}{name}")
        self._arm_timer(self.factory.auth_timeout, "AUTH_TIMEOUT")

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self._gone = True
        self.state = "closed"
        self.factory.connections.discard(self)
        self._cancel_timer()
        if self._refusal is not None and self._refusal.active():
            self._refusal.cancel()
        self._refusal = None
        if self._abort_call is not None and self._abort_call.active():
            self._abort_call.cancel()
        self._abort_call = None
        self.factory.connection_closed(self)
        self._release_block()
        if self._write_waiter is not None:
            waiter, self._write_waiter = self._write_waiter, None
            waiter.callback(None)
        if not self._busy:
            self._cleanup()
        else:
            # Nobody is left to read the reply: stop the request (and the
            # programs it started); queued requests are never read.
            self.cancel_request("connection closed")

    def _cleanup(self) -> None:
        if self.policy is not None:
            self.policy.close()  # a watch session's variables are gone
        self.sink.close_files()
        self._held.clear()
        self._held_bytes = 0
        logout, self._logout = self._logout, lambda: None
        logout()

    def close(self) -> None:
        """Send what is buffered, then close the connection."""
        if self._closing or self._gone:
            return
        self._closing = True
        self._cancel_timer()
        transport = self.transport
        if transport is None:
            return
        if getattr(transport, "producer", None) is not None:
            # A registered producer would keep the connection open.
            transport.unregisterProducer()
        transport.loseConnection()
        # TLS waits for the peer's close_notify, plain TCP for the send
        # buffer to drain: neither may keep a connection forever.
        self._abort_call = self.factory.clock.callLater(CLOSE_GRACE, self._abort)

    def _abort(self) -> None:
        self._abort_call = None
        if not self._gone and self.transport is not None:
            self.transport.abortConnection()

    def send_line(self, text: str) -> None:
        """Write one line (a newline is added)."""
        if self._gone or self._closing or self.transport is None:
            return
        self.transport.write(text.encode("utf-8", "replace") + b"\n")

    def _send_lines(self, lines: Iterable[str]) -> None:
        if self._gone or self._closing or self.transport is None:
            return
        data = "".join(line + "\n" for line in lines)
        if data:
            self.transport.write(data.encode("utf-8", "replace"))

    def send_fault(self, name: str, **fields: object) -> None:
        """Send fault C{name} (see L{pantasks.net.FAULTS}); close if it says so."""
        self.send_line(fault_line(name, **fields))
        if FAULTS[name].closes:
            self.close()

    # -- pausing -----------------------------------------------------------
    def set_paused(self, reason: str, on: bool) -> None:
        """
        Stop or resume taking requests for C{reason}; they are taken again
        when no reason is left.

        C{busy} (a request runs) and C{auth} (a login is checked) also stop
        reading from the transport, so pipelined requests wait in the
        kernel, not in memory.  C{write} (the client does not read its
        replies) stops taking requests but keeps reading until a line's
        worth is buffered: TLS pauses its producer during the handshake,
        which must go on.
        """
        if on:
            self._pause_reasons.add(reason)
        else:
            self._pause_reasons.discard(reason)
        if reason == "write":
            if on:
                self._unread = 0
                if self._ctx is not None and self._ctx.execution is not None:
                    self._ctx.execution.poke()  # wait at its next statement
            else:
                waiter, self._write_waiter = self._write_waiter, None
                if waiter is not None:
                    waiter.callback(None)
                self._flush_held()
        self._apply_pause()

    def write_waiter(self) -> Optional[defer.Deferred]:
        """
        None while the client reads its replies; else a Deferred that
        fires when it does again (the running request waits on it).
        """
        if "write" not in self._pause_reasons or self._gone:
            return None
        if self._write_waiter is None:
            self._write_waiter = defer.Deferred()
        return self._write_waiter

    def _apply_pause(self) -> None:
        if self._gone or self._closing or self.transport is None:
            return
        reasons = self._pause_reasons
        # While a request runs or the client does not read, keep reading
        # up to a line's worth: INTERRUPT must get through, and TLS
        # handshakes go on.
        stop_reading = bool(reasons - {"write", "busy"}) or (
            bool(reasons) and len(self._buffer) >= self.MAX_LENGTH)
        if stop_reading != self._reading_paused:
            self._reading_paused = stop_reading
            if stop_reading:
                self.transport.pauseProducing()
            else:
                self.transport.resumeProducing()
        stop_lines = bool(reasons)
        if stop_lines != self.paused:
            self.paused = stop_lines
            if not stop_lines:
                self.dataReceived(b"")  # the lines that waited

    def dataReceived(self, data: bytes) -> None:
        LineReceiver.dataReceived(self, data)
        if self._busy and b"INTERRUPT" in self._buffer:
            self._take_interrupts()
        if self.paused and not self._reading_paused and self._pause_reasons:
            self._apply_pause()  # bound what a client that does not read can buffer

    def _take_interrupts(self) -> None:
        """Handle C{INTERRUPT} lines that wait behind the running request
        at once, leaving the other waiting lines in order."""
        lines = self._buffer.split(b"\n")
        rest = lines.pop()
        kept = [ln for ln in lines if ln.strip() != b"INTERRUPT"]
        if len(kept) != len(lines):
            self._buffer = b"".join(ln + b"\n" for ln in kept) + rest
            self.cancel_request("")

    # -- timers ------------------------------------------------------------
    def _arm_timer(self, seconds: float, fault: str) -> None:
        self._cancel_timer()
        if seconds and seconds > 0:
            self._timer = self.factory.clock.callLater(seconds, self._timed_out, fault, seconds)

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _timed_out(self, fault: str, seconds: float) -> None:
        self._timer = None
        if self._busy:  # a long command is not idleness
            self._arm_timer(seconds, fault)
            return
        self.send_fault(fault)
        self.close()

    # -- input -------------------------------------------------------------
    def lineReceived(self, line: bytes) -> None:
        if line[-1:] == b"\r":
            line = line[:-1]
        if self.state == "ready":
            self._arm_idle_timer()
            self._request(line)
        elif self.state == "auth":
            self._auth_line(line)
        # checking/closed: a refused or closed connection ignores the rest

    def lineLengthExceeded(self, line: bytes) -> None:
        self._block = []
        if self.state != "ready" and not self._closing:
            # Before login: a failed attempt, refused before any work.
            failures = self.factory.failures
            if not failures.refused(self.peer, ""):
                self.factory.log_event(f"authentication failed from {self.peer}: "
                                       "line too long before login", kind="auth")
                failures.failed(self.peer)
        self.send_fault("LINE_TOO_LONG")
        self.close()

    # -- authentication ----------------------------------------------------
    def _auth_line(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").strip()
        verb, _sep, rest = text.partition(" ")
        verb = verb.upper()
        creds: Any
        if verb == "QUIT":
            self.send_line("BYE")
            self.close()
            return
        if verb == "PASS":
            if not self.factory.allow_plain_pass:
                self.send_fault("PASS_DISABLED")
                return
            creds = UsernamePassword(DEFAULT_USER, rest.strip())
            user = DEFAULT_USER
        elif verb == "AUTH":
            words = rest.split()
            user = words[0] if words else ""
            creds = HMACCredentials(words[0], self.nonce, words[1]) if len(words) == 2 else None
        else:
            self.send_fault("NOT_AUTHENTICATED")
            return
        self.state = "checking"
        self._cancel_timer()  # the answer (or its delay) ends the connection anyway
        self.set_paused("auth", True)
        refused = self.factory.failures.refused(self.peer, user)
        if creds is None or refused:
            d: defer.Deferred = defer.fail(UnauthorizedLogin(refused or "malformed"))
        else:
            d = defer.maybeDeferred(self.factory.portal.login, creds, None, IPantasksAvatar)
        d.addCallbacks(self._logged_in, self._login_failed, errbackArgs=(user, refused))

    def _logged_in(self, result: tuple) -> None:
        _iface, avatar, logout = result
        if self._gone or self._closing:
            logout()
            return
        factory = self.factory
        why = factory.limits.login(self, self.peer, avatar.role)
        if why is not None:
            logout()
            factory.log_event(f"login of {escape(avatar.name, 64)} from {self.peer} "
                              f"refused: {why}", kind="limit")
            self.send_fault("TOO_MANY_CONNECTIONS")
            return
        self.avatar = avatar
        # What this user may do: the same policy (and so the same own
        # variables, for a watch user) for every request of the connection.
        self.policy = policy_for(avatar.role, avatar.name, self.factory.interp)
        self._logout = logout
        self.state = "ready"
        self.MAX_LENGTH = factory.max_line_length
        factory.failures.succeeded(self.peer, avatar.name)
        self.send_line(f"OK {avatar.name} {avatar.role}")
        self._cancel_timer()
        self._arm_idle_timer()
        self.set_paused("auth", False)

    def _idle_seconds(self) -> float:
        """The idle timeout of this session: the smaller set one of
        C{idle_timeout} and, for a watch user, C{watch_idle_timeout}."""
        limits = [self.factory.idle_timeout]
        if self.avatar is not None and self.avatar.role == WATCH:
            limits.append(self.factory.watch_idle_timeout)
        set_ = [t for t in limits if t and t > 0]
        return min(set_) if set_ else 0.0

    def _arm_idle_timer(self) -> None:
        seconds = self._idle_seconds()
        if seconds > 0:
            self._arm_timer(seconds, "IDLE_TIMEOUT")

    def _login_failed(self, failure: Failure, user: str, refused: Optional[str]) -> None:
        if self._gone:
            return
        if not failure.check(UnauthorizedLogin):
            internal.report(f"checking a login from {self.peer}", failure)
        failures = self.factory.failures
        if not refused:
            # Refused attempts (blocked) are only counted: the block and
            # its lifting are logged once, by the tracker.
            self.factory.log_event(
                f"authentication failed for {escape(user, 64) or '?'} from {self.peer}",
                kind="auth")
            failures.failed(self.peer, user or None)
        delay = min(failures.answer_delay(self.peer), CLOSE_GRACE)
        self._refusal = self.factory.clock.callLater(delay, self._refuse)

    def _refuse(self) -> None:
        self._refusal = None
        self.send_fault("AUTH_FAILED")
        self.close()

    # -- requests ----------------------------------------------------------
    def _request(self, line: bytes) -> None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            discarded = "; the open block was discarded" if self._block else ""
            self._reset_block()
            self._reply_fault("BAD_UTF8", discarded=discarded)
            return
        stripped = text.strip()
        if stripped == "QUIT":
            self.send_line("BYE")
            self.close()
            return
        if stripped == "INTERRUPT":
            # Nothing runs (it came too late): nothing to do, no reply;
            # an open block is discarded.
            if self._block:
                self._reset_block()
                self._send_lines(["E interrupted: open block discarded", "STATUS 0"])
                self._flush_held()
            return
        if self._block:
            self._block.append(stripped)
            self._block_bytes += len(line)
            self.factory.open_block_bytes += len(line)
            if (len(self._block) > MAX_BLOCK_LINES or self._block_bytes > MAX_BLOCK_BYTES
                    or self.factory.open_block_bytes > self.factory.max_open_block_bytes):
                self._reset_block()
                self._reply_fault("BLOCK_TOO_LONG", limit=f"{MAX_BLOCK_LINES}/{MAX_BLOCK_BYTES}")
                return
            depth = self._tracker.feed(stripped)
            if depth > 0:
                self.send_line(f"MORE {depth}")
                return
            lines = self._block
            self._reset_block()
            self._run(lines)
            return
        if not stripped:
            self.send_line("STATUS 1")
            self._flush_held()
            return
        depth = self._tracker.feed(stripped)
        if depth > 0:
            self._block = [stripped]
            self._block_bytes = len(line)
            self.factory.open_block_bytes += len(line)
            self.send_line(f"MORE {depth}")
            return
        self._tracker = BlockTracker()
        self._run([stripped])

    def _reset_block(self) -> None:
        self._release_block()
        self._block = []
        self._tracker = BlockTracker()

    def _release_block(self) -> None:
        self.factory.open_block_bytes -= self._block_bytes
        self._block_bytes = 0

    def _reply_fault(self, name: str, **fields: object) -> None:
        self._send_lines([fault_line(name, **fields), "STATUS 0"])
        self._flush_held()

    def _run(self, lines: list[str]) -> None:
        factory = self.factory
        interp = factory.interp
        self._busy = True
        ctx = interp.new_context(self.sink, self.avatar.name, self.avatar.role, self.policy)
        items = [(ln, Origin(None, n)) for n, ln in enumerate(lines, 1) if ln]
        self._ctx = ctx
        budget = factory.request_budget(ctx.role)
        try:
            d = interp.execute(ctx, items, budget)
        except Exception:
            d = defer.fail()
        d.addErrback(self._internal_error)
        d.addCallback(self._finished, ctx)
        if self._busy and not self._gone:
            # It waits (a process, a timer): read nothing more until STATUS.
            # (Most requests finish at once; they need no pause, which
            # saves two system calls per request.)
            self.set_paused("busy", True)

    def _internal_error(self, failure: Failure) -> int:
        internal.report(f"running a request from {self.peer}", failure)
        self.sink.flush()
        self.output_lines("E", [fault_line("INTERNAL")[2:]])
        return 0

    def cancel_request(self, cause: str) -> bool:
        """
        Cancel the running request (C{INTERRUPT}, C{cancel ID}, the
        connection closing): it stops between two statements, the
        programs it started are killed, and its reply ends with
        C{E interrupted: ...}.

        @return: whether a request was running.
        """
        ctx = self._ctx
        if ctx is None or ctx.execution is None:
            return False
        ctx.execution.cancel(cause)
        return True

    def current_request(self) -> tuple[str, float]:
        """What runs now (its first line, or "") and the CPU seconds this
        session has used, for C{sessions}."""
        ctx = self._ctx
        ex = ctx.execution if ctx is not None else None
        if ex is None or ex.result.called:
            return "", self.cpu
        return ex.label, self.cpu + ex.cpu

    def _finished(self, status: Any, ctx: Any) -> None:
        self.sink.flush()
        self._busy = False
        self._ctx = None
        if ctx.execution is not None:
            self.cpu += ctx.execution.cpu
        if self._gone:
            self._cleanup()
            return
        self.send_line(f"STATUS {1 if status else 0}")
        if self._close_after_reply:
            self.close()
            return
        self._flush_held()
        self.set_paused("busy", False)

    def output_lines(self, kind: str, lines: list[str]) -> None:
        """
        Send lines a request wrote (C{kind} is C{O} or C{E}).  Text that
        arrives when no request runs (it should not) goes to the server
        log instead, so it can never be mistaken for part of a reply.
        """
        if not self._busy:
            for line in lines:
                self.factory.log_event(f"late output for {self.peer}: {escape(line)}",
                                       kind="late")
            return
        if "write" in self._pause_reasons:
            self._unread += sum(len(line) + 3 for line in lines)
            if self._unread > self.factory.max_unread_bytes:
                self.factory.log_event(
                    f"session {self.session_id} ({self.peer}) disconnected: over "
                    f"{self.factory.max_unread_bytes} bytes of replies left unread")
                self._unread = 0
                self.transport.abortConnection()
                return
            if self._ctx is not None and self._ctx.execution is not None:
                self._ctx.execution.poke()
        self._send_lines(f"{kind} {line}" for line in lines)

    def close_after_reply(self) -> None:
        """End the session once the current reply is sent (C{shutdown}, C{quit})."""
        self._close_after_reply = True

    # -- watch lines -------------------------------------------------------
    def watch_line(self, line: str) -> None:
        """
        Deliver a server-initiated line (C{L ...} or C{J ...}) now if the
        connection is between replies and the client reads, else keep it
        for later (at most L{MAX_HELD_WATCH_LINES}; older ones are dropped
        and the drop reported).
        """
        if self._gone or self._closing or self.state != "ready":
            return
        limit = self.factory.max_held_watch_bytes
        if len(line) > limit // 4:
            line = line[: limit // 4] + "..."
        while self._held and (len(self._held) >= MAX_HELD_WATCH_LINES
                              or self._held_bytes + len(line) > limit):
            self._held_bytes -= len(self._held.popleft())
            self._dropped += 1
        self._held.append(line)
        self._held_bytes += len(line)
        self._flush_held()

    def _flush_held(self) -> None:
        if (self._busy or self._block or self._gone or self._closing or not self._held
                or "write" in self._pause_reasons):
            return
        if self._dropped:
            self.send_line(f"L pantasks: {self._dropped} watch lines dropped (client too slow)")
            self._dropped = 0
        while self._held and "write" not in self._pause_reasons:
            line = self._held.popleft()
            self._held_bytes -= len(line)
            self.send_line(line)


class _Refuser(protocol.Protocol):
    """Says C{ERR too many connections} and hangs up."""

    def connectionMade(self) -> None:
        self.transport.write((fault_line("TOO_MANY_CONNECTIONS") + "\n").encode())
        self.transport.loseConnection()


class _ShutdownRefuser(protocol.Protocol):
    """Tells a client connecting during a graceful shutdown, and hangs up."""

    def __init__(self, by: str) -> None:
        self.by = by

    def connectionMade(self) -> None:
        line = fault_line("SHUTTING_DOWN", by=self.by)
        self.transport.write((line + "\n").encode("utf-8", "replace"))
        self.transport.loseConnection()


class LineServerFactory(protocol.ServerFactory):
    """
    Builds L{LineServerProtocol}s and holds what they share.

    @ivar connections: the live connections.
    @ivar interp: the shared interpreter.
    @ivar portal: the twisted.cred portal for PASS/AUTH.
    @ivar clock: C{IReactorTime} for delays and timeouts.
    @ivar log: the server log (a L{pantasks.net.logsink.ServerLog} or any
        L{OutputSink}); its C{watchers} feed C{L} lines.
    @ivar name: the server's name, sent in the greeting (empty: none).
    @ivar shutting_down: who asked for the graceful shutdown under way
        (new connections are told and closed), or L{None}.
    """

    protocol = LineServerProtocol  # type: ignore[assignment]
    noisy = False

    def __init__(
        self,
        interp: Any,
        portal: Any,
        clock: Any,
        log: Optional[OutputSink] = None,
        scheduler: Any = None,
        access: Optional[AccessList] = None,
        failures: Optional[FailureTracker] = None,
        limits: Optional[ConnectionLimits] = None,
        max_line_length: int = DEFAULT_MAX_LINE,
        max_connections: int = 200,
        allow_plain_pass: bool = True,
        auth_fail_delay: float = 1.0,
        idle_timeout: float = 0.0,
        auth_timeout: float = 10.0,
        watch_idle_timeout: float = 0.0,
        version: str = __version__,
        budgets: Optional[LimitsSection] = None,
        name: str = "",
    ) -> None:
        self.interp = interp
        self.portal = portal
        self.clock = clock
        self.log = log if log is not None else interp.log_sink
        self.access = access if access is not None else AccessList()
        self.failures = failures if failures is not None else FailureTracker(
            clock, delay=auth_fail_delay)
        self.failures.delay = auth_fail_delay
        if self.failures.report is None:
            self.failures.report = lambda text: self.log_event(text, kind="block")
        self.limits = limits if limits is not None else ConnectionLimits(max_connections)
        self.max_line_length = max_line_length
        self.max_connections = self.limits.max_sessions
        self.allow_plain_pass = allow_plain_pass
        self.auth_fail_delay = auth_fail_delay
        self.idle_timeout = idle_timeout
        self.watch_idle_timeout = watch_idle_timeout
        self.auth_timeout = auth_timeout
        self.version = version
        self.events = EventFilter(lambda text: self.log.err(f"pantasks_server: {text}\n"),
                                  clock)
        # [limits]: CPU budgets per role, and what clients may make us hold.
        if budgets is None:
            budgets = load_server_config(None).limits
        self.request_cpu = {WATCH: budgets.request_cpu_watch,
                            CONTROL: budgets.request_cpu_control}
        self.max_open_block_bytes = budgets.max_open_block_bytes
        self.max_unread_bytes = budgets.max_unread_bytes
        self.max_held_watch_bytes = budgets.max_held_watch_bytes
        self.open_block_bytes = 0
        self._session_ids = 0
        self.name = name
        self.shutting_down: Optional[str] = None
        self.connections: set[LineServerProtocol] = set()
        self._close_waiters: list[defer.Deferred] = []
        watchers = getattr(self.log, "watchers", None)
        if watchers is not None:
            watchers.append(self._log_line)
        if scheduler is not None:
            scheduler.listeners.append(self.job_ended)

    def next_session_id(self) -> int:
        """A new connection's id (for C{sessions}, C{cancel}, C{disconnect})."""
        self._session_ids += 1
        return self._session_ids

    def request_budget(self, role: str) -> Optional[float]:
        """CPU seconds one request of C{role} may use (None: no limit)."""
        return self.request_cpu.get(role) or None

    def session(self, session_id: int) -> Optional[LineServerProtocol]:
        """The live connection with this id, or None."""
        for conn in self.connections:
            if conn.session_id == session_id:
                return conn
        return None

    def buildProtocol(self, addr: Any) -> Optional[protocol.Protocol]:
        host = str(getattr(addr, "host", ""))
        if not self.access.allows(host):
            return None  # closed before the greeting
        if self.shutting_down is not None:
            return _ShutdownRefuser(self.shutting_down)
        if len(self.connections) >= self.limits.capacity + CLOSING_SLACK:
            self.log_event(f"connection from {host} refused: too many connections",
                           kind="limit")
            return _Refuser()
        conn = self.protocol(self)
        for victim in self.limits.admit(conn, host):
            self.log_event(f"closed a connection from {victim.peer} that had not logged in, "
                           "to make room", kind="limit")
            victim.send_fault("TOO_MANY_CONNECTIONS")
        return conn

    # -- events to watchers ------------------------------------------------
    def _log_line(self, line: str) -> None:
        for conn in list(self.connections):
            if conn.watch_log:
                conn.watch_line(f"L {line}")

    def job_ended(self, job: Any, state: str, status_text: str, hostname: Optional[str]) -> None:
        """
        Scheduler listener: a C{J} line to connections watching jobs:
        C{J <jobid> <task> <STATE> [<exit>] <host>}, the exit status only
        for state C{EXIT}.
        """
        parts = ["J", str(job.job_id), job.task.name, state]
        if state == "EXIT":
            parts.append(str(status_text))
        parts.append(hostname or "localhost")
        line = " ".join(parts)
        for conn in list(self.connections):
            if conn.watch_jobs:
                conn.watch_line(line)

    def log_event(self, text: str, kind: Optional[str] = None) -> None:
        """
        A line about the server itself, to the server log (stderr), merged
        with its repetitions and rate-limited per C{kind} (L{EventFilter}).
        Text from a client must be L{escape}d by the caller.
        """
        self.events(text, kind)

    # -- closing -----------------------------------------------------------
    def connection_closed(self, conn: LineServerProtocol) -> None:
        self.limits.remove(conn)
        if not self.connections and self._close_waiters:
            waiters, self._close_waiters = self._close_waiters, []
            for d in waiters:
                d.callback(None)

    def close_all(self, timeout: float = 5.0) -> defer.Deferred:
        """
        Close every connection (their buffered replies are sent first).

        @return: a Deferred firing when all are closed, or after
            C{timeout} seconds, whichever comes first.
        """
        self.events.flush()  # "last message repeated N times" before the end
        if not self.connections:
            return defer.succeed(None)
        d: defer.Deferred = defer.Deferred()
        self._close_waiters.append(d)
        for conn in list(self.connections):
            conn.close()

        def give_up() -> None:
            if not d.called:
                self._close_waiters.remove(d)
                for conn in list(self.connections):
                    if conn.transport is not None:
                        conn.transport.abortConnection()
                d.callback(None)

        call = self.clock.callLater(timeout, give_up)
        d.addBoth(lambda r: (call.cancel() if call.active() else None, r)[1])
        return d
