# -*- test-case-name: tests.cli.test_operator_tools -*-
"""The operator's tools as people use them (issue 9): nothing reached by
accident, the right server every time, honest exit codes, the messages.

Real programs only: C{pantasks_server} processes, the C{pantasks_client}
program on a terminal (pexpect) or a pipe, raw sockets as netcat."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import sys
from pathlib import Path
from typing import Iterator

import pexpect
import pytest

from pantasks import __version__
from tests.cli.helpers import PROMPT, ROOT, run, spawn
from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write

PASSWORD = "same-pw"


def start(directory: Path, name: str, port: int, *extra: str) -> ServerProcess:
    """A real server named C{name} on C{port} only, in C{directory}."""
    directory.mkdir(parents=True, exist_ok=True)
    argv = server_argv() + ["-D", "PASSWORD", PASSWORD, "-D", "PANTASKS_SERVER_PORT",
                            f"{port}:{port}", "-D", "PANTASKS_SERVER_NAME", name, *extra]
    server = ServerProcess(argv, directory, clean_env(directory))
    server.wait_port()
    return server


def client_args(first: int, last: int, *extra: str) -> list[str]:
    return ["-D", "PANTASKS_SERVER", "127.0.0.1", "-D", "PANTASKS_SERVER_PORT",
            f"{first}:{last}", "-D", "PASSWORD", PASSWORD, *extra]


@pytest.fixture
def named(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start(tmp_path / "stdscience", "stdscience", free_port_base(2))
    yield server
    server.stop()


def test_abbreviations_never_shut_the_server_down(named: ServerProcess, env: dict[str, str],
                                                  tmp_path: Path) -> None:
    port = named.port
    child = spawn(client_args(port, port), env, tmp_path)
    child.expect_exact(f"connected to stdscience at 127.0.0.1:{port} as pantasks (control)")
    child.expect_exact(PROMPT)
    child.sendline("sh")  # once the client's own shutdown
    child.expect_exact("ambiguous command: sh ( showtask shutdown )")
    child.expect_exact(PROMPT)
    child.sendline("shutd")
    child.expect_exact("shutd: type shutdown in full (it is never abbreviated)")
    child.expect_exact(PROMPT)
    child.sendline("serv quit")
    child.expect_exact("server quit shuts the server down: type 'server quit' in full")
    child.expect_exact(PROMPT)
    child.sendline("server qui")
    child.expect_exact("qui: type quit in full (it is never abbreviated)")
    child.expect_exact(PROMPT)
    child.sendline("server quit")
    child.expect_exact(f"server quit: stop the server stdscience at 127.0.0.1:{port} "
                       "(running jobs finish first)? [y/N] ")
    child.sendline("")
    child.expect_exact("server quit: not done")
    child.expect_exact(PROMPT)
    child.sendline("status")
    child.expect_exact("Scheduler is stopped")
    child.expect_exact(PROMPT)
    assert named.proc.poll() is None, "the server survived"
    child.sendline("server quit")
    child.expect_exact("[y/N] ")
    child.sendline("yes")
    child.expect_exact(f"the server stdscience at 127.0.0.1:{port} is shutting down; "
                       "disconnected")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    assert named.proc.wait(15) == 0
    named.wait_for(r"pantasks_server: shutdown requested by user pantasks from 127\.0\.0\.1: "
                   r"no running jobs")


def test_piped_shutdown_is_not_asked(named: ServerProcess, env: dict[str, str],
                                     tmp_path: Path) -> None:
    r = run(client_args(named.port, named.port), env, tmp_path, "shutdown\n")
    assert r.returncode == 0, r.stderr
    assert "is shutting down" in r.stderr and "[y/N]" not in r.stdout + r.stderr
    assert named.proc.wait(15) == 0


def test_the_wrong_server_is_named_and_can_be_refused(tmp_path: Path, env: dict[str, str]) -> None:
    base = free_port_base(2)
    mine = start(tmp_path / "mine", "mine", base)
    other = start(tmp_path / "other", "other", base + 1)
    try:
        r = run(client_args(base, base + 1), env, tmp_path, "echo hi\n")
        assert r.stderr == f"connected to mine at 127.0.0.1:{base} as pantasks (control)\n"
        assert mine.stop() == 0
        # The intended server is down: the scan finds the other one, and says so.
        r = run(client_args(base, base + 1), env, tmp_path, "echo hi\n")
        assert r.returncode == 0
        assert r.stderr.splitlines() == [
            f"pantasks_client: 127.0.0.1 port {base} refused the connection (no server there); "
            "tried the next port",
            f"connected to other at 127.0.0.1:{base + 1} as pantasks (control)",
        ]
        # --name refuses it.
        r = run(client_args(base, base + 1, "--name", "mine"), env, tmp_path, "stop\n")
        assert r.returncode == 3
        assert r.stderr == (f"pantasks_client: no pantasks server named mine at 127.0.0.1:"
                            f"{base}-{base + 1} (found other at port {base + 1})\n")
        # -p picks the port on the command line.
        r = run(client_args(base, base, "-p", str(base + 1), "--name", "other"), env, tmp_path,
                "echo hi\n")
        assert r.returncode == 0 and r.stdout == "hi\n"
    finally:
        mine.stop()
        other.stop()


def test_port_file_beside_the_server(named: ServerProcess, tmp_path: Path) -> None:
    where = tmp_path / "stdscience" / "pantasks_server.port"
    assert where.read_text() == f"{named.port}\n"
    assert named.stop() == 0
    assert not where.exists()


def test_only_says_whether_the_files_loaded(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write(tmp_path / "ptolemy.rc", "# rc\nPASSWORD x\n"
          f"PANTASKS_SERVER_STDOUT {logs}/out.log\nPANTASKS_SERVER_STDERR {logs}/err.log\n")
    write(tmp_path / "good.pro", "echo fine\n")
    write(tmp_path / "bad.pro", "echo first\nnosuchcommand\necho never\n")

    def server(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(server_argv() + ["-c", "ptolemy.rc", *args], cwd=tmp_path,
                              env=clean_env(tmp_path), capture_output=True, text=True,
                              timeout=60)

    r = server("--only", "--load", "good.pro")
    assert (r.returncode, r.stderr) == (0, "")
    r = server("--only", "--load", "good.pro", "--load", "bad.pro")
    assert r.returncode == 40
    assert r.stderr == ("bad.pro:2: nosuchcommand: Command not found.\n"
                        "pantasks_server: --load bad.pro: failed (the error is above)\n")
    r = server("--only", "--load", "nosuch.pro")
    assert r.returncode == 40
    assert r.stderr.startswith("pantasks_server: --load nosuch.pro: no file nosuch.pro")
    assert r.stderr.count("\n") == 1
    r = server("bad.pro")
    assert r.returncode == 41 and "bad.pro:2: nosuchcommand" in r.stderr
    r = server("good.pro")
    assert r.returncode == 0
    assert "nosuchcommand" in (logs / "err.log").read_text(), "the log has it too"


def test_shutdown_is_logged_and_told_to_new_clients(tmp_path: Path) -> None:
    server = start(tmp_path, "busy", free_port_base(2))
    try:
        c = Conn(server.port)
        assert c.login(PASSWORD) == "OK pantasks control"
        lines, status = c.ask("job sleep 60")
        assert status == "STATUS 1", lines
        c.send("shutdown\n")
        assert c.readline() == "STATUS 1"
        assert c.at_eof()
        server.wait_for(r"shutdown requested by user pantasks from 127\.0\.0\.1: "
                        r"waiting for 1 running job to finish")
        late = Conn(server.port)
        assert late.readline() == ("ERR server is shutting down (requested by user pantasks "
                                   "from 127.0.0.1); running jobs are finishing")
        assert late.at_eof()
        assert server.proc.poll() is None, "still waiting for its job"
        server.proc.send_signal(signal.SIGTERM)  # a second request kills the job
        assert server.proc.wait(20) == 0
        server.wait_for(r"shutdown now requested by SIGTERM: killing 1 running job")
    finally:
        server.stop()


def test_quit_answers_bye(named: ServerProcess) -> None:
    c = Conn(named.port)
    c.greeting()
    c.send("QUIT\n")
    assert c.readline() == "BYE"
    assert c.at_eof()
    c = Conn(named.port)
    assert c.greeting().endswith(" stdscience")
    c.send(f"PASS {PASSWORD}\n")
    assert c.readline() == "OK pantasks control"
    c.send("QUIT\n")
    assert c.readline() == "BYE"
    assert c.at_eof()


@pytest.mark.parametrize("name", ["pantasks", "pantasks_client", "pantasks_server",
                                  "start_pantasks_server", "start_pantasks_client"])
def test_every_program_has_help_and_version(name: str, env: dict[str, str],
                                            tmp_path: Path) -> None:
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "pantasks_server").exists():
        pytest.skip("pantasks is not installed in this Python's bin directory")
    # The programs as installed: the start scripts of this tree beside them.
    for prog in ("pantasks", "pantasks_client", "pantasks_server"):
        (tmp_path / prog).symlink_to(venv_bin / prog)
    for script in ("start_pantasks_server", "start_pantasks_client"):
        shutil.copy(ROOT / "pantasks" / "cli" / "bin" / script, tmp_path / script)
    argv = [str(tmp_path / name)]
    for option in ("-h", "--help"):
        r = subprocess.run(argv + [option], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, (option, r.stderr)
        assert "usage" in r.stdout.lower() and r.stderr == "", option
    r = subprocess.run(argv + ["--version"], env=env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(rf"{name} \(pantasks \S+\)\n|pantasks \S+\n", r.stdout), r.stdout
    assert __version__ in r.stdout


def test_control_c_in_the_client(named: ServerProcess, env: dict[str, str],
                                 tmp_path: Path) -> None:
    port = named.port
    child = spawn(client_args(port, port), env, tmp_path)
    child.expect_exact(PROMPT)
    # A half-typed line is dropped, not run later.
    child.send("partial text")
    child.sendintr()
    child.expect_exact("^C")
    child.expect_exact(PROMPT)
    child.sendline("echo after")
    child.expect_exact("after\r\n")
    child.expect_exact(PROMPT)
    assert "partial" not in child.before
    # An empty prompt: a hint, the client stays.
    child.sendintr()
    child.expect_exact("(type quit or press Ctrl-D to leave pantasks_client)")
    child.expect_exact(PROMPT)
    # A running server command is interrupted.
    child.sendline("server exec sleep 30")
    time.sleep(1.5)
    child.sendintr()
    child.expect_exact("interrupted: ")
    child.expect_exact(PROMPT, timeout=10)
    child.sendline("echo still here")
    child.expect_exact("still here\r\n")
    child.expect_exact(PROMPT)
    # A J line arriving while a half line is typed: the prompt and the
    # half line are drawn again below it.
    child.sendline("watch on -jobs")
    child.expect_exact(PROMPT)
    for line in ("task tick", "command sleep 1", "periods -exec 1", "end", "run"):
        child.sendline(line)
    child.expect_exact(PROMPT)
    child.send("half typed")
    child.expect_exact("half typed")
    child.expect_exact("[job] ")
    child.expect_exact(PROMPT + "half typed", timeout=10)
    child.sendline("")
    child.expect_exact("half: Command not found.")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)


def test_control_c_in_the_standalone_shell(env: dict[str, str], tmp_path: Path) -> None:
    shell = Path(sys.executable).with_name("pantasks")
    argv = [str(shell)] if shell.exists() else [sys.executable, "-m", "pantasks.cli.shell"]
    child = pexpect.spawn(argv[0], argv[1:] + ["--norc"], env=env, cwd=str(tmp_path),
                          encoding="utf-8", timeout=40, dimensions=(24, 200))
    child.expect_exact(PROMPT)
    child.send("partial text")
    child.sendintr()
    child.expect_exact("^C")
    child.expect_exact(PROMPT)
    child.sendline("echo after")
    child.expect_exact("after\r\n")
    child.expect_exact(PROMPT)
    assert "partial" not in child.before
    child.sendintr()
    child.expect_exact("(type quit or press Ctrl-D to leave pantasks)")
    child.expect_exact(PROMPT)
    child.sendline("exec sleep 30")
    time.sleep(1.5)
    child.sendintr()
    child.expect_exact("interrupted: ")
    child.expect_exact(PROMPT, timeout=10)
    child.sendline("echo alive")
    child.expect_exact("alive\r\n")
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_help_in_the_client_for_every_kind_of_command(named: ServerProcess,
                                                      env: dict[str, str],
                                                      tmp_path: Path) -> None:
    port = named.port
    child = spawn(client_args(port, port), env, tmp_path)
    child.expect_exact(PROMPT)
    child.sendline("help status")  # a server command, asked of the server
    child.expect_exact("status [options]")
    child.expect_exact("Without options: the scheduler state")
    child.expect_exact(PROMPT)
    child.sendline("help connect")  # the client's own
    child.expect_exact("connect [host [port]]")
    child.expect_exact(PROMPT)
    child.sendline("server help shutdown")
    child.expect_exact("shutdown [now]")
    child.expect_exact("Stops the server")
    child.expect_exact(PROMPT)
    child.sendline("help")
    child.expect_exact("Commands of the client")
    child.expect(r"\r\nconnect\s+-- ")
    child.expect_exact("Commands of the server")
    child.expect(r"\r\nshowtask\s+-- ")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_control_d_with_running_jobs_asks_first(env: dict[str, str], tmp_path: Path) -> None:
    shell = Path(sys.executable).with_name("pantasks")
    argv = [str(shell)] if shell.exists() else [sys.executable, "-m", "pantasks.cli.shell"]
    child = pexpect.spawn(argv[0], argv[1:] + ["--norc"], env=env, cwd=str(tmp_path),
                          encoding="utf-8", timeout=40, dimensions=(24, 200))
    child.expect_exact(PROMPT)
    child.sendline("job sleep 60")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect_exact("1 job running; leave pantasks and kill them? [y/N] ")
    child.sendline("n")
    child.expect_exact(PROMPT)
    child.sendline("echo still here")
    child.expect_exact("still here\r\n")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect_exact("[y/N] ")
    child.sendline("y")
    child.expect(pexpect.EOF)
