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
