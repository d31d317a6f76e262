# -*- test-case-name: tests.net.test_commands -*-
"""Commands only a server has: C{server ...}, C{watch}, C{shutdown}.

C{server SUB} exists because the original client ran C{input}, C{module},
C{cd}, C{pwd}, C{output} and C{exit} itself; prefixing them with C{server}
runs them here, in the server's directory and with its C{MODULES}.
C{server output} redirects the I{server log} (not the connection: the
original's version also silenced every client until undone).

What a C{watch} user may run is decided by the interpreter's policy
(L{pantasks.lang.policy}) from each command's declared effect; the
network layer only gives each connection's contexts their policy.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from pantasks.lang.context import Context
from pantasks.lang.errors import ScriptError, UsageError
from pantasks.lang.text import quote
from pantasks.lang.registry import FILES, READS, SESSION, VARIABLES, WRITES, CommandTable

#: The server-only commands, installed into an interpreter by L{install}.
SERVER = CommandTable()
command = SERVER.command

#: C{server} subcommands and their help, in the original's order.
SERVER_SUBCOMMANDS = (
    ("exit", "shutdown server"),
    ("quit", "shutdown server"),
    ("input", "load input file on server"),
    ("module", "load module file on server"),
    ("run", "run scheduler"),
    ("stop", "stop scheduler"),
    ("halt", "halt scheduler"),
    ("cd", "set local directory"),
    ("pwd", "check local directory"),
    ("output", "set server output destinations"),
)


class ServerHooks:
    """
    What the server-only commands need from the running server.

    @ivar scheduler: the scheduler (run/stop/halt).
    @ivar log: the server log sink (C{server output}).
    @ivar shutdown: called as C{shutdown(now)} to stop the server
        gracefully (C{now}: kill running jobs first).
    @ivar who_asked: who asked for the last shutdown (C{user U from
        ADDRESS}), set just before C{shutdown} is called, for the log.
    @ivar script_exit: called as C{script_exit(code)} when a script the
        server itself runs (a C{--load} file, a task macro) says C{exit}.
    """

    def __init__(
        self,
        scheduler: Any,
        log: Any,
        shutdown: Callable[[bool], Any],
        script_exit: Optional[Callable[[int], Any]] = None,
    ) -> None:
        self.scheduler = scheduler
        self.log = log
        self.shutdown = shutdown
        self.script_exit = script_exit
        self.who_asked = ""


def _hooks(ctx: Context) -> ServerHooks:
    hooks = ctx.interp.services.server
    if hooks is None:
        raise ScriptError("this command works only in pantasks_server")
    return hooks


def connection_of(ctx: Context) -> Any:
    """The network connection an execution answers to, or None."""
    return ctx.sink.connection


def _builtin(ctx: Context, name: str) -> Any:
    cmd = ctx.interp.commands.get(name)
    if cmd is None:
        raise ScriptError(f"server {name}: not available")
    return cmd.func


def _server_effect(argv: list[str]) -> str:
    """C{server help} reads, C{server pwd} may set a variable, C{server
    input}/C{module} read files; every other form changes the server."""
    sub = argv[1] if len(argv) > 1 else ""
    if sub.lower() == "help":
        return READS
    if sub == "pwd":
        return VARIABLES
    if sub in ("input", "module"):
        return FILES
    return WRITES


@command("server", help="server SUBCOMMAND ...: input/module/cd/pwd/output/run/stop/halt/exit "
         "on the server (server help)", effect=_server_effect)
def cmd_server(ctx: Context, argv: list[str]) -> Any:
    if len(argv) < 2:
        raise UsageError("USAGE: server (command) ...")
    sub = argv[1]
    rest = argv[2:]
    if sub.lower() == "help" and rest:
        from pantasks.lang.commands.basic import cmd_help

        return cmd_help(ctx, ["help", *rest])
    if sub.lower() == "help":
        for name, text in SERVER_SUBCOMMANDS:
            ctx.out(f"{name:<15s} {text}\n")
        return 1
    if sub not in dict(SERVER_SUBCOMMANDS):
        raise ScriptError("invalid server command")
    hooks = _hooks(ctx)
    if sub in ("exit", "quit"):
        return _shutdown(ctx, hooks, False)
    if sub in ("run", "stop", "halt"):
        if rest:
            raise UsageError(f"USAGE: server {sub}")
        getattr(hooks.scheduler, sub)()
        return 1
    if sub == "output":
        # The server log, not this connection, is redirected.
        log_ctx = ctx.child(hooks.log)
        return _builtin(ctx, "output")(log_ctx, ["output", *rest])
    r = _builtin(ctx, sub)(ctx, [sub, *rest])
    if r.__class__ is not int and r is not None:
        r = yield from r
    return r


def _shutdown(ctx: Context, hooks: ServerHooks, now: bool) -> int:
    conn = connection_of(ctx)
    if conn is not None:
        conn.close_after_reply()
        avatar = getattr(conn, "avatar", None)
        by = f"user {getattr(avatar, 'name', '?')} from {conn.peer or '?'}"
    else:
        by = "a script the server runs"
    if now and ctx.interp.slicer is not None:
        # Every other execution stops at its next statement (this one
        # still answers STATUS 1).
        ctx.interp.slicer.cancel_all("shutdown now", keep=ctx.execution)
    hooks.who_asked = by
    hooks.shutdown(now)
    return 1


@command("shutdown", help="shutdown [now]: stop the server; running jobs finish first "
         "(now: they are killed)", effect=WRITES)
def cmd_shutdown(ctx: Context, argv: list[str]) -> int:
    if argv[1:] not in ([], ["now"]):
        raise UsageError("USAGE: shutdown [now]")
    return _shutdown(ctx, _hooks(ctx), argv[1:] == ["now"])


@command("watch", help="watch [on|off] [-jobs]: receive server log lines (L) and, with "
         "-jobs, job events (J) between replies", effect=SESSION)
def cmd_watch(ctx: Context, argv: list[str]) -> int:
    conn = connection_of(ctx)
    if conn is None:
        raise ScriptError("watch: only for network clients")
    args = argv[1:]
    jobs = "-jobs" in args
    args = [a for a in args if a != "-jobs"]
    if args == ["on"]:
        conn.watch_log = True
        if jobs:
            conn.watch_jobs = True
    elif args == ["off"]:
        if jobs:
            conn.watch_jobs = False
        else:
            conn.watch_log = conn.watch_jobs = False
    elif args or jobs:
        raise UsageError("USAGE: watch [on|off] [-jobs]")
    ctx.out(f"watch: log {'on' if conn.watch_log else 'off'}, "
            f"jobs {'on' if conn.watch_jobs else 'off'}\n")
    return 1


# -- sessions -----------------------------------------------------------------
def _factory(ctx: Context, name: str) -> Any:
    conn = connection_of(ctx)
    if conn is None:
        raise ScriptError(f"{name}: only for network clients")
    return conn.factory


def _session_arg(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2 or not argv[1].isdigit() or len(argv[1]) > 9:
        raise UsageError(f"USAGE: {argv[0]} ID  (see sessions)")
    conn = _factory(ctx, argv[0]).session(int(argv[1]))
    if conn is None:
        raise ScriptError(f"{argv[0]}: no session {argv[1]}")
    return conn


# Declared as writing although it only lists: it shows every user's
# requests, which a watch user may not see.
@command("sessions", help="sessions: list client connections (id, user, role, address, "
         "connected since, CPU seconds, running request)", effect=WRITES)
def cmd_sessions(ctx: Context, argv: list[str]) -> int:
    if len(argv) != 1:
        raise UsageError("USAGE: sessions")
    factory = _factory(ctx, "sessions")
    me = connection_of(ctx)
    ctx.out(f"{'ID':>4s}  {'USER':<12s} {'ROLE':<8s} {'ADDRESS':<16s} "
            f"{'CONNECTED SINCE':<19s} {'CPU':>7s}  REQUEST\n")
    for conn in sorted(factory.connections, key=lambda c: c.session_id):
        avatar = conn.avatar
        user = avatar.name if avatar is not None else "-"
        role = avatar.role if avatar is not None else "(login)"
        request, cpu = conn.current_request()
        if conn is me:
            request = "sessions (this one)"
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(conn.since))
        ctx.out(f"{conn.session_id:>4d}  {quote(user)[:12]:<12s} {role:<8s} "
                f"{conn.peer[:16]:<16s} {since:<19s} {cpu:>7.2f}  {request}\n")
    return 1


def _who(ctx: Context) -> str:
    return ctx.user or "?"


@command("cancel", help="cancel ID: interrupt the request session ID is running",
         effect=WRITES)
def cmd_cancel(ctx: Context, argv: list[str]) -> int:
    conn = _session_arg(ctx, argv)
    if conn is connection_of(ctx):
        raise ScriptError("cancel: that is this session (use Ctrl-C)")
    if not conn.cancel_request(f"cancelled by {_who(ctx)}"):
        raise ScriptError(f"cancel: session {argv[1]} is not running a request")
    ctx.out(f"session {argv[1]}: request cancelled\n")
    return 1


@command("disconnect", help="disconnect ID: close session ID (its request is cancelled)",
         effect=WRITES)
def cmd_disconnect(ctx: Context, argv: list[str]) -> int:
    conn = _session_arg(ctx, argv)
    conn.factory.log_event(f"session {conn.session_id} ({conn.peer}) disconnected by "
                           f"{_who(ctx)}")
    if conn is connection_of(ctx):
        conn.close_after_reply()
    else:
        conn.close()
    ctx.out(f"session {argv[1]}: disconnected\n")
    return 1


def install(interp: Any, hooks: ServerHooks) -> None:
    """
    Add the server-only commands to C{interp}, connect them to C{hooks}
    and route C{quit}/C{exit}.

    C{quit} or C{exit} typed by a network client ends that client's
    session (as C{QUIT}); in a script the server runs it calls
    C{hooks.script_exit}.  C{server exit}/C{server quit} and C{shutdown}
    stop the server.
    """
    for cmd in SERVER.commands.values():
        interp.commands.setdefault(cmd.name, cmd)
    from pantasks import manual

    interp.help_pages = (manual.SERVER_PAGE, manual.SCRIPT_PAGE)
    interp.macros_changed()
    interp.services.server = hooks

    def quit_handler(ctx: Context, code: int) -> None:
        conn = connection_of(ctx)
        if conn is not None:
            conn.close_after_reply()
        elif hooks.script_exit is not None:
            hooks.script_exit(code)
        else:
            ctx.err("exit: ignored in the server (use shutdown to stop it)\n")

    interp.quit_handler = quit_handler
