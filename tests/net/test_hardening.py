# -*- test-case-name: tests.net.test_hardening -*-
"""The attacker's tests against a real C{pantasks_server}: brute force
around the lockout, connection floods, log floods.

The server here has its own quick settings (short delays, a short login
timeout) so the attacks run in seconds; each attack comes from its own
127.0.0.x address.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from pantasks.net.auth import hmac_response
from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d: Path = tmp_path_factory.mktemp("hardening")
    base = free_port_base()
    write(d / "ptolemy.rc",
          "PASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {d}/server.out\n"
          f"PANTASKS_SERVER_STDERR {d}/server.err\n")
    write(d / "pantasks.conf",
          "[server]\n"
          "lockout_failures = 5\n"
          "lockout_window = 60\n"
          "lockout_time = 600\n"
          "auth_fail_delay = 0.05\n"
          "auth_fail_delay_max = 0.2\n"
          "login_timeout = 3\n"
          "[users]\n"
          "alice = alicepw, control\n"
          "bob = bobpw, watch\n")
    # A planted bug: a command that raises, so the handling of a real
    # internal error can be seen from outside.
    plant = d / "plant"
    plant.mkdir()
    write(plant / "sitecustomize.py",
          "from pantasks.lang.registry import command\n"
          "@command('testbug', effect='reads')  # declared: watch users may run it\n"
          "def _testbug(ctx, argv):\n"
          "    raise ValueError('planted bug: ' + ' '.join(argv[1:]))\n")
    env = clean_env(d)
    env["PYTHONPATH"] = f"{plant}{os.pathsep}{env['PYTHONPATH']}"
    proc = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                         d, env)
    proc.dir = d  # type: ignore[attr-defined]
    try:
        proc.wait_port()
        yield proc
    finally:
        code = proc.stop()
        assert code == 0, (code, proc.stdout, proc.stderr)


def log_text(server: ServerProcess) -> str:
    return (server.dir / "server.err").read_text(errors="replace")  # type: ignore[attr-defined]


def log_size(server: ServerProcess) -> int:
    d = server.dir  # type: ignore[attr-defined]
    return sum(os.path.getsize(d / name) for name in ("server.out", "server.err"))


def auth(server: ServerProcess, user: str, password: str, source: str) -> str:
    """One login attempt on a new connection; the server's answer."""
    c = Conn(server.port, source=source)
    try:
        c.greeting()
        c.send(f"AUTH {user} {hmac_response(password, c.nonce)}\n")
        return c.readline()
    except (EOFError, OSError) as e:
        return f"closed: {e!r}"
    finally:
        c.close()


def test_good_watch_logins_do_not_reset_the_lockout(server: ServerProcess) -> None:
    """The bypass of issue 8: four wrong control passwords, one good watch
    login, repeated.  The address is blocked after five failures, and from
    then on even the right control password is refused."""
    source = "127.0.0.21"
    guesses = [f"guess{i}" for i in range(26)]
    guesses[22] = "secret"  # the attacker would find it here
    answers = []
    for i, guess in enumerate(guesses):
        answers.append(auth(server, "pantasks", guess, source))
        if i % 4 == 3:
            auth(server, "bob", "bobpw", source)
    assert "OK pantasks control" not in answers
    assert answers[22] == "NO authentication failed", "the right password, blocked"
    assert auth(server, "bob", "bobpw", source) == "NO authentication failed"
    log = log_text(server)
    assert log.count(f"address {source} blocked for 600 s") == 1, log
    assert (f"authentication failed for pantasks from {source}\n"
            "pantasks_server: last message repeated 4 times\n") in log, log
    assert log.count(f"authentication failed for pantasks from {source}") == 1, \
        "attempts refused while blocked are counted, not logged"
    assert auth(server, "alice", "alicepw", "127.0.0.22") == "OK alice control"


def test_idle_connections_do_not_keep_control_out(server: ServerProcess) -> None:
    """200 silent connections and 200 watch sessions, from a few addresses:
    a control user still gets in, from a busy address and from a new one."""
    silent = []
    for i in range(200):
        c = Conn(server.port, source=f"127.0.1.{i % 10 + 1}")
        silent.append(c)
    watchers, refused = [], 0
    for i in range(200):
        c = Conn(server.port, source=f"127.0.2.{i % 10 + 1}")
        answer = c.login("bobpw", user="bob")
        if answer == "OK bob watch":
            watchers.append(c)
        else:
            assert answer == "ERR too many connections", answer
            refused += 1
            c.close()
    assert len(watchers) == 190 and refused == 10, "the last 10 sessions are for control users"
    for source in ("127.0.1.1", "127.0.2.1", "127.0.3.1"):
        c = Conn(server.port, source=source)
        assert c.login("alicepw", user="alice") == "OK alice control", source
        assert c.ask("echo in") == (["O in"], "STATUS 1")
        c.close()
    assert watchers[0].ask("echo still") == (["O still"], "STATUS 1")
    for c in silent + watchers:
        c.close()


def test_silent_connection_closed_after_login_timeout(server: ServerProcess) -> None:
    c = Conn(server.port, source="127.0.0.23")
    c.greeting()
    t0 = time.monotonic()
    assert c.readline() == "ERR authentication timeout"
    assert c.at_eof()
    assert time.monotonic() - t0 >= 2.5


def test_server_survives_connection_churn(server: ServerProcess) -> None:
    for _ in range(100):
        s = socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.24", 0))
        s.close()
    c = Conn(server.port)
    assert c.login() == "OK pantasks control"


#: What a 20 s flood may add to the log, at most.
FLOOD_LOG_BOUND = 300_000


def test_log_flood_bounded(server: ServerProcess) -> None:
    """20 s of AUTH lines with 65,000-character names (some with escape
    sequences) from several addresses, and of bad PASS lines from an
    address that gets blocked: the log grows by less than
    L{FLOOD_LOG_BOUND} bytes and holds no raw escape character."""
    before = log_size(server)
    deadline = time.monotonic() + 20
    counts = {"auth": 0, "pass": 0}

    def long_names(i: int) -> None:
        source = f"127.0.0.{41 + i}"
        while time.monotonic() < deadline:
            name = ("\x1b[31m\x1b]0Xowned\x07" if counts["auth"] % 2 else "n") * 65000
            try:
                c = Conn(server.port, source=source, timeout=5)
                c.send(f"AUTH {name[:65000]} 00\n")
                c.at_eof()
                c.close()
            except OSError:
                pass
            counts["auth"] += 1

    def bad_pass() -> None:
        while time.monotonic() < deadline:
            try:
                c = Conn(server.port, source="127.0.0.46", timeout=5)
                c.send("PASS wrong\n")
                c.at_eof()
                c.close()
            except OSError:
                pass
            counts["pass"] += 1

    threads = [threading.Thread(target=long_names, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=bad_pass))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert counts["auth"] > 100 and counts["pass"] > 20, counts
    c = Conn(server.port)
    assert c.login() == "OK pantasks control", "still serving"
    grown = log_size(server) - before
    assert grown < FLOOD_LOG_BOUND, (grown, counts)
    text = log_text(server)
    assert "\x1b" not in text and "\x07" not in text
    assert "address 127.0.0.46 blocked" in text


def test_name_with_escape_sequences_logged_escaped(server: ServerProcess) -> None:
    c = Conn(server.port, source="127.0.0.47")
    c.greeting()
    c.send("AUTH \x1b[2J\x1b]0;evil\x07mallory 00\n")
    assert c.readline() == "NO authentication failed"
    assert "authentication failed for \\x1b[2J\\x1b]0;evil\\x07mallory from 127.0.0.47" \
        in log_text(server)


def test_internal_error_short_reply_traceback_once_not_to_watchers(server: ServerProcess) -> None:
    """A watch user runs into a bug 300 times with a 60 KB argument full of
    escape sequences: each reply is one short line, the log holds one
    traceback (argument cut and escaped), watchers never see it."""
    watcher = Conn(server.port)
    assert watcher.login("bobpw", user="bob") == "OK bob watch"
    assert watcher.ask("watch on") == (["O watch: log on, jobs off"], "STATUS 1")
    before = log_size(server)
    c = Conn(server.port)
    assert c.login("bobpw", user="bob") == "OK bob watch"
    arg = "\x1b[31m" * 12000
    c.send(f"testbug {arg}\n" * 300)
    for _ in range(300):
        assert c.reply() == (["E internal error (see server log)"], "STATUS 0")
    assert c.ask("echo after") == (["O after"], "STATUS 1")
    time.sleep(0.5)
    assert log_size(server) - before < 20_000
    text = log_text(server)
    assert text.count("planted bug") >= 1 and text.count("Traceback") == 1, text[-3000:]
    assert "\x1b" not in text
    assert "has happened 256 times" in text
    watcher.sock.settimeout(1)
    seen = []
    try:
        while True:
            seen.append(watcher.readline())
    except (OSError, EOFError):
        pass
    assert not any("Traceback" in ln or "planted" in ln for ln in seen), seen


def test_job_output_with_escape_sequences_reaches_log_and_watchers_escaped(
        server: ServerProcess) -> None:
    """A task macro prints text holding escape sequences and backspaces
    (as a job's output could): the log file and the watchers' C{L} lines
    get it as plain text."""
    watcher = Conn(server.port)
    assert watcher.login("bobpw", user="bob") == "OK bob watch"
    assert watcher.ask("watch on") == (["O watch: log on, jobs off"], "STATUS 1")
    c = Conn(server.port)
    assert c.login() == "OK pantasks control"
    for line in ["task tesc", "command true", "periods -exec 0.1", "nmax 1", "task.exit 0",
                 "echo tesc \x1b[2J\x1b]0Xowned\x07\x08\x08\x08\x08done", "end", "end"]:
        c.send(line + "\n")
        c.readline()
    assert c.ask("run") == ([], "STATUS 1")
    deadline = time.monotonic() + 15
    line = ""
    while time.monotonic() < deadline and not line.startswith("L tesc"):
        line = watcher.readline()
    assert line == "L tesc \\x1b[2J\\x1b]0Xowned\\x07\\x08\\x08\\x08\\x08done", repr(line)
    c.ask("stop")
    text = (server.dir / "server.out").read_text()  # type: ignore[attr-defined]
    assert "tesc \\x1b[2J\\x1b]0Xowned\\x07\\x08\\x08\\x08\\x08done" in text
    assert "\x1b" not in text and "\x08" not in text


def test_guesses_spread_over_addresses_block_the_user_name(server: ServerProcess) -> None:
    """One wrong alice password from each of 10 addresses blocks the name
    alice for those addresses (even with the right password); an address
    with no failure still logs in as alice, and other users are unaffected."""
    for i in range(10):
        assert auth(server, "alice", f"guess{i}", f"127.0.4.{i + 1}") == \
            "NO authentication failed"
    assert auth(server, "alice", "alicepw", "127.0.4.3") == "NO authentication failed"
    assert auth(server, "bob", "bobpw", "127.0.4.3") == "OK bob watch"
    assert auth(server, "alice", "alicepw", "127.0.4.99") == "OK alice control"
    log = log_text(server)
    assert log.count("user 'alice' blocked for 600 s after 10 failed logins") == 1, log
