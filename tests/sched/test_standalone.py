# -*- test-case-name: tests.sched.test_standalone -*-
"""The standalone C{pantasks} shell runs the scheduler in-process, and its
prompt stays responsive while jobs run (on a terminal, through pexpect).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time

import pexpect
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = "pantasks: "


@pytest.fixture
def shell():
    env = dict(os.environ, PYTHONPATH=ROOT, HOME=tempfile.mkdtemp(prefix="pantasks-home-"))
    child = pexpect.spawn(
        sys.executable, ["-c", "from pantasks.cli.shell import main; main(['--norc'])"],
        env=env, cwd=env["HOME"], encoding="utf-8", timeout=10,
    )
    child.expect_exact(PROMPT)
    yield child
    if child.isalive():
        child.sendline("quit")
        child.expect(pexpect.EOF, timeout=10)
    child.close()


def ask(child: pexpect.spawn, line: str, timeout: float = 5) -> tuple[str, float]:
    """Send one line; return its output and how long it took."""
    t0 = time.monotonic()
    child.sendline(line)
    child.expect_exact(PROMPT, timeout=timeout)
    return child.before, time.monotonic() - t0


def test_prompt_responsive_while_jobs_run(shell):
    for line in ("task busy", "command sleep 0.5", "periods -exec 0.02 -timeout 5",
                 "npending 20", "task.exit 0", "$n ++", "end", "end"):
        shell.sendline(line)
    shell.expect_exact(PROMPT)
    ask(shell, "$n = 0")
    ask(shell, "run")
    time.sleep(1.5)
    for i in range(20):
        out, _took = ask(shell, f"echo ping{i}")
        assert f"ping{i}" in out
        time.sleep(0.05)
    # Answered while jobs run: the job list still shows busy jobs.
    out, _ = ask(shell, "status")
    assert re.search(r"busy +BUSY", out), out
    out, _ = ask(shell, "echo $n")
    assert int(re.findall(r"^(\d+)\s*$", out, re.M)[-1]) >= 20
    out, _ = ask(shell, "status")
    assert " Scheduler is running" in out
    m = re.search(r"  \+\+ busy\s+(\d+)\s+(\d+)", out)
    # npending 20 caps what runs; a job may have just ended and its
    # successor not started yet, so this snapshot may show fewer (the exact
    # capping is tested on a fake clock in test_scheduler).
    assert m and 1 <= int(m.group(1)) <= 20, out
    assert len(re.findall(r"busy +BUSY", out)) == int(m.group(1)), out
    ask(shell, "stop")
    # While the prompt waits for a slow command, jobs are still harvested.
    before, _ = ask(shell, "echo $n")
    _, took = ask(shell, "sleep 1", timeout=5)
    assert took >= 0.9
    after, _ = ask(shell, "echo $n")
    n_before = int(re.findall(r"^(\d+)\s*$", before, re.M)[-1])
    n_after = int(re.findall(r"^(\d+)\s*$", after, re.M)[-1])
    assert n_after >= n_before + 15
