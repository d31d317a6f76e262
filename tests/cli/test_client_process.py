# -*- test-case-name: tests.cli.test_client_process -*-
"""The real C{pantasks_client} program, driven through a terminal
(pexpect) and through pipes, against the fake server in its own process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Iterator

import pexpect
import pytest

from tests.cli.helpers import PROMPT, ServerProcess, free_port, run, spawn

PASSWORD = "s3cret"


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess([sys.executable, "-m", "tests.cli.fakeserver", "--password", PASSWORD],
                      env, tmp_path, PASSWORD)
    yield s
    s.stop()


def test_interactive_session(server: ServerProcess, env: dict[str, str], tmp_path: Path) -> None:
    child = spawn(server.args(), env, tmp_path)
    child.expect(f"connected to 127.0.0.1:{server.port} as pantasks \\(control\\)")
    child.expect_exact(PROMPT)
    # a client-side variable
    child.sendline("$x = 5; echo $x")
    child.expect_exact("5\r\n")
    child.expect_exact(PROMPT)
    # a forwarded command
    child.sendline("status")
    child.expect_exact("Scheduler is stopped")
    child.expect_exact(PROMPT)
    # server $VAR = x reaches the server unexpanded
    child.sendline("server $LABEL = new")
    child.expect_exact(PROMPT)
    child.sendline("server echo label=$LABEL")
    child.expect_exact("label=new")
    child.expect_exact(PROMPT)
    # a task block, typed over several lines, sent with MORE
    child.sendline("task t1")
    child.expect_exact("> ")
    child.sendline("command echo $options:0")
    child.expect_exact("> ")
    child.sendline("end")
    child.expect_exact(PROMPT)
    child.sendline("received")
    child.expect_exact("$LABEL = new\r\necho label=$LABEL\r\n"
                       "task t1\r\ncommand echo $options:0\r\nend")
    child.expect_exact(PROMPT)
    child.sendline("status -tasks")
    child.expect(r"  \+- t1 ")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert server.proc.poll() is None, "quit must leave the server running"
    assert (tmp_path / ".pantasks").exists(), "history saved in $HISTORY"


def test_lost_connection_and_reconnect(server: ServerProcess, env: dict[str, str],
                                       tmp_path: Path) -> None:
    child = spawn(server.args(), env, tmp_path)
    child.expect_exact(PROMPT)
    child.sendline("crash")
    child.expect_exact(f"connection to 127.0.0.1:{server.port} lost; type 'connect' to reconnect")
    child.expect_exact(PROMPT)
    child.sendline("status")
    child.expect_exact("status: not connected to a pantasks server (type 'connect')")
    child.sendline("connect")
    child.expect_exact(f"connected to 127.0.0.1:{server.port}")
    child.sendline("status")
    child.expect_exact("Scheduler is stopped")
    child.expect_exact(PROMPT)
    child.sendline("exit 7")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 7


def test_wrong_password(server: ServerProcess, env: dict[str, str], tmp_path: Path) -> None:
    r = run(server.args("wrong"), env, tmp_path, "status\n")
    assert r.returncode == 4
    assert r.stdout == ""
    assert r.stderr == (f"pantasks_client: 127.0.0.1:{server.port}: authentication failed "
                        "(user pantasks; check PASSWORD)\n")


def test_wrong_password_at_a_terminal(server: ServerProcess, env: dict[str, str],
                                      tmp_path: Path) -> None:
    child = spawn(server.args("wrong"), env, tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 4
    assert child.before.strip().count("\n") == 0
    assert "authentication failed" in child.before


def test_unreachable_server(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    r = run(["-D", "PANTASKS_SERVER", "127.0.0.1", "-D", "PANTASKS_SERVER_PORT",
             f"{port}:{port}"], env, tmp_path, "status\n")
    assert r.returncode == 3
    assert r.stdout == ""
    assert r.stderr == f"pantasks_client: 127.0.0.1:{port} refused connection\n"


def test_piped_stdin(server: ServerProcess, env: dict[str, str], tmp_path: Path) -> None:
    r = run(server.args(), env, tmp_path, "status\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "\n Scheduler is stopped\n Controller is stopped\n" \
        "\n Task Status\n  AV Name  Nrun  Njobs  Ngood Nfail Ntime Command\n"
    # Piped, the connection is announced on stderr: stdout stays clean.
    assert r.stderr == f"connected to 127.0.0.1:{server.port} as pantasks (control)\n"


def test_piped_script_with_a_block_and_a_failure(server: ServerProcess, env: dict[str, str],
                                                 tmp_path: Path) -> None:
    text = "$n = 2\ntask t$n\ncommand true\nend\nnosuch\necho after\nreceived\n"
    r = run(server.args(), env, tmp_path, text)
    assert r.returncode == 1, "a failed command makes the exit status 1"
    assert r.stdout == "after\ntask t2\ncommand true\nend\nnosuch\n"
    assert r.stderr.splitlines()[1:] == ["nosuch: Command not found."]


def test_piped_shutdown(server: ServerProcess, env: dict[str, str], tmp_path: Path) -> None:
    r = run(server.args(), env, tmp_path, "shutdown\nstatus\n")
    assert r.returncode == 1  # the status after it failed: not connected
    assert r.stderr == (
        f"connected to 127.0.0.1:{server.port} as pantasks (control)\n"
        f"pantasks_client: the server at 127.0.0.1:{server.port} is shutting down; "
        "disconnected\nstatus: not connected to a pantasks server (type 'connect')\n"
    )
    assert server.proc.wait(10) == 0


def test_script_argument(server: ServerProcess, env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "define.pro"
    script.write_text("task $argv:0\n  command echo hi\nend\nstatus -tasks\n")
    r = run(server.args() + [str(script), "t5"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "  +- t5 " in r.stdout


def test_help_and_bad_options(env: dict[str, str], tmp_path: Path) -> None:
    r = run(["--help"], env, tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("usage: pantasks_client [options]")
    assert "exit status:" in r.stdout
    r = run(["--bogus"], env, tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("pantasks_client: ")
    r = run(["-c", str(tmp_path / "missing.rc")], env, tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "missing.rc" in r.stderr


def test_ptolemy_rc_in_the_current_directory(server: ServerProcess, env: dict[str, str],
                                             tmp_path: Path) -> None:
    (tmp_path / "ptolemy.rc").write_text(
        f"PANTASKS_SERVER 127.0.0.1\nPANTASKS_SERVER_PORT {server.port}:{server.port}\n"
        f"PASSWORD {PASSWORD}\n")
    r = run([], env, tmp_path, "echo local; status\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("local\n\n Scheduler is stopped\n")


@pytest.mark.skipif(shutil.which("true") is None, reason="no /bin/true")
def test_local_exec_runs_in_the_client(server: ServerProcess, env: dict[str, str],
                                       tmp_path: Path) -> None:
    r = run(server.args(), env, tmp_path, "exec echo from-client\n$v = `echo bq`\necho $v\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "from-client\nbq\n"
