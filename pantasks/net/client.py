# -*- test-case-name: tests.cli.test_net_client -*-
"""The client end of the pantasks line protocol (``protocol.md``, version 1).

Kept apart from the readline program so that scripts, tests and tools can
talk to a server without an interpreter: L{PantasksClientProtocol} answers
the greeting with C{AUTH} (the password never crosses the network), then
turns each request line into a Deferred that fires with the framed reply.
Requests may be pipelined; replies are matched to requests strictly in
order, which the protocol guarantees.  L{connect} finds the server in its
port range as the original client did (the first port that accepts) and
waits for the authentication answer.
"""

from __future__ import annotations

import collections
from typing import Any, Callable, NamedTuple, Optional

from twisted.internet import defer, error
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from pantasks.net.auth import DEFAULT_USER, hmac_response

#: The protocol version this client speaks (the second word of the greeting).
PROTOCOL_VERSION = "1"

#: Called for every reply line as it arrives: (stream letter, text).
LineCallback = Callable[[str, str], None]


class Reply(NamedTuple):
    """One framed answer to one request line.

    @ivar status: 1 (success) or 0 (failure) from C{STATUS}; L{None} when
        the server answered C{MORE} (it waits for more lines of a block).
    @ivar lines: the C{O}/C{E} lines, in order, as C{(stream, text)} pairs
        (empty when the request streamed them to a callback).
    @ivar more: the block depth from C{MORE}, or L{None}.
    """

    status: Optional[int]
    lines: list[tuple[str, str]]
    more: Optional[int] = None


class ClientError(Exception):
    """Base of the errors this module raises; C{str()} is one line."""


class ProtocolError(ClientError):
    """The peer does not speak this protocol (or broke it)."""


class AuthenticationFailed(ClientError):
    """The server answered C{NO}: wrong user or password."""


class ConnectionClosed(ClientError):
    """The connection ended before the reply (or the greeting) arrived."""


class NotConnected(ClientError):
    """A request was made before authentication or after the connection ended."""


class WrongServer(ClientError):
    """The server's greeting gave another name than the one asked for."""


class ConnectFailed(ClientError):
    """No connection could be made (refused, unknown host, timeout).

    @ivar refused: True when every port refused the connection.
    """

    def __init__(self, message: str, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def format_ports(first: int, last: int) -> str:
    """C{2000} or C{2000-2010}, for messages."""
    return str(first) if first == last else f"{first}-{last}"


class PantasksClientProtocol(LineReceiver):
    """One authenticated connection to a pantasks server.

    @ivar ready: fires with C{(user, role)} after C{OK}; fails with
        L{AuthenticationFailed}, L{ProtocolError} or L{ConnectionClosed}.
    @ivar greeting: C{(protocol version, server version, nonce)} once seen.
    @ivar server_name: the name in the greeting, or L{None} (an older
        server that gives none).
    @ivar expected_name: when set, a server of another name is refused
        before authenticating (L{WrongServer}).
    @ivar user: the authenticated user, or L{None}.
    @ivar role: C{control} or C{watch}, or L{None}.
    @ivar on_event: called as C{on_event(letter, text)} for C{L} and C{J}
        lines, and for C{O}/C{E}/C{ERR} lines that arrive outside a reply.
    @ivar on_lost: called with the L{Failure} reason when the connection
        ends, after every pending request has failed.
    @ivar connected_: True between C{connectionMade} and C{connectionLost}.
    """

    delimiter = b"\n"
    #: Server output lines may be long (a command printing a big list).
    MAX_LENGTH = 16 * 1024 * 1024

    def __init__(self, password: str = "", user: str = DEFAULT_USER,
                 expected_name: Optional[str] = None) -> None:
        self.password = password
        self.expected_name = expected_name
        self.server_name: Optional[str] = None
        self.refused_ports: list[int] = []
        self.skipped_servers: list[tuple[int, str]] = []
        self.user_requested = user
        self.ready: defer.Deferred = defer.Deferred()
        self.greeting: Optional[tuple[str, str, str]] = None
        self.user: Optional[str] = None
        self.role: Optional[str] = None
        self.on_event: Optional[Callable[[str, str], None]] = None
        self.on_lost: Optional[Callable[[Failure], None]] = None
        self.connected_ = False
        self.last_error: Optional[str] = None
        self._state = "greeting"
        self._pending: collections.deque[_Pending] = collections.deque()
        self._quitting = False

    # -- connection events ----------------------------------------------
    def connectionMade(self) -> None:
        self.connected_ = True

    def connectionLost(self, reason: Failure = error.ConnectionDone()) -> None:  # type: ignore
        self.connected_ = False
        self._state = "closed"
        why = self.last_error or "connection closed"
        while self._pending:
            pending = self._pending.popleft()
            pending.deferred.errback(ConnectionClosed(why))
        if not self.ready.called:
            if self.greeting is None:
                exc: ClientError = ConnectionClosed("connection closed before the greeting")
            else:
                exc = ConnectionClosed("connection closed during authentication")
            self.ready.errback(exc)
        if self.on_lost is not None:
            self.on_lost(reason)

    def lineLengthExceeded(self, line: bytes) -> None:
        self._violation(f"reply line longer than {self.MAX_LENGTH} bytes")

    # -- incoming lines --------------------------------------------------
    def lineReceived(self, data: bytes) -> None:
        if data.endswith(b"\r"):
            data = data[:-1]
        line = data.decode("utf-8", errors="replace")
        if self._state == "ready":
            self._reply_line(line)
        elif self._state == "greeting":
            self._greeting_line(line)
        elif self._state == "auth":
            self._auth_line(line)

    def _greeting_line(self, line: str) -> None:
        words = line.split()
        if words[:1] == ["ERR"]:  # e.g. too many connections
            self._violation(line[4:] or "refused")
            return
        if len(words) not in (4, 5) or words[0] != "PANTASKS":
            self._violation("not a pantasks server (unexpected greeting)")
            return
        if words[1] != PROTOCOL_VERSION:
            self._violation(f"server speaks protocol version {words[1]}, not {PROTOCOL_VERSION}")
            return
        self.greeting = (words[1], words[2], words[3])
        self.server_name = words[4] if len(words) == 5 else None
        if self.expected_name is not None and self.server_name != self.expected_name:
            shown = self.server_name or "(no name)"
            self._violation(f"this server is {shown}, not {self.expected_name}", WrongServer)
            return
        self._state = "auth"
        proof = hmac_response(self.password, words[3])
        self.sendLine(f"AUTH {self.user_requested} {proof}".encode("utf-8"))

    def _auth_line(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word == "OK":
            parts = rest.split()
            self.user = parts[0] if parts else self.user_requested
            self.role = parts[1] if len(parts) > 1 else "control"
            self._state = "ready"
            self.ready.callback((self.user, self.role))
        elif word == "NO":
            self._state = "closed"
            self.ready.errback(AuthenticationFailed(rest or "authentication failed"))
            self.transport.loseConnection()
        elif word == "ERR":
            self._violation(rest or "error")
        else:
            self._violation("unexpected answer to AUTH")

    def _reply_line(self, line: str) -> None:
        kind, _, text = line.partition(" ")
        if kind in ("O", "E"):
            if self._pending:
                self._pending[0].add(kind, text)
            else:
                self._event(kind, text)
        elif kind == "STATUS" or kind == "MORE":
            try:
                number = int(text)
            except ValueError:
                self._violation(f"bad {kind} line")
                return
            if not self._pending:
                self._violation(f"{kind} without a request")
                return
            pending = self._pending.popleft()
            if kind == "STATUS":
                pending.deferred.callback(Reply(1 if number else 0, pending.lines))
            else:
                pending.deferred.callback(Reply(None, pending.lines, number))
        elif kind in ("L", "J"):
            self._event(kind, text)
        elif kind == "ERR":
            # The server is about to close (line too long...): keep the
            # reason for whoever waits, and show it in the current reply.
            self.last_error = text or "server error"
            if self._pending:
                self._pending[0].add("E", self.last_error)
            else:
                self._event("E", self.last_error)
        else:
            self._violation("unexpected line from the server")

    def _event(self, kind: str, text: str) -> None:
        if self.on_event is not None:
            self.on_event(kind, text)

    def _violation(self, message: str, kind: type = ProtocolError) -> None:
        """The peer broke the protocol: fail what waits and hang up."""
        self.last_error = message
        state, self._state = self._state, "closed"
        if not self.ready.called:
            self.ready.errback(kind(message))
        if state != "closed" and self.transport is not None:
            self.transport.loseConnection()

    # -- requests ----------------------------------------------------------
    def request(self, line: str, on_line: Optional[LineCallback] = None) -> defer.Deferred:
        """Send one command line; see L{Reply} for what the Deferred gets.

        @param line: a command line in the pantasks language, without a
            newline.
        @param on_line: when given, each C{O}/C{E} line is passed to it as
            soon as it arrives instead of being kept in L{Reply.lines}.
        @return: a Deferred firing with a L{Reply}, or failing with
            L{NotConnected}, L{ConnectionClosed} or C{ValueError} (a line
            containing a newline).
        """
        if "\n" in line or "\r" in line:
            return defer.fail(ValueError("a request is one line"))
        if self._state != "ready" or self._quitting:
            return defer.fail(NotConnected("not connected"))
        pending = _Pending(on_line)
        self._pending.append(pending)
        self.sendLine(line.encode("utf-8"))
        return pending.deferred

    def interrupt(self) -> None:
        """Ask the server to interrupt the running request (C{INTERRUPT});
        its reply then ends with C{E interrupted: ...} and C{STATUS 0}."""
        if self._state == "ready" and self._pending and not self._quitting:
            self.sendLine(b"INTERRUPT")

    def quit(self) -> None:
        """End the session politely (C{QUIT}) and close the connection."""
        if self._quitting or self.transport is None:
            return
        self._quitting = True
        if self.connected_:
            self.sendLine(b"QUIT")
            self.transport.loseConnection()

    @property
    def pending(self) -> int:
        """How many requests wait for their reply."""
        return len(self._pending)


class _Pending:
    """A request waiting for its reply."""

    __slots__ = ("deferred", "lines", "on_line")

    def __init__(self, on_line: Optional[LineCallback]) -> None:
        self.deferred: defer.Deferred = defer.Deferred()
        self.lines: list[tuple[str, str]] = []
        self.on_line = on_line

    def add(self, kind: str, text: str) -> None:
        if self.on_line is not None:
            self.on_line(kind, text)
        else:
            self.lines.append((kind, text))


@defer.inlineCallbacks
def connect(
    reactor: Any,
    host: str,
    ports: tuple[int, int],
    password: str = "",
    user: str = DEFAULT_USER,
    timeout: float = 10.0,
    name: Optional[str] = None,
) -> Any:
    """Connect to the first port of C{ports} that accepts, then authenticate.

    As the original client, a refused port moves on to the next one; any
    other failure (unknown host, timeout) stops the search.  With C{name},
    a server that greets with another name is passed over too.  The
    protocol's C{refused_ports} and C{skipped_servers} (port, name) say
    what was passed over, so the user can be told.

    @param reactor: provides C{IReactorTCP} and C{IReactorTime}.
    @param host: host name or address.
    @param ports: (first, last) inclusive (see L{pantasks.tap.parse_port_range}).
    @param timeout: seconds allowed for each TCP connection and for the
        greeting and authentication answer.
    @param name: the server name wanted (see L{WrongServer}), or L{None}.
    @return: a Deferred firing with C{(protocol, port)} once the server said
        C{OK}; failing with L{ConnectFailed}, L{AuthenticationFailed},
        L{ProtocolError} or L{ConnectionClosed}.
    """
    first, last = ports
    refused: list[int] = []
    skipped: list[tuple[int, str]] = []
    for port in range(first, last + 1):
        proto = PantasksClientProtocol(password, user, expected_name=name)
        endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout)
        try:
            yield connectProtocol(endpoint, proto)
        except error.ConnectionRefusedError:
            refused.append(port)
            continue
        except error.DNSLookupError:
            raise ConnectFailed(f"cannot connect to pantasks server {host}: unknown host") from None
        except error.TimeoutError:
            raise ConnectFailed(f"{host}:{port} did not answer (timed out)") from None
        except Exception as e:  # unreachable network and the like
            why = getattr(e, "osError", None) or e
            raise ConnectFailed(f"cannot connect to pantasks server {host}:{port}: {why}") from None
        timer = reactor.callLater(
            timeout, proto._violation, f"no answer within {timeout:g} s (not a pantasks server?)"
        )
        try:
            yield proto.ready
        except WrongServer:
            skipped.append((port, proto.server_name or "(no name)"))
            continue
        except ClientError as e:
            raise type(e)(f"{host}:{port}: {e}") from None
        finally:
            if timer.active():
                timer.cancel()
        proto.refused_ports = refused
        proto.skipped_servers = skipped
        return proto, port
    if skipped:
        others = ", ".join(f"{n} at port {p}" for p, n in skipped)
        raise WrongServer(f"no pantasks server named {name} at {host}:"
                          f"{format_ports(first, last)} (found {others})")
    raise ConnectFailed(f"{host}:{format_ports(first, last)} refused connection", refused=True)
