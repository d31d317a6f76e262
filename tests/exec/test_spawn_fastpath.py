# -*- test-case-name: tests.exec.test_spawn_fastpath -*-
"""The one-exec spawn path (L{pantasks.exec.spawn}) relies on Twisted's
process internals: these tests fail, rather than the dispatch rate
quietly halving, when a Twisted upgrade takes them away."""

from __future__ import annotations

from twisted.internet import defer, reactor
from twisted.internet.protocol import ProcessProtocol
from twisted.trial import unittest

from pantasks.exec import local, spawn
from pantasks.exec.interfaces import JobSpec
from pantasks.exec.local import LocalRunner


class _Collect(ProcessProtocol):
    def __init__(self) -> None:
        self.out = b""
        self.done: defer.Deferred = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data

    def processEnded(self, reason: object) -> None:
        self.done.callback(self.out)


class FastPathTests(unittest.TestCase):
    def test_twisted_internals_are_there(self) -> None:
        self.assertTrue(spawn._HELPERS, "Twisted's process internals changed: "
                        "pantasks.exec.spawn falls back to setsid(1), two execs per job")

    @defer.inlineCallbacks
    def test_child_leads_its_own_session(self) -> None:
        proto = _Collect()
        transport = spawn.spawn_in_session(
            reactor, proto, "/bin/sh", ["sh", "-c", "cat /proc/$$/stat"], {}, {0: "w", 1: "r"})
        self.assertIsNotNone(transport, "the fast path refused the real reactor")
        transport.closeStdin()
        stat = (yield proto.done).decode()
        fields = stat.rsplit(")", 1)[1].split()
        pid, pgrp, session = int(stat.split()[0]), int(fields[2]), int(fields[3])
        self.assertEqual((pgrp, session), (pid, pid))

    @defer.inlineCallbacks
    def test_local_runner_takes_the_fast_path(self) -> None:
        used = []
        real = local.spawn_in_session

        def spy(*args: object, **kw: object) -> object:
            transport = real(*args, **kw)
            used.append(transport is not None)
            return transport

        self.patch(local, "spawn_in_session", spy)
        runner = LocalRunner(reactor)
        result = yield runner.start(JobSpec(job_id=1, argv=["true"]))
        self.assertEqual((result.state, result.exit_status), ("EXIT", 0))
        self.assertEqual(used, [True])
