# -*- test-case-name: tests.integration.test_seed_workflow -*-
"""The operators' workflow from the seed, end to end, with real processes:
a server (C{pantasks_server}, and C{twistd -n pantasks}), the real
C{pantasks_client} on a terminal, a macro file loaded by the server, a
task launching real jobs, a variable changed through a macro and through
C{server $VAR = x}, quit, reconnect to the same state, C{shutdown now}.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Iterator

import pexpect
import pytest

from tests.cli.helpers import PROMPT, spawn
from tests.net.procs import ServerProcess, clean_env, free_port_base, server_argv, twistd_argv

PASSWORD = "seed-secret"

MACROS = """\
# the pipeline's macro file, read by the server with `server input`
$LABEL = initial
macro set.label
  $LABEL = $1
  echo label set to $LABEL
end
macro pipeline.setup
  task ticker
    command echo tick
    periods -exec 0.2 -poll 0.2 -timeout 10
    task.exit 0
      $ticks ++
    end
  end
  $ticks = 0
  echo setup done
end
"""


@pytest.fixture(params=["pantasks_server", "twistd"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    base = free_port_base()
    (tmp_path / "ptolemy.rc").write_text(
        f"# seed workflow\nPASSWORD {PASSWORD}\nPANTASKS_SERVER_PORT {base}:{base + 20}\n")
    (tmp_path / "pipeline.pro").write_text(MACROS)
    if request.param == "twistd":
        argv = twistd_argv() + ["-n", "--pidfile=", "pantasks", "-c", "ptolemy.rc"]
    else:
        argv = server_argv() + ["-c", "ptolemy.rc"]
    proc = ServerProcess(argv, tmp_path, clean_env(tmp_path))
    try:
        proc.wait_port()
        yield proc
    finally:
        proc.stop(signal.SIGKILL)


def client(server: ServerProcess, tmp_path: Path) -> pexpect.spawn:
    env = clean_env(tmp_path)
    env["TERM"] = "dumb"
    child = spawn(["-D", "PANTASKS_SERVER", "127.0.0.1", "-D", "PANTASKS_SERVER_PORT",
                   f"{server.port}:{server.port}", "-D", "PASSWORD", PASSWORD], env, tmp_path)
    child.expect_exact(PROMPT)
    return child


def ask(child: pexpect.spawn, line: str, *expected: str) -> None:
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect_exact(PROMPT)


def test_seed_workflow(server: ServerProcess, tmp_path: Path) -> None:
    c = client(server, tmp_path)
    ask(c, "server input pipeline.pro")
    ask(c, "pipeline.setup", "setup done")
    ask(c, "run")
    ask(c, "status", "Scheduler is running", "ticker")
    # A server variable, changed through a macro and through `server $VAR = x`.
    ask(c, "set.label through-macro", "label set to through-macro")
    ask(c, "server $LABEL = through-server")
    ask(c, "server echo label=$LABEL", "label=through-server")
    ask(c, "$LABEL = client-side; echo $LABEL", "client-side")
    c.sendline("quit")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
    # Reconnect: the same state, and the task kept running meanwhile.
    c = client(server, tmp_path)
    ask(c, "server echo label=$LABEL", "label=through-server")
    c.sendline("server echo ticks=$ticks")
    c.expect(r"ticks=(\d+)")
    assert int(c.match.group(1)) >= 1
    c.expect_exact(PROMPT)
    ask(c, "status -tasks", "++ ticker")
    c.sendline("shutdown now")
    c.expect_exact("shutting down")
    c.expect_exact(PROMPT)
    c.sendline("quit")
    c.expect(pexpect.EOF)
    assert server.proc.wait(20) == 0
