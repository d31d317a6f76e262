# -*- test-case-name: tests.net.test_tap -*-
"""The pantasks server as a service: options, configuration, makeService.

C{twistd pantasks} (through C{twisted/plugins/pantasks_plugin.py}) and
C{pantasks_server} build the same L{service.MultiService} here: the
scheduler, then L{PantasksServer}, which runs the C{--load} scripts and
then listens with the line protocol.  Services stop in reverse order, so
on C{shutdown}, SIGTERM or C{reactor.stop} the line server first waits for
the scheduler to finish its running jobs (clients stay connected and can
watch), then closes the connections, and the scheduler stops last.

Every configuration problem is found in L{Options.postOptions} and
reported as one line (a L{StartupError} with the exit status
C{pantasks_server} uses).
"""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from twisted.application import service
from twisted.internet import defer
from twisted.internet.endpoints import quoteStringArgument, serverFromString
from twisted.internet.error import CannotListenError
from twisted.logger import Logger
from twisted.python import usage

from pantasks import __version__
from pantasks.config import (
    ConfigError,
    load_ptolemy_config,
    load_server_config,
    server_name_from,
)
from pantasks.net.access import AccessList
from pantasks.net.auth import (
    CONTROL,
    DEFAULT_USER,
    FailureTracker,
    UserDB,
    UserEntry,
    default_password_file,
    generated_password,
    make_portal,
)
from pantasks.lang.context import OutputSink
from pantasks.net.logsink import log_path

log = Logger()

#: Exit statuses of C{pantasks_server} (the original's where it had one).
EXIT_OK = 0
EXIT_LOG_FILE = 1  # a PANTASKS_SERVER_STDOUT/STDERR file cannot be opened or written
EXIT_CONFIG = 2  # bad option or configuration, wrong host
EXIT_NO_PORT = 6  # no free port in the range
EXIT_VALID_IP = 18  # bad VALID_IP entry
EXIT_PORT_RANGE = 20  # bad PANTASKS_SERVER_PORT / --port
EXIT_ONLY = 40  # --only: a --load file failed or is missing (0 when all loaded)
EXIT_SCRIPT = 41  # a SCRIPT argument failed or is missing (0 when it ran)

#: The file in the server's working directory that holds its port while it
#: listens (start_pantasks_client reads it there).
PORT_FILE = "pantasks_server.port"

#: Default first port; the range is N..N+10.
DEFAULT_PORT = 2000


class StartupError(usage.UsageError):
    """A configuration problem; C{str()} is one line.

    @ivar exit_code: the status C{pantasks_server} exits with.
    """

    def __init__(self, message: str, exit_code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _strtol(text: str) -> int:
    # C's strtol(s, NULL, 0): 0x.. hex, 0.. octal, else decimal.
    t = text.strip()
    if len(t) > 1 and t[0] == "0" and t[1] not in "xX":
        return int(t, 8)
    return int(t, 0)


def parse_port_range(text: str) -> tuple[int, int]:
    """
    C{PANTASKS_SERVER_PORT}: C{N} (ports N..N+10) or C{N:M} (M >= N, at
    most 20 apart), numbers as C's C{strtol(s, 0, 0)}.

    @raise ValueError: one line saying what is wrong.
    """
    first, sep, last = text.strip().partition(":")
    try:
        a = _strtol(first)
        b = _strtol(last) if sep else a + 10
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not N or N:M") from None
    if sep and not (a <= b and b - a <= 20):
        raise ValueError(f"{text.strip()!r}: need N <= M <= N+20")
    if not (0 < a and b <= 65535):
        raise ValueError(f"{text.strip()!r}: ports must be 1..65535")
    return a, b


def host_matches(configured: str) -> bool:
    """
    Whether C{PANTASKS_SERVER} names this host.  The original demanded
    C{strcmp(PANTASKS_SERVER, gethostname()) == 0}; we also accept the
    short and fully qualified names, any case, and C{localhost}.
    """
    want = configured.strip().lower()
    if want in ("localhost", "127.0.0.1", "::1"):
        return True
    name = socket.gethostname().lower()
    names = {name, name.split(".")[0]}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:  # pragma: no cover
        pass
    return want in names or want.split(".")[0] == name.split(".")[0]


@dataclass
class Settings:
    """Everything the server needs from its options and config files.

    @ivar listen: endpoint descriptions to try in order (a port range
        gives one per port).
    @ivar port_range: the (first, last) port when a range is used.
    @ivar users: name -> user (password, role); empty when a password must
        be generated.
    """

    ptolemy: Any
    conf: Any
    access: AccessList
    listen: list[str]
    port_range: Optional[tuple[int, int]]
    stdout_path: Optional[str]
    stderr_path: Optional[str]
    users: dict[str, Any]
    reload_users: Callable[[], dict[str, Any]]
    watched_files: list[str] = field(default_factory=list)
    name: str = "pantasks"


class Options(usage.Options):
    """
    Options of C{twistd pantasks} and C{pantasks_server}.
    """

    synopsis = "[options] [SCRIPT [ARG ...]]"
    longdesc = (
        "Runs the pantasks scheduler and serves the pantasks line protocol. "
        "Configuration: ptolemy.rc (-c, -D; keys PANTASKS_SERVER, PANTASKS_SERVER_PORT, "
        "PASSWORD, PANTASKS_SERVER_STDOUT, PANTASKS_SERVER_STDERR, VALID_IP) and "
        "pantasks.conf (--config: endpoint, TLS, users, limits)."
    )
    optFlags = [
        ["only", None, "run the --load files, then exit: 0 if all loaded, else 40 (no server)"],
    ]
    optParameters = [
        ["port", "p", None,
         "port N (tries N..N+10) or range N:M; default PANTASKS_SERVER_PORT, else 2000"],
        ["endpoint", "e", None,
         "Twisted endpoint to listen on, e.g. tcp:2000:interface=0.0.0.0 (wins over --port)"],
        ["config", None, None,
         "pantasks.conf file (listen endpoint, TLS, users, limits, web page)"],
        ["ptolemy", "c", None,
         "ptolemy.rc file (default: $PTOLEMY, ./ptolemy.rc, ~/.ptolemyrc)"],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["defines"] = []
        self["load"] = []
        self["script"] = []
        self.settings: Optional[Settings] = None

    def parseOptions(self, options: Optional[list[str]] = None) -> None:
        """Take C{-D KEY VALUE} (two arguments) out first, then parse the rest."""
        import sys

        args = list(sys.argv[1:] if options is None else options)
        rest: list[str] = []
        i = 0
        while i < len(args):
            if args[i] == "--":
                rest.extend(args[i:])
                break
            if args[i] == "-D":
                if i + 2 >= len(args):
                    raise StartupError("-D needs two arguments: -D KEY VALUE")
                self["defines"].append((args[i + 1], args[i + 2]))
                i += 3
                continue
            rest.append(args[i])
            i += 1
        super().parseOptions(rest)

    def getUsage(self, width: Optional[int] = None) -> str:
        """The usage text, with C{-D KEY VALUE} (which takes two arguments)."""
        text = super().getUsage(width)
        extra = "  -D KEY VALUE     set ptolemy.rc key KEY (repeatable; wins over the file)\n"
        head, sep, tail = text.partition("Options:\n")
        return head + sep + extra + tail if sep else text + extra

    def opt_D(self, key: str) -> None:
        """KEY VALUE: set ptolemy.rc key KEY (repeatable; wins over the file)"""
        raise StartupError("-D needs two arguments: -D KEY VALUE")

    def opt_load(self, path: str) -> None:
        """run this script file before serving (repeatable)"""
        self["load"].append(path)

    opt_h = usage.Options.opt_help  # -h as well as --help

    def opt_version(self) -> None:
        """print the version and exit"""
        print(f"pantasks {__version__}")
        raise SystemExit(0)

    def parseArgs(self, *args: str) -> None:
        self["script"] = list(args)

    def postOptions(self) -> None:
        self.settings = load_settings(self)


def load_settings(options: Any, env: Optional[dict[str, str]] = None) -> Settings:
    """
    Read and check ptolemy.rc and pantasks.conf as the options say.

    @raise StartupError: any problem, as one line.
    """
    if env is None:
        env = dict(os.environ)

    def read_configs() -> tuple[Any, Any]:
        try:
            ptolemy = load_ptolemy_config(explicit=options["ptolemy"],
                                          defines=options["defines"], env=env)
            conf = load_server_config(options["config"])
        except ConfigError as e:
            raise StartupError(str(e)) from None
        return ptolemy, conf

    ptolemy, conf = read_configs()
    try:
        access = AccessList.from_entries(ptolemy.get_all("VALID_IP"))
    except ValueError as e:
        raise StartupError(str(ptolemy.error("VALID_IP", str(e).split(": ", 1)[-1])),
                           EXIT_VALID_IP) from None
    except ConfigError as e:
        raise StartupError(str(e), EXIT_VALID_IP) from None

    target = ptolemy.get("PANTASKS_SERVER")
    if target and not host_matches(target):
        raise StartupError(
            f"PANTASKS_SERVER is {target} but this host is {socket.gethostname()}: "
            "please run on the correct host"
        )

    port_range = None
    interface = conf.server.interface
    if interface == "auto":
        configured = bool(ptolemy.get("PASSWORD")) or bool(conf.users)
        interface = "" if configured else "127.0.0.1"
    if options["endpoint"]:
        listen = [_check_endpoint(options["endpoint"], "--endpoint")]
    elif options["port"] is None and conf.server.endpoint:
        listen = [conf.server.endpoint]
    else:
        if options["port"] is not None:
            text, where = options["port"], "--port"
        else:
            text = ptolemy.get("PANTASKS_SERVER_PORT") or str(DEFAULT_PORT)
            where = None
        try:
            port_range = parse_port_range(text)
        except ValueError as e:
            if where is None:
                raise StartupError(str(ptolemy.error("PANTASKS_SERVER_PORT", str(e))),
                                   EXIT_PORT_RANGE) from None
            raise StartupError(f"{where}: {e}", EXIT_PORT_RANGE) from None
        listen = [
            port_description(p, interface, conf.server.tls_key, conf.server.tls_cert)
            for p in range(port_range[0], port_range[1] + 1)
        ]

    def users_from(ptolemy_: Any, conf_: Any) -> dict[str, Any]:
        users: dict[str, Any] = {}
        password = ptolemy_.get("PASSWORD")
        if password:
            users[DEFAULT_USER] = UserEntry(DEFAULT_USER, password, CONTROL)
        users.update(conf_.users)  # pantasks.conf wins
        return users

    def reload_users() -> dict[str, Any]:
        return users_from(*read_configs())

    watched = [p for p in (ptolemy.filename, options["config"]) if p]
    name = conf.server.name or server_name_from(
        ptolemy.get("PANTASKS_SERVER_NAME") or os.path.basename(os.getcwd()))
    return Settings(
        ptolemy=ptolemy,
        conf=conf,
        access=access,
        listen=listen,
        port_range=port_range,
        stdout_path=log_path(ptolemy.get("PANTASKS_SERVER_STDOUT")),
        stderr_path=log_path(ptolemy.get("PANTASKS_SERVER_STDERR")),
        users=users_from(ptolemy, conf),
        reload_users=reload_users,
        watched_files=watched,
        name=name,
    )


def log_file_error(e: OSError) -> str:
    """One line for a log file (PANTASKS_SERVER_STDOUT/STDERR) that cannot
    be opened: which, and why."""
    return (f"cannot open the log file {e.filename} for output: {e.strerror or e} "
            "(PANTASKS_SERVER_STDOUT/PANTASKS_SERVER_STDERR in ptolemy.rc)")


def _check_endpoint(desc: str, where: str) -> str:
    try:
        serverFromString(None, desc)  # parse only; the reactor is just stored
    except Exception as e:
        raise StartupError(f"{where}: {desc!r} is not a valid endpoint ({e})") from None
    return desc


def port_description(port: int, interface: str, tls_key: str = "", tls_cert: str = "") -> str:
    """The endpoint description for one port of the range."""
    iface = f":interface={quoteStringArgument(interface)}" if interface else ""
    if tls_key:
        cert = tls_cert or tls_key
        return (f"ssl:{port}:privateKey={quoteStringArgument(tls_key)}"
                f":certKey={quoteStringArgument(cert)}{iface}")
    return f"tcp:{port}{iface}"


class PantasksServer(service.Service):
    """
    Runs the start-up scripts, then listens; stops gracefully.

    @ivar exit_code: what the process should exit with once the reactor
        stops (see the C{EXIT_*} constants).
    @ivar port: the C{IListeningPort}, once listening.
    @ivar factory: the L{pantasks.net.protocol.LineServerFactory}.
    """

    name = "lines"

    def __init__(
        self,
        reactor: Any,
        engine: Any,
        factory: Any,
        settings: Settings,
        server_log: Any,
        loads: list[str] = (),  # type: ignore[assignment]
        script: list[str] = (),  # type: ignore[assignment]
        only: bool = False,
        on_listening: Optional[Callable[[int], None]] = None,
        stop: Optional[Callable[[], None]] = None,
        on_fatal: Optional[Callable[[str], None]] = None,
        notify: Optional[Callable[[str], Any]] = None,
    ) -> None:
        """
        @param on_listening: called with the port number once start-up has
            fully succeeded, to announce it (default: C{bound to port: N}
            in the log).
        @param on_fatal: also given the one line of a start-up failure
            (e.g. to put it on a terminal the log does not reach).
        @param notify: sends a state to the service manager (default
            L{pantasks.net.readiness.sd_notify}).
        """
        from pantasks.net.readiness import sd_notify

        self.reactor = reactor
        self.on_fatal = on_fatal
        #: Whether the program put its stdout/stderr onto the log files
        #: (pantasks_server does once it listens); SIGHUP then does it again.
        self.stdio_redirected = False
        self.notify = notify if notify is not None else sd_notify
        self.engine = engine
        self.factory = factory
        self.settings = settings
        self.log = server_log
        self.loads = list(loads)
        self.script = list(script)
        self.only = only
        self.on_listening = on_listening
        self._stop_process = stop or self._reactor_stop
        self.exit_code = EXIT_OK
        self.port: Any = None
        self._loading = False
        self._script_exit: Optional[int] = None
        self._shutdown: Optional[defer.Deferred] = None
        self._kill_all = False
        self._terms = 0
        self._port_file: Optional[tuple[str, str]] = None
        self.ready: defer.Deferred = defer.Deferred()

    # -- start -------------------------------------------------------------
    def startService(self) -> None:
        service.Service.startService(self)
        d = self._start()
        d.addErrback(self._start_failed)

    def _start_failed(self, failure: Any) -> None:
        log.failure("start-up", failure, log_private=True)
        self._fatal(f"start-up failed: {failure.getErrorMessage()}", EXIT_CONFIG)

    def _fatal(self, text: str, code: int) -> None:
        """A start-up failure: one line (log and C{on_fatal}), exit C{code}."""
        self._say_err(text)
        if self.on_fatal is not None:
            self.on_fatal(f"pantasks_server: {text}")
        self._finish(code)

    @defer.inlineCallbacks
    def _start(self) -> Any:

        interp = self.engine.interp
        ctx = interp.new_context(_StartupSink(self.log, self.on_fatal))
        self._loading = True
        failed = False
        try:
            for path in self.loads:
                ok = yield self._load(ctx, "--load", path)
                failed = failed or not ok
                if self._script_exit is not None:
                    self._finish(self._script_exit)
                    return
            if self.script:
                ctx.set_list("argv", self.script[1:])
                ok = yield self._load(ctx, "script", self.script[0])
                if self._script_exit is not None:
                    self._finish(self._script_exit)
                else:
                    self._finish(EXIT_SCRIPT if failed or not ok else EXIT_OK)
                return
            if self.only:
                self._finish(EXIT_ONLY if failed else EXIT_OK)
                return
        finally:
            self._loading = False
        yield self._listen()

    @defer.inlineCallbacks
    def _load(self, ctx: Any, what: str, path: str) -> Any:
        """Run one start-up file; a failure is said on the terminal too.

        @return: a Deferred firing with True when the file ran to success.
        """
        from pantasks.lang.driver import Interrupted, drive

        interp = self.engine.interp
        if os.path.isdir(path):
            self._say_console(f"{what} {path}: a directory, not a script file")
            return False
        try:
            status = yield drive(interp.load_file(ctx, path), ctx, path)
        except (Exception, Interrupted) as e:
            self._say_console(f"{what} {path}: {e}")
            return False
        if not status and self._script_exit is None:
            self._say_console(f"{what} {path}: failed (the error is above)")
            return False
        return True

    @defer.inlineCallbacks
    def _listen(self) -> Any:
        if self.settings.port_range is not None:
            a, b = self.settings.port_range
            self._say_info(f"using port range {a} - {b}")
        for desc in self.settings.listen:
            try:
                port = yield serverFromString(self.reactor, desc).listen(self.factory)
            except CannotListenError:
                continue
            except Exception as e:
                self._say_err(f"cannot listen on {desc}: {e}")
                break
            if not self.running:  # stopped meanwhile
                yield port.stopListening()
                return
            self.port = port
            number = port.getHost().port
            yield self._announce(number)
            return
        self._fatal("failed to find a usable port", EXIT_NO_PORT)

    @defer.inlineCallbacks
    def _announce(self, number: int) -> Any:
        """
        The last step of start-up: make sure the log takes writes, then
        say C{bound to port: N} (and C{READY=1} to systemd).  A log that
        cannot be written (a full disk) is a start-up failure: the port
        is closed again and nothing is announced.
        """
        text = f"bound to port: {number}\n"
        confirm = getattr(self.log, "confirm", None)
        self._write_port_file(number)
        try:
            in_file = confirm(text) if confirm is not None else False
            if self.on_listening is not None:
                self.on_listening(number)
            elif not in_file:
                self.log.out(text)
        except OSError as e:
            port, self.port = self.port, None
            self._remove_port_file()
            yield port.stopListening()
            where = f"{e.filename}: " if e.filename else ""
            self._fatal(f"cannot write the log: {where}{e.strerror or e}", EXIT_LOG_FILE)
            return
        self.notify(f"READY=1\nSTATUS=listening on port {number}")
        self.ready.callback(number)

    # -- stop --------------------------------------------------------------
    def script_exit(self, code: int) -> None:
        """C{exit N} in a script the server runs (see L{ServerHooks})."""
        if self._loading:
            self._script_exit = code
        else:
            self._say_err("exit: ignored in a task macro (use shutdown to stop the server)")

    def request_shutdown(self, now: bool = False, by: str = "") -> defer.Deferred:
        """
        Stop launching jobs, let running ones finish (or kill them when
        C{now}), then stop the process with status 0.  Repeated calls
        share one shutdown; a later C{now} still kills the jobs.

        @param by: who asked (C{user U from ADDRESS}, C{SIGTERM}), for
            the log and for clients that connect meanwhile.
        """
        scheduler = self.engine.scheduler
        who = f" requested by {by}" if by else ""
        count = len(scheduler.jobs)
        jobs = f"{count} running job{'' if count == 1 else 's'}"
        self._kill_all = self._kill_all or now
        if self._shutdown is not None:
            if now:
                self._say_info(f"shutdown now{who}: killing {jobs}")
                scheduler.flush()
            return self._shutdown
        if now:
            self._say_info(f"shutdown now{who}: killing {jobs}")
        elif count:
            self._say_info(f"shutdown{who}: waiting for {jobs} to finish")
        else:
            self._say_info(f"shutdown{who}: no running jobs")
        self.factory.shutting_down = f"requested by {by}" if by else "requested"
        self.notify("STOPPING=1")
        self._shutdown = scheduler.shutdown(now)
        self._shutdown.addBoth(lambda _: self._finish(EXIT_OK))
        return self._shutdown

    def _finish(self, code: int) -> None:
        containment = self.engine.containment
        if self._kill_all and containment is not None:
            # shutdown now: nothing any job, exec or backtick started survives.
            containment.kill_all()
        self.exit_code = code
        if not self.ready.called:
            self.ready.callback(None)  # finished without listening
        self._stop_process()

    def _reactor_stop(self) -> None:
        if getattr(self.reactor, "running", False):
            self.reactor.stop()
        else:  # finished before the reactor started (--only, a SCRIPT)
            self.reactor.callWhenRunning(self._reactor_stop)

    def stopService(self) -> defer.Deferred:
        service.Service.stopService(self)
        return self._stop()

    @defer.inlineCallbacks
    def _stop(self) -> Any:
        yield self.engine.scheduler.shutdown(now=False)
        if self.port is not None:
            port, self.port = self.port, None
            self._remove_port_file()
            yield port.stopListening()
        yield self.factory.close_all()

    # -- the port file -------------------------------------------------------
    def _write_port_file(self, number: int) -> None:
        """C{pantasks_server.port} in the working directory: where this
        server listens, for C{start_pantasks_client} run there."""
        path = os.path.abspath(PORT_FILE)
        text = f"{number}\n"
        try:
            with open(path, "w", encoding="ascii") as f:
                f.write(text)
        except OSError as e:
            self._say_err(f"cannot write {path}: {e.strerror}")
            return
        self._port_file = (path, text)

    def _remove_port_file(self) -> None:
        """Remove the port file, unless another server has rewritten it."""
        if self._port_file is None:
            return
        path, text = self._port_file
        self._port_file = None
        try:
            with open(path, encoding="ascii") as f:
                if f.read() != text:
                    return
            os.unlink(path)
        except (OSError, UnicodeDecodeError):
            pass

    # -- signals -----------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """
        SIGTERM/SIGINT: graceful shutdown (a second one, or one during a
        shutdown already under way, kills the running jobs); SIGHUP:
        reopen the log files.  Handlers only schedule work
        on the reactor.
        """
        def on_term(signum: int, frame: Any) -> None:
            self._terms += 1
            # A second signal, or one during a shutdown already under way
            # (a client's), kills the running jobs.
            now = self._terms > 1 or self._shutdown is not None
            self.reactor.callFromThread(self.request_shutdown, now, signal.Signals(signum).name)

        def on_hup(signum: int, frame: Any) -> None:
            self.reactor.callFromThread(self.reopen_logs)

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        signal.signal(signal.SIGHUP, on_hup)

    def reopen_logs(self) -> None:
        """SIGHUP: reopen the log files (and stdio onto them if it was)."""
        try:
            self.log.reopen()
        except OSError as e:
            self._say_err(f"SIGHUP: cannot reopen the log files: {e}")
            return
        if self.stdio_redirected:
            self.log.dup_onto_stdio()
        self._say_info("SIGHUP: log files reopened")

    def _say_err(self, text: str) -> None:
        self.log.err(f"pantasks_server: {text}\n")

    def _say_info(self, text: str) -> None:
        """A note, not a problem: to the log's output stream (twistd tags
        it as information, not as an error)."""
        self.log.out(f"pantasks_server: {text}\n")

    def _say_console(self, text: str) -> None:
        """A start-up problem: to the log and, if that is a file, to the
        terminal too."""
        self._say_err(text)
        if self.on_fatal is not None:
            self.on_fatal(f"pantasks_server: {text}")


class _StartupSink(OutputSink):
    """Where start-up scripts write: the server log; their errors also go
    to C{console} (C{on_fatal}: the terminal when the log is a file), so a script
    that fails to load is seen by whoever started the server."""

    def __init__(self, log: Any, console: Optional[Callable[[str], None]]) -> None:
        super().__init__(out=None, err=None)
        self.log = log
        self.console = console

    def write_out(self, text: str) -> None:
        self.log.out(text)

    def write_err(self, text: str) -> None:
        self.log.err(text)
        if self.console is not None:
            for line in text.splitlines():
                self.console(line)


def build(
    options: Options,
    reactor: Any,
    server_log: Any = None,
    on_listening: Optional[Callable[[int], None]] = None,
    stop: Optional[Callable[[], None]] = None,
    say: Optional[Callable[[str], None]] = None,
    env: Optional[dict[str, str]] = None,
    runner: Any = None,
    on_fatal: Optional[Callable[[str], None]] = None,
    containment: Any = None,
) -> tuple[service.MultiService, PantasksServer]:
    """
    The service tree for parsed C{options}.

    @param server_log: the server log sink (default: a
        L{pantasks.net.logsink.ServerLog} on the configured files).
    @param say: prints a note for the person starting the server (the
        generated password); default: the log.
    @param containment: keeps jobs' process trees within reach; default,
        when C{runner} is None (a real server): a subreaper
        L{pantasks.exec.contain.Containment} on C{reactor}.
    @raise StartupError: the password file cannot be written.
    @raise OSError: a log file cannot be opened.
    """
    from pantasks.engine import make_engine
    from pantasks.exec.local import close_inherited_on_exec, raise_nofile_limit
    from pantasks.lang.driver import Slicer
    from pantasks.lang.policy import Limits
    from pantasks.net.commands import ServerHooks, install
    from pantasks.net.limits import ConnectionLimits
    from pantasks.net.logsink import ServerLog
    from pantasks.net.protocol import LineServerFactory
    from pantasks.web.commands import install as install_web

    settings = options.settings
    if settings is None:
        settings = options.settings = load_settings(options, env)
    if server_log is None:
        server_log = ServerLog(settings.stdout_path, settings.stderr_path)
    if say is None:
        def say(text: str) -> None:
            server_log.out(text + "\n")

    users = dict(settings.users)
    watched = list(settings.watched_files)
    reload_users = settings.reload_users
    password_path: Optional[str] = None
    if not users:
        path = default_password_file(env)
        try:
            password, created = generated_password(path)
        except OSError as e:
            raise StartupError(f"no PASSWORD configured and cannot keep a generated one "
                               f"in {path}: {e.strerror or e}") from None
        users[DEFAULT_USER] = UserEntry(DEFAULT_USER, password, CONTROL)
        if created:
            say(f"pantasks_server: no PASSWORD configured; generated password for user "
                f"{DEFAULT_USER}: {password} (kept in {path}, mode 0600)")
        else:
            say(f"pantasks_server: no PASSWORD configured; the password of user "
                f"{DEFAULT_USER} is in {path}")
        password_path = path
        watched.append(path)

    def load_users() -> dict[str, Any]:
        found = reload_users()
        if not found and password_path is not None:  # still the generated password
            password, _created = generated_password(password_path)
            found = {DEFAULT_USER: UserEntry(DEFAULT_USER, password, CONTROL)}
        return found

    raise_nofile_limit()
    close_inherited_on_exec()
    if containment is None and runner is None:
        from pantasks.exec import contain

        containment = contain.Containment(reactor)
        contain.install(containment)  # exec and backticks use it too
    conf = settings.conf
    engine = make_engine(
        reactor,
        log_sink=server_log,
        runner=runner,
        jitter=conf.jobs.exec_jitter,
        max_output_bytes=conf.jobs.max_output_bytes,
        kill_grace=conf.jobs.kill_grace,
        slicer=Slicer(reactor, conf.limits.slice),
        containment=containment,
    )
    engine.scheduler.macro_budget = conf.limits.macro_cpu or None
    engine.interp.set_limits(Limits(
        max_value=conf.limits.max_value,
        watch_session_lines=conf.limits.watch_session_lines,
        watch_session_size=conf.limits.watch_session_size,
        watch_total_size=conf.limits.watch_total_size,
    ))
    db = UserDB(users, load_users, watched)
    srv = conf.server
    factory = LineServerFactory(
        engine.interp,
        make_portal(db),
        reactor,
        log=server_log,
        scheduler=engine.scheduler,
        access=settings.access,
        failures=FailureTracker(reactor, srv.lockout_failures, srv.lockout_window,
                                srv.lockout_time, user_limit=srv.lockout_user_failures,
                                delay=srv.auth_fail_delay, max_delay=srv.auth_fail_delay_max),
        limits=ConnectionLimits(srv.max_connections, srv.control_reserve, srv.max_per_address,
                                srv.max_pending, srv.max_pending_per_address),
        max_line_length=srv.max_line_length,
        allow_plain_pass=srv.allow_plain_pass,
        auth_fail_delay=srv.auth_fail_delay,
        idle_timeout=srv.idle_timeout,
        watch_idle_timeout=srv.watch_idle_timeout,
        auth_timeout=srv.login_timeout,
        budgets=conf.limits,
        name=settings.name,
    )
    top = service.MultiService()
    engine.scheduler.setServiceParent(top)
    web = None
    if conf.web.endpoint and not options["only"] and not options["script"]:
        # Before the line server, so it stops after it: the page stays up
        # while a shutdown waits for the running jobs.
        from pantasks.web.service import WebService

        web = WebService(reactor, conf.web.endpoint, engine.scheduler, factory, db,
                         settings.access, conf.web,
                         say=lambda text: server_log.out(f"pantasks_server: {text}\n"))
        web.setServiceParent(top)
    install_web(engine.interp, web)
    server = PantasksServer(
        reactor, engine, factory, settings, server_log,
        loads=options["load"], script=options["script"], only=bool(options["only"]),
        on_listening=on_listening, stop=stop, on_fatal=on_fatal,
    )
    hooks = ServerHooks(engine.scheduler, server_log,
                        lambda now: server.request_shutdown(now, by=hooks.who_asked),
                        server.script_exit)
    install(engine.interp, hooks)
    server.setServiceParent(top)
    return top, server


def makeService(options: Options) -> service.MultiService:
    """
    The twistd entry point: scheduler + line server on the global reactor.
    The generated password note (if any) is printed and logged.
    """
    import sys

    from twisted.internet import reactor

    from pantasks.net.logsink import ServerLog

    settings = options.settings
    try:
        server_log = ServerLog(settings.stdout_path, settings.stderr_path)
    except OSError as e:
        sys.stderr.write(f"pantasks: {log_file_error(e)}\n")
        raise SystemExit(EXIT_LOG_FILE) from None

    def say(text: str) -> None:
        print(text, flush=True)
        server_log.out(text + "\n")

    def on_fatal(line: str) -> None:
        # The log file may be what failed: twistd's own log gets the line too.
        if settings.stdout_path is not None or settings.stderr_path is not None:
            print(line, file=sys.stderr, flush=True)

    top, server = build(options, reactor, server_log=server_log, say=say, on_fatal=on_fatal)
    server.install_signal_handlers()  # again below, after twistd's own
    reactor.callWhenRunning(lambda: reactor.callLater(0, server.install_signal_handlers))
    return top
