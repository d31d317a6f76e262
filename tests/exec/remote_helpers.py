"""Helpers shared by the agent and remote runner tests."""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import sys
import tempfile
from typing import Any, Callable

from twisted.internet import defer, reactor, task

from pantasks.exec.remote.runner import RemoteRunner
from pantasks.exec.remote.slot import IDLE, Slot

#: The agent of this virtualenv (installed as a console script).
AGENT = os.path.join(os.path.dirname(sys.executable), "pantasks_agent")

#: The agent's argv: the console script, or (in a virtualenv built before
#: it existed) the module run by this Python.
AGENT_ARGV = (
    [AGENT] if os.access(AGENT, os.X_OK) else [sys.executable, "-m", "pantasks.exec.remote.agent"]
)

#: The agents' ledger directory for this test run (not ~/.pantasks_agent).
STATE_DIR = tempfile.mkdtemp(prefix="pantasks-agent-state-")
atexit.register(shutil.rmtree, STATE_DIR, True)

#: The agent with its options, as a connect command ends.
AGENT_COMMAND = shlex.join(AGENT_ARGV + ["--state-dir", STATE_DIR])

#: Starts the agent directly, no SSH: for tests where SSH is not the point.
DIRECT = AGENT_COMMAND


def direct_runner(**kw: Any) -> RemoteRunner:
    """A runner whose slots run the agent as a local subprocess."""
    kw.setdefault("connect_command", DIRECT)
    kw.setdefault("kill_grace", 1.0)
    return RemoteRunner(reactor, **kw)


@defer.inlineCallbacks
def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll C{check} every 20 ms on the real reactor until it is true."""
    waited = 0.0
    while True:
        value = check()
        if value:
            return value
        if waited >= timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        yield task.deferLater(reactor, 0.02, lambda: None)
        waited += 0.02


def idle(slot: Slot, timeout: float = 60.0) -> defer.Deferred:
    """Wait until C{slot} is connected and idle."""
    return wait_for(lambda: slot.state == IDLE, timeout, f"{slot} to be IDLE ({slot.error})")


def pid_alive(pid: int) -> bool:
    """Whether C{pid} is a live, non-zombie process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(b")") + 2 :].split()[0] != b"Z"


def group_alive(pgid: int) -> bool:
    """Whether any live process is in process group C{pgid}."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False
