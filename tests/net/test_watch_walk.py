# -*- test-case-name: tests.net.test_watch_walk -*-
"""The watch role, walked over every registered command.

For every command of the server's interpreter (its table is iterated, so
a new command cannot be forgotten: it must get an entry in L{FORMS}) and
every state-changing form of it, a C{watch} user runs the form on a fresh
server holding some of everything (variables, a macro, a book, a queue,
a task, a running job, files), and the test asserts that nothing shared
changed: server variables, statics, macros, books, queues, tasks, jobs,
the scheduler, the working directory, files, the log's and the
connection's output redirection, interpreter modes, the runner, and that
no program was started.  A refused form must answer exactly one
C{permission denied} line and C{STATUS 0}.

The second walk runs the same state-changing forms as a C{control} user
and asserts each of them still does what it does: the snapshot changes
(or, for forms that start programs, a program start is attempted).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Optional

import pytest
from twisted.internet.task import Clock

from pantasks.engine import make_engine
from pantasks.exec.fake import FakeRunner
from pantasks.lang.context import CollectingSink
from pantasks.lang.registry import EFFECTS
from pantasks.net.access import AccessList
from pantasks.net.auth import FailureTracker, UserDB, UserEntry, make_portal
from pantasks.net.commands import ServerHooks, install
from pantasks.net.protocol import LineServerFactory
from pantasks.sched.commands import TASK_KEYWORDS
from tests.net.helpers import PASSWORD, Client, MemoryLog, Server

#: Kinds of form: READ may run for watch (nothing shared may change);
#: WRITE, RUN (starts a program) and FILE (reads a file's contents) must be
#: refused with the command's permission line; VAR changes a server
#: variable and must be refused with the variable line.  DENY is refused
#: to watch like WRITE but changes nothing for control either (a usage
#: error, a setting that is already so).
READ, WRITE, RUN, FILE, VAR, DENY = "read", "write", "run", "file", "var", "deny"

#: Every command: its forms, each (lines, kind) or (lines, kind, lines a
#: control user runs first in the control walk).  Lines after the first
#: are the block's body (sent while the server answers MORE).
FORMS: dict[str, list[tuple[Any, ...]]] = {
    "!": [(["! touch ran.txt"], RUN)],
    "#": [(["# a comment"], READ)],
    "##": [(["## a comment"], READ)],
    "###": [(["### a comment"], READ)],
    "?": [(["?"], READ)],
    "??": [(["??"], READ)],
    "active": [(["active false"], WRITE)],
    "basename": [(["basename a/b.c"], READ), (["basename a/b -var mine"], READ),
                 (["basename a/b -var LABEL"], VAR)],
    "cancel": [(["cancel 1"], DENY), (["cancel 99"], DENY)],
    "book": [
        (["book list"], READ), (["book listbook b"], READ), (["book listpage b p"], READ),
        (["book npages b"], READ), (["book npages b -key w v -var mine"], READ),
        (["book getpage b 0"], READ), (["book getpage b 0 -var mine"], READ),
        (["book getword b p w"], READ), (["book getword b p w -var mine"], READ),
        (["book getbook 0"], READ), (["book getbook 0 -var LABEL"], VAR),
        (["book init b"], WRITE), (["book create b3"], WRITE), (["book delete b"], WRITE),
        (["book shuffle b2"], WRITE), (["book newpage b p2"], WRITE),
        (["book delpage b p"], WRITE), (["book delpage b -key w v"], WRITE),
        (["book setword b p w x"], WRITE), (["book"], DENY), (["book nosuch b"], DENY),
    ],
    "break": [(["break -auto"], READ), (["break -auto off"], WRITE)],
    "cd": [(["cd sub"], WRITE), (["cd -q sub"], WRITE)],
    "command": [(["command touch ran.txt"], WRITE)],
    "continue": [(["continue"], READ)],
    "date": [(["date"], READ), (["date -var mine -seconds"], READ), (["date -var LABEL"], VAR)],
    "delete": [(["delete job 1"], WRITE), (["delete task t"], WRITE),
               (["delete task t -force"], WRITE)],
    "disconnect": [(["disconnect 1"], WRITE), (["disconnect 99"], DENY)],
    "dirname": [(["dirname a/b"], READ), (["dirname a/b -var DB:1"], VAR)],
    "echo": [(["echo hello"], READ)],
    "exec": [(["exec touch ran.txt"], RUN), (["exec -timeout 5 touch ran.txt"], RUN)],
    "exit": [(["exit"], READ)],
    "file": [(["file data.txt"], READ), (["file data.txt mine -stats"], READ),
             (["file data.txt LABEL"], VAR)],
    "flush": [(["flush jobs"], WRITE)],
    "for": [(["for i 0 3", "$sum = $i"], READ), (["for LABEL 0 3"], VAR)],
    "foreach": [(["foreach v a b", "echo $v"], READ), (["foreach LABEL a b"], VAR)],
    "fprintf": [(["fprintf \"%d\\n\" 3"], READ)],
    "getargs": [(["getargs -x bool"], READ)],
    "getchr": [(["getchr abc b mine"], READ), (["getchr abc b LABEL"], VAR)],
    "halt": [(["halt"], WRITE, ["run"])],
    "help": [(["help"], READ), (["help echo"], READ)],
    "host": [(["host anyhost"], WRITE)],
    "if": [(["if (1) echo yes"], READ), (["if (1)", "echo yes"], READ),
           (["if (1) set LABEL = 3"], VAR)],
    "input": [(["input script.pro"], FILE)],
    "inthash": [(["inthash 12 4 -var mine"], READ), (["inthash 12 4 -var LABEL"], VAR)],
    "ipptool2book": [(["ipptool2book q b4"], WRITE)],
    "job": [(["job touch ran.txt"], RUN), (["job -host local touch ran.txt"], RUN)],
    "jobs": [(["jobs"], READ)],
    "kill": [(["kill 1"], WRITE)],
    "last": [(["last"], READ)],
    "list": [
        (["list L -split a b"], READ), (["list L -splitbychar . a.b"], READ),
        (["list DB -join mine"], READ), (["list L -copy DB"], READ), (["list L -glob *.txt"], READ),
        (["list L", "a", "b"], READ),
        (["list DB -add c"], VAR), (["list DB -split x y"], VAR), (["list DB -del a"], VAR),
        (["list DB", "x"], VAR),
        (["list L -x \"touch ran.txt\""], RUN), (["list L -exec \"touch ran.txt\""], RUN),
        (["list L -excel -x \"touch ran.txt\""], RUN),
        (["list L -file data.txt"], FILE),
    ],
    "local": [(["local mine"], READ), (["local -static mine"], READ)],
    "macro": [(["macro list m1"], READ),
              (["macro m2", "echo x"], WRITE), (["macro delete m1"], WRITE),
              (["macro create m3", "echo x"], WRITE), (["macro -c help m4", "echo x"], WRITE),
              (["macro m1", "echo replaced"], WRITE)],
    "mkdir": [(["mkdir newdir"], WRITE), (["mkdir newdir/deeper"], WRITE)],
    "module": [(["module script.pro"], FILE)],
    "next": [(["next"], READ)],
    "nice": [(["nice 5"], WRITE)],
    "nmax": [(["nmax 1"], WRITE)],
    "nop": [(["nop"], READ)],
    "npending": [(["npending 1"], WRITE)],
    "opihi": [(["opihi verbose"], READ), (["opihi verbose on"], WRITE),
              (["opihi verbose error"], WRITE)],
    "options": [(["options a b"], WRITE)],
    "output": [(["output -current mine"], READ), (["output -current LABEL"], VAR),
               (["output out.txt"], WRITE), (["output out.txt -err"], WRITE),
               (["output stdout"], DENY)],
    "periods": [(["periods -exec 1"], WRITE)],
    "pwd": [(["pwd"], READ), (["pwd -var mine"], READ), (["pwd -var LABEL"], VAR)],
    "queue2book": [(["queue2book q b4"], WRITE),
                   (["queue2book q b4 -setword a b"], WRITE)],
    "queuedelete": [(["queuedelete q"], WRITE)],
    "queuedrop": [(["queuedrop q -key 0 line1"], WRITE)],
    "queueinit": [(["queueinit q"], WRITE), (["queueinit newq"], WRITE)],
    "queuelist": [(["queuelist"], READ)],
    "queueload": [(["queueload q -x \"touch ran.txt\""], RUN)],
    "queuepop": [(["queuepop q"], WRITE), (["queuepop q -var mine"], WRITE),
                 (["queuepop q -key 0 line2"], WRITE)],
    "queueprint": [(["queueprint q"], READ)],
    "queuepush": [(["queuepush q x"], WRITE), (["queuepush newq x"], WRITE),
                  (["queuepush q x -uniq"], WRITE),
                  (["queuepush q \"line1 new\" -key 0 -replace"], WRITE)],
    "queuesave": [(["queuesave q out.txt"], WRITE)],
    "queuesize": [(["queuesize q"], READ), (["queuesize q -var mine"], READ),
                  (["queuesize q -var LABEL"], VAR)],
    "queuesubstr": [(["queuesubstr q line LINE"], WRITE)],
    "quit": [(["quit"], READ)],
    "return": [(["return"], READ)],
    "run": [(["run"], WRITE)],
    "server": [(["server help"], READ), (["server pwd"], READ),
               (["server pwd -var LABEL"], VAR),
               (["server run"], WRITE), (["server stop"], WRITE), (["server halt"], WRITE, ["run"]),
               (["server cd sub"], WRITE), (["server output out.txt"], WRITE),
               (["server exit"], WRITE), (["server quit"], WRITE),
               (["server input script.pro"], FILE), (["server module script.pro"], FILE)],
    "sessions": [(["sessions"], DENY)],
    "set": [(["set mine = 1 + 2"], READ), (["set LABEL = 1 + 2"], VAR)],
    "showtask": [(["showtask t"], READ)],
    "shutdown": [(["shutdown"], WRITE), (["shutdown now"], WRITE)],
    "sleep": [(["sleep 1"], READ)],
    "sprintf": [(["sprintf mine \"%d\" 3"], READ), (["sprintf LABEL \"%d\" 3"], VAR)],
    "status": [(["status"], READ), (["status -tasks"], READ), (["status -taskstats"], READ),
               (["status -v"], READ),
               (["status -taskstatsreset"], WRITE), (["status -taskstatsreset t"], WRITE),
               (["status -tasks -taskstatsreset"], WRITE)],
    "stderr": [(["stderr out.txt"], WRITE)],
    "stdout": [(["stdout out.txt"], WRITE)],
    "stop": [(["stop"], WRITE)],
    "strhash": [(["strhash abc 4 -var mine"], READ), (["strhash abc 4 -var LABEL"], VAR)],
    "strlen": [(["strlen abc mine"], READ), (["strlen abc LABEL"], VAR)],
    "strmatch": [(["strmatch abc123 [0-9] mine"], READ)],
    "strpop": [(["strpop LABEL mine"], VAR)],
    "strstr": [(["strstr abc b"], READ)],
    "strsub": [(["strsub abc b x"], READ), (["strsub abc b x -var mine"], READ),
               (["strsub abc b x -var LABEL"], VAR)],
    "substr": [(["substr abc 0 1 mine"], READ), (["substr abc 0 1 LABEL"], VAR)],
    "task": [(["task t2", "command true"], WRITE), (["task t", "nmax 3"], WRITE),
             (["task t", "command touch ran.txt", "task.exec", "$LABEL = x", "end"], WRITE)],
    "task.exec": [(["task.exec", "$LABEL = x"], WRITE)],
    "task.exit": [(["task.exit 0", "$LABEL = x"], WRITE)],
    "trange": [(["trange 00:00 01:00"], WRITE),
               (["trange -reset"], WRITE, ["task t", "trange 00:00 01:00", "end"])],
    "usleep": [(["usleep 10"], READ)],
    "verbose": [(["verbose"], READ), (["verbose on"], WRITE), (["verbose toggle"], WRITE)],
    "version": [(["version"], READ)],
    "watch": [(["watch on"], READ), (["watch off -jobs"], READ)],
    "which": [(["which echo"], READ)],
    "while": [(["while (0)"], READ), (["while ($LABEL == 0)"], READ)],
}

#: Forms that reach a server variable some other way (assignment syntax,
#: and a macro whose body assigns one), and macros whose bodies would
#: start a program or define a macro: each command in a macro is checked.
ASSIGNMENTS: list[tuple[list[str], str]] = [
    (["$LABEL = x"], VAR), (["$LABEL ++"], VAR), (["$LABEL += 2"], VAR),
    (["$LABEL --"], VAR), (["$DB:n = 7"], VAR), (["setter"], VAR),
    (["$x = `touch ran.txt`"], RUN), (["runner"], RUN), (["definer"], WRITE),
]

SETUP = """\
$LABEL = real
$DB:0 = a
$DB:1 = b
$DB:n = 2
$MODULES:1 = {tmp}
$MODULES:n = 2
macro m1
  echo in macro
end
macro setter
  $LABEL = changed
end
macro runner
  exec touch ran.txt
end
macro definer
  macro inner
    echo x
  end
end
queuepush q line1
queuepush q line2
book create b
book newpage b p
book setword b p w v
book create b2
for setup_i 0 12
  book newpage b2 p$setup_i
end
task t
  command true
  periods -exec 1000
end
job sleep 100
"""


class SpawnRecorder(Clock):
    """A Clock that records attempts to start a program (and refuses
    them), so a test sees whether a form tried to."""

    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[Any] = []

    def spawnProcess(self, protocol: Any, executable: Any, args: Any = (), *a: Any,
                     **kw: Any) -> Any:
        self.spawned.append(list(args))
        raise OSError("no programs in this test")


def make_walk_server(reactor: SpawnRecorder) -> Server:
    runner = FakeRunner(reactor)
    log = MemoryLog()
    engine = make_engine(reactor, log_sink=log, runner=runner, jitter=False)
    users = {"pantasks": (PASSWORD, "control"), "bob": ("bobpw", "watch")}
    db = UserDB({n: UserEntry(n, p, r) for n, (p, r) in users.items()})
    factory = LineServerFactory(
        engine.interp, make_portal(db), reactor, log=log, scheduler=engine.scheduler,
        access=AccessList(), failures=FailureTracker(reactor),
    )
    server = Server(factory, reactor, engine, log, runner)
    install(engine.interp, ServerHooks(engine.scheduler, log, server.shutdowns.append))
    return server


@pytest.fixture
def workdir() -> Any:
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        os.mkdir("sub")
        with open("data.txt", "w") as f:
            f.write("secret line\n")
        with open("script.pro", "w") as f:
            f.write("$fromfile = 1\n")
        try:
            yield os.path.realpath(tmp)
        finally:
            os.chdir(old)


def fresh(tmp: str) -> tuple[Server, SpawnRecorder]:
    """A server holding some of everything (see L{SETUP})."""
    reactor = SpawnRecorder()
    server = make_walk_server(reactor)
    ctx = server.interp.new_context(CollectingSink())
    done: list[Any] = []
    server.interp.execute_text(ctx, SETUP.format(tmp=tmp)).addBoth(done.append)
    assert done == [1], ctx.sink.chunks
    assert server.scheduler.jobs, "the setup's job runs"
    server.scheduler.tasks["t"].nsuccess = 3  # as if it had run
    server.interp.variables["STATUS"] = "1"
    return server, reactor


def files(tmp: str) -> dict[str, Optional[bytes]]:
    found: dict[str, Optional[bytes]] = {}
    for root, dirs, names in os.walk(tmp):
        for d in dirs:
            found[os.path.relpath(os.path.join(root, d), tmp)] = None
        for n in names:
            path = os.path.join(root, n)
            with open(path, "rb") as f:
                found[os.path.relpath(path, tmp)] = f.read()
    return found


def snapshot(server: Server, reactor: SpawnRecorder, tmp: str,
             conn: Optional[Client] = None) -> dict[str, Any]:
    """Everything shared a command might change."""
    interp = server.interp
    sched = server.scheduler
    sink = conn.proto.sink if conn is not None else None
    return {
        "variables": dict(interp.variables),
        "statics": dict(interp.statics),
        "macros": {n: (list(m.body), m.help) for n, m in interp.macros.items()},
        "books": {b.name: [(p.name, p.items()) for p in b.pages()] for b in interp.books},
        "queues": {n: list(q) for n, q in interp.queues.items()},
        "tasks": {n: repr(t) for n, t in sched.tasks.items()},
        "jobs": {i: repr(j) for i, j in sched.jobs.items()},
        "scheduler": (sched.state, sched.verbose),
        "modes": (interp.verbose, interp.auto_break),
        "commands": sorted(interp.commands),
        "cwd": os.getcwd(),
        "files": files(tmp),
        "log": (server.log.redirect_out, server.log.redirect_err),
        "own output": (getattr(sink, "redirect_out", None), getattr(sink, "redirect_err", None)),
        "runner": len(server.runner.started),
        "spawned": list(reactor.spawned),
        "shutdowns": list(server.shutdowns),
        "other connections": sorted((c.session_id, bool(c.transport.disconnecting))
                                    for c in server.factory.connections
                                    if conn is None or c is not conn.proto),
    }


def run_form(server: Server, client: Client, lines: list[str]) -> str:
    """Send a form (a block gets its C{end}); return the whole reply."""
    reply = ""
    body = list(lines)
    if len(body) > 1 or _opens(server, body[0]):
        body.append("end")
    for line in body:
        reply += client.ask(line)
        if "STATUS" in reply or client.closed:
            break
    for _ in range(50):  # sleeps and anything else waiting on the clock
        if "STATUS" in reply or client.closed:
            break
        server.clock.advance(1)
        reply += client.take()
    return reply


def _opens(server: Server, line: str) -> bool:
    from pantasks.lang.source import opens_block

    return opens_block(line)


def all_forms() -> list[tuple[str, list[str], str, list[str]]]:
    """(command name, lines, kind, control prelude) of every form."""
    forms = [(name, e[0], e[1], e[2] if len(e) > 2 else [])
             for name, entries in FORMS.items() for e in entries]
    forms += [(lines[0].split()[0], lines, kind, []) for lines, kind in ASSIGNMENTS]
    return forms


def denied_line(reply: str, name: str, kind: str) -> bool:
    lines = [ln for ln in reply.splitlines() if not ln.startswith("MORE ")]
    if len(lines) != 2 or lines[1] != "STATUS 0":
        return False
    if kind == VAR:
        return lines[0].startswith("E $") and lines[0].endswith(
            ": permission denied (watch role may not change server variables)")
    why = {WRITE: "", DENY: "", RUN: ": it would start a program on the server host",
           FILE: ": it would read a file on the server host"}[kind]
    return lines[0].endswith(f": permission denied (user bob has the watch role{why})")


def test_every_command_has_forms() -> None:
    """A new command must say here what its forms are (the walk below
    covers it then); the table may not name commands that do not exist."""
    server, _reactor = fresh(os.getcwd())
    names = set(server.interp.commands)
    missing = sorted(names - set(FORMS))
    assert not missing, f"commands without forms in the watch walk: {missing}"
    assert not sorted(set(FORMS) - names)


def test_every_command_declares_its_effect() -> None:
    """No built-in relies on default deny: each says what it changes."""
    server, _reactor = fresh(os.getcwd())
    for name, cmd in server.interp.commands.items():
        assert cmd.effect is not None, name
        assert callable(cmd.effect) or cmd.effect in EFFECTS, name


@pytest.mark.parametrize("name", sorted(FORMS))
def test_watch_changes_nothing(workdir: str, name: str) -> None:
    """Every form of C{name}, and C{name} bare, as a watch user."""
    forms = [(lines, kind) for n, lines, kind, _pre in all_forms() if n == name]
    forms.append(([name], None))
    for lines, kind in forms:
        server, reactor = fresh(workdir)
        server.login()  # a bystander: session 1
        bob = server.login(user="bob", password="bobpw")
        before = snapshot(server, reactor, workdir, bob)
        reply = run_form(server, bob, lines)
        after = snapshot(server, reactor, workdir, bob)
        changed = {k for k in before if before[k] != after[k]}
        assert not changed, (lines, changed, reply)
        if kind in (WRITE, DENY, RUN, FILE, VAR):
            assert denied_line(reply, name, kind), (lines, reply)
        elif kind == READ:
            assert "permission denied" not in reply, (lines, reply)
        os.chdir(workdir)


def test_watch_variable_forms_via_assignment(workdir: str) -> None:
    for lines, kind in ASSIGNMENTS:
        server, reactor = fresh(workdir)
        bob = server.login(user="bob", password="bobpw")
        before = snapshot(server, reactor, workdir, bob)
        reply = run_form(server, bob, lines)
        assert snapshot(server, reactor, workdir, bob) == before, lines
        assert denied_line(reply, "", kind), (lines, reply)


@pytest.mark.parametrize("name", sorted({n for n, _l, k, _p in all_forms()
                                         if k not in (READ, DENY)}))
def test_control_forms_still_work(workdir: str, name: str) -> None:
    """The same state-changing forms as a control user: each changes
    something (or tries to start a program)."""
    for n, lines, kind, prelude in all_forms():
        if n != name or kind in (READ, DENY):
            continue
        server, reactor = fresh(workdir)
        server.login(user="bob", password="bobpw")  # a bystander: session 1
        admin = server.login()
        if prelude:
            done: list[Any] = []
            ctx = server.interp.new_context(CollectingSink())
            server.interp.execute_text(ctx, "\n".join(prelude)).addBoth(done.append)
            assert done == [1], (prelude, ctx.sink.chunks)
        if name in TASK_KEYWORDS:
            # A keyword works inside a task definition.
            inner = ["end"] if _opens(server, lines[0]) else []
            lines = ["task t", "command true", *lines, *inner]
        before = snapshot(server, reactor, workdir, admin)
        reply = run_form(server, admin, lines)
        after = snapshot(server, reactor, workdir, admin)
        assert "permission denied" not in reply, (lines, reply)
        changed = {k for k in before if before[k] != after[k]}
        if kind == RUN:
            assert "spawned" in changed or "runner" in changed, (lines, reply)
        else:
            assert changed - {"variables"} or _variables_changed(before, after), (lines, reply)
        os.chdir(workdir)


def _variables_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Some variable other than STATUS changed."""
    b = {k: v for k, v in before["variables"].items() if k != "STATUS"}
    a = {k: v for k, v in after["variables"].items() if k != "STATUS"}
    return a != b
