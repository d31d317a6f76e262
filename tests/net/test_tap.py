# -*- test-case-name: tests.net.test_tap -*-
"""Tests of L{pantasks.tap}: options, configuration checks with their exit
statuses, and the service tree on a memory reactor."""

from __future__ import annotations

import os

from twisted.cred.credentials import IUsernamePassword
from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from pantasks import tap
from pantasks.exec.fake import FakeRunner
from tests.net.helpers import MemoryLog


class BusyReactor(MemoryReactorClock):
    """Ports in C{busy} are taken by someone else."""

    def __init__(self, busy: set[int]) -> None:
        super().__init__()
        self.busy = busy

    def listenTCP(self, port, factory, backlog=50, interface=""):  # type: ignore[no-untyped-def]
        if port in self.busy:
            raise CannotListenError(interface, port, OSError("in use"))
        return super().listenTCP(port, factory, backlog, interface)


class PortRangeTests(SynchronousTestCase):
    def test_forms(self) -> None:
        self.assertEqual(tap.parse_port_range("2000"), (2000, 2010))
        self.assertEqual(tap.parse_port_range(" 3000:3005 "), (3000, 3005))
        self.assertEqual(tap.parse_port_range("0x7d0"), (2000, 2010))
        self.assertEqual(tap.parse_port_range("4000:4000"), (4000, 4000))

    def test_bad(self) -> None:
        for text in ("abc", "2000:2030", "5:3", "70000", "0", "2000:"):
            self.assertRaises(ValueError, tap.parse_port_range, text)

    def test_description(self) -> None:
        self.assertEqual(tap.port_description(2000, "127.0.0.1"), "tcp:2000:interface=127.0.0.1")
        self.assertEqual(tap.port_description(2000, ""), "tcp:2000")
        self.assertEqual(tap.port_description(2000, "::1"), "tcp:2000:interface=\\:\\:1")
        self.assertEqual(tap.port_description(2001, "", "k.pem", ""),
                         "ssl:2001:privateKey=k.pem:certKey=k.pem")


class OptionsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.dir = os.path.abspath(self.mktemp())
        os.makedirs(self.dir)
        self.rc = self.write("ptolemy.rc", "# rc\nPASSWORD pw\nPANTASKS_SERVER_PORT 3000\n")

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def parse(self, *args: str) -> tap.Options:
        options = tap.Options()
        options.parseOptions(["-c", self.rc, *args])
        return options

    def error(self, *args: str) -> tap.StartupError:
        with self.assertRaises(tap.StartupError) as cm:
            self.parse(*args)
        self.assertNotIn("\n", str(cm.exception))
        return cm.exception

    def test_defaults(self) -> None:
        s = self.parse().settings
        self.assertEqual(s.port_range, (3000, 3010))
        # A configured password: every interface, as the original listened.
        self.assertEqual(s.listen[0], "tcp:3000")
        self.assertEqual(len(s.listen), 11)
        self.assertEqual(s.users["pantasks"].password, "pw")
        self.assertEqual(s.users["pantasks"].role, "control")
        self.assertIsNone(s.stdout_path)

    def test_no_password_means_loopback_only(self) -> None:
        self.rc = self.write("ptolemy.rc", "# rc\nPANTASKS_SERVER_PORT 3000\n")
        self.assertEqual(self.parse().settings.listen[0], "tcp:3000:interface=127.0.0.1")
        conf = self.write("pantasks.conf", "[server]\ninterface = 10.0.0.1\n")
        self.assertEqual(self.parse("--config", conf).settings.listen[0],
                         "tcp:3000:interface=10.0.0.1")

    def test_defines_win_and_take_two_arguments(self) -> None:
        options = self.parse("-D", "PASSWORD", "other", "--load", "a.pro", "-D",
                             "PANTASKS_SERVER_STDOUT", "/tmp/x.log", "--load", "b.pro",
                             "script.pro", "arg1")
        self.assertEqual(options.settings.users["pantasks"].password, "other")
        self.assertEqual(options.settings.stdout_path, "/tmp/x.log")
        self.assertEqual(options["load"], ["a.pro", "b.pro"])
        self.assertEqual(options["script"], ["script.pro", "arg1"])
        self.assertIn("-D needs two arguments", str(self.error("-D", "PASSWORD")))

    def test_port_and_endpoint_options(self) -> None:
        self.assertEqual(self.parse("--port", "4000:4001").settings.listen,
                         ["tcp:4000", "tcp:4001"])
        s = self.parse("--endpoint", "tcp:0:interface=127.0.0.1", "--port", "5").settings
        self.assertEqual((s.listen, s.port_range), (["tcp:0:interface=127.0.0.1"], None))
        self.assertEqual(self.error("--endpoint", "bogus:1").exit_code, tap.EXIT_CONFIG)
        e = self.error("--port", "9:1")
        self.assertEqual(e.exit_code, tap.EXIT_PORT_RANGE)
        self.assertTrue(str(e).startswith("--port: "), str(e))

    def test_conf_endpoint_users_and_interface(self) -> None:
        conf = self.write("pantasks.conf", "[server]\nendpoint = tcp:0\n[users]\n"
                          "alice = apw, control\nbob = bpw, watch\npantasks = new, watch\n")
        s = self.parse("--config", conf).settings
        self.assertEqual(s.listen, ["tcp:0"])
        self.assertEqual(s.users["bob"].role, "watch")
        self.assertEqual((s.users["pantasks"].password, s.users["pantasks"].role),
                         ("new", "watch"), "pantasks.conf wins over PASSWORD")
        conf2 = self.write("p2.conf", "[server]\ninterface = \"\"\n")
        self.assertEqual(self.parse("--config", conf2).settings.listen[0], "tcp:3000")

    def test_bad_values_and_exit_codes(self) -> None:
        e = self.error("-D", "VALID_IP", "10.0.0.300")
        self.assertEqual(e.exit_code, tap.EXIT_VALID_IP)
        self.assertIn("VALID_IP", str(e))
        self.rc = self.write("bad.rc", "# rc\nPANTASKS_SERVER_PORT 2000:2100\n")
        e = self.error()
        self.assertEqual(e.exit_code, tap.EXIT_PORT_RANGE)
        self.assertTrue(str(e).startswith(f"{self.rc}:2: PANTASKS_SERVER_PORT"), str(e))
        e = self.error("-D", "PANTASKS_SERVER", "some-other-host.example")
        self.assertEqual(e.exit_code, tap.EXIT_CONFIG)
        self.assertIn("please run on the correct host", str(e))
        conf = self.write("bad.conf", "[server]\nmax_line_length = 10\n")
        e = self.error("--config", conf)
        self.assertEqual(e.exit_code, tap.EXIT_CONFIG)
        self.assertIn("max_line_length", str(e))
        self.assertEqual(self.error("-c", "/nonexistent/rc").exit_code, tap.EXIT_CONFIG)

    def test_host_check(self) -> None:
        import socket

        self.parse("-D", "PANTASKS_SERVER", socket.gethostname())
        self.parse("-D", "PANTASKS_SERVER", "localhost")

    def test_usage_text(self) -> None:
        text = tap.Options().getUsage()
        self.assertIn("-D KEY VALUE", text)
        self.assertIn("--load", text)


class ServiceTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.dir = os.path.abspath(self.mktemp())
        os.makedirs(self.dir)
        self.rc = os.path.join(self.dir, "ptolemy.rc")
        with open(self.rc, "w") as f:
            f.write("# rc\nPASSWORD pw\nPANTASKS_SERVER_PORT 3000:3003\n")
        self.stops: list[int] = []

    def build(self, *args: str, reactor=None, rc=None):  # type: ignore[no-untyped-def]
        options = tap.Options()
        options.parseOptions(["-c", rc or self.rc, *args])
        self.reactor = reactor or MemoryReactorClock()
        self.runner = FakeRunner(self.reactor)
        self.log = MemoryLog()
        self.notes: list[str] = []
        self.ports: list[int] = []
        top, server = tap.build(options, self.reactor, server_log=self.log,
                                on_listening=self.ports.append,
                                stop=lambda: self.stops.append(server.exit_code),
                                say=self.notes.append, env={"HOME": self.dir},
                                runner=self.runner)
        self.server = server
        return top, server

    def script(self, name: str, text: str) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_loads_then_listens_on_first_free_port(self) -> None:
        load = self.script("a.pro", "task t1\ncommand true\nend\n")
        top, server = self.build("--load", load, reactor=BusyReactor({3000, 3001}))
        top.startService()
        self.assertIn("t1", server.engine.scheduler.tasks)
        self.assertEqual(self.ports, [3002])
        self.assertEqual(self.successResultOf(server.ready), 3002)
        self.assertIn("using port range 3000 - 3003", self.log.text())
        self.assertEqual([s.name for s in top], ["scheduler", "lines"])

    def test_no_free_port(self) -> None:
        top, server = self.build(reactor=BusyReactor({3000, 3001, 3002, 3003}))
        top.startService()
        self.assertEqual(self.stops, [tap.EXIT_NO_PORT])
        self.assertIn("failed to find a usable port", self.log.text())

    def test_only_script_and_exit(self) -> None:
        load = self.script("a.pro", "echo loaded\n")
        top, _server = self.build("--load", load, "--only")
        top.startService()
        self.assertEqual((self.stops, self.ports), ([tap.EXIT_OK], []))
        self.assertIn("loaded", self.log.text())
        self.stops.clear()
        bad = self.script("bad.pro", "echo first\nnosuchcommand\necho never\n")
        for path, said in ((bad, f"{bad}:2: nosuchcommand: Command not found.\n"
                                 f"pantasks_server: --load {bad}: failed (the error is above)"),
                           ("/nonexistent.pro", "--load /nonexistent.pro: no file"),
                           (self.dir, f"--load {self.dir}: a directory, not a script file")):
            top, _server = self.build("--load", load, "--load", path, "--only")
            top.startService()
            self.assertEqual((self.stops, self.ports), ([tap.EXIT_ONLY], []), path)
            self.assertIn(said, self.log.text())
            self.stops.clear()
        script = self.script("s.pro", "echo args $argv:0 $argv:n\n")
        top, _server = self.build(script, "x")
        top.startService()
        self.assertEqual(self.stops, [tap.EXIT_OK])
        self.assertIn("args x 1", self.log.text())
        self.stops.clear()
        top, _server = self.build(bad, "x")
        top.startService()
        self.assertEqual(self.stops, [tap.EXIT_SCRIPT])
        self.stops.clear()
        quits = self.script("q.pro", "exit 7\necho not here\n")
        top, _server = self.build("--load", quits, "--load", load)
        top.startService()
        self.assertEqual(self.stops, [7])
        self.assertNotIn("loaded", self.log.text())

    def test_missing_load_file_reported(self) -> None:
        top, _server = self.build("--load", "/nonexistent.pro")
        top.startService()
        self.assertIn("--load /nonexistent.pro: no file /nonexistent.pro", self.log.text())
        self.assertEqual(self.ports, [3000])

    def test_generated_password(self) -> None:
        rc = os.path.join(self.dir, "nopw.rc")
        with open(rc, "w") as f:
            f.write("# rc\nPANTASKS_SERVER_PORT 3000\n")
        _top, server = self.build(rc=rc)
        path = os.path.join(self.dir, ".config", "pantasks", "password")
        with open(path) as f:
            password = f.read().strip()
        self.assertEqual(len(self.notes), 1)
        self.assertIn(f"generated password for user pantasks: {password}", self.notes[0])
        db = server.factory.portal.checkers[IUsernamePassword].db
        self.assertEqual(db.users["pantasks"].password, password)
        self.build(rc=rc)
        self.assertEqual(len(self.notes), 1)
        self.assertNotIn(password, self.notes[0], "printed once, when generated")
        self.assertIn(f"the password of user pantasks is in {path}", self.notes[0])

    def test_graceful_shutdown_waits_for_jobs(self) -> None:
        top, server = self.build()
        top.startService()
        job = server.engine.scheduler.one_off(["sleep", "10"])
        d = server.request_shutdown(False)
        self.assertNoResult(d)
        self.assertEqual(self.stops, [])
        self.runner.finish(job.job_id, 0)
        self.assertEqual(self.stops, [tap.EXIT_OK])

    def test_shutdown_now_kills(self) -> None:
        top, server = self.build()
        top.startService()
        server.engine.scheduler.one_off(["sleep", "10"])
        server.request_shutdown(True)
        self.reactor.advance(0)
        self.assertEqual(self.stops, [tap.EXIT_OK])

    def test_stop_service_closes_connections(self) -> None:
        from twisted.internet.address import IPv4Address
        from twisted.internet.testing import StringTransport

        top, server = self.build()
        top.startService()
        addr = IPv4Address("TCP", "127.0.0.1", 5000)
        proto = server.factory.buildProtocol(addr)
        transport = StringTransport(peerAddress=addr)
        proto.makeConnection(transport)
        d = top.stopService()
        self.assertTrue(transport.disconnecting)
        proto.connectionLost(None)
        self.successResultOf(d)
