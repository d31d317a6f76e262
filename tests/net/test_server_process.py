# -*- test-case-name: tests.net.test_server_process -*-
"""Integration tests: a real C{pantasks_server} (and a real
C{twistd -n pantasks}) driven over raw sockets, as netcat would."""

from __future__ import annotations

import os
import re
import signal
import stat
import time
from pathlib import Path

import pytest

from tests.net.procs import (
    Conn,
    ServerProcess,
    clean_env,
    free_port_base,
    server_argv,
    twistd_argv,
    write,
)


def test_netcat_session(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    c.greeting()
    c.send("PASS secret\n")
    assert c.readline() == "OK pantasks control"
    c.send("echo hello\n")
    assert [c.readline(), c.readline()] == ["O hello", "STATUS 1"]
    c.send("nosuchcmd\n")
    assert [c.readline(), c.readline()] == ["E nosuchcmd: Command not found.", "STATUS 0"]
    for line, answer in [("task nc1", "MORE 1"), ("command true", "MORE 1"),
                         ("task.exit 0", "MORE 2"), ("echo nc1 ok", "MORE 2"),
                         ("end", "MORE 1"), ("end", "STATUS 1")]:
        c.send(line + "\n")
        assert c.readline() == answer, line
    lines, status = c.ask("showtask nc1")
    assert status == "STATUS 1" and any("nc1" in ln for ln in lines), lines
    c.send("QUIT\n")
    assert c.at_eof()


def test_pipelined_requests(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    assert c.login() == "OK pantasks control"
    n = 500
    c.send("".join(f"echo p{i}\n" for i in range(n)) + "task pp\ncommand true\nend\nQUIT\n")
    got = [c.readline() for _ in range(2 * n + 3)]
    assert got[: 2 * n] == [x for i in range(n) for x in (f"O p{i}", "STATUS 1")]
    assert got[2 * n:] == ["MORE 1", "MORE 1", "STATUS 1"]
    assert c.at_eof()


def test_watch_jobs(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    assert c.login("alicepw", "alice") == "OK alice control"
    for line in ["task twatch", "command true", "periods -exec 0.1", "nmax 3",
                 "task.exit 0", "echo twatch done $JOB_ID", "end", "end"]:
        c.send(line + "\n")
        c.readline()
    assert c.ask("watch on -jobs") == (["O watch: log on, jobs on"], "STATUS 1")
    assert c.ask("run") == ([], "STATUS 1")
    jobs, logs = [], []
    deadline = time.monotonic() + 15
    while (len(jobs) < 3 or len(logs) < 3) and time.monotonic() < deadline:
        line = c.readline()
        if line.startswith("J ") and " twatch " in line:
            jobs.append(line)
        elif line.startswith("L twatch done"):
            logs.append(line)
    assert len(jobs) == 3, jobs
    for line in jobs:
        assert re.match(r"^J \d+ twatch EXIT 0 \S+$", line), line
    ids = sorted(int(line.split()[1]) for line in jobs)
    assert sorted(int(line.split()[-1]) for line in logs) == ids
    c.ask("watch off")
    c.close()
    out = (main_server.dir / "server.out").read_text()
    for job_id in ids:
        assert f"twatch done {job_id}" in out


def test_nothing_on_terminal_after_bind(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    c.login()
    c.ask("echo to the client only")
    c.close()
    time.sleep(0.2)
    assert main_server.stdout == [f"bound to port: {main_server.port}"]
    assert main_server.stderr == []
    out = (main_server.dir / "server.out").read_text()
    err = (main_server.dir / "server.err").read_text()
    assert f"bound to port: {main_server.port}" in out
    assert "using port range" in out  # a note, not an error
    assert "to the client only" not in out + err


def test_exit_codes_of_bad_starts(main_server: ServerProcess, tmp_path: Path) -> None:
    write(tmp_path / "ptolemy.rc", "# rc\nPASSWORD x\n")
    env = clean_env(tmp_path)
    cases = [
        (["--port", f"{main_server.port}:{main_server.port}"], 6, "failed to find a usable port"),
        (["-D", "VALID_IP", "1.2.3.400"], 18, "VALID_IP"),
        (["-D", "PANTASKS_SERVER_PORT", "10:5"], 20, "PANTASKS_SERVER_PORT"),
        (["--bogus"], 2, "bogus"),
    ]
    for args, code, text in cases:
        proc = ServerProcess(server_argv() + ["-c", "ptolemy.rc"] + args, tmp_path, env)
        assert proc.proc.wait(20) == code, (args, proc.stdout, proc.stderr)
        time.sleep(0.1)
        assert any(text in line for line in proc.stderr), (args, proc.stderr)
        assert not any("Traceback" in line for line in proc.stderr), proc.stderr


def test_no_config_generated_password_and_shutdown(tmp_path: Path) -> None:
    base = free_port_base()
    server = ServerProcess(server_argv() + ["--port", f"{base}:{base + 20}"], tmp_path,
                           clean_env(tmp_path))
    try:
        m = server.wait_for(r"generated password for user pantasks: (\S+) \(kept in (\S+),")
        password, path = m.group(1), m.group(2)
        assert path == str(tmp_path / ".config" / "pantasks" / "password")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert Path(path).read_text().strip() == password
        port = server.wait_port()
        c = Conn(port)
        assert c.login(password) == "OK pantasks control"
        lines, status = c.ask("job sleep 1")
        assert status == "STATUS 1", lines
        t0 = time.monotonic()
        assert c.ask("shutdown") == ([], "STATUS 1")
        assert c.at_eof()
        time.sleep(0.3)
        assert server.proc.poll() is None, "waits for the running job"
        assert server.proc.wait(15) == 0
        assert time.monotonic() - t0 >= 0.6
    finally:
        server.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def twistd_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("twistd")
    base = free_port_base()
    write(d / "ptolemy.rc", f"# twistd test\nPASSWORD secret\nPANTASKS_SERVER_PORT {base}\n"
                            "VALID_IP 127.0.0.2\n")
    server = ServerProcess(
        twistd_argv() + ["-n", "--pidfile=", "pantasks", "-c", "ptolemy.rc"], d, clean_env(d))
    try:
        server.wait_port()
        yield server
    finally:
        server.stop(signal.SIGKILL)


def test_twistd_valid_ip_closed_before_greeting(twistd_server: ServerProcess) -> None:
    outside = Conn(twistd_server.port, source="127.0.0.1")
    assert outside.sock.recv(100) == b"", "closed without a greeting"
    inside = Conn(twistd_server.port, source="127.0.0.2")
    assert inside.login() == "OK pantasks control"


def test_twistd_session_and_sigterm(twistd_server: ServerProcess) -> None:
    c = Conn(twistd_server.port, source="127.0.0.2")
    assert c.login() == "OK pantasks control"
    c.send("macro twm\nfor i 0 3\necho i=$i\nend\nend\ntwm\necho after\n")
    assert [c.readline() for _ in range(5)] == ["MORE 1", "MORE 2", "MORE 2", "MORE 1",
                                                "STATUS 1"]
    assert c.reply() == (["O i=0", "O i=1", "O i=2"], "STATUS 1")
    assert c.reply() == (["O after"], "STATUS 1")
    twistd_server.proc.send_signal(signal.SIGTERM)
    assert twistd_server.proc.wait(15) == 0
    assert c.at_eof()


def _self_signed(path: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM))


def test_tls_port_range(tmp_path: Path) -> None:
    import socket
    import ssl

    pytest.importorskip("cryptography")
    _self_signed(tmp_path / "key.pem")
    base = free_port_base()
    write(tmp_path / "ptolemy.rc", f"# tls\nPASSWORD secret\nPANTASKS_SERVER_PORT {base}\n")
    write(tmp_path / "pantasks.conf", f"[server]\ntls_key = {tmp_path / 'key.pem'}\n")
    server = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                           tmp_path, clean_env(tmp_path))
    try:
        port = server.wait_port()
        ctx = ssl.create_default_context(cafile=str(tmp_path / "key.pem"))
        ctx.check_hostname = False
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 10)) as s:
            f = s.makefile("rwb")
            assert f.readline().startswith(b"PANTASKS 1 ")
            f.write(b"PASS secret\necho over tls\nQUIT\n")
            f.flush()
            assert f.read() == b"OK pantasks control\nO over tls\nSTATUS 1\nBYE\n"
            f.close()
    finally:
        assert server.stop() == 0
