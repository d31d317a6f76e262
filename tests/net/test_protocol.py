# -*- test-case-name: tests.net.test_protocol -*-
"""Unit tests of L{pantasks.net.protocol}: one connection at a time over a
C{StringTransport}, time from a C{Clock}, jobs from the fake runner."""

from __future__ import annotations

import re

from twisted.trial.unittest import SynchronousTestCase

from pantasks.lang.source import block_depth
from pantasks.net import protocol as proto_mod
from pantasks.net.access import AccessList
from pantasks.net.auth import hmac_response
from pantasks.net.protocol import BlockTracker
from tests.net.helpers import PASSWORD, make_server

GREETING = re.compile(r"^PANTASKS 1 \S+ [0-9a-f]{32}( [A-Za-z0-9_.-]+)?\n$")


class GreetingTests(SynchronousTestCase):
    def test_greeting(self) -> None:
        server = make_server()
        a = server.connect()
        b = server.connect()
        ga, gb = a.take(), b.take()
        self.assertRegex(ga, GREETING)
        self.assertNotEqual(ga.split()[3], gb.split()[3], "a new nonce per connection")
        self.assertEqual(ga.split()[3], a.proto.nonce)

    def test_outside_valid_ip_closed_before_greeting(self) -> None:
        server = make_server(access=AccessList.from_entries(["127.0.0.2"]))
        client = server.connect("127.0.0.1")
        self.assertIsNone(client.proto)
        self.assertRegex(server.connect("127.0.0.2").take(), GREETING)

    def test_too_many_connections(self) -> None:
        server = make_server(max_connections=2)
        server.login()
        server.login()
        third = server.connect()
        third.take()
        self.assertEqual(third.ask(f"PASS {PASSWORD}"), "ERR too many connections\n")
        self.assertTrue(third.closed)
        self.assertIn("login of pantasks from 127.0.0.1 refused: all 2 sessions are taken",
                      server.log.text())

    def test_auth_timeout(self) -> None:
        server = make_server(auth_timeout=30)
        client = server.connect()
        client.take()
        server.clock.advance(29)
        self.assertFalse(client.closed)
        server.clock.advance(1)
        self.assertEqual(client.take(), "ERR authentication timeout\n")
        self.assertTrue(client.closed)


    def test_idle_timeout(self) -> None:
        server = make_server(idle_timeout=10)
        client = server.login()
        server.clock.advance(9)
        client.ask("sleep 20")  # a long command is not idleness
        server.clock.advance(15)
        self.assertFalse(client.closed)
        server.clock.advance(5)
        self.assertEqual(client.take(), "STATUS 1\n")
        server.clock.advance(10)
        self.assertEqual(client.take(), "ERR idle timeout\n")
        self.assertTrue(client.closed)


class AuthTests(SynchronousTestCase):
    def test_pass_good(self) -> None:
        server = make_server()
        client = server.connect()
        client.take()
        self.assertEqual(client.ask(f"PASS {PASSWORD}"), "OK pantasks control\n")
        self.assertEqual(client.ask("echo hi"), "O hi\nSTATUS 1\n")

    def test_pass_bad_is_delayed_then_closed(self) -> None:
        server = make_server(auth_fail_delay=1.0)
        client = server.connect()
        client.take()
        self.assertEqual(client.ask("PASS wrong"), "")
        client.send("echo sneaky\n")  # ignored: not authenticated
        server.clock.advance(0.99)
        self.assertEqual(client.take(), "")
        self.assertFalse(client.closed)
        server.clock.advance(0.01)
        self.assertEqual(client.take(), "NO authentication failed\n")
        self.assertTrue(client.closed)
        self.assertIn("authentication failed for pantasks from 127.0.0.1", server.log.text())

    def test_auth_good(self) -> None:
        server = make_server()
        client = server.connect()
        nonce = client.take().split()[3]
        line = client.ask(f"AUTH bob {hmac_response('bobpw', nonce)}")
        self.assertEqual(line, "OK bob watch\n")

    def test_auth_wrong_hmac(self) -> None:
        server = make_server()
        for response in (hmac_response("bobpw", "0" * 32), "zz", "a" * 64):
            client = server.connect(port=41000 + len(response))
            client.take()
            client.ask(f"AUTH bob {response}")
            server.clock.advance(4)  # 1, 2, 4 s: doubled per failure of the address
            self.assertEqual(client.take(), "NO authentication failed\n")
            self.assertTrue(client.closed)

    def test_auth_unknown_user_and_malformed(self) -> None:
        server = make_server(lockout=(0, 60, 300))
        for line in ("AUTH nobody " + "0" * 64, "AUTH", "AUTH bob", "PASS"):
            client = server.connect()
            client.take()
            client.ask(line)
            server.clock.advance(1)
            self.assertEqual(client.take(), "NO authentication failed\n", line)

    def test_before_ok_only_pass_auth_quit(self) -> None:
        server = make_server()
        client = server.connect()
        client.take()
        self.assertEqual(client.ask("status"), "ERR expected PASS, AUTH or QUIT\n")
        self.assertFalse(client.closed)
        self.assertEqual(client.ask(f"PASS {PASSWORD}"), "OK pantasks control\n")
        other = server.connect()
        other.take()
        other.ask("QUIT")
        self.assertTrue(other.closed)

    def test_plain_pass_disabled(self) -> None:
        server = make_server(allow_plain_pass=False)
        client = server.connect()
        nonce = client.take().split()[3]
        self.assertEqual(client.ask(f"PASS {PASSWORD}"),
                         "ERR plain PASS is disabled on this server; use AUTH\n")
        self.assertEqual(client.ask(f"AUTH pantasks {hmac_response(PASSWORD, nonce)}"),
                         "OK pantasks control\n")

    def test_lockout(self) -> None:
        server = make_server(lockout=(3, 60.0, 120.0), auth_fail_delay=1.0)
        for _ in range(3):
            c = server.connect("10.0.0.9")
            c.ask("PASS wrong")
        server.clock.advance(4)
        good = server.connect("10.0.0.9")
        good.take()
        good.ask(f"PASS {PASSWORD}")
        server.clock.advance(4)
        self.assertEqual(good.take(), "NO authentication failed\n", "blocked address")
        self.assertIn("address 10.0.0.9 blocked for 120 s", server.log.text())
        other = server.connect("10.0.0.10")
        other.take()
        self.assertEqual(other.ask(f"PASS {PASSWORD}"), "OK pantasks control\n")
        server.clock.advance(120)
        self.assertIn("address 10.0.0.9 no longer blocked (1 attempts refused meanwhile)",
                      server.log.text())
        again = server.connect("10.0.0.9")
        again.take()
        self.assertEqual(again.ask(f"PASS {PASSWORD}"), "OK pantasks control\n")


class RequestTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.server = make_server()
        self.client = self.server.login()

    def test_reply_framing(self) -> None:
        c = self.client
        self.assertEqual(c.ask("nosuchcmd"), "E nosuchcmd: Command not found.\nSTATUS 0\n")
        self.assertEqual(c.ask(""), "STATUS 1\n")
        self.assertEqual(c.ask("   "), "STATUS 1\n")
        self.assertEqual(c.ask("echo -no-return abc"), "O abc\nSTATUS 1\n")
        from pantasks.lang.registry import Command

        def two_lines(ctx, argv):  # type: ignore[no-untyped-def]
            ctx.out("\nlast without newline")
            return 1

        self.server.interp.commands["twolines"] = Command("twolines", two_lines)
        self.assertEqual(c.ask("twolines"), "O \nO last without newline\nSTATUS 1\n")

    def test_crlf(self) -> None:
        self.assertEqual(self.client.ask("echo hi\r"), "O hi\nSTATUS 1\n")

    def test_order_of_streams_kept(self) -> None:
        reply = self.client.ask("echo a; which echo; echo b")
        lines = reply.splitlines()
        self.assertEqual(lines[0], "O a")
        self.assertTrue(lines[1].startswith("E echo"))
        self.assertEqual(lines[2:], ["O b", "STATUS 1"])

    def test_status_line_cannot_be_forged(self) -> None:
        self.assertEqual(self.client.ask("echo STATUS 0"), "O STATUS 0\nSTATUS 1\n")

    def test_more(self) -> None:
        c = self.client
        self.assertEqual(c.ask("task t1"), "MORE 1\n")
        self.assertEqual(c.ask("command true"), "MORE 1\n")
        self.assertEqual(c.ask("task.exit 0"), "MORE 2\n")
        self.assertEqual(c.ask("echo done"), "MORE 2\n")
        self.assertEqual(c.ask(""), "MORE 2\n")
        self.assertEqual(c.ask("end"), "MORE 1\n")
        self.assertEqual(c.ask("end"), "STATUS 1\n")
        self.assertIn("t1", self.server.scheduler.tasks)

    def test_more_macro_and_loop(self) -> None:
        c = self.client
        replies = [c.ask(line) for line in
                   ["macro m", "for i 0 2", "echo $i", "end", "end"]]
        self.assertEqual(replies, ["MORE 1\n", "MORE 2\n", "MORE 2\n", "MORE 1\n", "STATUS 1\n"])
        self.assertEqual(c.ask("m"), "O 0\nO 1\nSTATUS 1\n")
        self.assertEqual(c.ask("if (1)"), "MORE 1\n")
        self.assertEqual(c.ask("echo yes"), "MORE 1\n")
        self.assertEqual(c.ask("end"), "O yes\nSTATUS 1\n")
        self.assertEqual(c.ask("if (1) echo inline"), "O inline\nSTATUS 1\n")

    def test_list_block(self) -> None:
        c = self.client
        self.assertEqual(c.ask("list L"), "MORE 1\n")
        self.assertEqual(c.ask("for x"), "MORE 1\n", "no nesting inside a list body")
        self.assertEqual(c.ask("end"), "STATUS 1\n")
        self.assertEqual(c.ask("echo $L:0 $L:n"), "O for x 1\nSTATUS 1\n")

    def test_invalid_utf8(self) -> None:
        c = self.client
        c.send(b"echo \xff\xfe\n")
        self.assertEqual(c.take(), "E request is not valid UTF-8\nSTATUS 0\n")
        c.send(b"task t2\n\xc3\n")
        self.assertEqual(c.take(), "MORE 1\nE request is not valid UTF-8; the open block was "
                         "discarded\nSTATUS 0\n")
        self.assertEqual(c.ask("echo still here"), "O still here\nSTATUS 1\n")

    def test_block_too_long(self) -> None:
        self.patch(proto_mod, "MAX_BLOCK_LINES", 3)
        c = self.client
        replies = "".join(c.ask(x) for x in ("macro big", "echo 1", "echo 2", "echo 3"))
        self.assertTrue(replies.endswith("; discarded\nSTATUS 0\n"), replies)
        self.assertNotIn("big", self.server.interp.macros)
        self.assertEqual(c.ask("echo ok"), "O ok\nSTATUS 1\n")

    def test_utf8_text(self) -> None:
        self.assertEqual(self.client.ask("echo h\u00e9llo \u2713"),
                         "O h\u00e9llo \u2713\nSTATUS 1\n")

    def test_quit_variants(self) -> None:
        c = self.client
        c.send("echo a\nQUIT\necho never\n")
        self.assertEqual(c.take(), "O a\nSTATUS 1\nBYE\n")
        self.assertTrue(c.closed)
        d = self.server.login()
        self.assertEqual(d.ask("quit"), "STATUS 1\n")
        self.assertTrue(d.closed)


class LineLengthTests(SynchronousTestCase):
    def test_overlong_without_newline(self) -> None:
        server = make_server(max_line_length=256)
        client = server.login()
        client.send("x" * 300)
        self.assertEqual(client.take(), "ERR line too long\n")
        self.assertTrue(client.closed)

    def test_overlong_with_newline_after_good_requests(self) -> None:
        server = make_server(max_line_length=256)
        client = server.login()
        client.send("echo a\n" + "y" * 257 + "\necho b\n")
        self.assertEqual(client.take(), "O a\nSTATUS 1\nERR line too long\n")
        self.assertTrue(client.closed)

    def test_overlong_before_auth(self) -> None:
        server = make_server(max_line_length=256)
        client = server.connect()
        client.take()
        client.send("PASS " + "z" * 1000 + "\n")
        self.assertEqual(client.take(), "ERR line too long\n")
        self.assertTrue(client.closed)

    def test_exactly_max(self) -> None:
        server = make_server(max_line_length=256)
        client = server.login()
        line = "echo " + "w" * 251
        self.assertEqual(client.ask(line), "O " + "w" * 251 + "\nSTATUS 1\n")


class PipeliningTests(SynchronousTestCase):
    def test_pipelined_in_one_packet(self) -> None:
        server = make_server()
        client = server.login()
        client.send("".join(f"echo r{i}\n" for i in range(50)))
        expected = "".join(f"O r{i}\nSTATUS 1\n" for i in range(50))
        self.assertEqual(client.take(), expected)

    def test_waiting_command_holds_later_requests(self) -> None:
        server = make_server()
        client = server.login()
        client.send("sleep 2\necho after\n$x = 1\n")
        self.assertEqual(client.take(), "")
        self.assertTrue(client.proto.paused)
        self.assertNotIn("x", server.interp.variables, "later requests wait their turn")
        other = server.login()
        self.assertEqual(other.ask("echo other"), "O other\nSTATUS 1\n")
        server.clock.advance(2)
        self.assertEqual(client.take(), "STATUS 1\nO after\nSTATUS 1\nSTATUS 1\n")
        self.assertEqual(server.interp.variables["x"], "1")
        self.assertFalse(client.proto.paused)

    def test_split_at_every_offset(self) -> None:
        script = (
            f"PASS {PASSWORD}\r\n"
            "echo one\n"
            "task t9\r\ncommand true\nend\n"
            "\n"
            "nosuch\n"
            "echo h\u00e9\n"
            "QUIT\n"
        ).encode("utf-8")

        def run(chunks: list[bytes]) -> str:
            server = make_server()
            client = server.connect()
            greeting = client.take()
            for chunk in chunks:
                client.send(chunk)
            self.assertTrue(client.closed)
            return greeting.split()[0] + "\n" + client.take()

        whole = run([script])
        self.assertEqual(
            whole,
            "PANTASKS\nOK pantasks control\nO one\nSTATUS 1\nMORE 1\nMORE 1\nSTATUS 1\n"
            "STATUS 1\nE nosuch: Command not found.\nSTATUS 0\nO h\u00e9\nSTATUS 1\nBYE\n",
        )
        for i in range(1, len(script)):
            self.assertEqual(run([script[:i], script[i:]]), whole, f"split at {i}")
        self.assertEqual(run([bytes([b]) for b in script]), whole)

    def test_backpressure_stops_requests(self) -> None:
        server = make_server()
        client = server.login()
        monitor = client.transport.producer
        monitor.pauseProducing()  # the client stopped reading
        client.send("echo a\necho b\n")
        self.assertEqual(client.take(), "")
        monitor.resumeProducing()
        self.assertEqual(client.take(), "O a\nSTATUS 1\nO b\nSTATUS 1\n")


class SessionTests(SynchronousTestCase):
    def test_disconnect_mid_command_cancels_it(self) -> None:
        """Nobody is left to read the reply: the request stops at once."""
        server = make_server()
        client = server.login()
        client.send("sleep 1; $done = yes\n")
        client.lose()
        self.assertEqual(server.clock.getDelayedCalls(), [])  # the sleep is gone
        server.clock.advance(1)
        self.assertIsNone(server.interp.variables.get("done"))
        self.assertNotIn(client.proto, server.factory.connections)

    def test_interrupt_while_waiting(self) -> None:
        """INTERRUPT is taken at once, behind a running request; what was
        queued behind runs afterwards."""
        server = make_server()
        client = server.login()
        client.send("sleep 100; $done = yes\necho after\n")
        self.assertEqual(client.take(), "")
        client.send("INTERRUPT\n")
        self.assertEqual(client.take(),
                         "E interrupted: sleep 100; $done = yes\nSTATUS 0\nO after\nSTATUS 1\n")
        self.assertIsNone(server.interp.variables.get("done"))

    def test_interrupt_with_nothing_running(self) -> None:
        server = make_server()
        client = server.login()
        client.send("INTERRUPT\necho x\n")
        self.assertEqual(client.take(), "O x\nSTATUS 1\n")

    def test_interrupt_discards_open_block(self) -> None:
        server = make_server()
        client = server.login()
        client.send("macro zz9\necho in zz9\nINTERRUPT\nzz9\n")
        self.assertEqual(client.take(), "MORE 1\nMORE 1\nE interrupted: open block discarded\n"
                         "STATUS 0\nE zz9: Command not found.\nSTATUS 0\n")

    def test_shutdown_replies_then_closes(self) -> None:
        server = make_server()
        client = server.login()
        client.send("shutdown now\necho never\n")
        self.assertEqual(client.take(), "STATUS 1\n")
        self.assertTrue(client.closed)
        self.assertEqual(server.shutdowns, [True])

    def test_output_to_file_per_connection(self) -> None:
        server = make_server()
        client = server.login()
        path = self.mktemp()
        self.assertEqual(client.ask(f"output {path}"), "STATUS 1\n")
        self.assertEqual(client.ask("echo to the file"), "STATUS 1\n")
        self.assertEqual(client.ask("output stdout"), "STATUS 1\n")
        self.assertEqual(client.ask("echo back"), "O back\nSTATUS 1\n")
        with open(path) as f:
            self.assertEqual(f.read(), "to the file\n")


class WatchTests(SynchronousTestCase):
    def define_task(self, client) -> None:  # type: ignore[no-untyped-def]
        for line in ("task w1", "command true", "periods -exec 1", "nmax 2", "end"):
            client.ask(line)

    def test_job_lines(self) -> None:
        server = make_server()
        client = server.login()
        self.define_task(client)
        self.assertEqual(client.ask("watch on -jobs"), "O watch: log on, jobs on\nSTATUS 1\n")
        client.ask("run")
        server.clock.advance(1)
        job_id = max(server.scheduler.jobs)
        server.runner.finish(job_id, 0)
        self.assertEqual(client.take(), f"J {job_id} w1 EXIT 0 localhost\n")
        server.clock.advance(1)
        job_id = max(server.scheduler.jobs)
        server.runner.crash(job_id)
        self.assertEqual(client.take(), f"J {job_id} w1 CRASH localhost\n")

    def test_job_line_for_a_killed_job(self) -> None:
        server = make_server()
        client = server.login()
        self.define_task(client)
        client.ask("watch on -jobs")
        client.ask("run")
        server.clock.advance(1)
        job_id = max(server.scheduler.jobs)
        reply = client.ask(f"kill {job_id}")
        server.clock.advance(0)
        self.assertIn(f"J {job_id} w1 KILLED localhost\n", reply + client.take())

    def test_not_asked_no_lines(self) -> None:
        server = make_server()
        client = server.login()
        self.define_task(client)
        client.ask("verbose on")
        client.ask("run")
        server.clock.advance(1)
        server.runner.finish(max(server.scheduler.jobs), 0)
        self.assertEqual(client.take(), "")

    def test_log_lines_only_between_replies(self) -> None:
        server = make_server()
        watcher = server.login()
        self.assertEqual(watcher.ask("watch on"), "O watch: log on, jobs off\nSTATUS 1\n")
        server.log.out("scheduler says hi\n")
        self.assertEqual(watcher.take(), "L scheduler says hi\n")
        watcher.send("sleep 1\n")
        server.log.err("partial ")
        server.log.err("line\n")
        self.assertEqual(watcher.take(), "", "held while a reply is in progress")
        server.clock.advance(1)
        self.assertEqual(watcher.take(), "STATUS 1\nL partial line\n")
        watcher.ask("macro open")
        server.log.out("during block\n")
        self.assertEqual(watcher.take(), "")
        self.assertEqual(watcher.ask("end"), "STATUS 1\nL during block\n")
        self.assertEqual(watcher.ask("watch off"), "O watch: log off, jobs off\nSTATUS 1\n")
        server.log.out("unseen\n")
        self.assertEqual(watcher.take(), "")

    def test_watch_queue_is_bounded(self) -> None:
        self.patch(proto_mod, "MAX_HELD_WATCH_LINES", 3)
        server = make_server()
        watcher = server.login()
        watcher.ask("watch on")
        watcher.transport.producer.pauseProducing()
        for i in range(5):
            server.log.out(f"line {i}\n")
        self.assertEqual(watcher.take(), "")
        watcher.transport.producer.resumeProducing()
        self.assertEqual(watcher.take(), "L pantasks: 2 watch lines dropped (client too slow)\n"
                         "L line 2\nL line 3\nL line 4\n")

    def test_watch_usage(self) -> None:
        server = make_server()
        client = server.login()
        self.assertEqual(client.ask("watch sideways"),
                         "E USAGE: watch [on|off] [-jobs]\nSTATUS 0\n")
        self.assertEqual(client.ask("watch"), "O watch: log off, jobs off\nSTATUS 1\n")


class RoleTests(SynchronousTestCase):
    def test_watch_role_refusals(self) -> None:
        server = make_server()
        admin = server.login()
        admin.ask("macro m1")
        admin.ask("echo in macro")
        admin.ask("end")
        bob = server.login(user="bob", password="bobpw")
        runs = ": it would start a program on the server host"
        for line, name, why in [
                ("run", "run", ""), ("kill 1", "kill", ""), ("exec true", "exec", runs),
                ("task t", "task", ""), ("server run", "server", ""),
                ("macro m2", "macro", ""), ("shutdown", "shutdown", ""), ("! ls", "!", runs),
                ("server input /etc/passwd", "server",
                 ": it would read a file on the server host")]:
            reply = bob.ask(line)
            if reply.startswith("MORE"):
                reply = bob.ask("end")
            self.assertEqual(
                reply,
                f"E {name}: permission denied (user bob has the watch role{why})\nSTATUS 0\n",
                line,
            )
        self.assertEqual(bob.ask("$x = `touch /tmp/pantasks-pwned`"),
                         f"E `touch`: permission denied (user bob has the watch role{runs})\n"
                         "STATUS 0\n")
        # A macro may be called: each command in it is checked in its turn.
        self.assertEqual(bob.ask("m1"), "O in macro\nSTATUS 1\n")
        self.assertEqual(server.scheduler.state, "stopped")
        self.assertNotIn("m2", server.interp.macros)
        self.assertTrue(bob.ask("status").endswith("STATUS 1\n"))
        self.assertTrue(bob.ask("server pwd").endswith("STATUS 1\n"))
        self.assertTrue(bob.ask("watch on").endswith("STATUS 1\n"))
        self.assertEqual(bob.ask("echo fine"), "O fine\nSTATUS 1\n")
        self.assertEqual(bob.ask("quit"), "STATUS 1\n")

    def test_watch_refused_inside_loops(self) -> None:
        server = make_server()
        bob = server.login(user="bob", password="bobpw")
        bob.ask("for i 0 3")
        bob.ask("echo $i")
        bob.ask("halt")
        reply = bob.ask("end")
        self.assertEqual(reply, "O 0\nE halt: permission denied (user bob has the watch role)\n"
                         "STATUS 0\n")

    def test_control_role_unaffected(self) -> None:
        server = make_server()
        admin = server.login()
        self.assertEqual(admin.ask("run"), "STATUS 1\n")
        self.assertEqual(server.scheduler.state, "running")


class BlockTrackerTests(SynchronousTestCase):
    def test_same_as_block_depth(self) -> None:
        samples = [
            ["task a", "command x", "task.exit 0", "echo", "end", "end"],
            ["macro m", "for i 0 3", "if ($i)", "echo", "else", "echo", "end", "end", "end"],
            ["list L", "for", "while", "END", "echo"],
            ["if (1) echo x", "end", "end"],
            ["macro delete m", "macro create m2", "end"],
            ["foreach x a b", "list Q -split a b", "endfor"],
            ["", "  ", "while ($x < 3)", "", "end"],
        ]
        for lines in samples:
            tracker = BlockTracker()
            for n, line in enumerate(lines, 1):
                self.assertEqual(tracker.feed(line), block_depth(lines[:n]), (lines, n))
