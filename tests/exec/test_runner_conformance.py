# -*- test-case-name: tests.exec.test_runner_conformance -*-
"""One set of interface checks, run on every L{IJobRunner}.

In the manner of buildbot's C{ConnectionInterfaceTest}: the mixin states
what the scheduler may rely on; each runner (and the fake the scheduler's
own tests use) gets a subclass that says how to run a quick job, a long
job, and how to let time pass.
"""

from __future__ import annotations

import inspect

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from pantasks.exec.fake import FakeRunner
from pantasks.exec.interfaces import IJobRunner, JobSpec
from pantasks.exec.local import LocalRunner
from pantasks.exec.result import EXIT, KILLED, SPAWNFAIL, STATES, TIMEOUT, JobResult

NO_SUCH = "pantasks-no-such-command"


class RunnerConformanceMixin:
    """
    Checks every L{IJobRunner} must pass.  Subclasses set C{self.runner}
    in C{setUp} and implement the four helpers below.
    """

    runner: IJobRunner

    def long_spec(self, job_id: int, timeout: float | None = None) -> JobSpec:
        """
        @return: a spec for a job that runs until killed.
        """
        raise NotImplementedError

    def run_quick(self, job_id: int, status: int, out: bytes) -> defer.Deferred:
        """
        Run a job that prints C{out} and exits with C{status}.

        @return: its Deferred.
        """
        raise NotImplementedError

    def settle(self, d: defer.Deferred) -> defer.Deferred:
        """
        Let enough time pass for kills and timeouts to complete.

        @return: C{d}.
        """
        return d

    def test_provides_interface(self):
        """
        The runner provides L{IJobRunner}, with the documented signatures.
        """
        self.assertTrue(verifyObject(IJobRunner, self.runner))
        for name, params in [
            ("start", ["spec"]),
            ("kill", ["job_id"]),
            ("running", []),
            ("stop", ["now"]),
        ]:
            sig = inspect.signature(getattr(self.runner, name))
            self.assertEqual(list(sig.parameters), params, name)

    @defer.inlineCallbacks
    def test_exit(self):
        """
        A job's exit status and output arrive in a L{JobResult}.
        """
        result = yield self.run_quick(3, 2, b"hello\n")
        self.assertIsInstance(result, JobResult)
        self.assertEqual(result.job_id, 3)
        self.assertEqual((result.state, result.exit_status), (EXIT, 2))
        self.assertEqual(result.stdout, b"hello\n")
        self.assertIn(result.state, STATES)
        self.assertGreaterEqual(result.dtime, 0)
        self.assertTrue(result.hostname)
        self.assertEqual(self.runner.running(), 0)

    @defer.inlineCallbacks
    def test_not_found(self):
        """
        A command that cannot be found is a SPAWNFAIL 127 result, not an
        error, delivered after C{start} returns.
        """
        d = self.runner.start(JobSpec(4, [NO_SUCH, "arg"]))
        self.assertFalse(d.called)
        result = yield self.settle(d)
        self.assertEqual((result.state, result.exit_status), (SPAWNFAIL, 127))
        self.assertIn(f"cannot run '{NO_SUCH}'".encode(), result.stderr)
        self.assertEqual(self.runner.running(), 0)

    @defer.inlineCallbacks
    def test_kill(self):
        """
        C{kill} of a running job returns C{True} and ends it as KILLED;
        of an unknown job, C{False}.
        """
        d = self.runner.start(self.long_spec(5))
        self.assertEqual(self.runner.running(), 1)
        self.assertFalse(self.runner.kill(6))
        self.assertTrue(self.runner.kill(5))
        result = yield self.settle(d)
        self.assertEqual((result.job_id, result.state), (5, KILLED))
        self.assertEqual(self.runner.running(), 0)
        self.assertFalse(self.runner.kill(5))

    @defer.inlineCallbacks
    def test_timeout(self):
        """
        A job past its timeout ends as TIMEOUT.
        """
        d = self.runner.start(self.long_spec(6, timeout=0.2))
        result = yield self.settle(d)
        self.assertEqual(result.state, TIMEOUT)
        self.assertGreaterEqual(result.dtime, 0.2)

    def test_duplicate_id(self):
        """
        Starting a job id that is still running raises L{ValueError}.
        """
        d = self.runner.start(self.long_spec(7))
        self.assertRaises(ValueError, self.runner.start, self.long_spec(7))
        self.runner.kill(7)
        return self.settle(d)

    @defer.inlineCallbacks
    def test_running_counts(self):
        """
        C{running} counts the jobs that have not ended.
        """
        self.assertEqual(self.runner.running(), 0)
        ds = [self.runner.start(self.long_spec(i)) for i in (1, 2)]
        self.assertEqual(self.runner.running(), 2)
        self.runner.kill(1)
        yield self.settle(ds[0])
        self.assertEqual(self.runner.running(), 1)
        self.runner.kill(2)
        yield self.settle(ds[1])
        self.assertEqual(self.runner.running(), 0)

    @defer.inlineCallbacks
    def test_stop_now(self):
        """
        C{stop(now=True)} kills every job; its Deferred fires once all
        have ended.
        """
        ds = [self.runner.start(self.long_spec(i)) for i in (1, 2, 3)]
        stopped = self.runner.stop(now=True)
        yield self.settle(stopped)
        self.assertEqual(self.runner.running(), 0)
        results = yield defer.gatherResults(ds)
        self.assertEqual([r.state for r in results], [KILLED] * 3)

    @defer.inlineCallbacks
    def test_stop_refuses_new_jobs(self):
        """
        While stopping, C{start} gives SPAWNFAIL; after, jobs run again.
        """
        d = self.runner.start(self.long_spec(1))
        stopped = self.runner.stop(now=False)
        self.assertFalse(stopped.called)
        refused = yield self.settle(self.runner.start(self.long_spec(2)))
        self.assertEqual(refused.state, SPAWNFAIL)
        self.runner.kill(1)
        yield self.settle(stopped)
        yield d
        result = yield self.run_quick(3, 0, b"")
        self.assertEqual(result.state, EXIT)

    @defer.inlineCallbacks
    def test_stop_idle(self):
        """
        C{stop} with no job running fires at once.
        """
        d = self.runner.stop(now=False)
        self.assertTrue(d.called)
        yield d


class LocalRunnerConformanceTests(RunnerConformanceMixin, unittest.TestCase):
    """
    L{LocalRunner} with real processes.
    """

    def setUp(self) -> None:
        self.runner = LocalRunner(reactor, kill_grace=1.0)
        self.addCleanup(self.runner.stop, True)

    def long_spec(self, job_id, timeout=None):
        return JobSpec(job_id, ["sleep", "60"], timeout=timeout)

    def run_quick(self, job_id, status, out):
        return self.runner.start(
            JobSpec(
                job_id, ["sh", "-c", 'printf %s "$1"; exit $2', "sh", out.decode(), str(status)]
            )
        )


class FakeRunnerConformanceTests(RunnerConformanceMixin, unittest.TestCase):
    """
    L{FakeRunner}, on a clock.
    """

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.runner = FakeRunner(self.clock, kill_grace=2.0, not_found={NO_SUCH})

    def tearDown(self) -> None:
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def long_spec(self, job_id, timeout=None):
        return JobSpec(job_id, ["sleep", "60"], timeout=timeout)

    def run_quick(self, job_id, status, out):
        d = self.runner.start(JobSpec(job_id, ["sh", "-c", "..."]))
        self.runner.finish(job_id, exit_status=status, stdout=out)
        return d

    def settle(self, d):
        # Run every delayed call, each at its own time.
        while self.clock.getDelayedCalls():
            due = min(call.getTime() for call in self.clock.getDelayedCalls())
            self.clock.advance(max(0.0, due - self.clock.seconds()))
        return d


class FakeRunnerTests(unittest.SynchronousTestCase):
    """
    What only the fake offers: tests end its jobs.
    """

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.runner = FakeRunner(self.clock, kill_grace=5.0)
        self.results: list[JobResult] = []

    def start(self, job_id, **kw):
        d = self.runner.start(JobSpec(job_id, ["job", str(job_id)], **kw))
        d.addCallback(self.results.append)
        return d

    def test_finish(self):
        self.clock.advance(10)
        self.start(1)
        self.assertTrue(self.runner.is_running(1))
        self.assertEqual(self.runner.spec(1).argv, ["job", "1"])
        self.clock.advance(2.5)
        self.runner.output(1, stdout=b"a")
        self.runner.finish(1, 0, stdout=b"b\n", stderr=b"warn\n")
        [r] = self.results
        self.assertEqual(
            (r.state, r.exit_status, r.stdout, r.stderr), (EXIT, 0, b"ab\n", b"warn\n")
        )
        self.assertEqual((r.started, r.ended, r.dtime), (10, 12.5, 2.5))
        self.assertFalse(self.runner.is_running(1))
        self.assertEqual([s.job_id for s in self.runner.started], [1])

    def test_crash(self):
        self.start(1)
        self.runner.crash(1, 11)
        self.assertEqual((self.results[0].state, self.results[0].exit_status), ("CRASH", 11))
        self.assertEqual(self.results[0].term_signal, 11)

    def test_timeout_keeps_output(self):
        self.start(1, timeout=3)
        self.runner.output(1, stdout=b"so far\n")
        self.clock.advance(3)
        self.assertEqual(self.results, [])
        self.assertTrue(self.runner.is_running(1))
        self.clock.advance(5)
        [r] = self.results
        self.assertEqual((r.state, r.stdout, r.dtime), (TIMEOUT, b"so far\n", 8))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_finish_during_kill(self):
        """
        A job that exits by itself while being killed is still KILLED.
        """
        self.start(1)
        self.runner.kill(1)
        self.runner.finish(1, 0)
        self.assertEqual(self.results[0].state, KILLED)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_finish_unknown(self):
        self.assertRaises(KeyError, self.runner.finish, 9)

    def test_bounded_output(self):
        runner = FakeRunner(self.clock, max_output_bytes=4)
        d = runner.start(JobSpec(1, ["x"]))
        runner.finish(1, stdout=b"0123456789")
        r = self.successResultOf(d)
        self.assertEqual((r.stdout, r.truncated_stdout), (b"6789", True))
