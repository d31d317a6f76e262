# -*- test-case-name: tests.net.test_server_process -*-
"""Real server processes and raw-socket clients for the integration tests.

A client here is what a person with netcat is: a TCP socket, lines out,
lines in.  Servers are started as the operators start them
(C{pantasks_server}, C{twistd -n pantasks}) in a temporary directory with
their own ptolemy.rc, on a port range found free, and stopped at the end.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from pantasks.net.auth import hmac_response

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port_base(span: int = 21) -> int:
    """A port P such that P..P+span-1 look free now (the server scans them)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + span >= 65535:
            continue
        ok = True
        for p in range(base, base + span):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


def server_argv() -> list[str]:
    exe = BIN / "pantasks_server"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pantasks.cli.server"]


def twistd_argv() -> list[str]:
    exe = BIN / "twistd"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "twisted"]


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PTOLEMY", "XDG_CONFIG_HOME", "PYTHONSTARTUP")}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerProcess:
    """A running server; its stdout and stderr are collected by threads."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        for stream, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._drain, args=(stream, sink), daemon=True).start()
        self.port: Optional[int] = None

    def _drain(self, stream, sink: list[str]) -> None:  # type: ignore[no-untyped-def]
        for raw in iter(stream.readline, b""):
            with self._cond:
                sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        stream.close()

    def wait_for(self, pattern: str, timeout: float = 20.0, stream: str = "stdout") -> re.Match:
        """The first line of C{stream} matching C{pattern} (waits for it)."""
        rx = re.compile(pattern)
        lines = self.stdout if stream == "stdout" else self.stderr
        deadline = time.monotonic() + timeout
        exited = False
        with self._cond:
            while True:
                for line in lines:
                    m = rx.search(line)
                    if m:
                        return m
                if exited or time.monotonic() > deadline:
                    raise AssertionError(
                        f"no {pattern!r} from {self.argv[0]} (exit {self.proc.poll()}); "
                        f"stdout={self.stdout[-20:]} stderr={self.stderr[-20:]}")
                if self.proc.poll() is not None:
                    exited = True  # one more look once the pipes are drained
                    self._cond.wait(0.5)
                else:
                    self._cond.wait(0.2)

    def rss_kb(self) -> int:
        """The server's resident memory in kB (VmRSS)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def wait_port(self, timeout: float = 20.0) -> int:
        self.port = int(self.wait_for(r"bound to port: (\d+)", timeout).group(1))
        return self.port

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


class Conn:
    """A netcat-like client: raw lines over TCP."""

    def __init__(self, port: int, source: Optional[str] = None, timeout: float = 15.0) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout,
            source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.nonce = ""

    def send(self, data) -> None:  # type: ignore[no-untyped-def]
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def readline(self) -> str:
        """One line without its newline; EOFError when the server closed."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def at_eof(self) -> bool:
        """True when the server has closed (after what it sent was read)."""
        try:
            while True:
                self.readline()
        except EOFError:
            return True
        except OSError:
            return True

    def greeting(self) -> str:
        line = self.readline()
        assert re.match(r"^PANTASKS 1 \S+ [0-9a-f]{32}( [A-Za-z0-9_.-]+)?$", line), line
        self.nonce = line.split()[3]
        return line

    def login(self, password: str = "secret", user: Optional[str] = None) -> str:
        self.greeting()
        if user is None:
            self.send(f"PASS {password}\n")
        else:
            self.send(f"AUTH {user} {hmac_response(password, self.nonce)}\n")
        return self.readline()

    def reply(self) -> tuple[list[str], str]:
        """The lines of one reply and its last line (C{STATUS n}/C{MORE n})."""
        lines = []
        while True:
            line = self.readline()
            if line.startswith("STATUS ") or line.startswith("MORE "):
                return lines, line
            lines.append(line)

    def ask(self, line: str) -> tuple[list[str], str]:
        self.send(line + "\n")
        return self.reply()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
