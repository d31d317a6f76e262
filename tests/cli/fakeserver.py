# -*- test-case-name: tests.cli.test_client_shell -*-
"""A small pantasks server for the client's tests, speaking protocol.md.

So the client's tests do not depend on the real server (written at the
same time): it greets with a nonce, checks C{PASS}/C{AUTH}, runs each
request in a real L{Interpreter} (the language's built-ins) plus a few
fake server commands, answers C{O}/C{E}/C{STATUS}, and C{MORE <depth>}
while a block is open.  It records every request line (C{received}).

Extra commands: C{status [-tasks]}, C{task NAME ... end} (records the
task), C{received} (prints every request line so far), C{shutdown [now]},
C{crash} (closes the connection without a reply), C{watch} (answers, then
sends one C{L} and one C{J} line), C{server SUB}, C{openblock} (a block
opener only this server knows) and C{task early} (a one-line task).

Run as a program (C{python -m tests.cli.fakeserver --password P}) it
listens on 127.0.0.1 and prints C{bound to port: N}.
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from typing import Any, Optional

from twisted.internet import protocol
from twisted.protocols.basic import LineReceiver
from twisted.test import iosim

from pantasks.lang.context import CollectingSink, Context, Origin
from pantasks.lang.interp import Interpreter
from pantasks.lang.registry import WRITES, Command, CommandTable
from pantasks.lang.source import block_depth
from pantasks.net.auth import hmac_response


class FakeServerFactory(protocol.ServerFactory):
    """Shared state: users, the interpreter, what was received.

    @ivar users: user -> (password, role).
    @ivar received: every request line after authentication, in order.
    @ivar tasks: task name -> raw body lines.
    @ivar shutdowns: the C{shutdown} requests seen.
    """

    def __init__(self, password: str = "secret", users: Optional[dict] = None) -> None:
        self.users = {"pantasks": (password, "control")}
        self.users.update(users or {})
        self.received: list[str] = []
        self.tasks: dict[str, list[str]] = {}
        self.shutdowns: list[str] = []
        self.on_shutdown: Any = None
        table = CommandTable()
        for name, func in (
            ("status", self.cmd_status),
            ("task", self.cmd_task),
            ("received", self.cmd_received),
            ("shutdown", self.cmd_shutdown),
            ("crash", self.cmd_crash),
            ("watch", self.cmd_watch),
            ("server", self.cmd_server),
        ):
            table.add(Command(name, func, f"{name} (fake server)", effect=WRITES))
        self.interp = Interpreter(tables=[table])

    def buildProtocol(self, addr: Any) -> "FakeServerProtocol":
        p = FakeServerProtocol()
        p.factory = self
        return p

    # -- fake server commands (ctx.conn is the asking connection) -------------
    def cmd_status(self, ctx: Context, argv: list[str]) -> int:
        ctx.out("\n Scheduler is stopped\n Controller is stopped\n")
        if "-tasks" in argv or len(argv) == 1:
            ctx.out("\n Task Status\n  AV Name  Nrun  Njobs  Ngood Nfail Ntime Command\n")
            for name in self.tasks:
                ctx.out(f"  +- {name}     0      0      0     0     0 (dynamic)\n")
        return 1

    def cmd_task(self, ctx: Context, argv: list[str]) -> int:
        if argv[1:] == ["early"]:
            return 1
        body, closed = ctx.cursor.collect_body()
        if len(argv) != 2 or not closed:
            ctx.err("USAGE: task NAME ... end\n")
            return 0
        self.tasks[argv[1]] = [line for line, _ in body]
        return 1

    def cmd_received(self, ctx: Context, argv: list[str]) -> int:
        for line in self.received[:-1]:
            ctx.out(line + "\n")
        return 1

    def cmd_shutdown(self, ctx: Context, argv: list[str]) -> int:
        self.shutdowns.append(" ".join(argv))
        ctx.conn.close_after_reply = True
        if self.on_shutdown is not None:
            self.on_shutdown()
        return 1

    def cmd_crash(self, ctx: Context, argv: list[str]) -> int:
        ctx.conn.transport.loseConnection()
        ctx.conn.dead = True
        return 1

    def cmd_watch(self, ctx: Context, argv: list[str]) -> int:
        ctx.conn.after_reply = ["L a log line", "J 7 t1 EXIT 0 local"]
        return 1

    def cmd_server(self, ctx: Context, argv: list[str]) -> int:
        if len(argv) >= 2 and argv[1] == "help":
            ctx.out("input FILE      load a file on the server\n")
            return 1
        if len(argv) >= 2 and argv[1] in ("run", "stop", "halt"):
            ctx.out(f"scheduler: {argv[1]}\n")
            return 1
        ctx.err("invalid server command\n")
        return 0


class FakeServerProtocol(LineReceiver):
    """One client connection (see the module docstring)."""

    delimiter = b"\n"
    factory: FakeServerFactory

    def connectionMade(self) -> None:
        self.nonce = os.urandom(16).hex()
        self.user: Optional[str] = None
        self.block: list[str] = []
        self.close_after_reply = False
        self.after_reply: list[str] = []
        self.dead = False
        self.send(f"PANTASKS 1 0.0-fake {self.nonce}")

    def send(self, line: str) -> None:
        self.sendLine(line.encode("utf-8"))

    def lineReceived(self, data: bytes) -> None:
        line = data.rstrip(b"\r").decode("utf-8", errors="replace")
        if self.user is None:
            self.authenticate(line)
            return
        if line == "QUIT":
            self.transport.loseConnection()
            return
        self.factory.received.append(line)
        if self.block or _depth([line]) > 0:
            self.block.append(line)
            depth = _depth(self.block)
            if depth > 0:
                self.send(f"MORE {depth}")
                return
            lines, self.block = self.block, []
        elif not line.strip():
            self.send("STATUS 1")
            return
        else:
            lines = [line]
        self.run(lines)

    def authenticate(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        ok = False
        if word == "QUIT":
            self.transport.loseConnection()
            return
        if word == "PASS":
            user, password = "pantasks", rest
            ok = hmac.compare_digest(password, self.factory.users[user][0])
        elif word == "AUTH":
            user, _, proof = rest.partition(" ")
            if user in self.factory.users:
                want = hmac_response(self.factory.users[user][0], self.nonce)
                ok = hmac.compare_digest(proof, want)
        if not ok:
            self.send("NO authentication failed")
            self.transport.loseConnection()
            return
        self.user = user
        self.send(f"OK {user} {self.factory.users[user][1]}")

    def run(self, lines: list[str]) -> None:
        sink = CollectingSink()
        ctx = self.factory.interp.new_context(sink)
        ctx.conn = self  # type: ignore[attr-defined]
        items = [(ln.strip(), Origin(None, n)) for n, ln in enumerate(lines, 1) if ln.strip()]
        self.pauseProducing()
        d = self.factory.interp.execute(ctx, items)
        d.addCallback(self.reply, sink)

    def reply(self, status: int, sink: CollectingSink) -> None:
        if self.dead:
            return
        text = {"O": "", "E": ""}
        for stream, chunk in sink.chunks:
            text[stream] += chunk
            while "\n" in text[stream]:
                one, text[stream] = text[stream].split("\n", 1)
                self.send(f"{stream} {one}")
        for stream in "OE":
            if text[stream]:
                self.send(f"{stream} {text[stream]}")
        self.send(f"STATUS {1 if status else 0}")
        for line in self.after_reply:
            self.send(line)
        self.after_reply = []
        if self.close_after_reply:
            self.transport.loseConnection()
            return
        self.resumeProducing()


def connect_in_memory(factory: FakeServerFactory, client: protocol.Protocol) -> iosim.IOPump:
    """Connect C{client} to a new connection of C{factory} in memory.

    @return: the pump; C{pump.flush()} delivers what either side wrote.
    """
    server = factory.buildProtocol(None)
    return iosim.connect(
        server, iosim.FakeTransport(server, True), client, iosim.FakeTransport(client, False)
    )


def _depth(lines: list[str]) -> int:
    """Open blocks, as the real server counts them; C{openblock} opens one
    too (a block the client does not know about), C{task early} none (a
    block the server ends at once)."""
    renamed = {"openblock": "task x", "task early": "echo"}
    return block_depth([renamed.get(ln, ln) for ln in lines])


def main(argv: Optional[list[str]] = None) -> None:
    """Listen on 127.0.0.1 (port 0: any) and print C{bound to port: N}."""
    p = argparse.ArgumentParser(prog="fakeserver")
    p.add_argument("--password", default="secret")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    from twisted.internet import reactor

    factory = FakeServerFactory(args.password)
    factory.on_shutdown = lambda: reactor.callLater(0.2, reactor.stop)
    port = reactor.listenTCP(args.port, factory, interface="127.0.0.1")
    sys.stdout.write(f"bound to port: {port.getHost().port}\n")
    sys.stdout.flush()
    reactor.run()


if __name__ == "__main__":
    main()
