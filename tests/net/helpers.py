# -*- test-case-name: tests.net.test_protocol -*-
"""Building a line server in memory for unit tests: a Clock for time, the
fake job runner, C{StringTransport} connections."""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from pantasks.engine import make_engine
from pantasks.exec.fake import FakeRunner
from pantasks.net.access import AccessList
from pantasks.net.auth import FailureTracker, UserDB, UserEntry, hmac_response, make_portal
from pantasks.net.commands import ServerHooks, install
from pantasks.net.logsink import ServerLog
from pantasks.net.protocol import LineServerFactory

PASSWORD = "secret"


class MemoryLog(ServerLog):
    """A server log kept in memory: C{written} holds (stream, text)."""

    def __init__(self) -> None:
        self.written: list[tuple[str, str]] = []
        super().__init__(None, None)

    def _write(self, which: str, text: str) -> None:
        self.written.append((which, text))

    def text(self) -> str:
        return "".join(t for _w, t in self.written)


class Server:
    """A factory with everything around it; see L{make_server}."""

    def __init__(self, factory: LineServerFactory, clock: Clock, engine: Any,
                 log: MemoryLog, runner: FakeRunner) -> None:
        self.factory = factory
        self.clock = clock
        self.engine = engine
        self.interp = engine.interp
        self.scheduler = engine.scheduler
        self.log = log
        self.runner = runner
        self.shutdowns: list[bool] = []

    def connect(self, host: str = "127.0.0.1", port: int = 40000) -> "Client":
        addr = IPv4Address("TCP", host, port)
        proto = self.factory.buildProtocol(addr)
        transport = StringTransport(peerAddress=addr)
        if proto is not None:
            proto.makeConnection(transport)
        return Client(proto, transport)

    def login(self, host: str = "127.0.0.1", user: Optional[str] = None,
              password: str = PASSWORD) -> "Client":
        client = self.connect(host)
        if user is None:
            client.send(f"PASS {password}\n")
        else:
            client.send(f"AUTH {user} {hmac_response(password, client.proto.nonce)}\n")
        line = client.take()
        assert line.startswith("PANTASKS 1 ") and "\nOK " in line, line
        return client


class Client:
    """One in-memory connection: send bytes, take what came back."""

    def __init__(self, proto: Any, transport: StringTransport) -> None:
        self.proto = proto
        self.transport = transport

    def send(self, data: Any) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.proto.dataReceived(data)

    def take(self) -> str:
        """Everything written since the last take, as text."""
        value = self.transport.value().decode("utf-8", "replace")
        self.transport.clear()
        return value

    def ask(self, line: str) -> str:
        self.send(line + "\n")
        return self.take()

    def lose(self) -> None:
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        self.proto.connectionLost(Failure(ConnectionDone()))

    @property
    def closed(self) -> bool:
        return bool(self.transport.disconnecting)


def make_server(users: Optional[dict[str, tuple[str, str]]] = None, access: Any = None,
                lockout: tuple[int, float, float] = (5, 60.0, 300.0),
                **kwargs: Any) -> Server:
    """
    A line server on a Clock with the fake runner.

    @param users: name -> (password, role); default C{pantasks} (control,
        password L{PASSWORD}) and C{bob} (watch, password C{bobpw}).
    """
    clock = Clock()
    runner = FakeRunner(clock)
    log = MemoryLog()
    engine = make_engine(clock, log_sink=log, runner=runner, jitter=False)
    if users is None:
        users = {"pantasks": (PASSWORD, "control"), "bob": ("bobpw", "watch")}
    db = UserDB({n: UserEntry(n, p, r) for n, (p, r) in users.items()})
    factory = LineServerFactory(
        engine.interp, make_portal(db), clock, log=log, scheduler=engine.scheduler,
        access=access or AccessList(), failures=FailureTracker(clock, *lockout), **kwargs,
    )
    server = Server(factory, clock, engine, log, runner)
    install(engine.interp, ServerHooks(engine.scheduler, log, server.shutdowns.append))
    return server
