# -*- test-case-name: tests.net.test_log_hygiene -*-
"""Log hygiene through the line server on a Clock: client text escaped and
cut in log lines, floods merged, a bug answered with one short line."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from pantasks.lang.registry import Command
from tests.net.helpers import make_server


class LogHygieneTests(SynchronousTestCase):
    def test_user_name_escaped_in_log(self) -> None:
        server = make_server()
        client = server.connect("10.4.0.1")
        client.take()
        client.send("AUTH \x1b[31mevil\x1b]0;pwned\x07" + "z" * 500 + " 00\n")
        text = server.log.text()
        self.assertNotIn("\x1b", text)
        self.assertNotIn("\x07", text)
        self.assertIn("authentication failed for \\x1b[31mevil\\x1b]0;pwned\\x07", text)
        self.assertNotIn("z" * 100, text)

    def test_flood_of_failures_merged(self) -> None:
        server = make_server(lockout=(0, 60.0, 300.0))  # never blocks: worst case for the log
        for i in range(2000):
            client = server.connect(f"10.5.{i // 250}.{i % 250}", 30000 + i % 1000)
            client.take()
            client.send(f"PASS wrong{i}\n")
            server.clock.advance(0.01)
        server.clock.advance(60)
        text = server.log.text()
        self.assertLess(len(text), 10000, text[-2000:])
        self.assertIn("more auth messages suppressed", text)

    def test_internal_error_is_one_short_line(self) -> None:
        server = make_server()

        def buggy(ctx, argv):  # type: ignore[no-untyped-def]
            raise ValueError("secret detail " + "x" * 70000)

        server.interp.commands["buggy"] = Command("buggy", buggy)
        watcher = server.login(user="bob", password="bobpw")
        self.assertEqual(watcher.ask("watch on"), "O watch: log on, jobs off\nSTATUS 1\n")
        client = server.login()
        for _ in range(3):
            self.assertEqual(client.ask("buggy"), "E internal error (see server log)\nSTATUS 0\n")
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1, "the traceback once")
        self.assertNotIn("secret detail", watcher.take())
