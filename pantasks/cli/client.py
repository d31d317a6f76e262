# -*- test-case-name: tests.cli.test_client_shell,tests.cli.test_client_process -*-
"""pantasks_client: the readline client of a running pantasks server.

As in the original, the client runs its own interpreter: variables,
macros, loops, C{input} and C{exec} are client-side, and a command the
client does not know is sent to the server (L{ClientShell.forward}).
Two things the original could not do are done here: C{server LINE} sends
LINE I{without} expanding it locally (so C{server $LABEL = new} sets the
server's variable), and server-side blocks (C{task ... end}) are sent line
by line, the server answering C{MORE} until the block closes.

Threads: the reactor owns the main thread (network, local processes,
timers); the prompt runs in a helper thread and hands each complete
command (a whole block) to the reactor, then waits for it, as the
standalone shell does.  The readline completer also runs in the prompt
thread and asks the reactor for the server's command and task names once
per prompt (L{ClientShell.complete}).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from typing import Any, Callable, Iterable, NoReturn, Optional

from twisted.internet import defer

from pantasks import __version__
from pantasks.cli.prompt import Terminal, read_command, setup_readline
from pantasks.config import ConfigError, PtolemyConfig, load_ptolemy_config
from pantasks.lang.context import Context, Origin, OutputSink
from pantasks.lang.errors import ScriptError
from pantasks.lang.interp import UNABBREVIATED, Interpreter, Macro, quote
from pantasks.lang.registry import SESSION, WRITES, Command, CommandTable
from pantasks.lang.source import block_depth, opens_block
from pantasks.net.client import (
    DEFAULT_USER,
    AuthenticationFailed,
    ClientError,
    ConnectionClosed,
    NotConnected,
    PantasksClientProtocol,
    Reply,
    connect,
)
from pantasks.tap import DEFAULT_PORT, parse_port_range

PROG = "pantasks_client"

#: Exit statuses (also in pantasks_client(1), EXIT STATUS).
EXIT_OK = 0
EXIT_FAILED = 1  # a command failed (input not from a terminal, or SCRIPT)
EXIT_USAGE = 2  # bad option or configuration
EXIT_UNREACHABLE = 3  # refused, unknown host, timeout, not a pantasks server
EXIT_AUTH = 4  # the server refused the user or password
EXIT_LOST = 5  # the connection was lost while reading commands from a pipe
EXIT_INTERRUPTED = 130  # SIGINT while not interactive

#: The original server's C{server} sub-commands: C{server SUB ...} is sent
#: as it is; C{server} followed by anything else sends just the rest.
SERVER_SUBCOMMANDS = frozenset("exit quit input module run stop halt cd pwd output help".split())

#: Server-side blocks: the client sends their header and raw body lines.
SERVER_BLOCKS = ("task", "task.exec", "task.exit")

USAGE = f"""\
usage: {PROG} [options] [SCRIPT [ARG ...]]

Connect to the pantasks server named by PANTASKS_SERVER and
PANTASKS_SERVER_PORT (ptolemy.rc, or -D) and read commands: interactively
at the prompt 'pantasks: ', or one per line from standard input when it is
not a terminal.  With SCRIPT, run SCRIPT ($argv:0.. = ARG ...) and exit.

Commands the client knows (variables, macros, loops, echo, exec, input...)
run in the client; any other command is sent to the server.
'server LINE' sends LINE unexpanded; 'task NAME ... end' blocks are sent to
the server; connect, disconnect, 'shutdown [now]', quit/exit.
'help' lists the client's and the server's commands; 'help NAME'
describes one.  Ctrl-C clears the line or interrupts the running command;
Ctrl-D (or quit) leaves.

options:
  -c FILE          ptolemy.rc configuration file
  -C WORD          add the configuration line 'CONFIG WORD'
  -D KEY VALUE     set a configuration key (repeatable), e.g.
                   -D PANTASKS_SERVER host -D PANTASKS_SERVER_PORT 2000
  -p PORT          the server's port N, or range N:M (wins over
                   PANTASKS_SERVER_PORT)
  --name NAME      connect only to the server named NAME (its greeting
                   says its name; others in the port range are passed over)
  -u USER          authenticate as USER (default {DEFAULT_USER})
  --load FILE      run FILE in the client before connecting (repeatable)
  --norc           do not read ~/.pantasksrc
  -h, --help       show this help
  --version        print the version

exit status: 0 success; 1 a command failed (input not from a terminal,
or SCRIPT); 2 usage or configuration error; 3 server unreachable;
4 authentication failed; 5 connection lost; N after 'exit N'.
"""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors and our exit status."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PROG}: {message} (try --help)\n")
        sys.exit(EXIT_USAGE)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line (see L{USAGE}).

    @raise SystemExit: with L{EXIT_USAGE} on a bad option.
    """
    p = _ArgumentParser(prog=PROG, add_help=False, usage=USAGE)
    p.add_argument("-c", dest="config")
    p.add_argument("-C", dest="config_word")
    p.add_argument("-D", dest="defines", nargs=2, action="append", default=[])
    p.add_argument("-u", dest="user", default=DEFAULT_USER)
    p.add_argument("-p", "--port", dest="port")
    p.add_argument("--name", dest="name")
    p.add_argument("--version", action="store_true")
    p.add_argument("--load", action="append", default=[])
    p.add_argument("--norc", "--no-rc", "-norc", "-no-rc", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("script", nargs="?")
    p.add_argument("args", nargs=argparse.REMAINDER)
    return p.parse_args(argv)


def join_words(argv: Iterable[str]) -> str:
    """Rebuild a command line from words so the server splits it the same.

    A word with white space or C{;}, an empty word, or one that starts with
    C{(} without being a balanced group is put in double quotes.
    """
    out = []
    for word in argv:
        plain = word and not any(c in word for c in " \t\n\v\f\r;")
        if plain and word[0] == "(" and not (word.endswith(")") and _balanced(word)):
            plain = False
        out.append(word if plain else f'"{word}"')
    return " ".join(out)


def _balanced(word: str) -> bool:
    depth = 0
    for i, c in enumerate(word):
        depth += (c == "(") - (c == ")")
        if depth == 0 and i < len(word) - 1:
            return False
    return depth == 0


def typed_depth(lines: list[str]) -> int:
    """How many blocks are open in typed C{lines}; C{server BLOCK} counts."""
    if lines:
        head = lines[0].strip()
        if head.startswith("server "):
            lines = [head[7:]] + lines[1:]
    return block_depth(lines)


_HELP_RE = re.compile(r"^(\S+)\s+--")
_TASK_ROW_RE = re.compile(r"^  [+-][+-] (\S+)")


def parse_help(lines: Iterable[str]) -> list[str]:
    """Command and macro names from C{help} output (C{NAME -- text} lines)."""
    return [m.group(1) for m in map(_HELP_RE.match, lines) if m]


def parse_task_names(lines: Iterable[str]) -> list[str]:
    """Task names from C{status -tasks} output (rows start C{  AV NAME})."""
    return [m.group(1) for m in map(_TASK_ROW_RE.match, lines) if m]


Connector = Callable[[str, tuple[int, int], str, str], defer.Deferred]


class ClientShell:
    """The client: its interpreter, its connection, its prompt.

    Everything but L{prompt_loop}, L{complete} and L{read_line} runs on the
    reactor thread.

    @ivar interp: the client's own L{Interpreter}.
    @ivar ctx: the context typed commands run in.
    @ivar protocol: the connection, or L{None} while disconnected.
    @ivar address: C{HOST:PORT} of the last connection, for messages.
    @ivar interactive: True when commands come from a terminal.
    @ivar exit_code: set by C{quit}/C{exit}; L{None} until then.
    @ivar failed: True once a command failed (for the exit status).
    @ivar lost: True when the connection went away unasked.
    """

    def __init__(
        self,
        reactor: Any,
        options: Optional[argparse.Namespace] = None,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
        connector: Optional[Connector] = None,
        interactive: Optional[bool] = None,
    ) -> None:
        self.reactor = reactor
        self.options = options or parse_args([])
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.connector = connector or self._tcp_connector
        if interactive is None:
            interactive = _isatty(self.stdin)
        self.interactive = interactive
        self.user = self.options.user
        self.interp = Interpreter(reactor=reactor, tables=[self._command_table()])
        self.interp.fallback = self.forward
        from pantasks import manual

        self.interp.help_pages = (manual.CLIENT_PAGE, manual.SCRIPT_PAGE)
        self.interp.commands["help"] = Command(
            "help", self.cmd_help, "help [NAME]: the client's and the server's commands, "
            "or how to use one", SESSION)
        self.interp.raw_commands["server"] = self.server_command
        self.interp.quit_handler = self.quit
        self.sink = OutputSink(self.stdout, self.stderr)
        self.ctx = self.interp.new_context(self.sink)
        self.protocol: Optional[PantasksClientProtocol] = None
        self.address = "(not connected)"
        self.host = ""
        self.server_name: Optional[str] = None
        self._server_names: Optional[list[str]] = None
        self._plain_resolve = self.interp.resolve
        self.interp.resolve = self.resolve
        self.role: Optional[str] = None
        self.exit_code: Optional[int] = None
        self.failed = False
        self.lost = False
        self.terminal: Optional[Terminal] = (
            Terminal(self.stdout) if interactive and self.stdin is sys.stdin else None)
        self.busy = False
        self._complete_info: Optional[dict[str, list[str]]] = None
        self._matches: list[str] = []

    # -- the command table ---------------------------------------------------
    def _command_table(self) -> CommandTable:
        table = CommandTable()
        for name, func, text, effect in (
            ("task", self.cmd_block, "task NAME ... end: define a task on the server", WRITES),
            ("task.exec", self.cmd_block, "task.exec ... end: (inside task) sent to the server",
             WRITES),
            ("task.exit", self.cmd_block, "task.exit ... end: (inside task) sent to the server",
             WRITES),
            ("server", self.cmd_server, "server LINE: run LINE on the server, unexpanded here",
             WRITES),
            ("shutdown", self.cmd_shutdown, "shutdown [now]: stop the server (now: kill jobs)",
             WRITES),
            ("disconnect", self.cmd_disconnect, "disconnect: close the connection to the server",
             SESSION),
            ("connect", self.cmd_connect, "connect [HOST [PORT]]: connect to the server", SESSION),
        ):
            table.add(Command(name, func, text, effect))
        return table

    # -- output -------------------------------------------------------------
    def message(self, text: str) -> None:
        """One line of the client's own to standard error (never redirected
        by C{output})."""
        if self.terminal is not None:
            self.terminal.write(f"{PROG}: {text}\n", self.stderr)
            return
        self.stderr.write(f"{PROG}: {text}\n")
        self.stderr.flush()

    def _emit(self, ctx: Context) -> Callable[[str, str], None]:
        def emit(kind: str, text: str) -> None:
            if kind == "O":
                ctx.out(text + "\n")
            else:
                ctx.err(text + "\n")

        return emit

    def _event(self, kind: str, text: str) -> None:
        """C{L}/C{J} lines (after C{watch on}) and stray output."""
        if self.terminal is not None:  # above the prompt, which is redrawn
            stream = self.stderr if kind not in ("L", "J", "O") else self.stdout
            prefix = {"L": "[log] ", "J": "[job] "}.get(kind, "")
            self.terminal.write(f"{prefix}{text}\n", stream)
            return
        if kind == "L":
            self.sink.out(f"[log] {text}\n")
        elif kind == "J":
            self.sink.out(f"[job] {text}\n")
        elif kind == "O":
            self.sink.out(text + "\n")
        else:
            self.sink.err(text + "\n")

    # -- configuration and connection -------------------------------------------
    def load_config(self) -> PtolemyConfig:
        """ptolemy.rc with C{-c}/C{-C}/C{-D}; a client variable of a key's
        name wins, as in the original (C{$PANTASKS_SERVER = h2; connect}).

        @raise ConfigError: a bad file or option.
        """
        o = self.options
        return load_ptolemy_config(
            explicit=o.config,
            defines=[tuple(d) for d in o.defines],
            config_word=o.config_word,
            lookup_override=self.interp.variables.get,
        )

    def _tcp_connector(
        self, host: str, ports: tuple[int, int], password: str, user: str
    ) -> defer.Deferred:
        return connect(self.reactor, host, ports, password, user, name=self.options.name)

    @defer.inlineCallbacks
    def connect_server(self, host: Optional[str] = None, port: Optional[str] = None) -> Any:
        """Connect and authenticate (see L{pantasks.net.client.connect}).

        @param host: overrides C{PANTASKS_SERVER} (default C{localhost}).
        @param port: overrides C{PANTASKS_SERVER_PORT}.
        @return: a Deferred firing with None once connected, or failing with
            L{ConfigError} or a L{ClientError}.
        """
        config = self.load_config()
        host = host or config.get("PANTASKS_SERVER") or "localhost"
        variable = self.interp.variables.get("PANTASKS_SERVER_PORT")
        if port is None and self.options.port is not None:
            port = self.options.port
        port_text = port if port is not None else config.get("PANTASKS_SERVER_PORT")
        try:
            ports = parse_port_range(port_text or str(DEFAULT_PORT))
        except ValueError as e:
            if port is None and variable is None:
                raise config.error("PANTASKS_SERVER_PORT", str(e)) from None
            source = "port" if port is not None else "$PANTASKS_SERVER_PORT"
            raise ClientError(f"{source} {e}") from None
        password = config.get("PASSWORD")
        if password is None:
            password = _generated_password()
        proto, real_port = yield self.connector(host, ports, password, self.user)
        self.protocol = proto
        self.address = f"{host}:{real_port}"
        self.host = host
        self.server_name = proto.server_name
        self.role = proto.role
        self.lost = False
        proto.on_event = self._event
        proto.on_lost = lambda reason, p=proto: self._connection_lost(p)

    def say_connected(self) -> None:
        """C{connected to NAME at HOST:PORT as USER (ROLE)}, after what was
        passed over in the port range: on standard output at a terminal,
        on standard error otherwise (so a pipe's output stays clean)."""
        proto = self.protocol
        if proto is None:
            return
        lines = []
        refused = getattr(proto, "refused_ports", [])
        if refused:
            ports = ", ".join(map(str, refused))
            lines.append(f"{PROG}: {self.host} port{'s' if len(refused) > 1 else ''} {ports} "
                         "refused the connection (no server there); tried the next port")
        for port, name in getattr(proto, "skipped_servers", []):
            lines.append(f"{PROG}: passed over server {name} at {self.host}:{port} "
                         f"(not {self.options.name})")
        what = f"{self.server_name} at {self.address}" if self.server_name else self.address
        lines.append(f"connected to {what} as {self.user} ({self.role})")
        stream = self.stdout if self.interactive else self.stderr
        stream.write("".join(line + "\n" for line in lines))
        stream.flush()

    def _connection_lost(self, proto: PantasksClientProtocol) -> None:
        if proto is not self.protocol:
            return  # we closed it (disconnect, shutdown, quit)
        self.protocol = None
        self.lost = True
        hint = "; type 'connect' to reconnect" if self.interactive else ""
        why = f" ({proto.last_error})" if proto.last_error else ""
        self.message(f"connection to {self.address} lost{why}{hint}")

    def close_connection(self) -> None:
        """Leave the server (C{QUIT}); it keeps running."""
        proto = self.protocol
        if proto is not None:
            self.protocol = None
            proto.quit()

    # -- command lookup ---------------------------------------------------------
    def resolve(self, name: str) -> Any:
        """C{interp.resolve}: a prefix is resolved against the client's and
        the server's names together, as one shell would, so that C{sh} is
        ambiguous (C{showtask shutdown}) instead of running the client's
        C{shutdown}.

        An exact local name runs here; a word that begins no local name
        goes to the server (which resolves it); a prefix of a local name
        becomes a command that asks the server for its names first
        (L{_prefix_command}).
        """
        interp = self.interp
        if name in interp.commands or name in interp.macros or not name:
            return self._plain_resolve(name)
        local = [n for n in interp.names() if n.startswith(name)]
        if not local:
            return None  # the fallback sends it to the server
        if self.protocol is None:
            return self._local_prefix(name, local, [])
        return Command(name, lambda ctx, argv: self._prefix_command(ctx, argv, local),
                       effect=WRITES)

    def _prefix_command(self, ctx: Context, argv: list[str], local: list[str]) -> Any:
        name = argv[0]
        names = yield self.server_names()
        if name in names:  # an exact server name wins over local prefixes
            r = self.send(ctx, join_words(argv))
        else:
            target = self._local_prefix(name, local, [n for n in names if n.startswith(name)])
            argv[0] = target.name
            if target.name == "server":
                r = self._server_abbreviated(ctx, argv)
            elif isinstance(target, Macro):
                r = self.interp.call_macro(ctx, target, argv)
            else:
                r = target.func(ctx, argv)
        if r.__class__ is not int and r is not None:
            r = yield from r
        return r

    def _local_prefix(self, name: str, local: list[str], remote: list[str]) -> Any:
        """The one local command or macro C{name} abbreviates.

        @raise ScriptError: the prefix is ambiguous among all names, or
            abbreviates a command that must be typed in full.
        """
        matches = sorted(set(local) | set(remote))
        if len(matches) > 1:
            raise ScriptError(f"ambiguous command: {quote(name)} ( {' '.join(matches[:10])} )")
        if matches[0] in UNABBREVIATED:
            raise ScriptError(f"{quote(name)}: type {matches[0]} in full "
                              "(it is never abbreviated)")
        interp = self.interp
        return interp.commands.get(matches[0]) or interp.macros.get(matches[0])

    def server_names(self) -> defer.Deferred:
        """The server's command and macro names (from its C{help}), asked
        once per typed command; empty when not connected or on failure."""
        if self._server_names is not None:
            return defer.succeed(self._server_names)
        proto = self.protocol
        if proto is None:
            return defer.succeed([])

        def got(reply: Reply) -> list[str]:
            names = parse_help(t for k, t in reply.lines if k == "O")
            self._server_names = names
            return names

        return proto.request("help").addCallbacks(got, lambda _f: [])

    # -- forwarding -----------------------------------------------------------
    def _not_connected(self, ctx: Context, what: str) -> int:
        ctx.error(f"{what}: not connected to a pantasks server (type 'connect')")
        return 0

    def send(self, ctx: Context, line: str) -> Any:
        """Send one line and print its reply; a generator for the interpreter.

        A reply of C{MORE} to a line the client thought complete means the
        server opened a block: it is closed with C{end} lines and reported.
        """
        proto = self.protocol
        if proto is None:
            return self._not_connected(ctx, line.split(None, 1)[0])
        return self._send(ctx, proto, [line])

    def _send(self, ctx: Context, proto: PantasksClientProtocol, lines: list[str]) -> Any:
        emit = self._emit(ctx)
        try:
            for n, line in enumerate(lines, 1):
                reply: Reply = yield proto.request(line, on_line=emit)
                if reply.more is None:
                    if n == len(lines):
                        return reply.status
                    if reply.status:  # (on failure the server has said why)
                        ctx.error(f"the server ended the block at its line {n}; rest not sent")
                    return 0
            # Every line sent and the server still waits: close its block.
            ctx.error(f"the server still expected {reply.more} block end(s); sent 'end' to close")
            for _ in range(reply.more + 1):
                reply = yield proto.request("end", on_line=emit)
                if reply.more is None:
                    break
            return 0
        except (ConnectionClosed, NotConnected):
            return 0  # _connection_lost has said so

    def forward(self, ctx: Context, argv: list[str]) -> Any:
        """C{interp.fallback}: a command unknown here runs on the server."""
        return self.send(ctx, join_words(argv))

    def server_command(self, ctx: Context, rest: str) -> Any:
        """C{server LINE}, before any expansion (C{interp.raw_commands})."""
        if not rest:
            ctx.error("USAGE: server COMMAND ... (sent to the server unexpanded)")
            return 0
        words = rest.split()
        head = words[0]
        line = f"server {rest}" if head in SERVER_SUBCOMMANDS else rest
        if opens_block(rest):
            return self._send_block(ctx, line)
        if head in ("exit", "quit"):
            return self._shut_down(ctx, line, f"server {head}")
        return self.send(ctx, line)

    def cmd_server(self, ctx: Context, argv: list[str]) -> Any:
        """C{server} reached by an abbreviation (so already expanded)."""
        return self.server_command(ctx, join_words(argv[1:]))

    def _server_abbreviated(self, ctx: Context, argv: list[str]) -> Any:
        """C{serv ...}: as C{server}, but never C{exit}/C{quit} (they shut
        the server down, so they must be spelled out)."""
        if len(argv) > 1 and argv[1] in ("exit", "quit"):
            ctx.error(f"server {argv[1]} shuts the server down: type 'server {argv[1]}' in full")
            return 0
        r = self.cmd_server(ctx, argv)
        if r.__class__ is not int and r is not None:
            r = yield from r
        return r

    def cmd_block(self, ctx: Context, argv: list[str]) -> Any:
        """C{task NAME ... end}: header (expanded) and raw body to the server."""
        return self._send_block(ctx, join_words(argv))

    def _send_block(self, ctx: Context, header: str) -> Any:
        cursor = ctx.cursor
        body, closed = cursor.collect_body() if cursor is not None else ([], False)
        what = header.split(None, 1)[0]
        if not closed:
            ctx.error(f"{what}: block without 'end'; nothing sent")
            return 0
        proto = self.protocol
        if proto is None:
            return self._not_connected(ctx, what)
        return self._send(ctx, proto, [header] + [line for line, _origin in body] + ["end"])

    # -- client-side commands ---------------------------------------------------
    def cmd_shutdown(self, ctx: Context, argv: list[str]) -> Any:
        """C{shutdown [now]}: ask the server to stop, then disconnect."""
        if len(argv) > 2 or (len(argv) == 2 and argv[1] != "now"):
            ctx.error("USAGE: shutdown [now]")
            return 0
        return self._shut_down(ctx, " ".join(argv), "shutdown", confirm=len(argv) == 1)

    def _shut_down(self, ctx: Context, line: str, what: str, confirm: bool = True) -> Any:
        """Send C{line}, which stops the server, then disconnect and say so.

        At a terminal (and when C{confirm}) the user is asked first.
        """
        proto = self.protocol
        if proto is None:
            return self._not_connected(ctx, what)
        if confirm and self.interactive:
            name = f"{self.server_name} at " if self.server_name else ""
            answer = yield self.ask(f"{what}: stop the server {name}{self.address} "
                                    "(running jobs finish first)? [y/N] ")
            if (answer or "").strip().lower() not in ("y", "yes"):
                ctx.err(f"{what}: not done\n")
                return 0
            if proto is not self.protocol:
                return self._not_connected(ctx, what)
        status = yield from self._send(ctx, proto, [line])
        # The server closes after its STATUS 1 (or, if it dies first, the
        # connection is already gone): either way this is no surprise.
        if (status or not proto.connected_) and self.protocol is proto:
            self.protocol = None
            proto.quit()
            name = f"{self.server_name} " if self.server_name else ""
            self.message(f"the server {name}at {self.address} is shutting down; disconnected")
            return 1
        return status

    def ask(self, question: str) -> defer.Deferred:
        """Ask the user C{question}; a Deferred firing with the answer
        (L{None} at end of input).  Read in a thread (the prompt's is
        waiting for the command), so the reactor goes on meanwhile."""
        pool = getattr(self.reactor, "getThreadPool", None)
        if pool is None:  # a test's fake reactor
            return defer.maybeDeferred(self.read_line, question)
        from twisted.internet import threads

        return threads.deferToThreadPool(self.reactor, pool(), self.read_line, question)

    def cmd_help(self, ctx: Context, argv: list[str]) -> Any:
        """C{help}: the client's own commands, then the server's; C{help
        NAME}: a command of the client's described here, any other asked
        of the server (so C{help status} works in the client too)."""
        from pantasks.lang.commands.basic import help_text

        interp = self.interp
        if len(argv) > 2:
            ctx.error("USAGE: help [NAME]")
            return 0
        if len(argv) == 2:
            name = argv[1]
            local = name in self._command_table().commands or name in interp.macros
            if local or self.protocol is None:
                if name not in interp.commands and name not in interp.macros:
                    ctx.error(f"No help for: {quote(name)} (not connected to the server)")
                    return 0
                ctx.out(help_text(interp, name) + "\n")
                return 1
            return (yield from self._send(ctx, self.protocol, [join_words(argv)]))
        own = sorted(set(self._command_table().commands) | {"help", "quit", "exit"}
                     | set(interp.macros))
        ctx.out("Commands of the client (help NAME describes one):\n")
        for name in own:
            summary = interp.commands[name].help if name in interp.commands else "macro"
            ctx.out(f"{name:<25s} -- {summary}\n")
        if self.protocol is None:
            ctx.out("(not connected: the server's commands are listed once connected)\n")
            return 1
        ctx.out("\nCommands of the server (and the language, run here too):\n")
        return (yield from self._send(ctx, self.protocol, ["help"]))

    def cmd_disconnect(self, ctx: Context, argv: list[str]) -> int:
        """C{disconnect}: leave the server; the client stays."""
        if len(argv) != 1:
            ctx.error("USAGE: disconnect")
            return 0
        self.close_connection()
        return 1

    def cmd_connect(self, ctx: Context, argv: list[str]) -> Any:
        """C{connect [HOST [PORT]]}: (re)connect, re-reading the config."""
        if len(argv) > 3:
            ctx.error("USAGE: connect [HOST [PORT]]")
            return 0
        if self.protocol is not None:
            ctx.error(f"already connected to {self.address} (type 'disconnect' first)")
            return 1
        host = argv[1] if len(argv) > 1 else None
        port = argv[2] if len(argv) > 2 else None
        try:
            yield self.connect_server(host, port)
        except (ConfigError, ClientError) as e:
            ctx.error(f"connect: {_describe(e, self.user)}")
            return 0
        self.say_connected()
        return 1

    def quit(self, ctx: Any, code: int) -> None:
        """C{interp.quit_handler}: C{quit}/C{exit [N]} leave the client."""
        self.exit_code = code
        self.close_connection()

    # -- running commands (reactor thread) -----------------------------------
    def run_lines(self, lines: list[str]) -> defer.Deferred:
        """Run typed lines (one command, or a whole block) in L{ctx}.

        @return: a Deferred firing with 1 (success) or 0.
        """
        items = [(ln.strip(), Origin(None, n)) for n, ln in enumerate(lines, 1) if ln.strip()]
        self.busy = True
        d = self.interp.execute(self.ctx, items)

        def done(status: int) -> int:
            self.busy = False
            if not status:
                self.failed = True
            return status

        def oops(failure: Any) -> int:  # a bug: one line, never a traceback
            self.busy = False
            self.message(f"internal error: {failure.getErrorMessage()}")
            self.failed = True
            return 0

        return d.addCallbacks(done, oops)

    def run_file(self, path: str, args: Optional[list[str]] = None) -> defer.Deferred:
        """C{input PATH} in the client (rc file, C{--load}, SCRIPT)."""
        if args is not None:
            self.ctx.set_list("argv", list(args))
        return self.run_lines([f'input "{path}"'])

    # -- completion -------------------------------------------------------------
    @defer.inlineCallbacks
    def fetch_completion_info(self) -> Any:
        """Command, macro and task names: the client's and the server's.

        Asks the server C{help} and C{status -tasks} (pipelined); a failure
        leaves the server's names out.

        @return: a Deferred firing with C{{"commands": [...], "tasks": [...]}}.
        """
        commands = set(self.interp.names())
        tasks: list[str] = []
        proto = self.protocol
        if proto is not None:
            asked = [proto.request("help"), proto.request("status -tasks")]
            results = yield defer.DeferredList(asked, consumeErrors=True)
            (ok_help, helped), (ok_status, status) = results
            if ok_help:
                commands.update(parse_help(t for k, t in helped.lines if k == "O"))
            if ok_status:
                tasks = parse_task_names(t for k, t in status.lines if k == "O")
        return {"commands": sorted(commands), "tasks": sorted(set(tasks))}

    def complete(self, text: str, state: int, line: Optional[str] = None) -> Optional[str]:
        """The readline completer: command names first, then task names.

        @param text: the word being completed.
        @param state: the index of the match wanted.
        @param line: the line up to the cursor, including C{text} (for
            tests; read from readline when L{None}).
        """
        if state == 0:
            if line is None:
                import readline

                line = readline.get_line_buffer()[: readline.get_endidx()]
            if self._complete_info is None:
                self._complete_info = self._blocking(self.fetch_completion_info, timeout=5.0) or {
                    "commands": list(self.interp.names()),
                    "tasks": [],
                }
            before = line[: len(line) - len(text)] if line.endswith(text) else line
            words = before.rsplit(";", 1)[-1].split()
            if not words or words == ["server"]:
                pool = self._complete_info["commands"]
            else:
                pool = self._complete_info["tasks"]
            self._matches = [n for n in pool if n.startswith(text)]
        return self._matches[state] if state < len(self._matches) else None

    def clear_completion_cache(self) -> None:
        """Forget the server's names (done after every command)."""
        self._complete_info = None
        self._server_names = None

    # -- the prompt thread -------------------------------------------------------
    def _blocking(self, func: Callable[[], Any], timeout: Optional[float] = None) -> Any:
        """Run C{func} on the reactor from the prompt thread; wait for it.

        @return: its result, or None after C{timeout} seconds or on failure.
        """
        done = threading.Event()
        box: list[Any] = [None]

        def call() -> None:
            d = defer.maybeDeferred(func)

            def record(value: Any) -> None:
                box[0] = value
                done.set()

            def failed(failure: Any) -> None:
                self.message(f"internal error: {failure.getErrorMessage()}")
                done.set()

            d.addCallbacks(record, failed)

        self.reactor.callFromThread(call)
        done.wait(timeout)
        return box[0]

    def read_line(self, prompt: str) -> Optional[str]:
        """One line from the user or the pipe; None at end of input."""
        if self.interactive and self.stdin is sys.stdin:
            terminal = self.terminal
            if terminal is not None:
                terminal.reading(prompt)
            try:
                return input(prompt)
            except EOFError:
                self.stdout.write("\n")
                return None
            finally:
                if terminal is not None:
                    terminal.idle()
        if self.interactive:
            self.stdout.write(prompt)
            self.stdout.flush()
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

    def prompt_loop(self) -> None:
        """Read commands until EOF, C{quit} or (from a pipe) a lost server."""
        try:
            while self.exit_code is None:
                if self.lost and not self.interactive:
                    break
                prompt = self.interp.variables.get("PROMPT", "pantasks: ")
                lines = read_command(self.read_line, prompt, typed_depth)
                if lines is None:
                    break
                if not lines[0].strip():
                    continue  # an empty line repeats nothing
                self._blocking(lambda: self.run_lines(lines))
                self.clear_completion_cache()
        finally:
            self.reactor.callFromThread(self.finish)

    def start_prompt(self) -> None:
        """Start reading commands in the prompt thread."""
        if self.interactive and self.stdin is sys.stdin:
            setup_readline(self.interp, self.complete)
        threading.Thread(target=self.prompt_loop, name="prompt", daemon=True).start()

    def interrupt(self) -> None:
        """Control-C at a terminal, as in bash and redis-cli: a running
        command is interrupted (a server request with C{INTERRUPT}, a
        command of the client's own by cancelling it); at the prompt the
        half-typed line is dropped, and an empty one gets a hint."""
        if self.busy:
            proto = self.protocol
            if proto is not None and proto.pending:
                proto.interrupt()
                return
            execution = getattr(self.ctx, "execution", None)
            if execution is not None:
                execution.cancel("Ctrl-C")
            return
        if self.terminal is not None:
            self.terminal.interrupt_line("(type quit or press Ctrl-D to leave pantasks_client)")

    # -- start and finish (reactor thread) ---------------------------------------
    @property
    def exitstatus(self) -> int:
        """The process exit status (see L{USAGE})."""
        if self.exit_code is not None:
            return self.exit_code
        if self.lost and not self.interactive:
            return EXIT_LOST
        if self.failed and not self.interactive:
            return EXIT_FAILED
        return EXIT_OK

    def finish(self, code: Optional[int] = None) -> None:
        """Leave: close the connection and stop the reactor."""
        if code is not None and self.exit_code is None:
            self.exit_code = code
        self.close_connection()
        if self.reactor.running:
            self.reactor.stop()

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Start-up as the original: rc and C{--load} files, connect, then
        the prompt (or SCRIPT).  Failures end the client with their exit
        status and one line."""
        o = self.options
        try:
            self.load_config()  # a bad file is reported before anything runs
            variables = self.interp.variables
            rc = os.path.join(variables.get("HOME", "/"), variables.get("RCFILE", ".pantasksrc"))
            if not o.norc and os.path.isfile(rc):
                yield self.run_file(rc)
            for path in o.load:
                yield self.run_file(path)
            if self.exit_code is not None:
                self.finish()
                return
            yield self.connect_server()
        except ConfigError as e:
            self.message(str(e))
            self.finish(EXIT_USAGE)
            return
        except AuthenticationFailed as e:
            self.message(_describe(e, self.user))
            self.finish(EXIT_AUTH)
            return
        except ClientError as e:
            self.message(_describe(e, self.user))
            self.finish(EXIT_UNREACHABLE)
            return
        self.failed = False  # rc and --load ran before the server was there
        self.say_connected()
        if o.script:
            if not os.path.isfile(o.script):
                self.message(f"no file {o.script}")
                self.finish(EXIT_USAGE)
                return
            self.interactive = False  # failures count, as from a pipe
            yield self.run_file(o.script, o.args)
            self.finish()
            return
        self.start_prompt()


def _describe(error: Exception, user: str) -> str:
    """One line for a connection or configuration failure."""
    if isinstance(error, AuthenticationFailed):
        return f"{error} (user {user}; check PASSWORD)"
    return str(error)


def _generated_password() -> str:
    """The password a server with no PASSWORD generated for this user
    (readable only by the user), or empty."""
    from pantasks.net.auth import default_password_file

    try:
        with open(default_password_file(), encoding="utf-8") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _install_sigint(shell: ClientShell) -> None:
    """At a terminal, Control-C clears the line or interrupts the running
    command (L{ClientShell.interrupt}); from a pipe it ends the client
    with status 130."""
    if shell.interactive:
        signal.signal(signal.SIGINT,
                      lambda *_: shell.reactor.callFromThread(shell.interrupt))
    else:
        signal.signal(
            signal.SIGINT,
            lambda *_: shell.reactor.callFromThread(shell.finish, EXIT_INTERRUPTED),
        )


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of C{pantasks_client}."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    if options.help:
        sys.stdout.write(USAGE)
        sys.exit(EXIT_OK)
    if options.version:
        sys.stdout.write(f"{PROG} (pantasks {__version__})\n")
        sys.exit(EXIT_OK)
    from twisted.internet import reactor

    shell = ClientShell(reactor, options)

    def begin() -> None:
        _install_sigint(shell)
        shell.start().addErrback(
            lambda f: (shell.message(f"internal error: {f.getErrorMessage()}"), shell.finish(1))
        )

    reactor.callWhenRunning(begin)
    reactor.run()
    sys.stdout.flush()
    sys.exit(shell.exitstatus)


if __name__ == "__main__":  # pragma: no cover
    main()
