# -*- test-case-name: tests.cli.test_client_process -*-
"""Running the real C{pantasks_client} in tests: through pipes or a
terminal (pexpect), in an environment of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "pantasks: "


def program(name: str, module: str) -> list[str]:
    """The installed console script C{name} when there is one, else
    C{python -m module}."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", module]


def client_command() -> list[str]:
    return program("pantasks_client", "pantasks.cli.client")


def make_env(home: Path) -> dict[str, str]:
    """No ptolemy.rc, rc file or generated password from the real home;
    this source tree first on the path; no terminal escapes."""
    env = {k: v for k, v in os.environ.items() if k not in ("PTOLEMY", "PYTHONSTARTUP")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TERM="dumb",
               PYTHONPATH=str(ROOT))
    return env


def free_port() -> int:
    """A port nothing listens on (it refuses connections)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(args: list[str], env: dict[str, str], cwd: Path,
        stdin: str = "") -> subprocess.CompletedProcess:
    """The client with C{stdin} piped in; its output captured."""
    return subprocess.run(client_command() + args, input=stdin, env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=30)


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> pexpect.spawn:
    """The client on a terminal."""
    cmd = client_command()
    return pexpect.spawn(cmd[0], cmd[1:] + args, env=env, cwd=str(cwd), encoding="utf-8",
                         timeout=40, dimensions=(24, 200))


class ServerProcess:
    """A server process that prints C{bound to port: N} on its standard
    output when it listens (the real one, or L{tests.cli.fakeserver}).

    @ivar port: the port it listens on.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, password: str) -> None:
        self.password = password
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        while line.startswith("pantasks_server: "):  # notes (port range...)
            line = self.proc.stdout.readline()
        if not line.startswith("bound to port: "):
            self.proc.kill()
            raise AssertionError(f"server did not start: {line}{self.proc.stderr.read()}")
        self.port = int(line.split(":")[1])

    def args(self, password: str | None = None) -> list[str]:
        """Client options that reach this server with C{password}."""
        return ["-D", "PANTASKS_SERVER", "127.0.0.1", "-D", "PANTASKS_SERVER_PORT",
                f"{self.port}:{self.port}", "-D", "PASSWORD",
                self.password if password is None else password]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(15)
        self.proc.stdout.close()
        self.proc.stderr.close()
