"""Shared real servers for the integration tests of tests/net.

C{main_server}: C{pantasks_server} as the seed runs it, with ptolemy.rc
(PASSWORD, a port range, log files) and a pantasks.conf adding users
C{alice} (control) and C{bob} (watch) and a quick lockout.  Tests that
fail logins on purpose connect from their own 127.0.0.x address, so a
lockout never spills over to other tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.net.procs import ServerProcess, clean_env, free_port_base, server_argv, write


@pytest.fixture(scope="session")
def main_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d: Path = tmp_path_factory.mktemp("main_server")
    base = free_port_base()
    write(d / "ptolemy.rc",
          "# integration test server\n"
          "PASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {d}/server.out\n"
          f"PANTASKS_SERVER_STDERR {d}/server.err\n")
    write(d / "pantasks.conf",
          "[server]\n"
          "lockout_failures = 3\n"
          "lockout_window = 60\n"
          "lockout_time = 600\n"
          "auth_fail_delay = 1.0\n"
          "[users]\n"
          "alice = alicepw, control\n"
          "bob = bobpw, watch\n")
    server = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                           d, clean_env(d))
    server.dir = d  # type: ignore[attr-defined]
    try:
        server.wait_port()
        yield server
    finally:
        code = server.stop()
        assert code == 0, (code, server.stdout, server.stderr)
