# -*- test-case-name: tests.cli.test_scripts -*-
"""The helper scripts (start_pantasks_server, start_pantasks_client), the
LSB init script and the systemd unit."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "pantasks" / "cli" / "bin"
START_SERVER = BIN / "start_pantasks_server"
START_CLIENT = BIN / "start_pantasks_client"
INIT = ROOT / "etc" / "init.d" / "pantasks"
UNIT = ROOT / "etc" / "systemd" / "pantasks.service"
SCRIPTS = [START_SERVER, START_CLIENT, INIT]
SHELLS = [s for s in ("sh", "dash", "bash") if shutil.which(s)]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_syntax(shell: str, script: Path) -> None:
    r = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")


def sh(script: Path, *args: str, env: dict | None = None, cwd: Path | None = None,
       timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(script), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def test_start_client_without_host_prints_usage() -> None:
    r = sh(START_CLIENT)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("usage: start_pantasks_client HOST [PORT]")
    r = sh(START_CLIENT, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage:")
    r = sh(START_CLIENT, "-D", "x", "y")
    assert r.returncode == 2


def test_start_client_builds_the_command() -> None:
    env = dict(os.environ, PANTASKS_CLIENT_CMD="echo")
    r = sh(START_CLIENT, "ippc16", env=env)
    assert r.stdout == "-D PANTASKS_SERVER ippc16\n"
    r = sh(START_CLIENT, "ippc16", "2000:2003", "-u", "bob", env=env)
    assert r.stdout == "-D PANTASKS_SERVER ippc16 -p 2000:2003 -u bob\n"
    env["PANTASKS_CLIENT_CMD"] = "no-such-program-here"
    r = sh(START_CLIENT, "h", env=env)
    assert r.returncode == 127 and "not found" in r.stderr


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_start_server(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               PANTASKS_SERVER_CMD=f"{sys.executable} -m tests.cli.fakeserver --password pw")
    r = sh(START_SERVER, str(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    pid = int((tmp_path / "pantasks_server.pid").read_text())
    try:
        first = r.stdout.splitlines()[0]
        assert first.startswith(f"pantasks server started in {tmp_path} (pid {pid}), port ")
        port = first.rsplit(" ", 1)[1]
        assert f"connect: start_pantasks_client {os.uname().nodename} {port}" in r.stdout
        assert f"bound to port: {port}" in (tmp_path / "pantasks.stdout.log").read_text()
        assert (tmp_path / "pantasks.stderr.log").exists()
        again = sh(START_SERVER, str(tmp_path), env=env)
        assert again.returncode == 1
        assert f"already running in {tmp_path} (pid {pid})" in again.stderr
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid)


def test_start_server_that_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("#!/bin/sh\necho 'pantasks_server: failed to find a usable port' >&2\nexit 6\n")
    bad.chmod(0o755)
    r = sh(START_SERVER, str(tmp_path), env=dict(os.environ, PANTASKS_SERVER_CMD=str(bad)))
    assert r.returncode == 1
    assert r.stderr == ("start_pantasks_server: the server did not start (exit status 6):\n"
                        "  pantasks_server: failed to find a usable port\n")
    assert not (tmp_path / "pantasks_server.pid").exists()
    r = sh(START_SERVER, str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "cannot change to directory" in r.stderr


FAKE_TWISTD = """#!/bin/sh
# Records its arguments, then "daemonizes" a process that exits on TERM.
while [ $# -gt 0 ]; do
    case "$1" in
        --pidfile) pidfile=$2; shift 2 ;;
        --logfile) logfile=$2; shift 2 ;;
        *) args="$args $1"; shift ;;
    esac
done
echo "cwd=$(pwd) args=$args" >"$logfile"
sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &
echo $! >"$pidfile"
"""


def test_init_script(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    twistd = tmp_path / "twistd"
    twistd.write_text(FAKE_TWISTD)
    twistd.chmod(0o755)
    work = tmp_path / "pipeline"
    work.mkdir()
    defaults = tmp_path / "defaults"
    defaults.write_text(
        f"PANTASKS_USER={os.environ.get('USER') or 'root'}\nPANTASKS_DIR={work}\n"
        f"TWISTD={twistd}\nPANTASKS_ARGS='-c ptolemy.rc --load input'\nSTOP_TIMEOUT=5\n"
    )
    env = dict(os.environ, PANTASKS_DEFAULTS=str(defaults))
    if os.getuid() == 0:  # as root the script would su to PANTASKS_USER
        defaults.write_text(defaults.read_text().replace("PANTASKS_USER=", "PANTASKS_USER=root #"))

    r = sh(INIT, "status", env=env)
    assert (r.returncode, r.stdout) == (3, "pantasks is not running\n")
    r = sh(INIT, "start", env=env)
    pidfile = work / "twistd.pid"
    if pidfile.exists():  # whatever happens below, the process goes
        pid = int(pidfile.read_text())
        request.addfinalizer(lambda: kill_quietly(pid))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == f"Starting pantasks: pantasks (pid {pid})\n"
    assert (work / "twistd.log").read_text() == \
        f"cwd={work} args= pantasks -c ptolemy.rc --load input\n"
    r = sh(INIT, "status", env=env)
    assert (r.returncode, r.stdout) == (0, f"pantasks is running (pid {pid})\n")
    r = sh(INIT, "start", env=env)
    assert (r.returncode, r.stdout) == (0, f"pantasks is already running (pid {pid})\n")
    r = sh(INIT, "stop", env=env)
    assert (r.returncode, r.stdout) == (0, f"Stopping pantasks (pid {pid}): stopped\n")
    assert wait_gone(pid, 1)
    r = sh(INIT, "status", env=env)
    assert r.returncode == 3
    r = sh(INIT, "bogus", env=env)
    assert r.returncode == 2 and r.stderr.startswith("usage:")


def test_systemd_unit() -> None:
    text = UNIT.read_text()
    for line in ("[Unit]", "[Service]", "[Install]", "KillMode=mixed",
                 "ExecStart=/usr/bin/twistd --nodaemon --pidfile= --logfile=- pantasks "
                 "$PANTASKS_ARGS", "WantedBy=multi-user.target"):
        assert line in text.splitlines(), line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    copy = tmp_path / "pantasks.service"
    copy.write_text(UNIT.read_text())
    r = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                       text=True, timeout=60)
    # Only what cannot hold on a test machine is allowed: the twistd path
    # and the man pages being installed.
    problems = [line for line in (r.stdout + r.stderr).splitlines()
                if line.strip() and "is not executable" not in line and "Command 'man " not in line]
    assert problems == []


def test_start_scripts_from_an_unactivated_venv(tmp_path: Path) -> None:
    """The scripts find pantasks_server/pantasks_client beside them, with
    a PATH that does not hold them; the client uses the port file."""
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "pantasks_server").exists():
        pytest.skip("pantasks is not installed in this Python's bin directory")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for script in (START_SERVER, START_CLIENT):
        shutil.copy(script, bin_dir / script.name)
    for name in ("pantasks_server", "pantasks_client"):
        (bin_dir / name).symlink_to(venv_bin / name)
    work = tmp_path / "stdscience"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PTOLEMY", "PANTASKS_SERVER_CMD", "PANTASKS_CLIENT_CMD")}
    env.update(PATH="/usr/bin:/bin", HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    from tests.net.procs import free_port_base

    base = free_port_base(2)
    r = subprocess.run([str(bin_dir / "start_pantasks_server"), str(work), "-D", "PASSWORD",
                        "pw", "-p", f"{base}:{base + 1}"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    pid = int((work / "pantasks_server.pid").read_text())
    try:
        assert f"port {base}" in r.stdout.splitlines()[0]
        assert (work / "pantasks_server.port").read_text() == f"{base}\n"
        assert f"bound to port: {base}" in (work / "pantasks.stdout.log").read_text()
        c = subprocess.run([str(bin_dir / "start_pantasks_client"), "localhost", "-D",
                            "PASSWORD", "pw"], input="echo hello from $PID\n", cwd=work,
                           capture_output=True, text=True, env=env, timeout=60)
        assert c.returncode == 0, c.stderr
        assert c.stdout.startswith("hello from ")
        assert c.stderr.splitlines() == [
            f"start_pantasks_client: port {base} from {work}/pantasks_server.port",
            f"connected to stdscience at localhost:{base} as pantasks (control)"]
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid, 20)
    assert not (work / "pantasks_server.port").exists()
