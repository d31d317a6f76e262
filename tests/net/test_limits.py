# -*- test-case-name: tests.net.test_limits -*-
"""Connection limits: the pools of L{ConnectionLimits} alone, then through
the line server on a Clock (eviction, the control reserve, time-outs, the
pre-login line bound)."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from pantasks.net.auth import hmac_response
from pantasks.net.limits import ConnectionLimits
from tests.net.helpers import PASSWORD, make_server


class PoolTests(SynchronousTestCase):
    def test_pending_per_address_evicts_own_oldest(self) -> None:
        limits = ConnectionLimits(max_pending=10, max_pending_per_address=2)
        self.assertEqual(limits.admit("a1", "A"), [])
        self.assertEqual(limits.admit("b1", "B"), [])
        self.assertEqual(limits.admit("a2", "A"), [])
        self.assertEqual(limits.admit("a3", "A"), ["a1"])
        self.assertEqual(limits.pending, 3)

    def test_pending_full_evicts_from_busiest_address(self) -> None:
        limits = ConnectionLimits(max_pending=4, max_pending_per_address=3)
        for conn, addr in [("b1", "B"), ("a1", "A"), ("a2", "A"), ("a3", "A")]:
            limits.admit(conn, addr)
        self.assertEqual(limits.admit("c1", "C"), ["a1"], "the newcomer always gets in")
        self.assertEqual(limits.pending, 4)

    def test_control_reserve(self) -> None:
        limits = ConnectionLimits(max_sessions=4, control_reserve=2, max_per_address=10)
        for i in range(2):
            limits.admit(f"w{i}", "W")
            self.assertIsNone(limits.login(f"w{i}", "W", "watch"))
        limits.admit("w2", "W")
        self.assertEqual(limits.login("w2", "W", "watch"),
                         "all 2 sessions open to watch users are taken")
        for i in range(2):
            limits.admit(f"c{i}", "W")
            self.assertIsNone(limits.login(f"c{i}", "W", "control"))
        limits.admit("c2", "W")
        self.assertEqual(limits.login("c2", "W", "control"), "all 4 sessions are taken")
        limits.remove("w0")
        self.assertEqual(limits.sessions, 3)
        self.assertEqual(limits.pending, 0, "refused logins left both pools")

    def test_watch_per_address(self) -> None:
        limits = ConnectionLimits(max_sessions=100, max_per_address=2)
        for i in range(2):
            limits.admit(i, "A")
            self.assertIsNone(limits.login(i, "A", "watch"))
        limits.admit(2, "A")
        self.assertEqual(limits.login(2, "A", "watch"),
                         "2 watch sessions from this address already")
        limits.admit(3, "B")
        self.assertIsNone(limits.login(3, "B", "watch"))
        limits.admit(4, "A")
        self.assertIsNone(limits.login(4, "A", "control"), "control is not counted per address")
        limits.remove(0)
        limits.admit(5, "A")
        self.assertIsNone(limits.login(5, "A", "watch"))


class ServerLimitTests(SynchronousTestCase):
    def test_silent_connections_do_not_keep_control_out(self) -> None:
        server = make_server(limits=ConnectionLimits(max_sessions=20, control_reserve=2,
                                                     max_pending=8, max_pending_per_address=4))
        idle = [server.connect(f"10.1.0.{i % 5}", 30000 + i) for i in range(200)]
        evicted = [c for c in idle if c.closed]
        self.assertEqual(len(evicted), 192)
        self.assertIn("ERR too many connections\n", evicted[0].take())
        for c in evicted:
            c.lose()
        watchers = [server.login(f"10.2.0.{i}", "bob", "bobpw") for i in range(18)]
        extra = server.connect("10.2.0.99")
        extra.take()
        extra.send(f"AUTH bob {hmac_response('bobpw', extra.proto.nonce)}\n")
        self.assertEqual(extra.take(), "ERR too many connections\n")
        control = server.login("10.1.0.0")
        self.assertEqual(control.ask("echo in"), "O in\nSTATUS 1\n")
        self.assertTrue(all(not w.closed for w in watchers))

    def test_login_timeout(self) -> None:
        server = make_server(auth_timeout=10.0)
        client = server.connect()
        client.take()
        server.clock.advance(10)
        self.assertEqual(client.take(), "ERR authentication timeout\n")
        self.assertTrue(client.closed)

    def test_watch_idle_timeout(self) -> None:
        server = make_server(watch_idle_timeout=60.0)
        watcher = server.login(user="bob", password="bobpw")
        control = server.login()
        server.clock.advance(59)
        self.assertEqual(watcher.ask(""), "STATUS 1\n")  # any line is activity
        server.clock.advance(60)
        self.assertEqual(watcher.take(), "ERR idle timeout\n")
        self.assertTrue(watcher.closed)
        self.assertFalse(control.closed, "control sessions keep idle_timeout (0: never)")

    def test_long_auth_line_refused_before_any_work(self) -> None:
        server = make_server(lockout=(3, 60.0, 300.0))
        for i in range(5):
            client = server.connect("10.3.0.1", 31000 + i)
            client.take()
            client.send("AUTH " + "n" * 65000 + " 00\n")
            self.assertEqual(client.take(), "ERR line too long\n")
            self.assertTrue(client.closed)
        log = server.log.text()
        self.assertLess(len(log), 2000, log)
        self.assertIn("address 10.3.0.1 blocked", log)
        self.assertNotIn("nnnnnnnnnn", log)

    def test_long_line_after_login_still_allowed(self) -> None:
        server = make_server()
        client = server.login()
        word = "w" * 5000
        self.assertEqual(client.ask(f"echo {word}"), f"O {word}\nSTATUS 1\n")

    def test_pipelined_long_request_after_pass(self) -> None:
        server = make_server()
        client = server.connect()
        client.take()
        word = "w" * 5000
        client.send(f"PASS {PASSWORD}\necho {word}\n")
        self.assertEqual(client.take(), f"OK pantasks control\nO {word}\nSTATUS 1\n")
