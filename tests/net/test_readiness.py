# -*- test-case-name: tests.net.test_readiness -*-
"""Readiness: C{bound to port: N} and systemd's C{READY=1} only once
start-up has fully succeeded; a start-up failure is one line and a
documented exit status.  Unit tests on a memory reactor, then real
C{pantasks_server} processes with the log on a full disk."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from pantasks import tap
from pantasks.exec.fake import FakeRunner
from pantasks.net.logsink import ServerLog
from pantasks.net.readiness import sd_notify
from tests.net.helpers import MemoryLog
from tests.net.procs import clean_env, free_port_base, server_argv, write


class FullLog(MemoryLog):
    """A log whose file is on a full disk."""

    def confirm(self, text: str) -> bool:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/var/log/full.log")


class AnnounceTests(SynchronousTestCase):
    def build(self, log: MemoryLog) -> tap.PantasksServer:
        d = os.path.abspath(self.mktemp())
        os.makedirs(d)
        rc = os.path.join(d, "ptolemy.rc")
        with open(rc, "w") as f:
            f.write("PASSWORD pw\nPANTASKS_SERVER_PORT 3000\n")
        options = tap.Options()
        options.parseOptions(["-c", rc])
        reactor = MemoryReactorClock()
        self.ports: list[int] = []
        self.stops: list[int] = []
        self.fatal: list[str] = []
        self.notified: list[str] = []
        top, server = tap.build(options, reactor, server_log=log,
                                on_listening=self.ports.append,
                                stop=lambda: self.stops.append(server.exit_code),
                                env={"HOME": d}, runner=FakeRunner(reactor),
                                on_fatal=self.fatal.append)
        server.notify = self.notified.append
        top.startService()
        self.reactor = reactor
        return server

    def test_full_log_is_a_startup_failure(self) -> None:
        server = self.build(FullLog())
        self.assertEqual(self.ports, [], "never announced")
        self.assertEqual(self.stops, [tap.EXIT_LOG_FILE])
        self.assertEqual(self.fatal, ["pantasks_server: cannot write the log: "
                                      "/var/log/full.log: No space left on device"])
        self.assertEqual(self.notified, [])
        self.assertIsNone(server.port, "the listener was closed again")
        self.assertIsNone(self.successResultOf(server.ready))

    def test_ready_after_announce(self) -> None:
        server = self.build(MemoryLog())
        self.assertEqual(self.ports, [3000])
        self.assertEqual(self.notified, ["READY=1\nSTATUS=listening on port 3000"])
        self.assertEqual(self.successResultOf(server.ready), 3000)
        self.assertEqual(self.fatal, [])

    def test_confirm_reports_an_earlier_failed_write(self) -> None:
        if not os.path.exists("/dev/full"):
            raise self.skipTest("no /dev/full")
        log = ServerLog("/dev/full", None)
        log.out("a line the disk refused\n")  # silently, as while serving
        with self.assertRaises(OSError) as caught:
            log.confirm("bound to port: 1\n")
        self.assertEqual((caught.exception.errno, caught.exception.filename),
                         (errno.ENOSPC, "/dev/full"))
        log.close()

    def test_confirm_without_files(self) -> None:
        self.assertFalse(ServerLog(None, None).confirm("x\n"))

    def test_confirm_on_dev_null(self) -> None:
        log = ServerLog(os.devnull, os.devnull)
        self.assertTrue(log.confirm("bound to port: 1\n"), "fsync's EINVAL is no failure")
        log.close()


class SdNotifyTests(SynchronousTestCase):
    def test_sends_to_socket(self) -> None:
        path = os.path.abspath(self.mktemp())
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            self.assertTrue(sd_notify("READY=1", {"NOTIFY_SOCKET": path}))
            self.assertEqual(sock.recv(100), b"READY=1")

    def test_abstract_socket(self) -> None:
        name = f"pantasks-test-{os.getpid()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind("\0" + name)
            self.assertTrue(sd_notify("STOPPING=1", {"NOTIFY_SOCKET": "@" + name}))
            self.assertEqual(sock.recv(100), b"STOPPING=1")

    def test_no_manager(self) -> None:
        self.assertFalse(sd_notify("READY=1", {}))
        self.assertFalse(sd_notify("READY=1", {"NOTIFY_SOCKET": "/nonexistent/sock"}))
        self.assertFalse(sd_notify("READY=1", {"NOTIFY_SOCKET": "relative"}))


# -- real processes --------------------------------------------------------

def run_server(d: Path, log_dir: str, notify: Path) -> tuple[subprocess.CompletedProcess, list]:
    """Start pantasks_server with its log in C{log_dir}, wait for it to end."""
    base = free_port_base()
    write(d / "ptolemy.rc",
          "PASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {log_dir}/server.out\n"
          f"PANTASKS_SERVER_STDERR {log_dir}/server.err\n")
    env = clean_env(d)
    env["NOTIFY_SOCKET"] = str(notify)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.setblocking(False)
        result = subprocess.run(server_argv() + ["-c", "ptolemy.rc"], cwd=d, env=env,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=60)
        messages = []
        try:
            while True:
                messages.append(sock.recv(1000))
        except BlockingIOError:
            pass
    return result, messages


def assert_failed_start(result: subprocess.CompletedProcess, messages: list) -> None:
    assert "bound to port" not in result.stdout, result.stdout
    assert result.returncode == tap.EXIT_LOG_FILE, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("pantasks_server: cannot write the log: "), lines
    assert lines[0].endswith("No space left on device"), lines
    assert not any(b"READY=1" in m for m in messages), messages


@pytest.fixture
def full_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A tiny tmpfs, filled up; needs root (to mount)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a full tmpfs needs root")
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        with open(mount / "filler", "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError as e:
                assert e.errno == errno.ENOSPC
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_start_with_log_on_full_tmpfs(tmp_path: Path, full_tmpfs: Path) -> None:
    result, messages = run_server(tmp_path, str(full_tmpfs), tmp_path / "notify")
    assert_failed_start(result, messages)


def test_start_with_log_on_dev_full(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("server.out", "server.err"):
        os.symlink("/dev/full", logs / name)
    result, messages = run_server(tmp_path, str(logs), tmp_path / "notify")
    assert_failed_start(result, messages)


def test_ready_sent_after_bound_to_port(tmp_path: Path) -> None:
    from tests.net.procs import Conn, ServerProcess

    base = free_port_base()
    write(tmp_path / "ptolemy.rc",
          "PASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {tmp_path}/server.out\n"
          f"PANTASKS_SERVER_STDERR {tmp_path}/server.err\n")
    env = clean_env(tmp_path)
    notify = tmp_path / "notify"
    env["NOTIFY_SOCKET"] = str(notify)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(20)
        server = ServerProcess(server_argv() + ["-c", "ptolemy.rc"], tmp_path, env)
        try:
            port = server.wait_port()
            assert sock.recv(1000) == f"READY=1\nSTATUS=listening on port {port}".encode()
            c = Conn(port)
            assert c.login() == "OK pantasks control"
            c.close()
            assert server.stop() == 0
            assert sock.recv(1000) == b"STOPPING=1"
        finally:
            server.stop()
    assert "bound to port: " in (tmp_path / "server.out").read_text()


def test_twistd_sends_ready(tmp_path: Path) -> None:
    """The systemd unit's way: C{twistd -n pantasks} with C{Type=notify}."""
    from tests.net.procs import ServerProcess, twistd_argv

    base = free_port_base()
    write(tmp_path / "ptolemy.rc", f"PASSWORD secret\nPANTASKS_SERVER_PORT {base}\n")
    env = clean_env(tmp_path)
    notify = tmp_path / "notify"
    env["NOTIFY_SOCKET"] = str(notify)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(30)
        server = ServerProcess(twistd_argv() + ["-n", "--pidfile=", "pantasks", "-c",
                                                "ptolemy.rc"], tmp_path, env)
        try:
            port = server.wait_port()
            assert sock.recv(1000) == f"READY=1\nSTATUS=listening on port {port}".encode()
        finally:
            server.stop()
