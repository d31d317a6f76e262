# -*- test-case-name: tests.sched.test_original_scripts -*-
"""A real engine (interpreter, scheduler, local process runner) on the
real reactor, for tests that run actual jobs.

Each test gets a fresh engine and a temporary directory; tear-down kills
whatever is left (C{shutdown now}) and trial then checks that no timer,
process or file descriptor of the reactor was left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any, Callable, Optional

from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from pantasks.engine import make_engine
from pantasks.lang.context import CollectingSink

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")


def proc_children(ppid: int) -> list[tuple[int, str, int]]:
    """The live child processes of C{ppid}: (pid, command line, nice)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        if fields[0] in (b"Z", b"X") or int(fields[1]) != ppid:
            continue
        found.append((int(name), cmdline, int(fields[16])))
    return found


def processes_matching(text: str) -> list[int]:
    """Pids of live processes whose command line contains C{text}."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rindex(b")") + 2:].split()[0] in (b"Z", b"X"):
            continue
        if text in cmdline:
            pids.append(int(name))
    return pids


class TimedReactor:
    """The real reactor, counting the time spent inside C{spawnProcess}.

    Starting a process blocks the caller until the child has exec'd; on a
    shared, loaded machine that alone can take several milliseconds, which
    says nothing about the scheduler.  Speed tests subtract it.

    @ivar spawn_seconds: total seconds spent in C{spawnProcess}.
    @ivar spawns: how many calls.
    """

    def __init__(self, real: Any) -> None:
        self._real = real
        self.spawn_seconds = 0.0
        self.spawns = 0

    def spawnProcess(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self._real.spawnProcess(*args, **kwargs)
        finally:
            self.spawn_seconds += time.perf_counter() - t0
            self.spawns += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def rss_kb() -> int:
    """This process's resident memory in kB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class EngineTestCase(unittest.TestCase):
    """Base class: C{self.engine}, C{self.sink}, C{self.dir} and helpers.

    @cvar kill_grace: seconds between SIGTERM and SIGKILL for the runner.
    """

    kill_grace = 0.5
    timeout = 60

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="pantasks-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sink = CollectingSink()
        self.reactor = TimedReactor(reactor)
        self.engine = make_engine(self.reactor, log_sink=self.sink, kill_grace=self.kill_grace)
        self.interp = self.engine.interp
        self.sched = self.engine.scheduler
        self.runner = self.engine.runner
        self.ctx = self.interp.new_context(self.sink)

    @defer.inlineCallbacks
    def tearDown(self) -> Any:
        yield self.sched.shutdown(now=True)
        yield self.runner.stop(True)

    # -- helpers ---------------------------------------------------------------
    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def execute(self, text: str) -> defer.Deferred:
        """Run script text; the Deferred fires with its status."""
        return self.interp.execute_text(self.ctx, text, "test")

    @defer.inlineCallbacks
    def load(self, script: str, **variables: Any) -> Any:
        """Set C{variables}, then C{input} the script; it must succeed
        without any message on stderr."""
        for key, value in variables.items():
            self.interp.variables[key] = str(value)
        status = yield self.execute(f'input "{os.path.join(SCRIPTS, script)}"')
        self.assertEqual(status, 1, self.sink.stderr())
        self.assertEqual(self.sink.stderr(), "")

    def wait(self, seconds: float) -> defer.Deferred:
        return deferLater(reactor, seconds, lambda: None)

    @defer.inlineCallbacks
    def until(self, cond: Callable[[], Any], timeout: float, step: float = 0.02) -> Any:
        """Wait until C{cond()} is true; fail after C{timeout} seconds."""
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                self.fail(f"condition not met in {timeout} s; log:\n{self.sink.stdout()}"
                          f"\n{self.sink.stderr()}")
            yield self.wait(step)

    @defer.inlineCallbacks
    def done(self) -> Any:
        """The original scripts' C{done}: stop, then wait for every job."""
        status = yield self.execute("stop")
        self.assertEqual(status, 1)
        yield self.sched.wait_idle()

    def var(self, name: str) -> Optional[str]:
        return self.interp.variables.get(name)

    def num(self, name: str) -> float:
        value = self.var(name)
        self.assertIsNotNone(value, f"variable {name} not set")
        return float(value)

    def lines(self, name: str) -> list[str]:
        try:
            with open(self.path(name)) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []
