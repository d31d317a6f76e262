# -*- test-case-name: tests.exec.test_contain -*-
"""Jobs stay contained: no descendant of a killed or timed-out job
survives, whether it called setsid, setpgid or daemonised; C{shutdown
now} leaves nothing; orphans re-parented to the server are reaped.

Real processes throughout, checked in C{/proc} (what C{ps} reads).  The
runner tests use the tag only (this test process is not made a
subreaper); the server tests run a real C{pantasks_server}, which is.
Every process is marked with a unique C{sleep} duration, so processes of
other tests and programs are never confused with ours.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from pantasks.exec.contain import (
    TAG_VARIABLE,
    Containment,
    descendants,
    process_table,
    tree_tag,
)
from pantasks.exec.interfaces import JobSpec
from pantasks.exec.local import LocalRunner
from pantasks.exec.result import KILLED, TIMEOUT

from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write

#: A token unique to this test run, put in every process's arguments.
RUN = f"{random.randrange(10**5, 10**6)}"


def marker(n: int) -> str:
    """A C{sleep} duration that names process C{n} of this run."""
    return f"31{n:02d}.{RUN}"


def live_with(token: str) -> list[tuple[int, int, str]]:
    """Live C{sleep} processes whose arguments hold C{token}: (pid, ppid,
    state)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        state = rest[0].decode()
        if (os.path.basename(argv[0]) == "sleep" and token in " ".join(argv[1:])
                and state not in ("Z", "X")):
            found.append((int(name), int(rest[1]), state))
    return found


def ps_lines(token: str) -> list[str]:
    """What C{ps} shows of the processes holding C{token} (zombies too)."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,stat,args"], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if token in line and "ps -eo" not in line]


def escaping_script(first: int) -> str:
    """A shell script whose descendants try every way out of the job's
    process group: setsid, setpgid, and a double-fork daemon."""
    a, b, c, d = (marker(first + i) for i in range(4))
    return (
        f"setsid sleep {a} &\n"
        f"{sys.executable} -c 'import os, time; os.setpgid(0, 0); "
        f"os.execvp(\"sleep\", [\"sleep\", \"{b}\"])' &\n"
        f"(setsid sh -c 'sleep {c} & exit 0' &)\n"
        f"sleep {d}\n"
    )


def cleanup(token: str) -> None:
    for pid, _ppid, _state in live_with(token):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# -- the helpers, on real processes -------------------------------------------


def test_table_descendants_and_tag() -> None:
    """The process table, the tree walk and the tag see real processes."""
    env = dict(os.environ, **{TAG_VARIABLE: f"{os.getpid()}:unit"})
    proc = subprocess.Popen(["sh", "-c", f"sleep {marker(1)} & wait"], env=env)
    try:
        deadline = time.monotonic() + 10
        while not live_with(marker(1)) and time.monotonic() < deadline:
            time.sleep(0.02)
        [(sleeper, parent, _state)] = live_with(marker(1))
        assert parent == proc.pid
        table = process_table()
        assert table[proc.pid][0] == os.getpid()
        assert sleeper in descendants(table, proc.pid)
        assert proc.pid in descendants(table, os.getpid())
        assert tree_tag(sleeper) == f"{os.getpid()}:unit"
        assert tree_tag(os.getpid()) is None
        c = Containment(subreaper=False)
        assert c.members("unit") == {proc.pid, sleeper}
        assert c.members("other") == set()
        # A pid that is not our child is never walked (it may be anyone's).
        assert c.members("other", root=1) == set()
        assert c.kill_tree("unit", root=proc.pid) == 1  # the root is its owner's
        assert proc.wait(10) == 0 or True
        assert live_with(marker(1)) == []
    finally:
        proc.kill()
        proc.wait()
        cleanup(marker(1))


# -- the runner ---------------------------------------------------------------------


class _RealProcesses(unittest.TestCase):
    """A runner on the real reactor, and waits on real processes."""

    def setUp(self) -> None:
        self.runner = LocalRunner(reactor, kill_grace=0.5, drain_grace=0.2)
        self.addCleanup(lambda: self.runner.stop(now=True))
        self.addCleanup(cleanup, RUN)

    @defer.inlineCallbacks
    def wait_for(self, tokens: list[str], timeout: float = 10.0):
        deadline = reactor.seconds() + timeout
        while reactor.seconds() < deadline:
            if all(live_with(t) for t in tokens):
                return
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.fail(f"not all started: {tokens} {ps_lines(RUN)}")

    @defer.inlineCallbacks
    def gone(self, tokens: list[str], patience: float = 3.0):
        deadline = reactor.seconds() + patience
        while True:
            left = [p for t in tokens for p in live_with(t)]
            if not left or reactor.seconds() > deadline:
                return left
            yield task.deferLater(reactor, 0.05, lambda: None)


class RunnerContainmentTests(_RealProcesses):
    """L{LocalRunner} ends the whole tree of a killed or timed-out job,
    found by its tag (no subreaper here)."""

    @defer.inlineCallbacks
    def test_kill_ends_every_descendant(self):
        tokens = [marker(10 + i) for i in range(4)]
        d = self.runner.start(JobSpec(1, ["sh", "-c", escaping_script(10)]))
        yield self.wait_for(tokens)
        self.assertTrue(self.runner.kill(1))
        result = yield d
        self.assertEqual(result.state, KILLED)
        left = yield self.gone(tokens)
        self.assertEqual(left, [], ps_lines(RUN))

    @defer.inlineCallbacks
    def test_timeout_ends_every_descendant(self):
        tokens = [marker(20 + i) for i in range(4)]
        d = self.runner.start(JobSpec(2, ["sh", "-c", escaping_script(20)], timeout=5))
        yield self.wait_for(tokens)
        result = yield d
        self.assertEqual(result.state, TIMEOUT)
        left = yield self.gone(tokens)
        self.assertEqual(left, [], ps_lines(RUN))

    @defer.inlineCallbacks
    def test_other_jobs_untouched(self):
        """Killing one job leaves another job's detached process alone."""
        mine, other = marker(30), marker(31)
        d1 = self.runner.start(JobSpec(3, ["sh", "-c", f"setsid sleep {mine} & sleep 60"]))
        d2 = self.runner.start(JobSpec(4, ["sh", "-c", f"setsid sleep {other} & sleep 60"]))
        yield self.wait_for([mine, other])
        self.runner.kill(3)
        yield d1
        left = yield self.gone([mine])
        self.assertEqual(left, [])
        self.assertNotEqual(live_with(other), [])
        self.runner.kill(4)
        yield d2
        left = yield self.gone([other])
        self.assertEqual(left, [])


class ExecContainmentTests(_RealProcesses):
    """The language's C{exec} timeout ends what the command detached
    (L{pantasks.lang.process} tags its trees with the installed
    containment, as the server installs its own)."""

    @defer.inlineCallbacks
    def test_exec_timeout_ends_every_descendant(self):
        from pantasks.exec import contain
        from pantasks.lang import process

        self.addCleanup(contain.install, process.trees)
        contain.install(Containment(subreaper=False))
        from pantasks.lang.context import CollectingSink
        from pantasks.lang.interp import Interpreter

        sink = CollectingSink()
        interp = Interpreter(reactor=reactor, log_sink=sink)
        ctx = interp.new_context(sink)
        script = Path(self.mktemp() + ".sh")
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(escaping_script(70))
        tokens = [marker(70 + i) for i in range(4)]
        d = interp.execute_text(ctx, f"exec -timeout 5 sh {script}", "x.pro")
        yield self.wait_for(tokens)
        status = yield d
        self.assertEqual(status, 0)
        self.assertIn("timeout on", sink.stderr())
        left = yield self.gone(tokens)
        self.assertEqual(left, [], ps_lines(RUN))


# -- a real server ------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    base = free_port_base()
    write(tmp_path / "ptolemy.rc",
          "# containment test server\nPASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {tmp_path}/server.out\n"
          f"PANTASKS_SERVER_STDERR {tmp_path}/server.err\n")
    write(tmp_path / "pantasks.conf", "[jobs]\nkill_grace = 1\n")
    srv = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                        tmp_path, clean_env(tmp_path))
    srv.dir = tmp_path  # type: ignore[attr-defined]
    try:
        srv.wait_port()
        yield srv
    finally:
        srv.stop(signal.SIGKILL)
        cleanup(RUN)


def _define(c: Conn, name: str, script: str, extra: list[str] = ()) -> None:
    (Path(c.dir) / f"{name}.sh").write_text(script)  # type: ignore[attr-defined]
    lines = [f"task {name}", f"command sh {c.dir}/{name}.sh", "periods -exec 0.2",  # type: ignore
             "nmax 1", *extra, "end"]
    for line in lines[:-1]:
        c.send(line + "\n")
        assert c.readline().startswith("MORE"), line
    assert c.ask(lines[-1])[1] == "STATUS 1"


def _wait(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _connect(server: ServerProcess) -> Conn:
    c = Conn(server.port)
    assert c.login() == "OK pantasks control"
    c.dir = str(server.dir)  # type: ignore[attr-defined]
    return c


def test_server_kill_and_timeout_leave_nothing(server: ServerProcess) -> None:
    c = _connect(server)
    # (the default timeout is 1 s, as in the original)
    _define(c, "tkill", escaping_script(40), ["periods -timeout 0"])
    _define(c, "ttime", escaping_script(50), ["periods -timeout 8"])
    kill_tokens = [marker(40 + i) for i in range(4)]
    time_tokens = [marker(50 + i) for i in range(4)]
    assert c.ask("run")[1] == "STATUS 1"
    assert _wait(lambda: all(live_with(t) for t in kill_tokens + time_tokens)), ps_lines(RUN)
    # Orphans of the daemonising branch now belong to the server (subreaper).
    daemon = live_with(marker(42))
    assert daemon and daemon[0][1] == server.proc.pid, ps_lines(RUN)
    lines, _ = c.ask("jobs")
    [job_id] = [m.group(1) for ln in lines for m in [re.search(r"(\d+): tkill ", ln)] if m]
    assert c.ask("stop")[1] == "STATUS 1"
    assert c.ask(f"kill {job_id}") == (["O job removed"], "STATUS 1")
    assert _wait(lambda: not any(live_with(t) for t in kill_tokens)), ps_lines(RUN)
    assert _wait(lambda: not any(live_with(t) for t in time_tokens)), ps_lines(RUN)
    # Nothing re-parented to the server stays a zombie.
    assert _wait(lambda: not [ln for ln in ps_lines(RUN) if " Z" in ln]), ps_lines(RUN)
    assert c.ask("echo alive") == (["O alive"], "STATUS 1")
    c.close()


def test_orphans_reaped_and_shutdown_now_leaves_nothing(server: ServerProcess) -> None:
    c = _connect(server)
    # A job that exits at once, leaving a daemon and short-lived orphans.
    _define(c, "tleave", f"(setsid sleep {marker(60)} &)\n(sleep 0.{RUN} &)\nexit 0\n")
    assert c.ask("run")[1] == "STATUS 1"
    assert _wait(lambda: live_with(marker(60))), ps_lines(RUN)
    # The short orphans exit and are reaped by the server: no zombie child.
    assert _wait(lambda: not [ln for ln in ps_lines(RUN) if " Z" in ln
                              and ln.split()[1] == str(server.proc.pid)]), ps_lines(RUN)
    assert c.ask("stop")[1] == "STATUS 1"
    # A client's exec and a backtick still running at shutdown.
    busy = _connect(server)
    busy.send(f"exec sleep {marker(61)}\n")
    other = _connect(server)
    other.send(f"$x = `sleep {marker(62)}`\n")
    assert _wait(lambda: live_with(marker(61)) and live_with(marker(62))), ps_lines(RUN)
    c.send("shutdown now\n")
    assert server.proc.wait(30) == 0
    assert _wait(lambda: not live_with(RUN), 10), ps_lines(RUN)
    for conn in (c, busy, other):
        conn.close()
