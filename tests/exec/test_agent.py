"""Tests for C{pantasks_agent} and its slots, with the agent started
directly as a subprocess (no SSH: see C{test_remote_ssh} for that)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

from twisted.application.internet import backoffPolicy
from twisted.internet import defer
from twisted.trial import unittest

from pantasks.exec.interfaces import JobSpec
from pantasks.exec.local import LocalRunner
from pantasks.exec.remote.ledger import Ledger, start_time
from pantasks.exec.remote.slot import DOWN, IDLE, OFF, connect_argv
from pantasks.exec.remote.wire import BadRequest, Run, decode_spec, encode_spec
from pantasks.exec.result import EXIT, KILLED, LOST, SPAWNFAIL, TIMEOUT
from tests.exec.remote_helpers import (
    AGENT_ARGV,
    STATE_DIR,
    direct_runner,
    group_alive,
    idle,
    pid_alive,
    wait_for,
)

ODD_ARGS = [
    "-h", "--help", ";", "a b", "'q'", '"dq"', "$HOME", "`id`", "-nice", "10",
    "+host", "x", "pclient:", os.fsdecode(b"\xff\xfe invalid utf-8"), "", "\\n",
]


def no_retry(attempt: int) -> float:
    return 3600.0


class CommandLineTests(unittest.SynchronousTestCase):
    """The agent as a program."""

    def run_agent(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        return subprocess.run([*AGENT_ARGV, *args], input=stdin, capture_output=True, timeout=60)

    def test_version(self):
        p = self.run_agent("--version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout.decode(), r"^pantasks_agent \S+ \(protocol \d+\)\n\Z")

    def test_help(self):
        p = self.run_agent("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"pantasks_agent(8)", p.stdout)

    def test_bad_arguments(self):
        """Arguments are refused (status 2, usage on stderr, stdout clean)."""
        for args in (["--bogus"], ["job"], ["--state-dir"]):
            p = self.run_agent(*args)
            self.assertEqual((p.returncode, p.stdout), (2, b""))
            self.assertIn(b"usage: pantasks_agent", p.stderr)

    def test_garbage_input(self):
        """Input that is not the protocol: one line on stderr, status 1."""
        p = self.run_agent(stdin=b"hello there\nrm -rf /\n")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(
            p.stderr,
            b"pantasks_agent: protocol error: input is not the pantasks agent protocol; closing\n",
        )

    def test_empty_input(self):
        """stdin closed at once: the agent exits 0 with nothing to say."""
        p = self.run_agent()
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))


class SpecEncodingTests(unittest.SynchronousTestCase):
    def test_round_trip(self):
        argv = ["cmd"] + ODD_ARGS
        env = {"A": "1", "B": "x=y", "C": os.fsdecode(b"\xfe")}
        self.assertEqual(decode_spec(encode_spec(argv, env, "/tmp")), (argv, env, "/tmp"))
        self.assertEqual(decode_spec(encode_spec(["x"], None, None)), (["x"], None, None))

    def test_malformed(self):
        good = encode_spec(["cmd", "arg"], {"A": "1"}, None)
        for bad in [b"", good[:-1], b"z" + good[1:], encode_spec([], None, "/"), b"a\0\0\0\x01\0"]:
            self.assertRaises(ValueError, decode_spec, bad)

    def test_connect_argv(self):
        """The host replaces {host} inside one word; it can never add words
        or options."""
        self.assertEqual(
            connect_argv("ssh -o 'BatchMode=yes' {host} pantasks_agent --log={host}.log", "ipp05"),
            ["ssh", "-o", "BatchMode=yes", "ipp05", "pantasks_agent", "--log=ipp05.log"],
        )
        for bad in ["-oProxyCommand=sh", "a b", "a;b", "", "a\nb", "$(id)"]:
            self.assertRaises(ValueError, connect_argv, "ssh {host}", bad)
        self.assertEqual(connect_argv("sh -c 'x{{}}' {host}", "h"), ["sh", "-c", "x{}", "h"])
        self.assertRaises(ValueError, connect_argv, "ssh {port} {host}", "h")


class AgentJobTests(unittest.TestCase):
    """Jobs through one slot whose agent runs as a local subprocess."""

    timeout = 120

    def setUp(self) -> None:
        self.runner = direct_runner(backoff=no_retry)
        self.slot = self.runner.add_slot("hostA")
        self.addCleanup(self.runner.close)

    def job(self, job_id: int, argv: list[str], **kw) -> defer.Deferred:
        return self.runner.start(JobSpec(job_id, argv, **kw))

    @defer.inlineCallbacks
    def test_exit_output_host(self):
        r = yield self.job(1, ["sh", "-c", "echo out; echo err >&2; exit 3"])
        self.assertEqual(
            (r.state, r.exit_status, r.stdout, r.stderr), (EXIT, 3, b"out\n", b"err\n")
        )
        self.assertEqual(r.hostname, "hostA")
        self.assertEqual(self.slot.state, IDLE)

    @defer.inlineCallbacks
    def test_odd_argv_unchanged(self):
        """Options of the original's job line, shell syntax, the prompt
        text and invalid UTF-8 reach the job as the very bytes given."""
        r = yield self.job(1, ["printf", "%s\\0", *ODD_ARGS])
        self.assertEqual(r.state, EXIT)
        self.assertEqual(r.stdout, b"".join(os.fsencode(a) + b"\0" for a in ODD_ARGS))

    @defer.inlineCallbacks
    def test_big_argument(self):
        """A 100 kB argument (more than one AMP value) arrives intact."""
        arg = "".join(chr(ord("a") + i % 26) for i in range(100_000))
        r = yield self.job(1, ["sh", "-c", 'printf %s "$1" | md5sum', "sh", arg])
        expected = subprocess.run(["md5sum"], input=arg.encode(), capture_output=True).stdout
        self.assertEqual((r.state, r.stdout), (EXIT, expected))

    @defer.inlineCallbacks
    def test_too_big_argument(self):
        """A 1 MB argument cannot be exec'd (Linux limits one argument to
        128 kB): the same SPAWNFAIL as a local job, and the slot carries on."""
        arg = "x" * 2**20
        local = yield LocalRunner(self._reactor()).start(JobSpec(9, ["echo", arg]))
        r = yield self.job(1, ["echo", arg])
        self.assertEqual((r.state, r.exit_status), (local.state, local.exit_status))
        self.assertEqual(r.state, SPAWNFAIL)
        self.assertIn(b"Argument list too long", r.stderr)
        r = yield self.job(2, ["echo", "next"])
        self.assertEqual((r.state, r.stdout), (EXIT, b"next\n"))

    def _reactor(self):
        from twisted.internet import reactor

        return reactor

    @defer.inlineCallbacks
    def test_env_cwd_nice_group(self):
        """Environment, directory and nice level are the spec's; the job
        leads its own process group."""
        script = 'echo "$X"; pwd; nice; echo $$; cut -d" " -f5 /proc/$$/stat'
        r = yield self.job(
            1, ["sh", "-c", script], env={"PATH": os.environ["PATH"], "X": "ex"}, cwd="/tmp", nice=7
        )
        self.assertEqual(r.state, EXIT, r.stderr)
        x, cwd, nice, pid, pgrp = r.stdout.decode().split("\n")[:5]
        self.assertEqual((x, cwd, nice), ("ex", "/tmp", "7"))
        self.assertEqual(pid, pgrp)

    @defer.inlineCallbacks
    def test_timeout_ignoring_sigterm(self):
        """A job ignoring SIGTERM is killed (SIGKILL, whole group) after the
        grace, and reported as TIMEOUT."""
        r = yield self.job(1, ["sh", "-c", 'trap "" TERM; sleep 60 & wait; sleep 60'], timeout=0.5)
        self.assertEqual((r.state, r.term_signal), (TIMEOUT, signal.SIGKILL))
        self.assertGreaterEqual(r.dtime, 1.5)
        self.assertFalse(group_alive(r.pid))

    @defer.inlineCallbacks
    def test_kill(self):
        d = self.job(1, ["sh", "-c", "sleep 60 & wait"])
        yield wait_for(lambda: self.runner._jobs[1].pid, what="the job's pid")
        self.assertTrue(self.runner.kill(1))
        r = yield d
        self.assertEqual(r.state, KILLED)
        self.assertFalse(group_alive(r.pid))

    @defer.inlineCallbacks
    def test_output_50mb_intact(self):
        """50 MB of output arrive byte for byte (in the dump file; the
        in-memory copy is the bounded tail)."""
        fd, path = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.unlink, path)
        r = yield self.job(1, ["seq", "1", "6500000"], stdout_path=path)
        self.assertEqual(r.state, EXIT)
        expected = subprocess.run(["seq", "1", "6500000"], capture_output=True).stdout
        self.assertGreater(len(expected), 50_000_000)
        with open(path, "rb") as f:
            self.assertTrue(f.read() == expected, "output differs")
        self.assertTrue(expected.endswith(r.stdout))

    @defer.inlineCallbacks
    def test_stdin_closed_kills_jobs(self):
        """The connection closing (server gone) makes the agent kill its
        jobs and exit; the job is reported LOST."""
        d = self.job(1, ["sh", "-c", 'trap "" TERM; sleep 60 & wait'])
        pid = yield wait_for(lambda: self.runner._jobs[1].pid, what="the job's pid")
        agent = self.slot.agent_pid
        self.slot._proc.transport.closeStdin()
        r = yield d
        self.assertEqual(r.state, LOST)
        self.assertIn("lost with its host hostA", r.messages[-1])
        yield wait_for(lambda: not group_alive(pid), 10, "the job to be killed")
        self.assertFalse(pid_alive(agent))
        self.assertEqual(self.slot.state, DOWN)

    @defer.inlineCallbacks
    def test_agent_killed(self):
        """kill -9 of the agent mid-job: the job is LOST, the slot DOWN with
        the reason; once reconnected, the orphan is killed."""
        d = self.job(1, ["sleep", "60"])
        pid = yield wait_for(lambda: self.runner._jobs[1].pid, what="the job's pid")
        self.addCleanup(lambda: os.killpg(pid, signal.SIGKILL) if group_alive(pid) else None)
        os.kill(self.slot.agent_pid, signal.SIGKILL)
        r = yield d
        self.assertEqual((r.state, r.hostname), (LOST, "hostA"))
        self.assertEqual(self.slot.state, DOWN)
        self.assertIn("connection lost", self.slot.error)
        self.assertTrue(group_alive(pid), "the orphan runs on")
        self.assertTrue(self.slot.retry())
        yield idle(self.slot)
        # The new agent found the dead one's ledger and killed the orphan.
        yield wait_for(lambda: not group_alive(pid), 10, "the orphan to be killed")
        r = yield self.job(2, ["echo", "again"])
        self.assertEqual(r.stdout, b"again\n")

    @defer.inlineCallbacks
    def test_heartbeat(self):
        """An agent that stops answering (SIGSTOP) is detected by the
        heartbeat: DOWN, its job LOST."""
        runner = direct_runner(backoff=no_retry, heartbeat_interval=0.2, heartbeat_timeout=1.0)
        self.addCleanup(runner.close)
        slot = runner.add_slot("hostb")
        d = runner.start(JobSpec(1, ["sleep", "60"]))
        pid = yield wait_for(lambda: runner._jobs[1].pid, what="the job's pid")
        self.addCleanup(lambda: os.killpg(pid, signal.SIGKILL) if group_alive(pid) else None)
        agent = slot.agent_pid
        os.kill(agent, signal.SIGSTOP)
        self.addCleanup(lambda: os.kill(agent, signal.SIGCONT) if pid_alive(agent) else None)
        r = yield d
        self.assertEqual(r.state, LOST)
        self.assertRegex(slot.error, r"^no heartbeat from the agent for \ds$")

    @defer.inlineCallbacks
    def test_refused_requests(self):
        """Malformed requests are refused one by one; the agent carries on."""
        yield idle(self.slot)
        client = self.slot._client
        good = encode_spec(["x"], None, None)
        for kw in [dict(spec=b"\0junk", nice=0), dict(spec=good, nice=99)]:
            yield self.assertFailure(client.callRemote(Run, job=77, **kw), BadRequest)
        r = yield self.job(1, ["echo", "fine"])
        self.assertEqual(r.stdout, b"fine\n")

    @defer.inlineCallbacks
    def test_off(self):
        """off waits for the running job, then the agent exits."""
        d = self.job(1, ["sh", "-c", "sleep 0.5; echo done"])
        yield wait_for(lambda: self.slot.state == "BUSY", what="BUSY")
        off = self.slot.off()
        r = yield d
        yield off
        self.assertEqual((r.state, r.stdout, self.slot.state), (EXIT, b"done\n", OFF))


class ConnectFailureTests(unittest.TestCase):
    """Slots whose connect command is not (or not quite) an agent."""

    timeout = 60

    def runner(self, command: str, **kw):
        kw.setdefault("backoff", no_retry)
        runner = direct_runner(connect_command=command, **kw)
        self.addCleanup(runner.close)
        return runner

    def down(self, slot):
        return wait_for(lambda: slot.state == DOWN, what=f"{slot} DOWN")

    @defer.inlineCallbacks
    def test_not_found(self):
        cmd = "sh -c 'echo \"bash: pantasks_agent: command not found\" >&2; exit 127' {host}"
        slot = self.runner(cmd).add_slot("h1")
        yield self.down(slot)
        self.assertEqual(
            slot.error, "cannot connect: bash: pantasks_agent: command not found (exit status 127)"
        )

    @defer.inlineCallbacks
    def test_garbage_from_agent(self):
        """A host that prints something else: DOWN with a protocol error,
        nothing raised, the other slots unaffected."""
        runner = self.runner("sh -c 'printf \"Welcome to ipp05!\\n\"; sleep 30' {host}")
        slot = runner.add_slot("h1")
        yield self.down(slot)
        self.assertIn("protocol error", slot.error)

    @defer.inlineCallbacks
    def test_version_mismatch(self):
        fake = (
            f"{shlex.quote(sys.executable)} -c 'import sys; from pantasks.exec.remote import agent;"
            " agent.PROTOCOL = 99; sys.exit(agent.main(sys.argv[1:]))'"
            f" --state-dir {shlex.quote(STATE_DIR)}"
        )
        slot = self.runner(fake).add_slot("h1")
        yield self.down(slot)
        self.assertRegex(
            slot.error,
            r"^agent on h1 is pantasks_agent \S+ speaking protocol 99; this server \(pantasks \S+\)"
            r" speaks protocol 1: install the same pantasks version on both$",
        )

    @defer.inlineCallbacks
    def test_handshake_timeout(self):
        slot = self.runner("sleep 30", connect_timeout=0.5).add_slot("h1")
        yield self.down(slot)
        self.assertEqual(slot.error, "no answer from the agent within 0.5s")

    @defer.inlineCallbacks
    def test_handshakes_limited(self):
        """At most max_handshakes connections handshake at once."""
        runner = self.runner("sleep 30", max_handshakes=2, connect_timeout=0.5)
        slots = [runner.add_slot(f"h{i}") for i in range(5)]
        self.assertEqual(sum(s._proc is not None for s in slots), 2)
        yield wait_for(lambda: all(s.state == DOWN for s in slots), what="all DOWN")

    @defer.inlineCallbacks
    def test_backoff(self):
        """Failed connects are retried after delays that double up to a cap."""
        runner = self.runner("false", backoff=backoffPolicy(0.1, 0.4, 2.0, jitter=lambda: 0))
        delays = []
        down = runner._slot_down
        runner._slot_down = lambda s: (
            delays.append(round(s.next_attempt - runner.reactor.seconds(), 3)), down(s)
        )
        slot = runner.add_slot("h1")
        yield wait_for(lambda: len(delays) >= 5, what="5 attempts")
        self.assertEqual(delays[:5], [0.1, 0.2, 0.4, 0.4, 0.4])
        self.assertEqual(slot.error, "cannot connect: connect command ended (exit status 1)")


class DefaultsTests(unittest.SynchronousTestCase):
    def test_connect_command_default(self):
        """The runner's default connect command is pantasks.conf's."""
        from pantasks.config import server_config_from_text
        from pantasks.exec.remote.runner import DEFAULT_CONNECT

        conf = server_config_from_text("")
        self.assertEqual(conf.controller.connect_command, DEFAULT_CONNECT)


FAKE_AGENT = """\
import sys
from twisted.protocols import amp
from pantasks.exec.remote import agent, wire

mode = sys.argv[1]


class Fake(agent.Agent):
    @wire.Run.responder
    def run(self, job, spec, nice, timeout=None):
        if mode == "state":
            self.callRemote(wire.Ended, job=job, state="NOPE", exit_status=0, dtime=0.0,
                            messages=[])
        elif mode == "types":
            box = amp.AmpBox(_command=b"Output", job=str(job).encode(), fd=b"one", data=b"x")
            self.transport.write(box.serialize())
        elif mode == "unknown":
            box = amp.AmpBox(_command=b"Shutdown", _ask=b"1")
            self.transport.write(box.serialize())
            self.callRemote(wire.Ended, job=job, state="EXIT", exit_status=5, dtime=0.0,
                            messages=["\\x1b[2Jline\\nbreak"])
        return {"pid": 1}


agent.Agent = Fake
sys.exit(agent.main(sys.argv[2:]))
"""


class MalformedAgentTests(unittest.TestCase):
    """An agent that sends well-framed nonsense: the controller drops (or
    ignores) it with one line, never an exception."""

    timeout = 60

    def job_on(self, mode: str) -> defer.Deferred:
        fd, path = tempfile.mkstemp(suffix=".py")
        with os.fdopen(fd, "w") as f:
            f.write(FAKE_AGENT)
        self.addCleanup(os.unlink, path)
        runner = direct_runner(
            connect_command=shlex.join([sys.executable, path, mode, "--state-dir", STATE_DIR]),
            backoff=no_retry,
        )
        self.addCleanup(runner.close)
        self.slot = runner.add_slot("h1")
        return runner.start(JobSpec(1, ["true"]))

    @defer.inlineCallbacks
    def test_unknown_state(self):
        r = yield self.job_on("state")
        self.assertEqual(r.state, LOST)
        self.assertEqual(self.slot.error, "protocol error: the agent reported state 'NOPE'")

    @defer.inlineCallbacks
    def test_bad_types(self):
        r = yield self.job_on("types")
        self.assertEqual(r.state, LOST)
        self.assertRegex(self.slot.error, r"^protocol error from the agent: ")

    @defer.inlineCallbacks
    def test_unknown_command(self):
        """An unknown request is answered with an error; the job's end and
        its messages (made printable) still arrive."""
        r = yield self.job_on("unknown")
        self.assertEqual((r.state, r.exit_status), (EXIT, 5))
        self.assertEqual(r.messages, ["?[2Jline?break"])
        self.assertEqual(self.slot.state, IDLE)


class ManPageTests(unittest.SynchronousTestCase):
    def test_exit_statuses_documented(self):
        """pantasks_agent(8) lists every exit status the agent uses."""
        from pantasks.exec.remote import agent

        page = os.path.join(os.path.dirname(__file__), "..", "..", "man", "pantasks_agent.8")
        with open(page) as f:
            section = f.read().split(".SH EXIT STATUS", 1)[1].split(".SH ", 1)[0]
        for name in ("EXIT_OK", "EXIT_PROTOCOL", "EXIT_USAGE"):
            self.assertIn(f".B {getattr(agent, name)}\n", section, name)


class LedgerTests(unittest.SynchronousTestCase):
    """The ledger kills what dead agents left, and nothing else."""

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
        self.addCleanup(self.victim.wait)
        self.addCleanup(lambda: self.victim.poll() is None and self.victim.kill())

    def write(self, name: str, text: str) -> None:
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def test_reaps_dead_agents_jobs(self):
        pid = self.victim.pid
        self.write("1.jobs", f"agent 999999999 7\njob {pid} {start_time(pid)}\n")
        self.assertEqual(Ledger(self.dir).reap_orphans(), [pid])
        self.assertEqual(self.victim.wait(10), -signal.SIGKILL)
        self.assertEqual(os.listdir(self.dir), [])

    def test_spares_the_living_and_reused_pids(self):
        pid = self.victim.pid
        me = os.getpid()
        self.write("1.jobs", f"agent {me} {start_time(me)}\njob {pid} {start_time(pid)}\n")
        self.write("2.jobs", f"agent 999999999 7\njob {pid} 1\njob 0 1\njob 1 1\njob -5 1\n")
        self.write("3.jobs", "garbage\n\0\n")
        self.assertEqual(Ledger(self.dir).reap_orphans(), [])
        self.assertIsNone(self.victim.poll())
        self.assertIn("1.jobs", os.listdir(self.dir))

    def test_unusable_directory(self):
        """A directory others may write is not trusted: no ledger."""
        os.chmod(self.dir, 0o777)
        ledger = Ledger(self.dir)
        self.assertIsNone(ledger.directory)
        ledger.record([self.victim.pid])
        self.assertEqual(ledger.reap_orphans(), [])

    def test_record_and_remove(self):
        ledger = Ledger(self.dir)
        ledger.record([self.victim.pid])
        with open(ledger.path) as f:
            self.assertEqual(
                f.read().splitlines()[1], f"job {self.victim.pid} {start_time(self.victim.pid)}"
            )
        ledger.remove()
        self.assertEqual(os.listdir(self.dir), [])


class RecycleTests(unittest.TestCase):
    """Connections are renewed after connect_time, never under a job."""

    timeout = 90

    @defer.inlineCallbacks
    def test_recycle(self):
        runner = direct_runner(backoff=no_retry, connect_time=1.0)
        self.addCleanup(runner.close)
        slot = runner.add_slot("h1")
        yield idle(slot)
        first = slot.agent_pid
        r = yield runner.start(JobSpec(1, ["sh", "-c", "sleep 2; echo done"]))
        self.assertEqual((r.state, r.stdout), (EXIT, b"done\n"))
        yield wait_for(
            lambda: slot.state == IDLE and slot.agent_pid not in (None, first), 30, "a new agent"
        )
        self.assertEqual((slot.error, slot.failures), (None, 0))
        self.assertFalse(pid_alive(first))
        r = yield runner.start(JobSpec(2, ["echo", "fresh"]))
        self.assertEqual(r.stdout, b"fresh\n")
