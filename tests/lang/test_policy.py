# -*- test-case-name: tests.lang.test_policy -*-
"""Tests of L{pantasks.lang.policy}: the watch policy's variable rule and
session caps, and C{max_value} for every caller, on a real interpreter.
(The walk over every command is in C{tests/net/test_watch_walk.py}.)"""

from __future__ import annotations

from typing import Any

from pantasks.lang.context import CollectingSink, Context
from pantasks.lang.interp import Interpreter
from pantasks.lang.policy import Limits, WatchPolicy, policy_for
from pantasks.lang.registry import Command, CommandTable

MIB = 2**20


def make(limits: Limits = Limits(), watch: bool = True) -> tuple[Interpreter, Any]:
    interp = Interpreter(log_sink=CollectingSink())
    interp.set_limits(limits)
    policy = WatchPolicy("eve", limits) if watch else None
    return interp, policy


def run(interp: Interpreter, policy: Any, text: str) -> tuple[int, str, str]:
    """Run C{text} as one request; (status, stdout, stderr)."""
    sink = CollectingSink()
    ctx = interp.new_context(sink, "eve", "watch" if policy else "control", policy)
    done: list[Any] = []
    interp.execute_text(ctx, text).addBoth(done.append)
    assert len(done) == 1
    return done[0], sink.stdout(), sink.stderr()


def test_policy_for_roles() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    assert policy_for("control", "alice", interp) is None
    assert isinstance(policy_for("watch", "bob", interp), WatchPolicy)
    # a role this program does not know is treated as watch (default deny)
    assert isinstance(policy_for("admin", "bob", interp), WatchPolicy)


def test_all_sessions_together_are_capped() -> None:
    interp = Interpreter(log_sink=CollectingSink())
    interp.set_limits(Limits(watch_session_size=4 * MIB, watch_total_size=10 * MIB))
    grow = "$x = .\nfor d 0 21\n  $x = $x$x\nend"  # 2 MiB each
    sessions = [policy_for("watch", f"w{i}", interp) for i in range(6)]
    results = [run(interp, p, grow) for p in sessions]
    assert [r[0] for r in results] == [1, 1, 1, 1, 0, 0]
    assert "all watch sessions together keep at most 10485760 characters" in results[4][2]
    assert results[4][2].count("\n") == 1
    assert interp.watch_usage.chars <= 10 * MIB
    # a session that ends gives its share back
    sessions[0].close()
    assert sessions[0].variables == {} and sessions[0].chars == 0
    assert run(interp, sessions[5], grow)[0] == 1
    for p in sessions:
        p.close()
    assert interp.watch_usage.chars == 0


def test_context_fields_are_declared() -> None:
    interp, policy = make()
    ctx = interp.new_context(CollectingSink(), "eve", "watch", policy)
    assert (ctx.user, ctx.role, ctx.policy, ctx.sandboxed) == ("eve", "watch", policy, True)
    assert ctx.private_vars is policy.variables
    child = ctx.child()
    assert (child.user, child.role, child.policy, child.sandboxed) == ("eve", "watch", policy, True)
    assert not hasattr(ctx, "__dict__") or set(vars(ctx)) <= set(Context.__dataclass_fields__)


def test_undeclared_command_is_refused_to_watch() -> None:
    table = CommandTable()
    table.command("newthing")(lambda ctx, argv: ctx.out("ran\n") or 1)
    interp = Interpreter(log_sink=CollectingSink(), tables=[table])
    policy = WatchPolicy("eve", Limits())
    assert run(interp, policy, "newthing") == (
        0, "", "newthing: permission denied (user eve has the watch role: the command "
        "declares no permission)\n")
    assert run(interp, None, "newthing") == (1, "ran\n", "")
    assert isinstance(interp.commands["newthing"], Command)


def test_server_variables_are_refused_new_names_are_the_sessions() -> None:
    interp, policy = make()
    interp.variables["LABEL"] = "real"
    denied = "$LABEL: permission denied (watch role may not change server variables)\n"
    for line in ("$LABEL = x", "$LABEL ++", "$LABEL += 3", "set LABEL = 2",
                 "sprintf LABEL %d 3", "for LABEL 0 2\nend", "foreach LABEL a b\nend"):
        status, _out, err = run(interp, policy, line)
        assert (status, err) == (0, denied), line
        assert interp.variables["LABEL"] == "real", line
    # a server list: its first element is refused, nothing is stored
    interp.variables.update({"DB:0": "a", "DB:n": "1"})
    assert run(interp, policy, "list DB -add b c")[2] == (
        "$DB:n: permission denied (watch role may not change server variables)\n")
    assert "DB:1" not in policy.variables and interp.variables["DB:n"] == "1"
    assert run(interp, policy, "$mine = 5\nfor i 0 3\n  $mine = $mine + $i\nend") == (1, "", "")
    assert policy.variables["mine"] == "8" and "mine" not in interp.variables
    assert "i" not in interp.variables
    # the session's own names persist between requests
    assert run(interp, policy, "echo $mine") == (1, "8\n", "")
    # and a later server variable of the same name does not change them
    interp.variables["mine"] = "server"
    assert run(interp, policy, "echo $mine") == (1, "8\n", "")


def test_status_of_a_watch_request_is_the_sessions() -> None:
    interp, policy = make()
    interp.variables["STATUS"] = "1"
    run(interp, policy, "nosuchcommand")
    assert interp.variables["STATUS"] == "1"
    assert policy.variables["STATUS"] == "-1"


def test_locals_and_deletion() -> None:
    interp, policy = make()
    interp.variables["LABEL"] = "real"
    status, _out, err = run(interp, None, "macro m\n  local LABEL\n  $LABEL = mine\n"
                                          "  echo $LABEL\nend")
    assert status == 1, err
    # a local shadows the server variable: the watch user may set it
    assert run(interp, policy, "m") == (1, "mine\n", "")
    assert interp.variables["LABEL"] == "real"
    assert policy.local_chars > 0
    run(interp, policy, "echo")
    assert policy.local_chars == 0  # a new request: the locals are gone
    assert run(interp, policy, "list L -split a b c\nlist L -del a\necho $L:n") == (1, "2\n", "")
    assert "L:2" not in policy.variables
    assert run(interp, policy, "list LABEL -del real")[0] == 0
    assert interp.variables["LABEL"] == "real"


def test_session_entry_cap() -> None:
    interp, policy = make(Limits(watch_session_lines=50))
    status, _out, err = run(interp, policy, "for i 0 100\n  $v$i = x\nend")
    assert status == 0
    assert err.count("\n") == 1 and "session full" in err and "watch_session_lines" in err
    assert len(policy.variables) <= 50
    # a list that would not fit is not stored at all
    before = dict(policy.variables)
    status, _out, err = run(interp, policy, "list big -split " + " ".join(["w"] * 60))
    assert status == 0 and "session full" in err
    assert policy.variables == before


def test_session_size_cap_250_copies() -> None:
    limits = Limits(watch_session_size=32 * MIB)
    interp, policy = make(limits)
    script = "$x = .\nfor d 0 20\n  $x = $x$x\nend\nfor c 0 250\n  $copy$c = $x\nend"
    status, _out, err = run(interp, policy, script)
    assert status == 0
    assert err.count("\n") == 1 and "session full" in err and "watch_session_size" in err
    assert policy.chars <= 32 * MIB
    held = sum(len(k) + len(v) for k, v in policy.variables.items())
    assert held == policy.chars
    # the control role has no session cap (its variables are the server's)
    interp2, _none = make(limits, watch=False)
    assert run(interp2, None, "$x = .\nfor d 0 20\n  $x = $x$x\nend\nfor c 0 40\n"
                              "  $copy$c = $x\nend")[0] == 1


def test_max_value_for_every_role() -> None:
    limits = Limits(max_value=1 * MIB)
    for watch in (True, False):
        interp, policy = make(limits, watch)
        status, _out, err = run(interp, policy, "$x = .\nfor d 0 25\n  $x = $x$x\nend")
        assert status == 0
        assert err.count("\n") == 1, err
        assert err.startswith("$x: value too long (2097152 characters; at most 1048576 "), err
        value = policy.variables["x"] if watch else interp.variables["x"]
        assert len(value) == MIB


def test_max_value_lists_queues_books_nothing_half_stored() -> None:
    limits = Limits(max_value=1024)
    interp, _none = make(limits, watch=False)
    big = "y" * 2000
    interp.variables["big"] = big  # as if stored before the limit was lowered
    assert run(interp, None, "list L -split a $big")[0] == 0
    assert "L:0" not in interp.variables and "L:n" not in interp.variables
    assert run(interp, None, "queuepush q a\nqueuepush q $big")[0] == 0
    assert list(interp.queues["q"]) == ["a"]
    status, _out, err = run(interp, None, "queuesubstr q a $big")
    assert status == 0 and "queue q: value too long" in err
    assert list(interp.queues["q"]) == ["a"]
    run(interp, None, "book create b\nbook newpage b p\nbook setword b p w v")
    status, _out, err = run(interp, None, "book setword b p w $big")
    assert status == 0 and "book b: value too long" in err
    assert interp.books.find("b").find_page("p").get("w") == "v"
    status, _out, err = run(interp, None, "strsub $big y yy -var out")
    assert status == 0 and "$out: value too long (4000 characters" in err
    assert "out" not in interp.variables
