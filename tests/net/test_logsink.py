# -*- test-case-name: tests.net.test_logsink -*-
"""Tests of L{pantasks.net.logsink.ServerLog}."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from pantasks.net.logsink import ServerLog, log_path


class ServerLogTests(SynchronousTestCase):
    def test_log_path(self) -> None:
        self.assertIsNone(log_path(None))
        self.assertIsNone(log_path("stdout"))
        self.assertIsNone(log_path(" stderr "))
        self.assertEqual(log_path("/var/log/x"), "/var/log/x")

    def test_files_appended_and_reopened(self) -> None:
        d = self.mktemp()
        os.makedirs(d)
        out, err = os.path.join(d, "out"), os.path.join(d, "err")
        with open(out, "w") as f:
            f.write("old\n")
        log = ServerLog(out, err)
        log.out("to out\n")
        log.err("to err\n")
        os.rename(out, out + ".1")  # logrotate
        log.out("still old file\n")
        log.reopen()
        log.out("new file\n")
        log.close()
        with open(out + ".1") as f:
            self.assertEqual(f.read(), "old\nto out\nstill old file\n")
        with open(out) as f:
            self.assertEqual(f.read(), "new file\n")
        with open(err) as f:
            self.assertEqual(f.read(), "to err\n")

    def test_same_file_for_both(self) -> None:
        path = self.mktemp()
        log = ServerLog(path, path)
        log.out("a\n")
        log.err("b\n")
        log.out("c\n")
        log.close()
        with open(path) as f:
            self.assertEqual(f.read(), "a\nb\nc\n")

    def test_unopenable(self) -> None:
        self.assertRaises(OSError, ServerLog, "/nonexistent/dir/log", None)

    def test_watchers_get_complete_lines(self) -> None:
        path = self.mktemp()
        log = ServerLog(path, path)
        seen: list[str] = []
        log.watchers.append(seen.append)
        log.out("one\ntw")
        log.out("o\n")
        log.err("three\nfour\n")
        self.assertEqual(seen, ["one", "two", "three", "four"])

    def test_redirect_still_feeds_watchers(self) -> None:
        path = self.mktemp()
        log = ServerLog(path, path)
        seen: list[str] = []
        log.watchers.append(seen.append)
        other = self.mktemp()
        log.redirect_out = open(other, "a")
        log.out("redirected\n")
        log.redirect_out.close()
        self.assertEqual(seen, ["redirected"])
        with open(other) as f:
            self.assertEqual(f.read(), "redirected\n")

    def test_recursive_watcher_does_not_loop(self) -> None:
        path = self.mktemp()
        log = ServerLog(path, path)
        seen: list[str] = []

        def noisy(line: str) -> None:
            seen.append(line)
            log.err("watcher complains\n")

        log.watchers.append(noisy)
        log.out("x\n")
        self.assertEqual(seen, ["x"])


class EventFilterTests(SynchronousTestCase):
    def setUp(self) -> None:
        from twisted.internet.task import Clock

        from pantasks.net.logsink import EventFilter

        self.clock = Clock()
        self.lines: list[str] = []
        self.events = EventFilter(self.lines.append, self.clock, burst=3, period=10)

    def test_repeats_merged(self) -> None:
        for _ in range(1000):
            self.events("same thing", "auth")
        self.events("other", "x")
        self.assertEqual(self.lines, ["same thing", "last message repeated 999 times", "other"])

    def test_repeats_reported_at_end_of_period(self) -> None:
        for _ in range(5):
            self.events("same")
        self.clock.advance(10)
        self.assertEqual(self.lines, ["same", "last message repeated 4 times"])

    def test_burst_per_kind(self) -> None:
        for i in range(100):
            self.events(f"failed from 10.0.0.{i}", "auth")
        self.events("a block", "block")
        self.assertEqual(self.lines, [f"failed from 10.0.0.{i}" for i in range(3)] + ["a block"])
        self.clock.advance(10)
        self.assertEqual(self.lines[-1], "97 more auth messages suppressed in the last 10 s")
        self.events("later", "auth")
        self.assertEqual(self.lines[-1], "later", "a new period starts afresh")


class LogObserverTests(SynchronousTestCase):
    def test_traceback_private_and_lines_escaped(self) -> None:
        from twisted.logger import Logger

        from pantasks.net.logsink import LogObserver
        from tests.net.helpers import MemoryLog

        log = MemoryLog()
        fed: list[str] = []
        log.watchers.append(fed.append)
        logger = Logger(observer=LogObserver(log))
        logger.warn("odd {name}", name="\x1b[2Jx" * 1000)
        try:
            raise ValueError("boom \x1b]0;title\x07")
        except ValueError:
            logger.failure("bug")
        text = log.text()
        self.assertNotIn("\x1b", text)
        self.assertIn("\\x1b[2Jx", text)
        self.assertIn("more characters", text)
        self.assertIn("Traceback", text)
        self.assertIn("ValueError: boom \\x1b]0;title\\x07", text)
        self.assertTrue(fed and all("Traceback" not in line and "boom" not in line
                                    for line in fed), fed)


    def test_same_traceback_from_anywhere_written_once(self) -> None:
        from twisted.logger import Logger

        from pantasks.net.logsink import LogObserver
        from tests.net.helpers import MemoryLog

        log = MemoryLog()
        logger = Logger(observer=LogObserver(log))
        for i in range(100):
            try:
                int("x")
            except ValueError:
                logger.failure("harvesting job {id}", id=i)
        text = log.text()
        self.assertEqual(text.count("Traceback"), 1, text)
        self.assertEqual(text.count("has happened"), 6, text)  # 2, 4, 8, 16, 32, 64
        self.assertIn("has happened 64 times", text)


class InternalErrorTests(SynchronousTestCase):
    def test_traceback_once_then_powers_of_two(self) -> None:
        from twisted.logger import globalLogPublisher

        from pantasks.lang import internal
        from pantasks.lang.context import Context

        events: list[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        for i in range(20):
            try:
                {}["missing"]
            except KeyError:
                internal.report(f"running 'x{i}\x1b'" + "y" * 1000)
        self.assertEqual(len(self.flushLoggedErrors(KeyError)), 1)
        failures = [e for e in events if "log_failure" in e]
        again = [e for e in events if "log_failure" not in e
                 and "has happened" in e.get("log_format", "")]
        self.assertEqual(len(failures), 1)
        self.assertTrue(failures[0]["log_private"])
        self.assertNotIn("\x1b", failures[0]["what"])
        self.assertLess(len(failures[0]["what"]), 300)
        self.assertEqual([e["n"] for e in again], [2, 4, 8, 16])
        ctx = Context.__new__(Context)
        self.assertEqual(internal.message(ctx, KeyError("k")), "internal error: KeyError: 'k'")
        ctx.role = "watch"
        self.assertEqual(internal.message(ctx, KeyError("k")), "internal error (see server log)")


class DefangTests(SynchronousTestCase):
    def test_control_characters_escaped_in_files_and_to_watchers(self) -> None:
        d = self.mktemp()
        os.makedirs(d)
        out = os.path.join(d, "out")
        log = ServerLog(out, out)
        fed: list[str] = []
        log.watchers.append(fed.append)
        log.out("tab\tok \x1b[2J\x1b]0;title\x07 hidden\rshown \x9b31m\n")
        log.err("plain\n")
        log.close()
        expected = "tab\tok \\x1b[2J\\x1b]0;title\\x07 hidden\\x0dshown \\x9b31m"
        with open(out) as f:
            self.assertEqual(f.read(), expected + "\nplain\n")
        self.assertEqual(fed, [expected, "plain"])
