# -*- test-case-name: tests.test_readme -*-
"""The README's literal examples, copied from the file, run as documented:
the netcat session against a real C{pantasks_server}, the first
session in the standalone shell, and the port options."""

from __future__ import annotations

import re
from pathlib import Path

import pexpect

from tests.cli.helpers import PROMPT, make_env
from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def block_after(heading: str) -> list[str]:
    """The lines of the first fenced block after C{heading}."""
    rest = README[README.index(heading):]
    m = re.search(r"```[a-z]*\n(.*?)```", rest, re.S)
    assert m, heading
    return m.group(1).splitlines()


def test_the_netcat_session(tmp_path: Path) -> None:
    lines = block_after("## Debugging with netcat")
    assert lines[0] == "$ nc localhost 2000"
    base = free_port_base(2)
    server = ServerProcess(server_argv() + ["-D", "PASSWORD", "secret", "-p", f"{base}:{base}",
                                            "-D", "PANTASKS_SERVER_NAME", "pantasks"],
                           tmp_path, clean_env(tmp_path))
    try:
        port = server.wait_port()
        c = Conn(port)
        greeting = c.readline()
        expected = lines[1].split()
        assert greeting.split()[:2] == expected[:2] and greeting.split()[4:] == expected[4:]
        # Then each line: what the person types, followed by the server's
        # answers (the lines that start with a reply word).
        answers = ("OK ", "O ", "E ", "STATUS ", "MORE ", "BYE", "NO ", "ERR ")
        i = 2
        while i < len(lines):
            typed = lines[i]
            c.send(typed + "\n")
            i += 1
            while i < len(lines) and lines[i].startswith(answers):
                assert c.readline() == lines[i], (typed, lines[i])
                i += 1
        assert c.at_eof()
    finally:
        server.stop()


def test_a_first_session(tmp_path: Path) -> None:
    lines = block_after("## A first session")
    assert lines[0] == "$ .venv/bin/pantasks"
    exe = ROOT / ".venv" / "bin" / "pantasks"
    if not exe.exists():
        import sys

        exe = Path(sys.executable).with_name("pantasks")
    child = pexpect.spawn(str(exe), ["--norc"], env=make_env(tmp_path), cwd=str(tmp_path),
                          encoding="utf-8", timeout=40, dimensions=(24, 200))
    child.expect_exact(PROMPT)
    for line in lines[1:]:
        typed = line.split(": ", 1)[1] if line.startswith(PROMPT) else line[2:]
        child.sendline(typed)
        child.expect(r"(pantasks: |> )")
    child.expect(r"\r\nhello world\r\n")  # the task ran and queueprint printed it
    child.sendline("status")
    child.expect(r"\+\+ hello ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
