# -*- test-case-name: tests.net.test_data_limits -*-
"""Against a real C{pantasks_server}: what a user types cannot make the
server spend exponential time on a pattern, and the server keeps serving
everyone else meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d: Path = tmp_path_factory.mktemp("data_limits")
    base = free_port_base()
    write(d / "ptolemy.rc",
          "PASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {d}/server.out\n"
          f"PANTASKS_SERVER_STDERR {d}/server.err\n")
    write(d / "pantasks.conf", "[users]\nbob = bobpw, watch\n")
    proc = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf"],
                         d, clean_env(d))
    proc.dir = d  # type: ignore[attr-defined]
    try:
        proc.wait_port()
        yield proc
    finally:
        code = proc.stop()
        assert code == 0, (code, proc.stdout, proc.stderr)


def control(server: ServerProcess) -> Conn:
    c = Conn(server.port, timeout=20)
    assert c.login() == "OK pantasks control"
    return c


def watcher(server: ServerProcess) -> Conn:
    c = Conn(server.port, timeout=20)
    assert c.login("bobpw", user="bob") == "OK bob watch"
    return c


LONG_NAME = "a" * 30  # a backtracking engine needs ~2**30 steps for "(.|.)*Q"


def test_pathological_taskstats_regex_answers_at_once(server: ServerProcess) -> None:
    """The issue's attack: a watch user's C{status -taskstats "(.|.)*Q"}
    against a long task name.  With a backtracking engine this took 7.8 s
    at 25 characters, doubling per character: the 20 s socket time-out of
    these connections would expire."""
    c = control(server)
    assert c.ask(f"task {LONG_NAME}") == ([], "MORE 1")
    assert c.ask("command true") == ([], "MORE 1")
    assert c.ask("end") == ([], "STATUS 1")
    bob = watcher(server)
    others: list[tuple[list[str], str]] = []

    def other_client() -> None:
        o = control(server)
        others.append(o.ask("echo still here"))

    lines, status = bob.ask('status -taskstats "(.|.)*Q"')
    assert status == "STATUS 1"
    assert not any(LONG_NAME in line for line in lines)
    t = threading.Thread(target=other_client)
    t.start()
    lines, status = bob.ask('status -taskstats "(a|aa)*$"')
    t.join(20)
    assert status == "STATUS 1"
    assert any(LONG_NAME in line for line in lines), lines
    assert others == [(["O still here"], "STATUS 1")]
    # the reset form takes the same patterns (as control: it changes state)
    assert c.ask('status -taskstatsreset "(.|.)*Q"') == ([], "STATUS 1")


def test_backreference_and_bad_pattern_are_one_error_line(server: ServerProcess) -> None:
    bob = watcher(server)
    # the command line turns \\ into \ (and \{ into {) before the pattern
    lines, status = bob.ask('status -taskstats "(a)\\\\1"')
    assert status == "STATUS 0"
    assert lines == ["E invalid regular expression (a)\\1: backreferences (\\1) are not "
                     "supported (patterns are matched in linear time)"]
    lines, status = bob.ask("status -taskstats [")
    assert (lines, status) == (["E invalid regular expression [: missing ]: ["], "STATUS 0")


def test_strmatch_takes_classes_not_patterns(server: ServerProcess) -> None:
    """C{strmatch} matches a character class, as in the original; a
    catastrophic pattern given as the class is refused at once."""
    bob = watcher(server)
    assert bob.ask(f'strmatch {"a" * 5000}! "(.|.)*Q"') == (
        ["E unknown character class (.|.)*Q"], "STATUS 0")
    assert bob.ask("strmatch abc123def int") == (["O match: 3 3"], "STATUS 1")


TOO_LONG = "value too long ({} characters; at most 16777216 may be stored, [limits] max_value)"


@pytest.mark.parametrize("who", [control, watcher])
def test_text_building_commands_refuse_huge_results(server: ServerProcess, who) -> None:
    """C{strsub $x a $x} with a 30,000-character C{$x} once built a 900 MB
    reply; now it is one error line, for control and watch users alike,
    and the server's memory does not move."""
    c = who(server)
    x = "a" * 30000
    before = server.rss_kb()
    lines, status = c.ask(f"strsub {x} a {x}")
    assert (lines, status) == (["E strsub: " + TOO_LONG.format(30000 * 30000)], "STATUS 0")
    assert c.ask(f"strsub {x} a {x} -var out") == (
        ["E $out: " + TOO_LONG.format(30000 * 30000)], "STATUS 0")
    assert c.ask("echo $?out") == (["O 0"], "STATUS 1")  # nothing stored
    assert c.ask("strsub abcabc b XY") == (["O aXYcaXYc"], "STATUS 1")
    assert server.rss_kb() - before < 100 * 1024
    control(server).ask("echo alive") == (["O alive"], "STATUS 1")


def test_queuesubstr_and_list_join_refuse_huge_results(server: ServerProcess) -> None:
    c = control(server)
    x = "b" * 5000
    assert c.ask("queueinit big") == ([], "STATUS 1")
    assert c.ask(f"queuepush big {x}") == ([], "STATUS 1")
    assert c.ask(f"queuesubstr big b {x}") == (
        ["E queue big: " + TOO_LONG.format(5000 * 5000)], "STATUS 0")
    assert c.ask("queuesize big -var n") == ([], "STATUS 1")
    assert c.ask("echo $n") == (["O 1"], "STATUS 1")
    lines, status = c.ask("queuepop big")
    assert (lines, status) == ([f"O {x}"], "STATUS 1")  # unchanged
    assert c.ask(f"$word = {'c' * 1000}") == ([], "STATUS 1")
    assert c.ask("for i 0 12") == ([], "MORE 1")
    assert c.ask("strsub $word c cc -var word") == ([], "MORE 1")
    assert c.ask("end") == ([], "STATUS 1")  # 4,096,000 characters
    for _ in range(5):
        assert c.ask("list many -add $word") == ([], "STATUS 1")
    assert c.ask("list many -join joined") == (
        ["E list -join: " + TOO_LONG.format(5 * 4_096_000 + 4)], "STATUS 0")
    assert c.ask("echo $?joined") == (["O 0"], "STATUS 1")


WIKI_IPPHOSTS = """\
ipphosts MULTI

ipphosts METADATA
  camera   STR  GPC1
  XY01     STR  ipp014.0
  XY02     STR  ipp015.1

ipphosts METADATA
  camera   STR  skycell
  count    S32  2
  sky00    STR  ipp020.0
"""


def test_wiki_ipphosts_without_end_names_file_line_and_fix(server: ServerProcess) -> None:
    """The operators' wiki abridges the ipphosts table without its END
    lines; loading it says which block is not closed, where it opened and
    where the next one starts, and leaves no book behind."""
    write(server.dir / "ipphosts.config", WIKI_IPPHOSTS)
    c = control(server)
    assert c.ask('queueload tmp -x "cat ipphosts.config"') == ([], "STATUS 1")
    assert c.ask("ipptool2book tmp ipphosts -key camera") == ([
        "E ERROR: the block ipphosts METADATA that starts at ipphosts.config line 3 is not"
        " closed by END before the next block starts at ipphosts.config line 8: add a line"
        " END before it; nothing was loaded into book ipphosts"], "STATUS 1")
    assert c.ask("book getword ipphosts GPC1 XY01 -var h") == ([], "STATUS 1")
    assert c.ask("echo $h") == (["O NULL"], "STATUS 1")
    lines, _ = c.ask("book list")
    assert not any("ipphosts" in line for line in lines)
    # fixed as the message says, it loads
    fixed = WIKI_IPPHOSTS.replace("\n\nipphosts METADATA\n  camera   STR  skycell",
                                  "\nEND\n\nipphosts METADATA\n  camera   STR  skycell") + "END\n"
    write(server.dir / "ipphosts.config", fixed)
    assert c.ask("queueinit tmp") == ([], "STATUS 1")
    assert c.ask('queueload tmp -x "cat ipphosts.config"') == ([], "STATUS 1")
    assert c.ask("ipptool2book tmp ipphosts -key camera") == ([], "STATUS 1")
    assert c.ask("book getword ipphosts GPC1 XY02") == (["O ipp015.1"], "STATUS 1")


@pytest.mark.parametrize("who", [control, watcher])
def test_key_queries_over_many_words_keep_memory_bounded(server: ServerProcess, who) -> None:
    """A watch user's C{book npages big -key k$i x} over thousands of
    made-up words once grew a shared per-word index by 314 MB that stayed;
    now a book keeps the indexes of a few words only."""
    c = control(server)
    pages = "".join(f"big METADATA\n  id S32 {i}\n  state STR INIT\nEND\n" for i in range(4000))
    write(server.dir / "big.mdc", "big MULTI\n" + pages)
    assert c.ask("book delete big")[1] in ("STATUS 0", "STATUS 1")
    assert c.ask('queueload big -x "cat big.mdc"') == ([], "STATUS 1")
    assert c.ask("ipptool2book big big -key id") == ([], "STATUS 1")
    u = who(server)
    before = server.rss_kb()
    var = f"n_{who.__name__}"  # a watch user may not reuse a server variable
    for part in range(3):  # (each request well inside a watch user's CPU budget)
        assert u.ask(f"for {var} 0 500") == ([], "MORE 1")
        assert u.ask(f"book npages big -key k{part}_${var} x") == ([], "MORE 1")
        lines, status = u.ask("end")
        assert status == "STATUS 1" and lines == ["E 0 pages"] * 500, (lines[-3:], status)
    # unbounded, 1,500 indexes of 4,000 pages took more than 50 MB
    assert server.rss_kb() - before < 15 * 1024
    assert u.ask("book npages big -key state INIT") == (["E 4000 pages"], "STATUS 1")


def test_other_clients_are_served_while_a_large_book_loads(server: ServerProcess) -> None:
    """ipptool2book of 20,000 pages works in chunks: another client's
    C{echo} sent after the load began is answered before the load ends
    (when the load held the server, the echo came after it)."""
    pages = "".join(
        f"chips METADATA\n  chip_id S64 {i}\n  class_id STR XY{i % 60:02d}\n"
        f"  uri STR neb://ipp0{i % 90:02d}.0/gpc1/{i}.fits\n  state STR new\nEND\n"
        for i in range(20000))
    write(server.dir / "chips.mdc", "chips MULTI\n" + pages)
    loader = control(server)
    assert loader.ask('queueload chips -x "cat chips.mdc"') == ([], "STATUS 1")
    other = control(server)
    order: list[str] = []

    def load() -> None:
        reply = loader.ask("ipptool2book chips chips -key chip_id:class_id -uniq")
        order.append("load")
        assert reply == ([], "STATUS 1"), reply

    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.2)  # the load is under way (it takes seconds)
    assert other.ask("echo served") == (["O served"], "STATUS 1")
    order.append("echo")
    t.join(60)
    assert order == ["echo", "load"]
    assert loader.ask("book npages chips -var n") == ([], "STATUS 1")
    assert loader.ask("echo $n") == (["O 20000"], "STATUS 1")
