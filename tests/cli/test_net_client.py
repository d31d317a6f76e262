# -*- test-case-name: tests.cli.test_net_client -*-
"""Tests for L{pantasks.net.client}: the protocol client over a
C{StringTransport}, and the connection helper against a real listener."""

from __future__ import annotations

import hashlib
import hmac
import socket

from twisted.internet import defer, reactor
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial import unittest

from pantasks.net import client as net
from pantasks.net.auth import hmac_response
from pantasks.net.client import (
    AuthenticationFailed,
    ConnectFailed,
    ConnectionClosed,
    NotConnected,
    PantasksClientProtocol,
    ProtocolError,
    Reply,
)
from tests.cli.fakeserver import FakeServerFactory, connect_in_memory

NONCE = "9f2c4e0b7a1d4c3e8b6a5f4e3d2c1b0a"


def make(password: str = "secret", user: str = "pantasks"):
    proto = PantasksClientProtocol(password, user)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def ready(password: str = "secret"):
    proto, transport = make(password)
    proto.dataReceived(f"PANTASKS 1 0.1.0 {NONCE}\n".encode())
    proto.dataReceived(b"OK pantasks control\n")
    transport.clear()
    return proto, transport


def result(d: defer.Deferred):
    box = []
    d.addBoth(box.append)
    assert box, "Deferred has not fired"
    return box[0]


class HandshakeTests(unittest.SynchronousTestCase):
    def test_hmac_response(self) -> None:
        want = hmac.new(b"pw", NONCE.encode(), hashlib.sha256).hexdigest()
        self.assertEqual(hmac_response("pw", NONCE), want)

    def test_greeting_answered_with_auth(self) -> None:
        proto, transport = make("pw", "alice")
        self.assertEqual(transport.value(), b"")
        proto.dataReceived(f"PANTASKS 1 0.1.0 {NONCE}\r\n".encode())
        self.assertEqual(transport.value(), f"AUTH alice {hmac_response('pw', NONCE)}\n".encode())
        self.assertEqual(proto.greeting, ("1", "0.1.0", NONCE))
        self.assertFalse(proto.ready.called)

    def test_ok_fires_ready(self) -> None:
        proto, _ = make()
        proto.dataReceived(f"PANTASKS 1 0.1.0 {NONCE}\nOK pantasks watch\n".encode())
        self.assertEqual(self.successResultOf(proto.ready), ("pantasks", "watch"))
        self.assertEqual(proto.role, "watch")

    def test_no_fails_ready_and_closes(self) -> None:
        proto, transport = make()
        proto.dataReceived(f"PANTASKS 1 0.1.0 {NONCE}\nNO authentication failed\n".encode())
        f = self.failureResultOf(proto.ready, AuthenticationFailed)
        self.assertEqual(str(f.value), "authentication failed")
        self.assertTrue(transport.disconnecting)

    def test_not_a_pantasks_server(self) -> None:
        proto, transport = make()
        proto.dataReceived(b"SSH-2.0-OpenSSH_9.6\n")
        f = self.failureResultOf(proto.ready, ProtocolError)
        self.assertIn("not a pantasks server", str(f.value))
        self.assertTrue(transport.disconnecting)

    def test_refused_with_err(self) -> None:
        proto, transport = make()
        proto.dataReceived(b"ERR too many connections\n")
        f = self.failureResultOf(proto.ready, ProtocolError)
        self.assertEqual(str(f.value), "too many connections")
        self.assertTrue(transport.disconnecting)

    def test_other_protocol_version(self) -> None:
        proto, _ = make()
        proto.dataReceived(f"PANTASKS 2 9.0 {NONCE}\n".encode())
        f = self.failureResultOf(proto.ready, ProtocolError)
        self.assertIn("version 2", str(f.value))

    def test_closed_before_greeting(self) -> None:
        proto, _ = make()
        proto.connectionLost()
        f = self.failureResultOf(proto.ready, ConnectionClosed)
        self.assertIn("before the greeting", str(f.value))

    def test_request_before_ready_fails(self) -> None:
        proto, transport = make()
        self.failureResultOf(proto.request("status"), NotConnected)
        self.assertEqual(transport.value(), b"")


class ReplyTests(unittest.SynchronousTestCase):
    def test_reply_lines_in_order(self) -> None:
        proto, transport = ready()
        d = proto.request("echo hello")
        self.assertEqual(transport.value(), b"echo hello\n")
        proto.dataReceived(b"O hello\nE warn\nO \nO last\nSTATUS 1\n")
        self.assertEqual(
            self.successResultOf(d),
            Reply(1, [("O", "hello"), ("E", "warn"), ("O", ""), ("O", "last")]),
        )

    def test_failure_status(self) -> None:
        proto, _ = ready()
        d = proto.request("nosuchcmd")
        proto.dataReceived(b"E nosuchcmd: Command not found.\nSTATUS 0\n")
        reply = self.successResultOf(d)
        self.assertEqual(reply.status, 0)
        self.assertIsNone(reply.more)

    def test_pipelined_replies_match_in_order(self) -> None:
        proto, transport = ready()
        d1 = proto.request("one")
        d2 = proto.request("two")
        self.assertEqual(transport.value(), b"one\ntwo\n")
        self.assertEqual(proto.pending, 2)
        proto.dataReceived(b"O 1\nSTATUS 1\nO 2\nSTATUS 0\n")
        self.assertEqual(self.successResultOf(d1), Reply(1, [("O", "1")]))
        self.assertEqual(self.successResultOf(d2), Reply(0, [("O", "2")]))

    def test_split_at_every_offset(self) -> None:
        data = b"O a b\r\nE c\nSTATUS 1\n"
        for cut in range(len(data) + 1):
            proto, _ = ready()
            d = proto.request("x")
            proto.dataReceived(data[:cut])
            proto.dataReceived(data[cut:])
            self.assertEqual(self.successResultOf(d), Reply(1, [("O", "a b"), ("E", "c")]))

    def test_more(self) -> None:
        proto, _ = ready()
        d = proto.request("task t1")
        proto.dataReceived(b"MORE 1\n")
        self.assertEqual(self.successResultOf(d), Reply(None, [], 1))

    def test_streaming_callback(self) -> None:
        proto, _ = ready()
        seen = []
        d = proto.request("exec x", on_line=lambda k, t: seen.append((k, t)))
        proto.dataReceived(b"O first\n")
        self.assertEqual(seen, [("O", "first")])
        self.assertNoResult(d)
        proto.dataReceived(b"E second\nSTATUS 1\n")
        self.assertEqual(seen, [("O", "first"), ("E", "second")])
        self.assertEqual(self.successResultOf(d), Reply(1, []))

    def test_log_and_job_lines_are_events(self) -> None:
        proto, _ = ready()
        events = []
        proto.on_event = lambda k, t: events.append((k, t))
        d = proto.request("status")
        proto.dataReceived(b"STATUS 1\nL task t1 launched\nJ 7 t1 EXIT 0 local\n")
        self.assertEqual(self.successResultOf(d), Reply(1, []))
        self.assertEqual(events, [("L", "task t1 launched"), ("J", "7 t1 EXIT 0 local")])

    def test_invalid_utf8_is_replaced(self) -> None:
        proto, _ = ready()
        d = proto.request("x")
        proto.dataReceived(b"O caf\xe9\nSTATUS 1\n")
        self.assertEqual(self.successResultOf(d).lines, [("O", "caf\ufffd")])

    def test_err_line_then_close(self) -> None:
        proto, _ = ready()
        d = proto.request("x" * 10)
        proto.dataReceived(b"ERR line too long\n")
        proto.connectionLost()
        f = self.failureResultOf(d, ConnectionClosed)
        self.assertEqual(str(f.value), "line too long")

    def test_connection_lost_fails_pending(self) -> None:
        proto, _ = ready()
        lost = []
        proto.on_lost = lost.append
        d1 = proto.request("a")
        d2 = proto.request("b")
        proto.connectionLost()
        self.failureResultOf(d1, ConnectionClosed)
        self.failureResultOf(d2, ConnectionClosed)
        self.assertEqual(len(lost), 1)
        self.failureResultOf(proto.request("c"), NotConnected)

    def test_garbage_is_a_protocol_violation(self) -> None:
        proto, transport = ready()
        proto.request("x")
        proto.dataReceived(b"HELLO there\n")
        self.assertTrue(transport.disconnecting)
        self.assertIn("unexpected", proto.last_error)

    def test_status_without_request(self) -> None:
        proto, transport = ready()
        proto.dataReceived(b"STATUS 1\n")
        self.assertTrue(transport.disconnecting)

    def test_request_must_be_one_line(self) -> None:
        proto, transport = ready()
        self.failureResultOf(proto.request("a\nb"), ValueError)
        self.assertEqual(transport.value(), b"")

    def test_quit(self) -> None:
        proto, transport = ready()
        proto.quit()
        self.assertEqual(transport.value(), b"QUIT\n")
        self.assertTrue(transport.disconnecting)
        self.failureResultOf(proto.request("status"), NotConnected)


class InMemoryConversationTests(unittest.SynchronousTestCase):
    """Both ends connected in memory: the client against the fake server."""

    def test_auth_and_requests(self) -> None:
        factory = FakeServerFactory("pw")
        client = PantasksClientProtocol("pw")
        pump = connect_in_memory(factory, client)
        self.assertEqual(self.successResultOf(client.ready), ("pantasks", "control"))
        d1 = client.request("echo hi")
        d2 = client.request("task t")
        d3 = client.request("end")
        pump.flush()
        self.assertEqual(self.successResultOf(d1), Reply(1, [("O", "hi")]))
        self.assertEqual(self.successResultOf(d2), Reply(None, [], 1))
        self.assertEqual(self.successResultOf(d3), Reply(1, []))
        self.assertEqual(factory.tasks, {"t": []})

    def test_wrong_password(self) -> None:
        factory = FakeServerFactory("pw")
        client = PantasksClientProtocol("nope")
        pump = connect_in_memory(factory, client)
        pump.flush()
        self.failureResultOf(client.ready, AuthenticationFailed)


class ConnectTests(unittest.TestCase):
    """L{net.connect} over real loopback sockets."""

    def listen(self, password: str = "pw"):
        port = reactor.listenTCP(0, FakeServerFactory(password), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    def free_port(self) -> int:
        port = reactor.listenTCP(0, FakeServerFactory(), interface="127.0.0.1")
        number = port.getHost().port
        port.stopListening()
        return number

    @defer.inlineCallbacks
    def test_connects_and_authenticates(self):
        number = self.listen()
        proto, port = yield net.connect(reactor, "127.0.0.1", (number, number), "pw")
        self.assertEqual(port, number)
        reply = yield proto.request("echo ok")
        self.assertEqual(reply, Reply(1, [("O", "ok")]))
        proto.quit()

    @defer.inlineCallbacks
    def test_refused_tries_next_port(self):
        number = self.listen()
        probe = socket.socket()
        try:  # the port below the listener must be free, so it refuses
            probe.bind(("127.0.0.1", number - 1))
        except OSError:
            raise unittest.SkipTest("the port below the listener is in use") from None
        finally:
            probe.close()
        proto, port = yield net.connect(reactor, "127.0.0.1", (number - 1, number), "pw")
        self.assertEqual(port, number)
        proto.quit()

    @defer.inlineCallbacks
    def test_refused(self):
        number = self.free_port()
        with self.assertRaises(ConnectFailed) as caught:
            yield net.connect(reactor, "127.0.0.1", (number, number), "pw")
        self.assertEqual(str(caught.exception), f"127.0.0.1:{number} refused connection")
        self.assertTrue(caught.exception.refused)

    @defer.inlineCallbacks
    def test_wrong_password(self):
        number = self.listen()
        with self.assertRaises(AuthenticationFailed) as caught:
            yield net.connect(reactor, "127.0.0.1", (number, number), "wrong")
        self.assertEqual(str(caught.exception), f"127.0.0.1:{number}: authentication failed")


class SilentServerTests(unittest.SynchronousTestCase):
    def test_no_greeting_times_out(self) -> None:
        clock = MemoryReactorClock()
        d = net.connect(clock, "127.0.0.1", (2000, 2000), "pw", timeout=5)
        host, port, factory, timeout, _ = clock.tcpClients[0]
        proto = factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        self.assertNoResult(d)
        clock.advance(5)
        f = self.failureResultOf(d, ProtocolError)
        self.assertIn("127.0.0.1:2000: no answer within 5 s", str(f.value))
