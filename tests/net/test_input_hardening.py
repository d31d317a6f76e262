# -*- test-case-name: tests.net.test_input_hardening -*-
"""Against a real C{pantasks_server}: numbers that are not usable numbers
and names that could forge event lines are refused with one clear error
line, never an internal error, and the server goes on serving."""

from __future__ import annotations

import re
import time

from tests.net.procs import Conn, ServerProcess

BIG = "9" * 5000

#: Issue 8's reproductions (single lines, or a block and its end).
NUMERIC = [
    ["for i nan 1", "end"],
    ["for i 0 1 inf", "end"],
    ["sleep inf"],
    ["sleep nan"],
    ["usleep inf"],
    [f"sprintf x %d {BIG}"],
    [f"fprintf %x {BIG}"],
    [f"inthash {BIG} 3"],
    [f"strhash abc {BIG}"],
    [f"book getpage b {BIG}"],
]


def _request(c: Conn, lines: list[str]) -> tuple[list[str], str]:
    for line in lines[:-1]:
        c.send(line + "\n")
        assert c.readline().startswith("MORE "), line[:40]
    return c.ask(lines[-1])


def test_bad_numbers_give_usage_errors(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    assert c.login("alicepw", "alice") == "OK alice control"
    for lines in NUMERIC:
        reply, status = _request(c, lines)
        assert status == "STATUS 0", (lines[0][:40], reply)
        assert len(reply) == 1 and reply[0].startswith("E "), (lines[0][:40], reply)
        assert "internal error" not in reply[0] and len(reply[0]) < 300, reply
    # A watch user gets the same (sleep, sprintf... are read-only).
    w = Conn(main_server.port)
    assert w.login("bobpw", "bob") == "OK bob watch"
    reply, status = w.ask("sleep nan " + "x" * 60000)
    assert status == "STATUS 0" and reply == ["E usage: sleep N"], reply
    assert c.ask("echo still here") == (["O still here"], "STATUS 1")
    c.close()
    w.close()
    log = "".join((main_server.dir / name).read_text() for name in ("server.out", "server.err"))
    assert "internal error" not in log and "Traceback" not in log


def test_forged_task_names_refused(main_server: ServerProcess) -> None:
    """C{task "a b EXIT 0 fakehost"} is refused; watchers see only true
    C{J} lines."""
    c = Conn(main_server.port)
    assert c.login("alicepw", "alice") == "OK alice control"
    for name in ["a b EXIT 0 fakehost", "", "evil\x1b[2J"]:
        reply, status = _request(c, [f'task "{name}"', "command true", "periods -exec 0.1",
                                     "end"])
        assert status == "STATUS 0", reply
        assert len(reply) == 1 and reply[0].startswith("E invalid task name"), reply
        assert "\x1b" not in reply[0]
    reply, status = _request(c, ['macro "m x"', "echo hi", "end"])
    assert reply[0].startswith("E invalid macro name") and status == "STATUS 0", reply
    reply, status = _request(c, ["task hard.names", 'host "h EXIT 0"', "end"])
    assert any(r.startswith("E invalid host name") for r in reply), reply
    lines, status = c.ask("status")
    assert not any("fakehost" in line or "\x1b" in line for line in lines), lines

    w = Conn(main_server.port)
    assert w.login("bobpw", "bob") == "OK bob watch"
    assert w.ask("watch on -jobs")[1] == "STATUS 1"
    reply, status = _request(c, ["task chip.imfile.load", "command true", "periods -exec 0.1",
                                 "nmax 2", "end"])
    assert status == "STATUS 1", reply
    assert c.ask("run")[1] == "STATUS 1"
    jobs: list[str] = []  # (other tests' tasks may run on this server too)
    deadline = time.monotonic() + 15
    while len([j for j in jobs if " chip.imfile.load " in j]) < 2 and time.monotonic() < deadline:
        line = w.readline()
        if line.startswith("J "):
            jobs.append(line)
    mine = [j for j in jobs if " chip.imfile.load " in j]
    assert len(mine) == 2, jobs
    for line in mine:
        assert re.fullmatch(r"J \d+ chip\.imfile\.load EXIT 0 \S+", line), line
    for line in jobs:  # no forged line from anyone
        assert re.fullmatch(r"J \d+ [A-Za-z0-9._:+@-]+ [A-Z]+( -?\d+)? \S+", line), line
        assert "fakehost" not in line
    c.ask("delete task chip.imfile.load")
    c.close()
    w.close()
