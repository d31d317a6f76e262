# -*- test-case-name: tests.net.test_engine_process -*-
"""No request can hold the server: a real C{pantasks_server} with clients
that loop forever, are interrupted, cancelled, disconnected, stop reading
their replies, or leave blocks open; everyone else keeps being served."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write

#: A request to another client must be answered within this (generous:
#: a frozen server never answers).
ANSWER = 5.0


def pgrep(pattern: str) -> list[str]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return out.stdout.split()


def wait_until(cond, timeout: float = 15.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    base = free_port_base()
    write(tmp_path / "ptolemy.rc", f"PASSWORD secret\nPANTASKS_SERVER_PORT {base}:{base + 20}\n")
    write(tmp_path / "pantasks.conf",
          "[users]\nalice = alicepw, control\nbob = bobpw, watch\n"
          "[limits]\nrequest_cpu_watch = 2\nmax_open_block_bytes = 8388608\nmacro_cpu = 1\n")
    proc = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                         tmp_path, clean_env(tmp_path))
    proc.dir = tmp_path  # type: ignore[attr-defined]
    try:
        proc.wait_port()
        yield proc
    finally:
        proc.stop(signal.SIGKILL)


def connect(server: ServerProcess, user: str = "", password: str = "secret") -> Conn:
    c = Conn(server.port, timeout=ANSWER)
    ok = c.login(password, user or None)
    assert ok.startswith("OK "), ok
    return c


def start_loop(c: Conn, body: str = "") -> None:
    c.send("while (1)\n" + (body + "\n" if body else "") + "end\n")
    assert c.readline() == "MORE 1"
    if body:
        assert c.readline() == "MORE 1"


def test_loops_do_not_hold_the_server(server: ServerProcess) -> None:
    """A control and a watch user each loop forever: a third client is
    answered, a new one greeted, jobs harvested and exit macros run;
    INTERRUPT ends the control user's loop, the watch user's budget ends
    the other."""
    c = connect(server, "alice", "alicepw")
    for line in ["$ran = 0", "task tick", "command true", "periods -exec 0.1",
                 "task.exit 0", "$ran ++", "end", "end", "run"]:
        c.send(line + "\n")
        c.readline()
    looper = connect(server)
    watcher = connect(server, "bob", "bobpw")
    start_loop(looper, "$spin = 1")
    start_loop(watcher)
    time.sleep(0.5)
    first = int(c.ask("echo $ran")[0][0].split()[1])
    for _ in range(5):
        assert c.ask("echo alive") == (["O alive"], "STATUS 1")
        fresh = Conn(server.port, timeout=ANSWER)
        fresh.greeting()
        fresh.close()
        time.sleep(0.2)
    wait_until(lambda: int(c.ask("echo $ran")[0][0].split()[1]) >= first + 3, 20,
               "exit macros while two clients loop")
    looper.send("INTERRUPT\n")
    assert looper.reply() == (["E interrupted: while (1)"], "STATUS 0")
    assert looper.ask("echo after") == (["O after"], "STATUS 1")
    watcher.sock.settimeout(60)
    lines, status = watcher.reply()
    assert status == "STATUS 0"
    assert lines == ["E interrupted: while (1) (CPU budget of 2 s spent)"]
    assert watcher.ask("echo still here") == (["O still here"], "STATUS 1")


def test_sigterm_while_a_loop_runs(server: ServerProcess) -> None:
    looper = connect(server)
    start_loop(looper)
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    assert looper.at_eof()


def test_interrupt_kills_what_the_request_started(server: ServerProcess) -> None:
    c = connect(server)
    c.send("exec sleep 6001\n")
    wait_until(lambda: pgrep("sleep 6001"), what="sleep 6001 to start")
    c.send("INTERRUPT\n")
    assert c.reply() == (["E interrupted: exec sleep 6001"], "STATUS 0")
    wait_until(lambda: not pgrep("sleep 6001"), what="sleep 6001 to be killed")
    # A backtick's command, and a connection that closes instead.
    c.send("$x = `sleep 6002`\n")
    wait_until(lambda: pgrep("sleep 6002"), what="sleep 6002 to start")
    c.close()
    wait_until(lambda: not pgrep("sleep 6002"), what="sleep 6002 to be killed")
    other = connect(server)
    assert other.ask("echo $?x") == (["O 0"], "STATUS 1")


def test_sessions_cancel_disconnect(server: ServerProcess) -> None:
    admin = connect(server, "alice", "alicepw")
    looper = connect(server)
    start_loop(looper)
    lines, status = admin.ask("sessions")
    assert status == "STATUS 1"
    lines = [ln[2:] for ln in lines]
    assert lines[0].split()[:4] == ["ID", "USER", "ROLE", "ADDRESS"]
    row = next(ln for ln in lines if ln.rstrip().endswith("while (1)"))
    words = row.split()
    sid = words[0]
    assert words[1:4] == ["pantasks", "control", "127.0.0.1"]
    assert any("sessions (this one)" in ln and " alice " in ln for ln in lines)
    watcher = connect(server, "bob", "bobpw")
    lines, status = watcher.ask(f"cancel {sid}")
    assert status == "STATUS 0" and "permission denied" in lines[0], lines
    assert admin.ask(f"cancel {sid}") == ([f"O session {sid}: request cancelled"], "STATUS 1")
    assert looper.reply() == (["E interrupted: while (1) (cancelled by alice)"], "STATUS 0")
    lines, status = admin.ask(f"cancel {sid}")
    assert status == "STATUS 0" and lines == [f"E cancel: session {sid} is not running a request"]
    assert admin.ask("cancel 99999")[0] == ["E cancel: no session 99999"]
    assert admin.ask("cancel x")[1] == "STATUS 0"
    start_loop(looper)
    assert admin.ask(f"disconnect {sid}") == ([f"O session {sid}: disconnected"], "STATUS 1")
    assert looper.at_eof()
    assert admin.ask("echo ok") == (["O ok"], "STATUS 1")


def test_shutdown_now_stops_loops(server: ServerProcess) -> None:
    looper = connect(server)
    start_loop(looper)
    admin = connect(server)
    assert admin.ask("shutdown now") == ([], "STATUS 1")
    assert server.proc.wait(30) == 0


def test_client_that_does_not_read(server: ServerProcess) -> None:
    """Replies a client does not read are not buffered without bound: the
    request waits; the programs it runs are not read either."""
    c = connect(server)
    assert c.ask("$x = 0123456789abcdef")[1] == "STATUS 1"
    for _ in range(17):  # 2 MiB
        assert c.ask("$x = $x $x")[1] == "STATUS 1"
    assert c.ask("strlen \"$x\"") == (["E 2228223"], "STATUS 1")
    idle = server.rss_kb()
    c.send("for i 0 1000\necho $x\nend\n")
    c.send("exec yes pantasks-no-reader\n")
    other = connect(server)
    for _ in range(20):
        assert other.ask("echo alive") == (["O alive"], "STATUS 1")
        time.sleep(0.25)
    assert server.rss_kb() - idle < 300_000
    c.close()
    wait_until(lambda: not pgrep("yes pantasks-no-reader"), what="yes to be killed")
    assert other.ask("echo done") == (["O done"], "STATUS 1")


def test_open_blocks_are_bounded_in_total(server: ServerProcess) -> None:
    """Blocks that never close hold at most max_open_block_bytes (8 MiB
    here) across all connections."""
    line = "echo " + "x" * 60000 + "\n"
    conns = []
    refused = 0
    for _ in range(6):
        c = connect(server)
        c.send("macro big\n")
        assert c.readline() == "MORE 1"
        for _ in range(40):  # 2.4 MB each
            c.send(line)
            answer = c.readline()
            if answer != "MORE 1":
                assert answer.startswith("E block too long"), answer
                assert c.readline() == "STATUS 0"
                refused += 1
                break
        conns.append(c)
    assert refused >= 2
    other = connect(server)
    assert other.ask("echo fine") == (["O fine"], "STATUS 1")


def test_watchers_that_do_not_read(server: ServerProcess) -> None:
    """Three watchers that never read while the log streams 100 kB lines:
    the server holds a bounded amount for them, keeps serving, and a
    watcher that reads again is told what it missed."""
    admin = connect(server, "alice", "alicepw")
    for line in ["$big = 0123456789", "for i 0 13", "$big = $big $big", "end",
                 "task spew", "command true", "periods -exec 0.02", "nmax 100000",
                 "task.exit 0", "echo $big", "end", "end"]:
        reply = admin.ask(line)
        assert reply[1] != "STATUS 0", (line, reply)
    watchers = [connect(server, "bob", "bobpw") for _ in range(3)]
    for w in watchers:
        assert w.ask("watch on -jobs") == (["O watch: log on, jobs on"], "STATUS 1")
    idle = server.rss_kb()
    assert admin.ask("run") == ([], "STATUS 1")
    for _ in range(40):
        assert admin.ask("echo alive") == (["O alive"], "STATUS 1")
        time.sleep(0.25)
    assert server.rss_kb() - idle < 150_000
    assert admin.ask("stop") == ([], "STATUS 1")
    w = watchers[0]
    w.sock.settimeout(30)
    seen_drop = False
    for _ in range(100_000):
        line = w.readline()
        if line.startswith("L pantasks: ") and "watch lines dropped" in line:
            seen_drop = True
            break
    assert seen_drop


def test_runaway_task_macro(server: ServerProcess) -> None:
    """A task.exec that never ends is stopped at its CPU budget with one
    log line naming the task; the task carries on, clients are served."""
    admin = connect(server, "alice", "alicepw")
    for line in ["$spins = 0", "task spin", "command true", "periods -exec 0.5",
                 "task.exec", "$spins ++", "while (1)", "end", "end", "end", "run"]:
        reply = admin.ask(line)
        assert reply[1] != "STATUS 0", (line, reply)
    wait_until(lambda: int(admin.ask("echo $spins")[0][0].split()[1]) >= 2, 30,
               "the task to run its task.exec again")
    assert admin.ask("echo alive") == (["O alive"], "STATUS 1")
    admin.ask("stop")
    log = (Path(server.dir) / "server.err")  # type: ignore[attr-defined]
    lines = [ln for ln in server.stderr + (log.read_text().splitlines() if log.exists() else [])
             if "spin" in ln and "interrupted" in ln]
    assert lines, server.stderr
    assert lines[0].endswith("task spin: interrupted: task.exec (CPU budget of 1 s spent)")
