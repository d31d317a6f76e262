# -*- test-case-name: tests.net.test_commands -*-
"""Tests of L{pantasks.net.commands}: C{server ...}, C{shutdown}, the
watch-role guard and C{quit}/C{exit} routing."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from pantasks.lang.registry import FILES, READS, SESSION, VARIABLES, WRITES
from pantasks.net.commands import SERVER, SERVER_SUBCOMMANDS
from tests.net.helpers import make_server


class ServerCommandTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.server = make_server()
        self.client = self.server.login()

    def test_help_layout(self) -> None:
        reply = self.client.ask("server help")
        expected = "".join(f"O {name:<15s} {text}\n" for name, text in SERVER_SUBCOMMANDS)
        self.assertEqual(reply, expected + "STATUS 1\n")
        self.assertEqual(self.client.ask("server HELP"), reply)

    def test_invalid(self) -> None:
        self.assertEqual(self.client.ask("server frobnicate"),
                         "E invalid server command\nSTATUS 0\n")
        self.assertEqual(self.client.ask("server"), "E USAGE: server (command) ...\nSTATUS 0\n")

    def test_run_stop_halt(self) -> None:
        sched = self.server.scheduler
        self.client.ask("server run")
        self.assertEqual(sched.state, "running")
        self.client.ask("server stop")
        self.assertEqual(sched.state, "harvesting")
        self.client.ask("server halt")
        self.assertEqual(sched.state, "stopped")

    def test_cd_pwd_input(self) -> None:
        here = os.getcwd()
        self.addCleanup(os.chdir, here)
        d = os.path.abspath(self.mktemp())
        os.makedirs(d)
        with open(os.path.join(d, "s.pro"), "w") as f:
            f.write("echo from script\ntask st\ncommand true\nend\n")
        self.assertEqual(self.client.ask(f"server cd {d}"), f"O cwd: {d}\nSTATUS 1\n")
        self.assertEqual(self.client.ask("server pwd"), f"O cwd: {d}\nSTATUS 1\n")
        self.assertEqual(self.client.ask("server input s.pro"), "O from script\nSTATUS 1\n")
        self.assertIn("st", self.server.scheduler.tasks)
        self.assertEqual(self.client.ask("server input nope.pro"),
                         "E no file nope.pro\nSTATUS 0\n")

    def test_output_redirects_the_log(self) -> None:
        path = self.mktemp()
        self.assertEqual(self.client.ask(f"server output {path}"), "STATUS 1\n")
        self.server.log.out("scheduler line\n")
        self.assertEqual(self.client.ask("echo client still sees"),
                         "O client still sees\nSTATUS 1\n")
        self.client.ask("server output stdout")
        self.server.log.out("back to the log\n")
        with open(path) as f:
            self.assertEqual(f.read(), "scheduler line\n")
        self.assertIn("back to the log", self.server.log.text())

    def test_exit_is_shutdown(self) -> None:
        self.assertEqual(self.client.ask("server exit"), "STATUS 1\n")
        self.assertTrue(self.client.closed)
        self.assertEqual(self.server.shutdowns, [False])

    def test_shutdown_usage(self) -> None:
        self.assertEqual(self.client.ask("shutdown later"), "E USAGE: shutdown [now]\nSTATUS 0\n")
        self.assertEqual(self.server.shutdowns, [])

    def test_effects(self) -> None:
        self.assertEqual(SERVER.commands["shutdown"].effect_of(["shutdown"]), WRITES)
        self.assertEqual(SERVER.commands["watch"].effect_of(["watch", "on"]), SESSION)
        server_cmd = SERVER.commands["server"]
        self.assertEqual(server_cmd.effect_of(["server", "pwd"]), VARIABLES)
        self.assertEqual(server_cmd.effect_of(["server", "help"]), READS)
        self.assertEqual(server_cmd.effect_of(["server", "input", "f"]), FILES)
        self.assertEqual(server_cmd.effect_of(["server"]), WRITES)
        for sub, _help in SERVER_SUBCOMMANDS:
            if sub not in ("pwd", "input", "module"):
                self.assertEqual(server_cmd.effect_of(["server", sub]), WRITES, sub)


class ScriptContextTests(SynchronousTestCase):
    def test_commands_outside_a_connection(self) -> None:
        server = make_server()
        interp = server.interp
        ctx = interp.new_context()
        results: list = []
        interp.execute_text(ctx, "watch on").addBoth(results.append)
        self.assertEqual(results, [0])
        self.assertIn("watch: only for network clients", server.log.text())
        interp.execute_text(ctx, "exit 3").addBoth(results.append)
        self.assertIn("exit: ignored in the server", server.log.text())

    def test_refusal_text(self) -> None:
        server = make_server()
        eve = server.login(user="bob", password="bobpw")
        self.assertEqual(eve.ask("kill 3"),
                         "E kill: permission denied (user bob has the watch role)\nSTATUS 0\n")
        self.assertEqual(eve.ask("statu -taskstatsreset"),
                         "E status: permission denied (user bob has the watch role)\nSTATUS 0\n")
        self.assertIn("Command not found", eve.ask("nosuchthing"))


class WatchSandboxTests(SynchronousTestCase):
    """A watch user may not change server variables; its own new names
    stay in its session (fast loop paths too)."""

    def test_assignments_do_not_reach_the_server(self) -> None:
        server = make_server()
        admin = server.login()
        self.assertEqual(admin.ask("$LABEL = real"), "STATUS 1\n")
        bob = server.login(user="bob", password="bobpw")
        self.assertEqual(bob.ask("$LABEL = mine"),
                         "E $LABEL: permission denied (watch role may not change server "
                         "variables)\nSTATUS 0\n")
        self.assertEqual(bob.ask("echo $LABEL"), "O real\nSTATUS 1\n")
        self.assertEqual(bob.ask("$mine = 1"), "STATUS 1\n")
        self.assertEqual(bob.ask("echo $mine"), "O 1\nSTATUS 1\n")
        bob.send("for i 0 3\n")
        bob.take()
        bob.send("$n = $i + 1\n")
        bob.take()
        bob.send("$n = $i + 1\n")
        bob.take()
        self.assertEqual(bob.ask("end"), "STATUS 1\n")
        self.assertEqual(admin.ask("echo $LABEL"), "O real\nSTATUS 1\n")
        self.assertIn("variable n not found", admin.ask("echo $n"))
        self.assertIn("variable i not found", admin.ask("echo $i"))
        self.assertEqual(server.interp.variables["LABEL"], "real")

    def test_session_variables_go_with_the_connection(self) -> None:
        server = make_server()
        bob = server.login(user="bob", password="bobpw")
        self.assertEqual(bob.ask("$mine = abc"), "STATUS 1\n")
        self.assertGreater(server.interp.watch_usage.chars, 0)
        bob.lose()
        self.assertEqual(server.interp.watch_usage.chars, 0)
        again = server.login(user="bob", password="bobpw")
        self.assertIn("variable mine not found", again.ask("echo $mine"))

    def test_server_wide_settings_are_refused(self) -> None:
        server = make_server()
        bob = server.login(user="bob", password="bobpw")
        self.assertIn("permission denied", bob.ask("break -auto off"))
        self.assertIn("permission denied", bob.ask("opihi verbose on"))
        self.assertTrue(server.interp.auto_break)
        self.assertEqual(server.interp.verbose, "off")
        self.assertNotIn("permission denied", bob.ask("opihi verbose"))
