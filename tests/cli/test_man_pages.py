# -*- test-case-name: tests.cli.test_man_pages -*-
"""The pages written with the client and server (pantasks_client(1),
pantasks_server(8), ptolemy.rc(5), pantasks_agent(8)) have the sections
operators look for.  (That every page under man/ formats without a
warning is checked by tests/test_manpages.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

MAN = Path(__file__).resolve().parents[2] / "man"
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT",
            "FILES", "DIAGNOSTICS", "COMPATIBILITY", "SEE ALSO")
OURS = ("pantasks_client.1", "pantasks_server.8", "ptolemy.rc.5", "pantasks_agent.8")


@pytest.mark.parametrize("name", OURS)
def test_sections(name: str) -> None:
    text = (MAN / name).read_text()
    heads = [line[4:].strip().strip('"') for line in text.splitlines() if line.startswith(".SH ")]
    for section in SECTIONS:
        assert section in heads, f"{name}: no {section} section"
    assert heads[0] == "NAME" and heads[-1] == "SEE ALSO"


def test_client_page_lists_every_exit_status() -> None:
    from pantasks.cli import client

    text = (MAN / "pantasks_client.1").read_text()
    section = text.split(".SH EXIT STATUS", 1)[1].split(".SH ", 1)[0]
    for name in ("EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_UNREACHABLE", "EXIT_AUTH",
                 "EXIT_LOST", "EXIT_INTERRUPTED"):
        assert f".B {getattr(client, name)}\n" in section, name
