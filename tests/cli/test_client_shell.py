# -*- test-case-name: tests.cli.test_client_shell -*-
"""Tests for L{pantasks.cli.client.ClientShell}: the client's interpreter
and forwarding, against the fake server connected in memory (no sockets,
no threads)."""

from __future__ import annotations

import io
from typing import Any

from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

from pantasks.cli.client import (
    EXIT_FAILED,
    EXIT_LOST,
    EXIT_OK,
    ClientShell,
    join_words,
    parse_args,
    parse_help,
    parse_task_names,
    typed_depth,
)
from pantasks.lang.words import split_words
from pantasks.net.client import PantasksClientProtocol
from tests.cli.fakeserver import FakeServerFactory, connect_in_memory


class Harness:
    """A L{ClientShell} whose connector links it to a L{FakeServerFactory}."""

    def __init__(self, server_password: str = "secret", interactive: bool = False) -> None:
        self.factory = FakeServerFactory(server_password)
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.connects: list[tuple] = []
        options = parse_args(
            ["-c", "/dev/null", "-D", "PANTASKS_SERVER", "fake", "-D", "PASSWORD", "secret",
             "-D", "PANTASKS_SERVER_PORT", "2000:2000"]
        )
        self.shell = ClientShell(
            MemoryReactorClock(), options, stdin=io.StringIO(), stdout=self.out,
            stderr=self.err, connector=self.connector, interactive=interactive,
        )
        self.pump: Any = None

    def connector(self, host: str, ports: tuple, password: str, user: str) -> defer.Deferred:
        self.connects.append((host, ports, password, user))
        client = PantasksClientProtocol(password, user)
        self.pump = connect_in_memory(self.factory, client)
        return client.ready.addCallback(lambda _: (client, ports[0]))

    def connect(self) -> None:
        d = self.shell.connect_server()
        assert d.called, "not connected"
        return d.result

    def run(self, *lines: str) -> int:
        d = self.shell.run_lines(list(lines))
        for _ in range(100):
            if d.called:
                break
            self.pump.flush()
        box: list = []
        d.addBoth(box.append)
        assert box, "command did not finish"
        return box[0]

    def take(self) -> tuple[str, str]:
        out, err = self.out.getvalue(), self.err.getvalue()
        self.out.seek(0)
        self.out.truncate()
        self.err.seek(0)
        self.err.truncate()
        return out, err


class ForwardingTests(unittest.SynchronousTestCase):
    def setUp(self) -> None:
        self.h = Harness()
        self.h.connect()

    def test_connector_gets_the_configuration(self) -> None:
        self.assertEqual(self.h.connects, [("fake", (2000, 2000), "secret", "pantasks")])
        self.assertEqual(self.h.shell.address, "fake:2000")
        self.assertEqual(self.h.shell.role, "control")

    def test_local_variables_stay_local(self) -> None:
        self.assertEqual(self.h.run("$x = 5"), 1)
        self.assertEqual(self.h.run("echo $x"), 1)
        self.assertEqual(self.h.take(), ("5\n", ""))
        self.assertEqual(self.h.factory.received, [])

    def test_unknown_command_is_forwarded(self) -> None:
        self.assertEqual(self.h.run("status"), 1)
        out, err = self.h.take()
        self.assertIn(" Scheduler is stopped\n", out)
        self.assertEqual(self.h.factory.received, ["status"])

    def test_forwarded_line_is_expanded_here(self) -> None:
        self.h.run("$n = 3")
        self.assertEqual(self.h.run('nosuch $n "a b" {1+1}'), 0)
        self.assertEqual(self.h.factory.received, ['nosuch 3 "a b" 2'])
        self.assertEqual(self.h.take(), ("", "nosuch: Command not found.\n"))
        self.assertEqual(self.h.shell.interp.variables["STATUS"], "0")

    def test_server_line_is_not_expanded(self) -> None:
        self.assertEqual(self.h.run("server $LABEL = new"), 1)
        self.assertEqual(self.h.factory.received, ["$LABEL = new"])
        self.assertNotIn("LABEL", self.h.shell.interp.variables)
        self.assertEqual(self.h.run("server echo $LABEL"), 1)
        self.assertEqual(self.h.take(), ("new\n", ""))

    def test_server_subcommands_keep_their_prefix(self) -> None:
        self.assertEqual(self.h.run("server run"), 1)
        self.assertEqual(self.h.factory.received, ["server run"])
        self.assertEqual(self.h.take(), ("scheduler: run\n", ""))

    def test_server_without_arguments(self) -> None:
        self.assertEqual(self.h.run("server"), 0)
        self.assertIn("USAGE: server", self.h.take()[1])

    def test_semicolon_pieces(self) -> None:
        self.assertEqual(self.h.run("$y = 2; server echo $y; echo $y"), 0)
        self.assertEqual(self.h.factory.received, ["echo $y"])
        # $y exists only here: the server cannot expand it.
        out, err = self.h.take()
        self.assertIn("variable y not found", err)

    def test_task_block_is_sent_line_by_line(self) -> None:
        lines = ["task t1", "command echo $options:0", "task.exec", "echo x", "end", "END"]
        self.assertEqual(self.h.run(*lines), 1)
        self.assertEqual(self.h.factory.received, lines[:-1] + ["end"])
        self.assertEqual(
            self.h.factory.tasks,
            {"t1": ["command echo $options:0", "task.exec", "echo x", "end"]},
        )
        self.assertEqual(self.h.take(), ("", ""))

    def test_task_header_is_expanded_body_is_not(self) -> None:
        self.h.run("$name = t9")
        self.assertEqual(self.h.run("task $name", "command $X", "end"), 1)
        self.assertEqual(self.h.factory.received, ["task t9", "command $X", "end"])

    def test_task_block_inside_a_local_macro(self) -> None:
        self.h.run("macro mk", "task $1", "command true", "end", "end")
        self.assertEqual(self.h.factory.received, [])
        self.assertEqual(self.h.run("mk a1"), 1)
        self.assertEqual(self.h.factory.received, ["task a1", "command true", "end"])

    def test_task_block_without_end_sends_nothing(self) -> None:
        self.assertEqual(self.h.run("task t2", "command true"), 0)
        self.assertIn("block without 'end'", self.h.take()[1])
        self.assertEqual(self.h.factory.received, [])

    def test_server_block(self) -> None:
        self.assertEqual(self.h.run("server macro m2", "echo $1", "end"), 1)
        self.assertEqual(self.h.factory.received, ["macro m2", "echo $1", "end"])
        self.assertIn("m2", self.h.factory.interp.macros)

    def test_server_opens_an_unexpected_block(self) -> None:
        # The client sends 'openblock' as one line; the server opens a
        # block: the client closes it and says so.
        self.assertEqual(self.h.run("openblock"), 0)
        self.assertEqual(self.h.factory.received, ["openblock", "end"])
        self.assertIn("still expected 1 block end", self.h.take()[1])

    def test_server_ends_the_block_early(self) -> None:
        self.assertEqual(self.h.run("task early", "command x", "end"), 0)
        self.assertEqual(self.h.factory.received, ["task early"])
        self.assertEqual(
            self.h.take(), ("", "the server ended the block at its line 1; rest not sent\n")
        )

    def test_failed_block(self) -> None:
        self.assertEqual(self.h.run("task", "command x", "end"), 0)
        self.assertEqual(self.h.factory.received, ["task", "command x", "end"])
        self.assertEqual(self.h.take(), ("", "USAGE: task NAME ... end\n"))

    def test_watch_lines(self) -> None:
        self.assertEqual(self.h.run("watch on"), 1)
        out, _ = self.h.take()
        self.assertEqual(out, "[log] a log line\n[job] 7 t1 EXIT 0 local\n")

    def test_output_order_and_streams(self) -> None:
        # The client splits at ';' (the server gets single commands) and
        # stops at the first failure.
        self.assertEqual(self.h.run("server echo one; nosuch; echo two"), 0)
        self.assertEqual(self.h.factory.received, ["echo one", "nosuch"])
        self.assertEqual(self.h.take(), ("one\n", "nosuch: Command not found.\n"))


class SessionTests(unittest.SynchronousTestCase):
    def test_disconnect_and_connect(self) -> None:
        h = Harness()
        h.connect()
        self.assertEqual(h.run("disconnect"), 1)
        self.assertIsNone(h.shell.protocol)
        h.pump.flush()
        self.assertEqual(h.run("status"), 0)
        self.assertIn("status: not connected to a pantasks server (type 'connect')", h.take()[1])
        self.assertEqual(h.run("connect"), 1)
        self.assertEqual(len(h.connects), 2)
        self.assertEqual(h.run("status"), 1)
        self.assertFalse(h.shell.lost)

    def test_connect_to_another_host(self) -> None:
        h = Harness()
        h.connect()
        self.assertEqual(h.run("connect"), 1)
        self.assertIn("already connected to fake:2000", h.take()[1])
        h.run("disconnect")
        self.assertEqual(h.run("connect other 3000:3001"), 1)
        self.assertEqual(h.connects[-1], ("other", (3000, 3001), "secret", "pantasks"))

    def test_variable_overrides_config(self) -> None:
        h = Harness()
        h.connect()
        h.run("disconnect")
        h.run("$PANTASKS_SERVER = h2")
        h.run("connect")
        self.assertEqual(h.connects[-1][0], "h2")

    def test_connect_with_bad_port(self) -> None:
        h = Harness()
        h.run("$PANTASKS_SERVER_PORT = nope")
        self.assertEqual(h.run("connect"), 0)
        self.assertEqual(
            h.take()[1], "connect: $PANTASKS_SERVER_PORT 'nope' is not N or N:M\n"
        )
        self.assertEqual(h.run("connect h 1:2:3"), 0)
        self.assertIn("connect: port '1:2:3'", h.take()[1])

    def test_lost_connection(self) -> None:
        h = Harness()
        h.connect()
        self.assertEqual(h.run("crash"), 0)
        out, err = h.take()
        self.assertEqual(err, "pantasks_client: connection to fake:2000 lost\n")
        self.assertTrue(h.shell.lost)
        self.assertEqual(h.shell.exitstatus, EXIT_LOST)

    def test_lost_connection_interactive_hint(self) -> None:
        h = Harness(interactive=True)
        h.connect()
        h.run("crash")
        self.assertIn("lost; type 'connect' to reconnect", h.take()[1])
        self.assertEqual(h.shell.exitstatus, EXIT_OK)

    def test_shutdown(self) -> None:
        h = Harness()
        h.connect()
        self.assertEqual(h.run("shutdown now"), 1)
        h.pump.flush()
        self.assertEqual(h.factory.shutdowns, ["shutdown now"])
        self.assertIsNone(h.shell.protocol)
        self.assertEqual(
            h.take()[1], "pantasks_client: the server at fake:2000 is shutting down; disconnected\n"
        )
        self.assertFalse(h.shell.lost)
        self.assertEqual(h.shell.exitstatus, EXIT_OK)

    def test_shutdown_usage(self) -> None:
        h = Harness()
        h.connect()
        self.assertEqual(h.run("shutdown later"), 0)
        self.assertIn("USAGE: shutdown [now]", h.take()[1])
        self.assertEqual(h.factory.shutdowns, [])

    def test_exit_code(self) -> None:
        h = Harness()
        h.connect()
        h.run("exit 3")
        self.assertEqual(h.shell.exitstatus, 3)
        self.assertIsNone(h.shell.protocol)

    def test_failure_counts_only_from_a_pipe(self) -> None:
        h = Harness()
        h.connect()
        h.run("nosuch")
        self.assertEqual(h.shell.exitstatus, EXIT_FAILED)
        h = Harness(interactive=True)
        h.connect()
        h.run("nosuch")
        self.assertEqual(h.shell.exitstatus, EXIT_OK)


class CompletionTests(unittest.SynchronousTestCase):
    def setUp(self) -> None:
        self.h = Harness()
        self.h.connect()
        self.h.run("task t1", "end")
        self.h.run("task t2", "end")
        self.fetches = 0

        def blocking(func: Any, timeout: Any = None) -> Any:
            self.fetches += 1
            d = func()
            self.h.pump.flush()
            return d.result

        self.h.shell._blocking = blocking

    def matches(self, text: str, line: str) -> list[str]:
        out = []
        while True:
            m = self.h.shell.complete(text, len(out), line)
            if m is None:
                return out
            out.append(m)

    def test_commands_from_both_sides(self) -> None:
        self.assertEqual(self.matches("stat", "stat"), ["status"])  # server
        self.assertIn("strlen", self.matches("str", "str"))  # client
        self.assertIn("shutdown", self.matches("sh", "sh"))  # client-only
        self.assertEqual(self.matches("stat", "echo 1; stat"), ["status"])
        self.assertEqual(self.matches("stat", "server stat"), ["status"])

    def test_task_names_after_the_command(self) -> None:
        self.assertEqual(self.matches("t", "showtask t"), ["t1", "t2"])
        self.assertEqual(self.matches("", "showtask "), ["t1", "t2"])

    def test_fetched_once_then_cleared(self) -> None:
        self.matches("st", "st")
        self.matches("sh", "sh")
        self.assertEqual(self.fetches, 1)
        self.h.shell.clear_completion_cache()
        self.matches("st", "st")
        self.assertEqual(self.fetches, 2)

    def test_not_connected_offers_local_names(self) -> None:
        self.h.run("disconnect")
        self.assertEqual(self.matches("stat", "stat"), [])
        self.assertIn("echo", self.matches("ec", "ec"))


class HelperTests(unittest.SynchronousTestCase):
    def test_join_words_round_trip(self) -> None:
        for words in (
            ["echo", "a b", ""],
            ["if", "($x == 1)", "echo"],
            ["echo", "a;b"],
            ["echo", "(a"],
            ["echo", "(a)(b"],
            ["echo", "'q'"],
        ):
            self.assertEqual(split_words(join_words(words)), words, words)

    def test_typed_depth(self) -> None:
        self.assertEqual(typed_depth(["task t"]), 1)
        self.assertEqual(typed_depth(["server task t"]), 1)
        self.assertEqual(typed_depth(["server task t", "end"]), 0)
        self.assertEqual(typed_depth(["server status"]), 0)
        self.assertEqual(typed_depth(["echo task"]), 0)

    def test_parsers(self) -> None:
        help_text = ["echo                      -- print", "status -- show", "", "junk"]
        self.assertEqual(parse_help(help_text), ["echo", "status"])
        rows = ["", " Task Status", "  AV Name Nrun", "  +- t1  0", "  -+ t.2 0", "     x"]
        self.assertEqual(parse_task_names(rows), ["t1", "t.2"])
