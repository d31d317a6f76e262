# -*- test-case-name: tests.test_help -*-
"""Help comes from the manual pages (L{pantasks.manual}), for every
command the shell, the server and the client register."""

from __future__ import annotations

import io

import pytest
from twisted.internet.testing import MemoryReactorClock

from pantasks import manual
from pantasks.cli.client import ClientShell
from pantasks.engine import make_engine
from pantasks.lang.context import CollectingSink
from pantasks.net.commands import SERVER


def client_table() -> set[str]:
    shell = ClientShell(MemoryReactorClock(), stdin=io.StringIO(), stdout=io.StringIO(),
                        stderr=io.StringIO(), interactive=False)
    return set(shell._command_table().commands)


LANGUAGE = sorted(make_engine(reactor=None).interp.commands)


@pytest.mark.parametrize("name", LANGUAGE)
def test_every_language_command_has_a_manual_entry(name: str) -> None:
    text = manual.entry(name, (manual.SCRIPT_PAGE,))
    assert text, f"{name}: no entry in pantasks-script(7)"
    synopsis = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert any(name in line for line in synopsis), text


@pytest.mark.parametrize("name", sorted(SERVER.commands))
def test_every_server_command_has_a_manual_entry(name: str) -> None:
    assert manual.entry(name, (manual.SERVER_PAGE, manual.SCRIPT_PAGE)), name


@pytest.mark.parametrize("name", sorted(client_table()))
def test_every_client_command_has_a_manual_entry(name: str) -> None:
    assert manual.entry(name, (manual.CLIENT_PAGE, manual.SCRIPT_PAGE)), name


def run(interp, line: str) -> tuple[int, str, str]:
    sink = CollectingSink()
    ctx = interp.new_context(sink)
    d = interp.execute_text(ctx, line)
    return d.result, sink.stdout(), sink.stderr()


def test_help_prints_the_manual_entry() -> None:
    interp = make_engine(reactor=None).interp
    status, out, err = run(interp, "help status")
    assert status == 1 and err == ""
    assert out.startswith("status [options]\n    Without options: the scheduler state")
    assert "-taskstats [regex]" in out
    assert out == manual.entry("status") + "\n", "the same text as the manual"
    status, out, err = run(interp, "help echo")
    assert out == ("echo [-no-return] word ...\n    Prints the words separated by single "
                   "spaces, and a newline unless\n    -no-return.\n")


def test_help_for_a_macro_and_for_nothing() -> None:
    interp = make_engine(reactor=None).interp
    run(interp, 'macro greet -c "say hello"\necho hello\nend')
    assert run(interp, "help greet")[1] == "greet -- say hello\n"
    for hostile in ("../../etc/passwd", "nosuch", "$HOME"):
        status, out, err = run(interp, f"help {hostile}")
        assert status == 0 and out == "", hostile
        assert err.count("\n") == 1 and ("No help for" in err or "USAGE" in err), err


def test_roff_is_rendered_as_plain_text() -> None:
    text = manual.entry("file")
    assert "\\f" not in text and "\\-" not in text and ".B" not in text
