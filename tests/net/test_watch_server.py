# -*- test-case-name: tests.net.test_watch_server -*-
"""The watch role and the memory limits over the protocol, against a real
C{pantasks_server} process with the default C{[limits]}.

C{status -taskstatsreset} is refused to a watch user and still works for
a control user; a watch user cannot change server variables but keeps its
own; doubling a string past C{max_value} is one error line for either
role; 250 copies of a big string hit the watch session's cap; through all
of it the server's resident memory stays modest and other clients are
served.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pexpect
import pytest

from tests.net.procs import (
    BIN,
    Conn,
    ServerProcess,
    clean_env,
    free_port_base,
    server_argv,
    write,
)

MIB = 2**20
#: How much the server's resident memory may grow above its idle size.
RSS_BOUND = 300 * MIB
VAR_DENIED = "E ${}: permission denied (watch role may not change server variables)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d: Path = tmp_path_factory.mktemp("watch_server")
    base = free_port_base()
    write(d / "ptolemy.rc",
          "PASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {d}/server.out\n"
          f"PANTASKS_SERVER_STDERR {d}/server.err\n")
    write(d / "pantasks.conf", "[users]\nalice = alicepw, control\nbob = bobpw, watch\n")
    proc = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                         d, clean_env(d))
    try:
        proc.wait_port()
        yield proc
    finally:
        code = proc.stop()
        assert code == 0, (code, proc.stdout, proc.stderr)


def login(server: ServerProcess, user: str) -> Conn:
    c = Conn(server.port, timeout=60)
    assert c.login(f"{user}pw", user=user) == f"OK {user} {'watch' if user == 'bob' else 'control'}"
    return c


def ask_block(c: Conn, lines: list[str]) -> tuple[list[str], str]:
    """Send a block; the reply to its last line."""
    for line in lines[:-1]:
        assert c.ask(line)[1].startswith("MORE"), line
    return c.ask(lines[-1])


def rss(server: ServerProcess) -> int:
    """The server's resident memory in bytes."""
    return server.rss_kb() * 1024


def still_serving(server: ServerProcess) -> None:
    c = login(server, "alice")
    assert c.ask("echo alive") == (["O alive"], "STATUS 1")
    c.close()


def taskstats_line(c: Conn, task: str) -> str:
    lines, status = c.ask(f"status -taskstats {task}")
    assert status == "STATUS 1", lines
    found = [ln for ln in lines if f" {task} " in ln]
    assert len(found) == 1, lines
    return found[0]


def test_taskstatsreset_refused_to_watch(server: ServerProcess) -> None:
    alice = login(server, "alice")
    assert ask_block(alice, ["task quick", "command true", "periods -exec 0.1 -poll 0.1",
                             "nmax 2", "end"]) == ([], "STATUS 1")
    assert alice.ask("run") == ([], "STATUS 1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = taskstats_line(alice, "quick")
        if line.split("|")[2].split()[0] == "2":  # two successes
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the task's jobs did not run: {line}")
    assert alice.ask("stop") == ([], "STATUS 1")
    before = taskstats_line(alice, "quick")
    bob = login(server, "bob")
    assert bob.ask("status -taskstatsreset") == (
        ["E status: permission denied (user bob has the watch role)"], "STATUS 0")
    assert bob.ask("status -taskstatsreset quick") == (
        ["E status: permission denied (user bob has the watch role)"], "STATUS 0")
    assert taskstats_line(bob, "quick") == before  # and the watch user may still look
    assert alice.ask("status -taskstatsreset quick") == ([], "STATUS 1")
    assert taskstats_line(alice, "quick") != before
    assert alice.ask("delete task quick") == ([], "STATUS 1")


def test_watch_variable_rules(server: ServerProcess) -> None:
    alice = login(server, "alice")
    bob = login(server, "bob")
    assert alice.ask("$LABEL = real") == ([], "STATUS 1")
    assert alice.ask("$COUNT = 5") == ([], "STATUS 1")
    for line, name in [("$LABEL = x", "LABEL"), ("$COUNT ++", "COUNT"), ("$COUNT += 3", "COUNT"),
                       ("set COUNT = 9", "COUNT"), ("sprintf LABEL %s new", "LABEL")]:
        assert bob.ask(line) == ([VAR_DENIED.format(name)], "STATUS 0"), line
    assert ask_block(bob, ["for COUNT 0 3", "echo $COUNT", "end"]) == (
        [VAR_DENIED.format("COUNT")], "STATUS 0")
    assert alice.ask("echo $LABEL $COUNT") == (["O real 5"], "STATUS 1")
    # the watch user's own names: kept between its requests, seen by it only
    assert bob.ask("$mine = 1") == ([], "STATUS 1")
    assert ask_block(bob, ["for i 0 4", "$mine = $mine + $i", "end"]) == ([], "STATUS 1")
    assert bob.ask("echo $mine $i") == (["O 7 3"], "STATUS 1")
    lines, status = alice.ask("echo $mine")
    assert status == "STATUS 0" and lines == ["E variable mine not found"]
    # a second watch connection has its own session
    other = login(server, "bob")
    assert other.ask("echo $?mine") == (["O 0"], "STATUS 1")
    # the control user's assignments still work
    assert alice.ask("$LABEL = changed") == ([], "STATUS 1")
    assert bob.ask("echo $LABEL") == (["O changed"], "STATUS 1")
    still_serving(server)


def test_doubling_past_max_value_and_session_caps(server: ServerProcess) -> None:
    idle = rss(server)
    too_long = ("E $x: value too long (33554432 characters; at most 16777216 may be stored, "
                "[limits] max_value)")
    double = ["$x = .", "for d 0 30", "$x = $x$x", "end"]
    for user in ("bob", "alice"):
        c = login(server, user)
        assert c.ask(double[0]) == ([], "STATUS 1")
        assert ask_block(c, double[1:]) == ([too_long], "STATUS 0"), user
        assert c.ask("echo $d") == (["O 24"], "STATUS 1")  # stopped at the 25th doubling
        still_serving(server)
        assert rss(server) - idle < RSS_BOUND, user
    # 250 copies of a big string in a watch session: the cap, one line
    bob = login(server, "bob")
    assert bob.ask("$y = .") == ([], "STATUS 1")
    assert ask_block(bob, ["for yd 0 20", "$y = $y$y", "end"]) == ([], "STATUS 1")  # 1 MiB
    # The session holds $y (1 MiB) and 30 copies when the 31st would pass 32 MiB.
    lines, status = ask_block(bob, ["for yc 0 250", "$copy$yc = $y", "end"])
    assert status == "STATUS 0"
    assert lines == ["E $copy30: session full (a watch session keeps at most 33554432 "
                     "characters, [limits] watch_session_size)"], lines
    assert rss(server) - idle < RSS_BOUND
    # many small variables: the entry cap
    small = login(server, "bob")
    # $STATUS and $vc count too: v0..v9997 fill the 10000.
    lines, status = ask_block(small, ["for vc 0 20000", "$v$vc = 1", "end"])
    assert status == "STATUS 0"
    assert lines == ["E $v9998: session full (a watch session keeps at most 10000 "
                     "variables, [limits] watch_session_lines)"], lines
    # a list that would not fit is not half-stored
    assert small.ask("list L -split a b c") == (
        ["E $L:0: session full (a watch session keeps at most 10000 variables, "
         "[limits] watch_session_lines)"], "STATUS 0")
    assert small.ask("echo $?L:0") == (["O 0"], "STATUS 1")
    # a control user has no session cap: its variables are the server's
    alice = login(server, "alice")
    assert alice.ask("$z = .") == ([], "STATUS 1")
    assert ask_block(alice, ["for d 0 20", "$z = $z$z", "end"]) == ([], "STATUS 1")
    assert ask_block(alice, ["for c 0 40", "$zcopy$c = $z", "end"]) == ([], "STATUS 1")
    still_serving(server)
    assert rss(server) - idle < RSS_BOUND


def test_server_assignment_from_the_real_client(server: ServerProcess, tmp_path: Path) -> None:
    """C{server $LABEL = x} typed in pantasks_client by a watch user: one
    clear line, and the server's variable is unchanged."""
    alice = login(server, "alice")
    assert alice.ask("$LABEL = kept") == ([], "STATUS 1")
    child = pexpect.spawn(
        str(BIN / "pantasks_client"),
        ["--norc", "-u", "bob", "-D", "PANTASKS_SERVER", "127.0.0.1",
         "-D", "PANTASKS_SERVER_PORT", f"{server.port}:{server.port}", "-D", "PASSWORD", "bobpw"],
        env=clean_env(tmp_path), cwd=str(tmp_path), encoding="utf-8", timeout=30)
    child.expect_exact("pantasks: ")
    child.sendline("server $LABEL = x")
    child.expect_exact("$LABEL: permission denied (watch role may not change server variables)")
    child.expect_exact("pantasks: ")
    child.sendline("server echo $LABEL")
    child.expect_exact("kept")
    child.expect_exact("pantasks: ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert alice.ask("echo $LABEL") == (["O kept"], "STATUS 1")


def test_watch_sessions_together_are_capped(server: ServerProcess) -> None:
    """Many watch connections cannot add up: 16 MiB each, the 8th passes
    the 128 MiB all sessions may hold together; closing gives it back."""
    idle = rss(server)
    conns = []
    for i in range(8):
        c = login(server, "bob")
        conns.append(c)
        assert c.ask("$w = .") == ([], "STATUS 1")
        lines, status = ask_block(c, ["for wd 0 24", "$w = $w$w", "end"])
        if i < 7:
            assert (lines, status) == ([], "STATUS 1"), i
        else:
            assert status == "STATUS 0"
            assert lines == ["E $w: session full (all watch sessions together keep at most "
                             "134217728 characters, [limits] watch_total_size)"], lines
    assert rss(server) - idle < RSS_BOUND
    still_serving(server)
    for c in conns[:4]:
        c.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the server notices the closes
        c = login(server, "bob")
        assert c.ask("$w = .") == ([], "STATUS 1")
        lines, status = ask_block(c, ["for wd 0 24", "$w = $w$w", "end"])
        c.close()
        if status == "STATUS 1":
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"closed sessions kept their share: {lines}")
    for c in conns[4:]:
        c.close()
