# -*- test-case-name: tests.exec.test_local -*-
"""Tests for L{pantasks.exec.local}: real processes on the real reactor,
plus clock-driven tests of the kill sequence with a fake process reactor.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import stat
import sys
import tempfile
import time

from twisted.internet import defer, reactor, task
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial import unittest

from pantasks.exec.interfaces import JobSpec
from pantasks.exec.local import LocalRunner, raise_nofile_limit, resolve_command
from pantasks.exec.result import (
    CRASH,
    EXIT,
    KILLED,
    SPAWNFAIL,
    TIMEOUT,
    JobResult,
    TailBuffer,
)

MiB = 2**20


def proc_stat(pid: int) -> dict | None:
    """
    @return: a few fields of C{/proc/PID/stat}, or C{None} if no such process.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return {
        "state": fields[0].decode(),
        "ppid": int(fields[1]),
        "pgrp": int(fields[2]),
        "session": int(fields[3]),
        "nice": int(fields[16]),
    }


def alive(pid: int) -> bool:
    """
    @return: whether C{pid} is a live (not zombie) process.
    """
    st = proc_stat(pid)
    return st is not None and st["state"] not in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """
    @return: the live processes of process group C{pgid}.
    """
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st["pgrp"] == pgid and st["state"] not in ("Z", "X"):
                found.append(int(name))
    return found


@defer.inlineCallbacks
def survivors(pgid: int, members: list[int] = (), patience: float = 2.0):
    """
    Wait (up to C{patience} seconds) for group C{pgid} and the processes
    C{members} to be gone: a process killed by SIGKILL closes its files (so
    the job may be harvested) a moment before it stops being listed as
    running.

    @return: a Deferred firing with the live processes left (an empty list
        if all are gone).
    """
    deadline = reactor.seconds() + patience
    while True:
        left = sorted(set(group_members(pgid)) | {p for p in members if alive(p)})
        if not left or reactor.seconds() > deadline:
            return left
        yield task.deferLater(reactor, 0.02, lambda: None)


def parse_stat_line(line: bytes) -> dict:
    fields = line[line.rindex(b")") + 2 :].split()
    return {
        "pid": int(line.split()[0]),
        "pgrp": int(fields[2]),
        "session": int(fields[3]),
        "nice": int(fields[16]),
    }


def seq_size(n: int) -> int:
    """
    @return: the size of the output of C{seq 1 n}.
    """
    total, digits, low = 0, 1, 1
    while low <= n:
        high = min(n, low * 10 - 1)
        total += (high - low + 1) * (digits + 1)
        digits, low = digits + 1, low * 10
    return total


def seq_tail(n: int, size: int) -> bytes:
    """
    @return: the last C{size} bytes of the output of C{seq 1 n}.
    """
    parts, held, i = [], 0, n
    while held < size:
        line = b"%d\n" % i
        parts.append(line)
        held += len(line)
        i -= 1
    return b"".join(reversed(parts))[-size:]


class LocalRunnerTests(unittest.TestCase):
    """
    L{LocalRunner} running real processes.
    """

    def setUp(self) -> None:
        self.runner = LocalRunner(reactor, kill_grace=0.5)
        self.tmp = tempfile.mkdtemp(prefix="pantasks-exec-")
        self.groups: list[int] = []
        self.addCleanup(self._cleanup)

    def _cleanup(self) -> defer.Deferred:
        # Never leave a process behind, whatever a failing test did.
        for pgid in self.groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        return self.runner.stop(now=True)

    def start(self, *argv: str, **kw) -> defer.Deferred:
        job_id = kw.pop("job_id", 1)
        d = self.runner.start(JobSpec(job_id, list(argv), **kw))
        for job in self.runner._jobs.values():
            if job.pid and job.pid not in self.groups:
                self.groups.append(job.pid)
        return d

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    @defer.inlineCallbacks
    def test_true(self):
        """
        C{true} exits 0 with no output; the result says where and when.
        """
        before = reactor.seconds()
        result = yield self.start("true")
        self.assertIsInstance(result, JobResult)
        self.assertEqual((result.state, result.exit_status), (EXIT, 0))
        self.assertEqual((result.stdout, result.stderr), (b"", b""))
        self.assertIsNone(result.term_signal)
        self.assertEqual(result.hostname, "localhost")
        self.assertEqual(result.job_id, 1)
        self.assertIsNotNone(result.pid)
        self.assertTrue(before <= result.started <= result.ended)
        self.assertAlmostEqual(result.dtime, result.ended - result.started)
        self.assertEqual(self.runner.running(), 0)

    @defer.inlineCallbacks
    def test_false(self):
        """
        C{false} exits 1.
        """
        result = yield self.start("false")
        self.assertEqual((result.state, result.exit_status), (EXIT, 1))

    @defer.inlineCallbacks
    def test_output_and_status(self):
        """
        stdout and stderr are kept apart, with the exit code.
        """
        result = yield self.start("sh", "-c", "echo out; echo err >&2; exit 3")
        self.assertEqual((result.state, result.exit_status), (EXIT, 3))
        self.assertEqual(result.stdout, b"out\n")
        self.assertEqual(result.stderr, b"err\n")
        self.assertFalse(result.truncated_stdout or result.truncated_stderr)

    @defer.inlineCallbacks
    def test_crash(self):
        """
        A job ended by a signal it did not get from us is a CRASH, with the
        signal number as status.
        """
        result = yield self.start("sh", "-c", "echo before; kill -USR1 $$")
        self.assertEqual(result.state, CRASH)
        self.assertEqual(result.exit_status, signal.SIGUSR1)
        self.assertEqual(result.term_signal, signal.SIGUSR1)
        self.assertEqual(result.stdout, b"before\n")

    @defer.inlineCallbacks
    def test_not_found(self):
        """
        A command not in PATH is a SPAWNFAIL with status 127 and one clear
        line in stderr (and in the stderr file); nothing is spawned, and the
        Deferred does not fire before C{start} returns.
        """
        d = self.start("pantasks-no-such-command", "x", stderr_path=self.path("err"))
        self.assertFalse(d.called)
        self.assertEqual(self.runner.running(), 0)
        result = yield d
        self.assertEqual((result.state, result.exit_status), (SPAWNFAIL, 127))
        line = b"pantasks: cannot run 'pantasks-no-such-command': No such file or directory\n"
        self.assertEqual(result.stderr, line)
        self.assertIsNone(result.pid)
        with open(self.path("err"), "rb") as f:
            self.assertEqual(f.read(), line)

    @defer.inlineCallbacks
    def test_not_executable(self):
        """
        A file that is not executable is a SPAWNFAIL with status 126.
        """
        script = self.path("noexec")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        result = yield self.start(script)
        self.assertEqual((result.state, result.exit_status), (SPAWNFAIL, 126))
        self.assertIn(b"Permission denied", result.stderr)

    @defer.inlineCallbacks
    def test_option_like_command(self):
        """
        A command named like an option is looked up as a command, never
        taken as an option of a wrapper.
        """
        result = yield self.start("-h")
        self.assertEqual((result.state, result.exit_status), (SPAWNFAIL, 127))
        result = yield self.start("echo", "-h", "--", "-n")
        self.assertEqual(result.stdout, b"-h -- -n\n")

    @defer.inlineCallbacks
    def test_empty_argv(self):
        """
        An empty command is a SPAWNFAIL, not an exception.
        """
        result = yield self.start()
        self.assertEqual(result.state, SPAWNFAIL)
        self.assertIn(b"empty command", result.stderr)

    @defer.inlineCallbacks
    def test_argv0_kept(self):
        """
        The job sees C{argv} exactly as given (no shell, C{argv[0]} not
        replaced by its full path).
        """
        result = yield self.start("cat", "/proc/self/cmdline")
        self.assertEqual(result.stdout, b"cat\0/proc/self/cmdline\0")
        result = yield self.start("echo", "$HOME", "a  b", "'q'", ";", "|")
        self.assertEqual(result.stdout, b"$HOME a  b 'q' ; |\n")

    @defer.inlineCallbacks
    def test_script_in_env_path(self):
        """
        The command is found through the job's own PATH.
        """
        script = self.path("myjob")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho ran $FOO\n")
        os.chmod(script, 0o755)
        env = {"PATH": self.tmp + ":/usr/bin:/bin", "FOO": "bar"}
        result = yield self.start("myjob", env=env)
        self.assertEqual((result.state, result.stdout), (EXIT, b"ran bar\n"))
        result = yield self.start("myjob", env={"PATH": "/usr/bin:/bin"})
        self.assertEqual((result.state, result.exit_status), (SPAWNFAIL, 127))

    @defer.inlineCallbacks
    def test_env_and_cwd(self):
        """
        The job gets the given environment and working directory.
        """
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FOO": "bar"}
        result = yield self.start(
            "sh", "-c", 'echo "$FOO"; pwd; echo "${HOME-unset}"', env=env, cwd=self.tmp
        )
        self.assertEqual(
            result.stdout, b"bar\n" + os.path.realpath(self.tmp).encode() + b"\nunset\n"
        )

    @defer.inlineCallbacks
    def test_missing_cwd(self):
        """
        A working directory that does not exist is a SPAWNFAIL.
        """
        result = yield self.start("true", cwd=self.path("nowhere"))
        self.assertEqual(result.state, SPAWNFAIL)
        self.assertIn(b"cannot change to directory", result.stderr)

    @defer.inlineCallbacks
    def test_stdin_is_devnull(self):
        """
        The job reads end-of-file from its stdin, never the server's.
        """
        result = yield self.start("sh", "-c", "cat; readlink /proc/self/fd/0")
        self.assertEqual((result.state, result.stdout), (EXIT, b"/dev/null\n"))

    @defer.inlineCallbacks
    def test_dump_files(self):
        """
        Output is appended to the dump files, both streams possibly to one.
        """
        both = self.path("both")
        with open(both, "wb") as f:
            f.write(b"old\n")
        result = yield self.start(
            "sh",
            "-c",
            "echo one; sleep 0.05; echo two >&2",
            stdout_path=both,
            stderr_path=both,
        )
        self.assertEqual(result.state, EXIT)
        with open(both, "rb") as f:
            self.assertEqual(f.read(), b"old\none\ntwo\n")
        out = self.path("out")
        result = yield self.start(
            "sh", "-c", "echo o; echo e >&2", stdout_path=out, stderr_path="NULL"
        )
        self.assertEqual(result.stderr, b"e\n")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"o\n")
        self.assertFalse(os.path.exists("NULL"))

    @defer.inlineCallbacks
    def test_dump_file_unwritable(self):
        """
        A dump file that cannot be opened is reported in C{messages}; the
        job runs anyway and its output is still harvested.
        """
        bad = self.path("no/such/dir/out")
        result = yield self.start("echo", "hi", stdout_path=bad)
        self.assertEqual((result.state, result.stdout), (EXIT, b"hi\n"))
        self.assertEqual(len(result.messages), 1)
        self.assertIn(f"unable to open stdout dump file {bad}", result.messages[0])

    @defer.inlineCallbacks
    def test_big_output_is_bounded(self):
        """
        A job printing ~50 MB with C{max_output_bytes} of 1 MiB: the result
        keeps the last MiB exactly, the file gets every byte, and no more
        than about 1 MiB per stream is ever held in memory.
        """
        self.runner.max_output_bytes = MiB
        n = 6500000
        out = self.path("big")
        result = yield self.start("seq", "1", str(n), stdout_path=out)
        size = seq_size(n)
        self.assertGreater(size, 50 * 10**6)
        self.assertEqual(result.state, EXIT)
        self.assertTrue(result.truncated_stdout)
        self.assertFalse(result.truncated_stderr)
        self.assertEqual(len(result.stdout), MiB)
        self.assertEqual(result.stdout, seq_tail(n, MiB))
        self.assertEqual(os.path.getsize(out), size)
        with open(out, "rb") as f:
            self.assertEqual(f.read(12), b"1\n2\n3\n4\n5\n6\n")
            f.seek(-MiB, os.SEEK_END)
            self.assertEqual(f.read(), result.stdout)
        self.assertLessEqual(self.runner.output_high_water, MiB + 65536)

    @defer.inlineCallbacks
    def test_process_group(self):
        """
        The job leads its own session and process group, and keeps the pid
        the runner reports.
        """
        result = yield self.start("cat", "/proc/self/stat")
        st = parse_stat_line(result.stdout)
        self.assertEqual(st["pid"], result.pid)
        self.assertEqual(st["pgrp"], result.pid)
        self.assertEqual(st["session"], result.pid)
        self.assertNotEqual(st["pgrp"], os.getpgrp())

    @defer.inlineCallbacks
    def test_nice(self):
        """
        The nice level is set before the job starts, so the processes it
        forks have it too.
        """
        result = yield self.start("sh", "-c", "cat /proc/self/stat; true", nice=10)
        self.assertEqual(result.state, EXIT)
        st = parse_stat_line(result.stdout)
        self.assertEqual(st["nice"], 10)
        self.assertNotEqual(st["pid"], result.pid)
        self.assertEqual(st["pgrp"], result.pid)
        result = yield self.start("cat", "/proc/self/stat")
        self.assertEqual(
            parse_stat_line(result.stdout)["nice"],
            os.getpriority(os.PRIO_PROCESS, 0),
        )

    @defer.inlineCallbacks
    def test_python_launcher_fallback(self):
        """
        Without setsid(1) the runner falls back to a Python launcher that
        does the same: own session, nice level, PATH lookup.
        """
        self.runner = LocalRunner(reactor, setsid=None)
        result = yield self.start("cat", "/proc/self/stat", nice=5)
        self.assertEqual(result.state, EXIT)
        st = parse_stat_line(result.stdout)
        self.assertEqual(
            (st["pid"], st["pgrp"], st["session"], st["nice"]),
            (result.pid, result.pid, result.pid, 5),
        )

    @defer.inlineCallbacks
    def test_timeout_harvests_output(self):
        """
        A job past its timeout gets SIGTERM; the result is TIMEOUT with the
        output printed so far.
        """
        result = yield self.start(
            "sh", "-c", "echo partial; echo e >&2; exec sleep 60", timeout=0.3
        )
        self.assertEqual(result.state, TIMEOUT)
        self.assertEqual(result.term_signal, signal.SIGTERM)
        self.assertEqual((result.stdout, result.stderr), (b"partial\n", b"e\n"))
        self.assertTrue(0.3 <= result.dtime < 5)

    @defer.inlineCallbacks
    def test_timeout_term_ignored(self):
        """
        A job (and its children) ignoring SIGTERM get SIGKILL
        C{kill_grace} seconds later; nothing of the group survives.
        """
        d = self.start("sh", "-c", "trap '' TERM; sleep 60 & echo hi; sleep 61", timeout=0.3)
        pid = self.groups[-1]
        result = yield d
        self.assertEqual(result.state, TIMEOUT)
        self.assertEqual(result.term_signal, signal.SIGKILL)
        self.assertEqual(result.stdout, b"hi\n")
        self.assertTrue(0.8 <= result.dtime < 5, result.dtime)
        left = yield survivors(pid)
        self.assertEqual(left, [])

    @defer.inlineCallbacks
    def test_timeout_kills_whole_tree(self):
        """
        When the job itself dies of SIGTERM but left children that ignore
        it, they are killed at once (not after C{kill_grace}): no process
        of the tree survives.
        """
        self.runner.kill_grace = 30
        d = self.start(
            "sh",
            "-c",
            "(trap '' TERM; sleep 60; echo never) & (trap '' TERM; exec sleep 61) & "
            "echo started; wait",
            timeout=1.0,
        )
        pid = self.groups[-1]
        yield task.deferLater(reactor, 0.5, lambda: None)
        members = group_members(pid)
        self.assertGreaterEqual(len(members), 4, members)
        result = yield d
        self.assertEqual(result.state, TIMEOUT)
        self.assertEqual(result.stdout, b"started\n")
        self.assertLess(result.dtime, 5)
        left = yield survivors(pid, members)
        self.assertEqual(left, [])

    @defer.inlineCallbacks
    def test_kill(self):
        """
        C{kill} ends a running job (KILLED); unknown jobs give C{False}.
        """
        d = self.start("sleep", "60", job_id=7)
        self.assertEqual(self.runner.running(), 1)
        yield task.deferLater(reactor, 0.1, lambda: None)
        self.assertFalse(self.runner.kill(8))
        self.assertTrue(self.runner.kill(7))
        self.assertTrue(self.runner.kill(7))
        result = yield d
        self.assertEqual((result.job_id, result.state), (7, KILLED))
        self.assertEqual(result.exit_status, signal.SIGTERM)
        self.assertLess(result.dtime, 5)
        self.assertFalse(self.runner.kill(7))
        self.assertEqual(self.runner.running(), 0)

    @defer.inlineCallbacks
    def test_kill_at_once(self):
        """
        A kill right after the start (maybe before the child reached
        setsid) still ends the job.
        """
        d = self.start("sleep", "60")
        self.assertTrue(self.runner.kill(1))
        result = yield d
        self.assertEqual(result.state, KILLED)
        self.assertLess(result.dtime, 5)

    @defer.inlineCallbacks
    def test_timeout_then_kill(self):
        """
        A job killed while its timeout kill is under way stays TIMEOUT.
        """
        d = self.start("sh", "-c", "trap '' TERM; sleep 60", timeout=0.1)
        yield task.deferLater(reactor, 0.3, lambda: None)
        self.assertTrue(self.runner.kill(1))
        result = yield d
        self.assertEqual(result.state, TIMEOUT)

    @defer.inlineCallbacks
    def test_leftover_holding_pipes(self):
        """
        A job that exits leaving a background process holding its output is
        harvested C{drain_grace} seconds after it exits, with a message.
        """
        self.runner.drain_grace = 0.2
        result = yield self.start("sh", "-c", "sleep 30 & echo bg")
        self.assertEqual((result.state, result.exit_status), (EXIT, 0))
        self.assertEqual(result.stdout, b"bg\n")
        self.assertLess(result.dtime, 3)
        self.assertIn("kept its output open", result.messages[0])

    @defer.inlineCallbacks
    def test_reactor_stall(self):
        """
        A reactor turn that outlasts a job's timeout (here a sleep in the
        reactor thread) does not turn an exit that came in time into a
        TIMEOUT, though the timer runs before SIGCHLD is seen; and no output
        is lost.  (The drain side of stalls: L{KillSequenceTests}.)
        """
        self.runner.drain_grace = 0.1
        ds = [self.start("echo", "job %d" % i, job_id=i) for i in range(20)]
        ds.append(self.start("sh", "-c", "echo in time", job_id=20, timeout=0.2))
        time.sleep(0.6)
        results = yield defer.gatherResults(ds)
        self.assertEqual(
            [r.stdout for r in results],
            [b"job %d\n" % i for i in range(20)] + [b"in time\n"],
        )
        self.assertEqual([r.state for r in results], [EXIT] * 21)
        self.assertEqual([r.messages for r in results], [[]] * 21)

    @defer.inlineCallbacks
    def test_stop_now(self):
        """
        C{stop(now=True)} kills every job and fires when all are harvested.
        """
        ds = [self.start("sleep", "60", job_id=i) for i in range(3)]
        self.assertEqual(self.runner.running(), 3)
        yield self.runner.stop(now=True)
        self.assertEqual(self.runner.running(), 0)
        results = yield defer.gatherResults(ds)
        self.assertEqual([r.state for r in results], [KILLED] * 3)

    @defer.inlineCallbacks
    def test_stop_waits(self):
        """
        C{stop(now=False)} lets jobs finish; jobs started meanwhile fail to
        spawn; afterwards the runner takes jobs again.
        """
        d1 = self.start("sh", "-c", "sleep 0.2; echo done", job_id=1)
        stopped = self.runner.stop(now=False)
        self.assertFalse(stopped.called)
        refused = yield self.start("true", job_id=2)
        self.assertEqual(refused.state, SPAWNFAIL)
        self.assertIn(b"stopping", refused.stderr)
        yield stopped
        result = yield d1
        self.assertEqual((result.state, result.stdout), (EXIT, b"done\n"))
        result = yield self.start("true", job_id=3)
        self.assertEqual(result.state, EXIT)

    @defer.inlineCallbacks
    def test_stop_idle(self):
        """
        C{stop} with nothing running fires at once.
        """
        d = self.runner.stop(now=False)
        self.assertTrue(d.called)
        yield d

    def test_duplicate_job_id(self):
        """
        Starting a job id that is running is a programming error.
        """
        d = self.start("sleep", "60", job_id=5)
        self.assertRaises(ValueError, self.runner.start, JobSpec(5, ["true"]))
        self.runner.kill(5)
        return d

    @defer.inlineCallbacks
    def test_many_concurrent(self):
        """
        200 short jobs at once are all harvested, each with its own output.
        """
        ds = [self.start("echo", "job %d" % i, job_id=i) for i in range(200)]
        results = yield defer.gatherResults(ds)
        self.assertEqual([r.state for r in results], [EXIT] * 200)
        self.assertEqual([r.job_id for r in results], list(range(200)))
        self.assertEqual([r.stdout for r in results], [b"job %d\n" % i for i in range(200)])
        self.assertEqual(self.runner.running(), 0)


class _FakeReader:
    """A pipe reader of L{_FakeTransport}: a real non-blocking pipe."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)

    def fileno(self) -> int:
        return self.r

    def close(self) -> None:
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass


class _FakeTransport:
    """What C{spawnProcess} returns in L{FakeProcessReactor}."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.signals: list[int] = []
        self.closed: list[int] = []
        self.pipes = {1: _FakeReader(), 2: _FakeReader()}

    def signalProcess(self, sig) -> None:
        self.signals.append(sig)

    def closeStdout(self) -> None:
        self.closed.append(1)

    def closeStderr(self) -> None:
        self.closed.append(2)

    def release(self) -> None:
        for reader in self.pipes.values():
            reader.close()


class FakeProcessReactor(MemoryReactorClock):
    """
    A clock with a C{spawnProcess} that records calls and starts nothing
    (in the manner of C{DummyProcessReactor} of Twisted's procmon tests).
    """

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.error = error
        self.spawned: list[tuple] = []
        self.transports: list[_FakeTransport] = []

    def spawnProcess(
        self,
        proto,
        executable,
        args=(),
        env=None,
        path=None,
        uid=None,
        gid=None,
        usePTY=0,
        childFDs=None,
    ):
        if self.error is not None:
            raise self.error
        transport = _FakeTransport(4242 + len(self.spawned))
        self.transports.append(transport)
        self.spawned.append((proto, executable, list(args), env, path, childFDs))
        proto.makeConnection(transport)
        return transport


class KillSequenceTests(unittest.TestCase):
    """
    The timeout and kill sequence, step by step on a clock, with no real
    process: C{killpg} is recorded instead of sent.
    """

    def setUp(self) -> None:
        self.reactor = FakeProcessReactor()
        self.sent: list[tuple[int, int]] = []
        self.runner = LocalRunner(self.reactor, kill_grace=5.0, drain_grace=1.0, killpg=self.killpg)
        self.results: list[JobResult] = []

    def tearDown(self) -> None:
        for transport in self.reactor.transports:
            transport.release()
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def killpg(self, pgid: int, sig: int) -> None:
        self.sent.append((pgid, sig))

    def start(self, **kw) -> tuple:
        d = self.runner.start(JobSpec(1, ["sleep", "60"], **kw))
        d.addCallback(self.results.append)
        proto = self.reactor.spawned[-1][0]
        return proto, proto.transport

    def test_command_line(self):
        """
        The job is spawned through setsid (and nice), its argv unchanged,
        with stdin on /dev/null and both outputs piped.
        """
        self.runner._setsid, self.runner._nice = "/x/setsid", "/x/nice"
        self.start()
        _, executable, args, env, path, fds = self.reactor.spawned[-1]
        self.assertEqual(executable, "/x/setsid")
        self.assertEqual(args, ["/x/setsid", "--", "sleep", "60"])
        self.assertEqual((fds[1], fds[2]), ("r", "r"))
        self.assertEqual(os.readlink(f"/proc/self/fd/{fds[0]}"), "/dev/null")
        # The server's environment plus the tag of the job's process tree.
        self.assertEqual(env, dict(os.environ, PANTASKS_TREE=f"{os.getpid()}:job1"))
        self.runner.kill(1)
        self.reactor.advance(5)

    def test_nice_command_line(self):
        """
        The nice level is absolute: nice(1) gets the difference from ours.
        """
        self.runner._setsid, self.runner._nice = "/x/setsid", "/x/nice"
        self.runner.start(JobSpec(2, ["sleep", "b"], nice=7))
        args = self.reactor.spawned[-1][2]
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        self.assertEqual(
            args, ["/x/setsid", "--", "/x/nice", "-n", str(7 - ours), "--", "sleep", "b"]
        )
        self.runner.kill(2)
        self.reactor.advance(5)

    def test_timeout_sequence(self):
        """
        At the timeout the group gets SIGTERM, C{kill_grace} later SIGKILL;
        the result is TIMEOUT and no delayed call is left.
        """
        proto, transport = self.start(timeout=10)
        self.reactor.advance(9.9)
        self.assertEqual(self.sent, [])
        self.reactor.advance(0.1)
        self.assertEqual(self.sent, [(4242, signal.SIGTERM)])
        self.reactor.advance(4.9)
        self.assertEqual(len(self.sent), 1)
        self.reactor.advance(0.1)
        self.assertEqual(self.sent[-1], (4242, signal.SIGKILL))
        proto.outReceived(b"late output\n")
        reason = Failure(ProcessTerminated(signal=signal.SIGKILL))
        proto.processExited(reason)
        proto.processEnded(reason)
        [result] = self.results
        self.assertEqual(result.state, TIMEOUT)
        self.assertEqual(result.exit_status, signal.SIGKILL)
        self.assertEqual(result.stdout, b"late output\n")
        self.assertEqual(result.dtime, 15.0)

    def test_exit_cancels_timeout(self):
        """
        A job ending before its timeout leaves no delayed call.
        """
        proto, _ = self.start(timeout=10)
        self.reactor.advance(1)
        reason = Failure(ProcessDone(0))
        proto.processExited(reason)
        proto.processEnded(reason)
        self.assertEqual(self.results[0].state, EXIT)
        self.assertEqual(self.results[0].dtime, 1.0)
        self.assertEqual(self.sent, [])

    def test_leader_exit_during_kill(self):
        """
        When the job's process dies during the grace period, the rest of
        its group gets SIGKILL at once and the KILL timer is cancelled.
        """
        proto, _ = self.start()
        self.runner.kill(1)
        self.reactor.advance(1)
        reason = Failure(ProcessTerminated(signal=signal.SIGTERM))
        proto.processExited(reason)
        self.assertEqual(self.sent, [(4242, signal.SIGTERM), (4242, signal.SIGKILL)])
        proto.processEnded(reason)
        self.assertEqual(self.results[0].state, KILLED)

    def test_drain_grace(self):
        """
        If the pipes stay open after the job exits, what they hold is read
        and they are closed C{drain_grace} seconds later, with a message.
        """
        proto, transport = self.start()
        os.write(transport.pipes[1].w, b"unread\n")
        proto.processExited(Failure(ProcessDone(0)))
        self.reactor.advance(0.9)
        self.assertEqual(transport.closed, [])
        self.reactor.advance(0.1)
        self.assertEqual(transport.closed, [1, 2])
        proto.processEnded(Failure(ProcessDone(0)))
        [result] = self.results
        self.assertEqual((result.state, result.stdout), (EXIT, b"unread\n"))
        self.assertEqual(len(result.messages), 1)
        self.assertIn("kept its output open", result.messages[0])

    def test_drain_reads_to_eof(self):
        """
        Pipes the reactor had no turn to read when the drain grace expired
        (timers run before I/O) are read to their end: nothing is lost and
        there is no message.
        """
        proto, transport = self.start()
        os.write(transport.pipes[1].w, b"out\n" * 10000)
        os.write(transport.pipes[2].w, b"err\n")
        os.close(transport.pipes[1].w)
        os.close(transport.pipes[2].w)
        proto.processExited(Failure(ProcessDone(0)))
        self.reactor.advance(1.0)
        proto.processEnded(Failure(ProcessDone(0)))
        [result] = self.results
        self.assertEqual(result.stdout, b"out\n" * 10000)
        self.assertEqual(result.stderr, b"err\n")
        self.assertEqual(result.messages, [])

    def test_no_group_falls_back_to_pid(self):
        """
        If the group does not exist (yet), the job's own process is signalled.
        """

        def nogroup(pgid, sig):
            raise ProcessLookupError(errno.ESRCH, "No such process")

        self.runner._killpg = nogroup
        proto, transport = self.start()
        self.runner.kill(1)
        self.assertEqual(transport.signals, [signal.SIGTERM])
        self.reactor.advance(5)
        self.assertEqual(transport.signals, [signal.SIGTERM, signal.SIGKILL])
        reason = Failure(ProcessTerminated(signal=signal.SIGKILL))
        proto.processExited(reason)
        proto.processEnded(reason)

    def test_spawn_error(self):
        """
        An OSError from spawnProcess (out of file descriptors, processes)
        is a SPAWNFAIL result, never an exception; dump files are closed.
        """
        self.reactor.error = OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        tmp = tempfile.mkdtemp(prefix="pantasks-exec-")
        err = os.path.join(tmp, "err")
        d = self.runner.start(JobSpec(3, ["sleep", "1"], stderr_path=err))
        d.addCallback(self.results.append)
        self.assertEqual(self.results, [])
        self.reactor.advance(0)
        [result] = self.results
        self.assertEqual(result.state, SPAWNFAIL)
        self.assertEqual(result.exit_status, 126)
        self.assertRegex(result.stderr, rb"^pantasks: cannot run 'sleep': Too many open files "
                                        rb"\(the server has \d+ of its \d+ open files in use; "
                                        rb"raise the limit, see pantasks_server\(8\)\)\n$")
        with open(err, "rb") as f:
            self.assertEqual(f.read(), result.stderr)
        self.assertEqual(self.runner.running(), 0)

    def test_unexpected_spawn_error(self):
        """
        Any other exception from spawnProcess is logged and reported as a
        SPAWNFAIL too.
        """
        self.reactor.error = TypeError("bad env")
        d = self.runner.start(JobSpec(3, ["sleep", "1"]))
        d.addCallback(self.results.append)
        self.reactor.advance(0)
        self.assertEqual(self.results[0].state, SPAWNFAIL)
        self.assertIn(b"bad env", self.results[0].stderr)
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)


class TailBufferTests(unittest.SynchronousTestCase):
    """
    L{TailBuffer} keeps the last bytes, in bounded memory.
    """

    def test_small(self):
        b = TailBuffer(10)
        b.write(b"abc")
        b.write(b"")
        b.write(b"def")
        self.assertEqual((b.getvalue(), b.truncated, b.total), (b"abcdef", False, 6))

    def test_tail(self):
        b = TailBuffer(10)
        for chunk in (b"0123", b"4567", b"89ab", b"cdef"):
            b.write(chunk)
        self.assertEqual(b.getvalue(), b"6789abcdef")
        self.assertTrue(b.truncated)
        self.assertEqual(b.total, 16)

    def test_exact_limit(self):
        b = TailBuffer(8)
        b.write(b"0123")
        b.write(b"4567")
        self.assertEqual((b.getvalue(), b.truncated), (b"01234567", False))

    def test_huge_chunk(self):
        b = TailBuffer(4)
        b.write(b"xy")
        b.write(b"0123456789")
        self.assertEqual((b.getvalue(), b.truncated, b.held), (b"6789", True, 4))

    def test_zero(self):
        b = TailBuffer(0)
        b.write(b"abc")
        self.assertEqual((b.getvalue(), b.truncated), (b"", True))

    def test_memory_bound(self):
        """
        Writing 50 MB in 8 KiB chunks never holds more than limit + chunk.
        """
        b = TailBuffer(MiB)
        chunk = bytes(range(256)) * 32
        for _ in range(50 * 10**6 // len(chunk)):
            b.write(chunk)
        self.assertLessEqual(b.peak_held, MiB + len(chunk))
        self.assertEqual(len(b.getvalue()), MiB)


class ResolveCommandTests(unittest.SynchronousTestCase):
    """
    L{resolve_command} finds what execvp would run.
    """

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="pantasks-exec-")
        self.exe = os.path.join(self.tmp, "prog")
        with open(self.exe, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(self.exe, 0o755)
        self.plain = os.path.join(self.tmp, "plain")
        open(self.plain, "w").close()
        os.mkdir(os.path.join(self.tmp, "dir"))

    def test_in_path(self):
        self.assertEqual(resolve_command("prog", "/nonexistent:" + self.tmp), (self.exe, 0))

    def test_not_found(self):
        self.assertEqual(resolve_command("prog", "/nonexistent"), (None, errno.ENOENT))
        self.assertEqual(resolve_command("", self.tmp), (None, errno.ENOENT))

    def test_not_executable(self):
        self.assertEqual(resolve_command("plain", self.tmp), (None, errno.EACCES))
        self.assertEqual(resolve_command("dir", self.tmp), (None, errno.EACCES))

    def test_later_entry_wins_over_unusable(self):
        other = tempfile.mkdtemp(prefix="pantasks-exec-")
        good = os.path.join(other, "plain")
        with open(good, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(good, stat.S_IRWXU)
        self.assertEqual(resolve_command("plain", f"{self.tmp}:{other}"), (good, 0))

    def test_slash(self):
        self.assertEqual(resolve_command(self.exe, "/nonexistent"), (self.exe, 0))
        self.assertEqual(resolve_command("./prog", "", cwd=self.tmp), ("./prog", 0))
        self.assertEqual(resolve_command("./prog", ""), (None, errno.ENOENT))

    def test_empty_entry_is_cwd(self):
        self.assertEqual(resolve_command("prog", "/nonexistent:", cwd=self.tmp), ("prog", 0))

    def test_default_path(self):
        self.assertEqual(resolve_command("sh", None)[1], 0)


class NofileLimitTests(unittest.SynchronousTestCase):
    def test_raise(self):
        """
        L{raise_nofile_limit} lifts the soft limit to the hard one.
        """
        old = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, old)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, old[1]), old[1]))
        soft, hard = raise_nofile_limit()
        self.assertEqual((soft, hard), resource.getrlimit(resource.RLIMIT_NOFILE))
        self.assertEqual(hard, old[1])
        if hard != resource.RLIM_INFINITY:
            self.assertEqual(soft, hard)
        else:
            self.assertGreater(soft, 256)


if sys.platform != "linux":  # pragma: no cover
    LocalRunnerTests.skip = "needs Linux /proc"
