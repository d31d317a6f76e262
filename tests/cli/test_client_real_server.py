# -*- test-case-name: tests.cli.test_client_real_server -*-
"""End to end: the real C{pantasks_client} against the real
C{pantasks_server}, both as processes."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pexpect
import pytest

from tests.cli.helpers import PROMPT, ServerProcess, free_port, program, run, spawn

pytest.importorskip("pantasks.cli.server")

PASSWORD = "e2e-pw"


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[ServerProcess]:
    port = free_port()
    argv = program("pantasks_server", "pantasks.cli.server") + [
        "-D", "PANTASKS_SERVER_PORT", f"{port}:{port}", "-D", "PASSWORD", PASSWORD,
        "-D", "PANTASKS_SERVER_NAME", "e2e"]
    s = ServerProcess(argv, env, tmp_path, PASSWORD)
    yield s
    s.stop()


def test_session_against_the_real_server(server: ServerProcess, env: dict[str, str],
                                         tmp_path: Path) -> None:
    child = spawn(server.args(), env, tmp_path)
    child.expect_exact(f"connected to e2e at 127.0.0.1:{server.port} as pantasks (control)")
    child.expect_exact(PROMPT)
    child.sendline("$x = 5; echo x=$x")
    child.expect_exact("x=5\r\n")
    child.expect_exact(PROMPT)
    child.sendline("status")
    child.expect_exact("Scheduler is stopped")
    child.expect_exact(PROMPT)
    child.sendline("server $LABEL = new")
    child.expect_exact(PROMPT)
    child.sendline("server echo label=$LABEL")
    child.expect_exact("label=new")
    child.expect_exact(PROMPT)
    for line in ("task t1", "command true", "periods -exec 600", "end"):
        child.sendline(line)
    child.expect_exact(PROMPT)
    child.sendline("status -tasks")
    child.expect(r"  [+-][+-] t1 ")
    child.expect_exact(PROMPT)
    child.sendline("shutdown")
    child.expect_exact(f"shutdown: stop the server e2e at 127.0.0.1:{server.port} "
                       "(running jobs finish first)? [y/N] ")
    child.sendline("y")
    child.expect_exact(f"the server e2e at 127.0.0.1:{server.port} is shutting down; "
                       "disconnected")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert server.proc.wait(15) == 0


def test_piped_and_wrong_password(server: ServerProcess, env: dict[str, str],
                                  tmp_path: Path) -> None:
    r = run(server.args(), env, tmp_path, "echo here; server echo there\nnosuchcommand\n")
    assert r.returncode == 1
    assert r.stdout == "here\nthere\n"
    connected = f"connected to e2e at 127.0.0.1:{server.port} as pantasks (control)\n"
    assert r.stderr.startswith(connected)
    assert "nosuchcommand" in r.stderr and r.stderr.count("\n") == 2
    r = run(server.args("wrong"), env, tmp_path, "status\n")
    assert r.returncode == 4
    assert r.stderr == (f"pantasks_client: 127.0.0.1:{server.port}: authentication failed "
                        "(user pantasks; check PASSWORD)\n")
