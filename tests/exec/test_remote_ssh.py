"""The remote runner over real OpenSSH: an sshd on 127.0.0.1 reached as two
host names (see L{tests.exec.sshd}); nothing about SSH is faked."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile

import pytest
from twisted.application.internet import backoffPolicy
from twisted.internet import defer, reactor
from twisted.trial import unittest

from pantasks.exec.interfaces import JobSpec
from pantasks.exec.remote.runner import RemoteRunner
from pantasks.exec.remote.slot import DOWN, IDLE
from pantasks.exec.result import CRASH, EXIT, KILLED, LOST, TIMEOUT
from tests.exec.remote_helpers import group_alive, idle, pid_alive, wait_for
from tests.exec.sshd import SKIP_REASON, SSHServer
from tests.exec.test_runner_conformance import RunnerConformanceMixin

pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


@pytest.fixture(scope="module")
def sshd():
    server = SSHServer(max_startups="10:30:60").start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _give_sshd(request, sshd):
    request.instance.sshd = sshd


def never(attempt: int) -> float:
    return 3600.0


class SSHMixin:
    sshd: SSHServer

    def make_runner(self, **kw) -> RemoteRunner:
        kw.setdefault("connect_command", self.sshd.connect_command)
        kw.setdefault("kill_grace", 1.0)
        kw.setdefault("backoff", never)
        runner = RemoteRunner(reactor, **kw)
        self.addCleanup(runner.close)
        return runner


class SSHConformanceTests(SSHMixin, RunnerConformanceMixin, unittest.TestCase):
    """The conformance suite, jobs on hosta and hostb through ssh."""

    def setUp(self) -> None:
        self.runner = self.make_runner()
        for host in ("hosta", "hostb", "hosta"):
            self.runner.add_slot(host)

    def long_spec(self, job_id, timeout=None):
        return JobSpec(job_id, ["sleep", "60"], timeout=timeout)

    def run_quick(self, job_id, status, out):
        return self.runner.start(
            JobSpec(
                job_id, ["sh", "-c", 'printf %s "$1"; exit $2', "sh", out.decode(), str(status)]
            )
        )


class SSHJobTests(SSHMixin, unittest.TestCase):
    timeout = 180

    def setUp(self) -> None:
        self.runner = self.make_runner()
        self.a = self.runner.add_slot("hosta")
        self.b = self.runner.add_slot("hostb")

    def job(self, job_id: int, argv: list[str], **kw) -> defer.Deferred:
        return self.runner.start(JobSpec(job_id, argv, **kw))

    def running_pid(self, job_id: int) -> defer.Deferred:
        return wait_for(lambda: self.runner._jobs[job_id].pid, 60, "the job's pid")

    @defer.inlineCallbacks
    def test_exit_codes_signals_hosts(self):
        """Exit codes, signals and output come back, each result naming the
        host its slot was added under (matched ignoring case)."""
        results = yield defer.gatherResults(
            [
                self.job(1, ["sh", "-c", "echo on a; exit 3"], host="HOSTA"),
                self.job(2, ["sh", "-c", "echo on b >&2; kill -SEGV $$"], host="hostb"),
                self.job(3, ["true"], host="hosta"),
            ]
        )
        a, b, c = results
        self.assertEqual(
            (a.state, a.exit_status, a.stdout, a.hostname), (EXIT, 3, b"on a\n", "hosta")
        )
        self.assertEqual((b.state, b.exit_status, b.term_signal), (CRASH, 11, 11))
        self.assertEqual((b.stderr, b.hostname), (b"on b\n", "hostb"))
        self.assertEqual((c.state, c.exit_status, c.hostname), (EXIT, 0, "hosta"))
        self.assertEqual(self.a.agent_version, self.b.agent_version)

    @defer.inlineCallbacks
    def test_output_50mb_intact(self):
        fd, path = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.unlink, path)
        r = yield self.job(1, ["seq", "1", "6500000"], stdout_path=path)
        self.assertEqual(r.state, EXIT)
        expected = subprocess.run(["seq", "1", "6500000"], capture_output=True).stdout
        self.assertGreater(len(expected), 50_000_000)
        with open(path, "rb") as f:
            self.assertTrue(f.read() == expected, "output differs")

    @defer.inlineCallbacks
    def test_timeout_ignoring_sigterm(self):
        r = yield self.job(1, ["sh", "-c", 'trap "" TERM; sleep 60 & wait; sleep 60'], timeout=0.5)
        self.assertEqual((r.state, r.term_signal), (TIMEOUT, signal.SIGKILL))
        self.assertGreaterEqual(r.dtime, 1.5)
        self.assertFalse(group_alive(r.pid))

    @defer.inlineCallbacks
    def test_kill(self):
        d = self.job(1, ["sh", "-c", "sleep 60 & wait"])
        pid = yield self.running_pid(1)
        self.assertTrue(self.runner.kill(1))
        r = yield d
        self.assertEqual(r.state, KILLED)
        self.assertFalse(group_alive(pid))

    @defer.inlineCallbacks
    def test_agent_killed_mid_job(self):
        """kill -9 of the agent: the job is LOST (the caller reruns it), the
        slot DOWN with the reason; the other host's slot is untouched."""
        d = self.job(1, ["sleep", "60"], host="hosta")
        pid = yield self.running_pid(1)
        self.addCleanup(lambda: os.killpg(pid, signal.SIGKILL) if group_alive(pid) else None)
        yield idle(self.b)
        os.kill(self.a.agent_pid, signal.SIGKILL)
        r = yield d
        self.assertEqual((r.state, r.hostname), (LOST, "hosta"))
        self.assertIn("job 1 lost with its host hosta: connection lost", r.messages[-1])
        self.assertEqual((self.a.state, self.b.state), (DOWN, IDLE))
        r = yield self.job(2, ["echo", "still"])
        self.assertEqual((r.stdout, r.hostname), (b"still\n", "hostb"))

    @defer.inlineCallbacks
    def test_ssh_killed_mid_job(self):
        """kill -9 of the local ssh: the job is LOST, and the agent, its
        stdin closed by sshd, kills the job on the host."""
        d = self.job(1, ["sh", "-c", 'trap "" TERM; sleep 60 & wait'], host="hostb")
        pid = yield self.running_pid(1)
        self.addCleanup(lambda: os.killpg(pid, signal.SIGKILL) if group_alive(pid) else None)
        agent = self.b.agent_pid
        os.kill(self.b.ssh_pid, signal.SIGKILL)
        r = yield d
        self.assertEqual((r.state, r.hostname), (LOST, "hostb"))
        self.assertIn("killed by signal 9", r.messages[-1])
        yield wait_for(lambda: not group_alive(pid), 30, "the job to be killed by its agent")
        yield wait_for(lambda: not pid_alive(agent), 30, "the agent to exit")


class SSHConnectionTests(SSHMixin, unittest.TestCase):
    timeout = 400

    @defer.inlineCallbacks
    def test_refused(self):
        """A host that refuses connections is DOWN with ssh's error, retried
        with growing delays."""
        runner = self.make_runner(backoff=backoffPolicy(0.2, 1.0, 2.0, jitter=lambda: 0))
        delays = []
        down = runner._slot_down
        runner._slot_down = lambda s: (
            delays.append(round(s.next_attempt - reactor.seconds(), 2)), down(s)
        )
        slot = runner.add_slot("refused")
        yield wait_for(lambda: len(delays) >= 4, 120, "4 failed attempts")
        self.assertEqual(delays[:4], [0.2, 0.4, 0.8, 1.0])
        self.assertEqual(
            slot.error,
            f"cannot connect: ssh: connect to host 127.0.0.1 port {self.sshd.refused_port}: "
            "Connection refused (exit status 255)",
        )
        self.assertEqual(slot.state, DOWN)

    @defer.inlineCallbacks
    def test_sixty_slots(self):
        """60 slots added at once against sshd's MaxStartups 10:30:60: the
        handshake limit keeps every one of them from being refused, and 60
        jobs then run at once."""
        runner = self.make_runner(connect_timeout=300)
        downs = []
        runner._slot_down = lambda s: downs.append(s.error)
        slots = [runner.add_slot("hosta" if i % 2 else "hostb") for i in range(60)]
        yield wait_for(lambda: all(s.state == IDLE for s in slots) or downs, 350, "60 IDLE")
        self.assertEqual(downs, [])
        results = yield defer.gatherResults(
            [runner.start(JobSpec(i, ["sh", "-c", f"sleep 1; echo {i}"])) for i in range(60)]
        )
        self.assertEqual([r.stdout for r in results], [f"{i}\n".encode() for i in range(60)])
        self.assertEqual({r.hostname for r in results}, {"hosta", "hostb"})


class LinkDownTests(SSHMixin, unittest.TestCase):
    """A host in its own network namespace whose link goes down mid-job."""

    timeout = 300

    def setUp(self) -> None:
        from tests.exec.sshd import NetnsSSHServer

        self.host = NetnsSSHServer()
        try:
            self.host.start()
        except Exception:
            self.host.stop()
            raise
        self.addCleanup(self.host.stop)

    @defer.inlineCallbacks
    def test_link_down_mid_job(self):
        """The heartbeat notices the silence: the job is LOST, the slot DOWN
        and retried; once the link is back the slot reconnects, and the
        orphan is gone (its agent saw the old connection close)."""
        runner = self.make_runner(
            connect_command=self.host.connect_command,
            heartbeat_interval=0.5,
            heartbeat_timeout=3.0,
            connect_timeout=20,
            backoff=backoffPolicy(0.5, 2.0, 2.0, jitter=lambda: 0),
        )
        slot = runner.add_slot("hostc")
        d = runner.start(JobSpec(1, ["sh", "-c", 'trap "" TERM; sleep 120 & wait']))
        pid = yield wait_for(lambda: runner._jobs[1].pid, 60, "the job's pid")
        self.addCleanup(lambda: os.killpg(pid, signal.SIGKILL) if group_alive(pid) else None)
        self.host.link(up=False)
        self.addCleanup(self.host.link, True)
        r = yield d
        self.assertEqual((r.state, r.hostname), (LOST, "hostc"))
        self.assertRegex(r.messages[-1], r"lost with its host hostc: no heartbeat from the agent")
        self.assertEqual(slot.state, DOWN)
        yield wait_for(lambda: slot.failures >= 2, 60, "a failed reconnect")
        self.assertTrue(group_alive(pid), "the job lives on while its host is cut off")
        self.host.link(up=True)
        yield idle(slot, 120)
        yield wait_for(lambda: not group_alive(pid), 120, "the orphan to be killed")
        r = yield runner.start(JobSpec(2, ["echo", "back"]))
        self.assertEqual((r.state, r.stdout), (EXIT, b"back\n"))
