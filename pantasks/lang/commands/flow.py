# -*- test-case-name: tests.lang.test_flow -*-
"""Blocks and flow control: if, for, foreach, while, macro, break & co.

Block commands read their body from the cursor of the list they run in
(see L{pantasks.lang.source}).  C{if} runs its true branch line by line
as it reads it, so nested blocks consume their own C{end}; loops collect
their body once and run it on every pass.

Where this differs from the original on purpose (see pantasks-script(7),
COMPATIBILITY):
  - C{continue}/C{next}/C{last}/C{return} take effect at once, also
    inside an C{if} block (the original ran the rest of the block first);
  - C{while} with C{continue} tests its condition again (the original
    went round without testing it), and a C{while} whose condition is
    false at the start succeeds (the original failed, aborting the
    enclosing list);
  - a missing C{end} is an error naming the line that opened the block,
    and the unfinished block is not run (loops) or is reported (if,
    macro);
  - a C{for} loop whose step is 0, or whose variable the body sets to a
    non-number, is an error instead of a loop without end.
"""

from __future__ import annotations

import math
from typing import Any

from pantasks.lang import expr as _expr
from pantasks.lang.context import Context
from pantasks.lang.errors import ExprError, ScriptError, UsageError
from pantasks.lang.expand import expand
from pantasks.lang.plans import KNOWN_INTS
from pantasks.lang.names import check_name
from pantasks.lang.numbers import finite
from pantasks.lang.registry import Macro, READS, VARIABLES, WRITES, command
from pantasks.lang.text import quote
from pantasks.lang.source import Cursor, is_else, is_end, opens_block


def _condition(cond: str) -> bool:
    try:
        return _expr.truth(cond)
    except ExprError as e:
        raise ScriptError(f"syntax error in logic: {quote(cond)} ({e})") from None


def _skip_block(cursor: Any, stop_at_else: bool) -> str:
    """Consume lines up to this block's C{end} (or C{else}); return which
    (C{"end"}, C{"else"} or C{"eof"})."""
    depth = 0
    in_list = False
    while True:
        item = cursor.next() if cursor is not None else None
        if item is None:
            return "eof"
        line = item[0]
        if is_end(line):
            if in_list:
                in_list = False
                depth -= 1
                continue
            if depth == 0:
                return "end"
            depth -= 1
        elif in_list:
            continue
        elif depth == 0 and stop_at_else and is_else(line):
            return "else"
        elif opens_block(line):
            depth += 1
            in_list = line.split(None, 1)[0] == "list"


@command("if", help="if (condition) [command] / block ... [else ...] end", effect=READS)
def cmd_if(ctx: Context, argv: list[str]) -> Any:
    if len(argv) < 2:
        raise UsageError("USAGE: if (condition) [command]  or  if (condition) / lines / end")
    cond = argv[1]
    if len(argv) > 2:
        # Inline form: the remaining words are run as a new line.
        if _condition(cond):
            r = ctx.interp.run_line(ctx, " ".join(argv[2:]))
            if r.__class__ is not int:
                return _inline(r)
            return r if r > 0 else 0
        return 1
    return _if_block(ctx, cond)


def _inline(gen: Any) -> Any:
    r = yield from gen
    return r if r > 0 else 0


def _if_block(ctx: Context, cond: str) -> Any:
    cursor = ctx.cursor
    start = ctx.origin
    try:
        truth = _condition(cond)
    except ScriptError:
        _skip_block(cursor, False)
        ctx.origin = start
        raise
    interp = ctx.interp
    if not truth:
        found = _skip_block(cursor, True)
        if found == "end":
            return 1
        if found == "eof":
            ctx.origin = start
            raise ScriptError("missing 'END' in if block")
    seen_else = not truth
    while True:
        item = cursor.next() if cursor is not None else None
        if item is None:
            ctx.origin = start
            raise ScriptError("missing 'END' in if block")
        line, origin = item
        if is_end(line):
            return 1
        if is_else(line):
            if seen_else:
                _skip_block(cursor, False)
                ctx.origin = origin
                raise ScriptError("multiple 'ELSE' statements in if block")
            # End of the true branch: skip the false one.
            if _skip_block(cursor, False) == "eof":
                ctx.origin = start
                raise ScriptError("missing 'END' in if block")
            return 1
        ctx.origin = origin
        ctx.ticks -= 1
        if ctx.ticks < 0:
            yield from ctx.checkpoint()
        r = interp.run_line(ctx, line)
        if r.__class__ is not int:
            r = yield from r
        if (r <= 0 and interp.auto_break) or ctx.loop_break or ctx.loop_next or ctx.loop_last:
            _skip_block(cursor, False)
            return 0 if (r <= 0 or ctx.loop_break) else 1


def _strtod(text: str, what: str) -> float:
    """A C{for} bound: a number C{strtod} reads in full, as the original,
    and finite (NaN and infinities would never end the loop or never start
    it; the original's behaviour there was undefined)."""
    s = text.lstrip(" \t\n\v\f\r")
    if s and _expr._FLT_RE.match(s):
        try:
            value = _expr._strtod_value(s)
        except (ValueError, OverflowError):
            pass
        else:
            return finite(value, f"for loop {what} value must be a finite number ({quote(text)})")
    raise ScriptError(f"for loop {what} value must be numerical ({quote(text)})")


def _collect(ctx: Context, what: str) -> list:
    cursor = ctx.cursor
    start = ctx.origin
    if cursor is None:
        raise ScriptError(f"misbalanced loop: '{what}' has no body")
    body, closed = cursor.collect_body()
    if not closed:
        ctx.origin = start
        raise ScriptError(f"misbalanced loop: '{what}' has no 'END'")
    return body


def _is_flat(body: list) -> bool:
    """A I{flat} body has no line that opens a block, so nothing in it
    reads from the cursor: it can run without one."""
    return not any(opens_block(line) for line, _origin in body)


def run_body(ctx: Context, body: list, flat: bool) -> Any:
    """Run a loop body once (a generator: drive it with C{yield from}).

    @return: 0 if the pass was broken off by a failure or C{break}, else 1.
    """
    interp = ctx.interp
    if not flat:
        return (yield from interp.run_list(ctx, Cursor(body)))
    for line, origin in body:
        ctx.origin = origin
        r = interp.run_line(ctx, line)
        if r.__class__ is not int:
            r = yield from r
        if r <= 0 and interp.auto_break:
            return 0
        if ctx.loop_break or ctx.loop_next or ctx.loop_last:
            return 0 if ctx.loop_break else 1
    return 1


def _after_pass(ctx: Context, ok: int) -> str:
    """What a loop does after one pass: C{go}, C{stop} or C{fail}."""
    interp = ctx.interp
    if ctx.quitting:
        return "fail"  # quit/exit: leave every loop, whatever auto_break says
    if ctx.loop_break:
        if not interp.auto_break:
            ctx.loop_break = False
            return "stop"
        return "fail"
    if ctx.loop_last:
        ctx.loop_last = False
        return "stop"
    if ctx.loop_next:
        ctx.loop_next = False
        return "go"
    if not ok and interp.auto_break:
        return "fail"
    return "go"


def _loop_text(value: float) -> str:
    """The loop variable as the original sets it: C{%d} when integral."""
    if value == value and value not in (float("inf"), float("-inf")):
        i = int(value)
        if i == value and -2**63 <= i < 2**63:
            return str(i)
    return "%.12g" % value


@command("for", help="for VAR START END [STEP] [-incl] ... end (END excluded)",
         effect=VARIABLES)
def cmd_for(ctx: Context, argv: list[str]) -> Any:
    incl = "-incl" in argv
    args = [a for a in argv if a != "-incl"]
    body = _collect(ctx, "for")
    if len(args) not in (4, 5):
        raise UsageError("USAGE: for (var) (start) (stop) [delta] [-incl] -- terminate with 'END'")
    var = args[1]
    start = _strtod(args[2], "starting")
    end = _strtod(args[3], "ending")
    step = _strtod(args[4], "delta") if len(args) == 5 else 1.0
    if step == 0:
        raise ScriptError(f"for loop delta value must not be zero ({quote(args[4])})")
    if start + step == start:
        raise ScriptError(f"for loop delta value too small to change {quote(args[2])}")
    if incl:
        end += 0.01 * step
    interp = ctx.interp
    variables = interp.variables
    # Integral start and step: count with ints (exact, and cheap to print).
    if start == int(start) and step == int(step) and abs(start) < 2**52 and abs(step) < 2**52:
        value: Any = int(start)
        step_v: Any = int(step)
    else:
        value = start
        step_v = step
    up = step > 0
    if not _is_flat(body):
        steps = None
    else:
        steps = [(interp.plan_for(line), interp.runner(line), origin) for line, origin in body]
    known = KNOWN_INTS
    while (value < end) if up else (value > end):
        if value.__class__ is int:
            text = str(value)
            if -2147483647 <= value <= 2147483647:
                if len(known) > 8192:
                    known.clear()
                known[text] = value
        else:
            text = _loop_text(value)
        simple = not (ctx.locals or ctx.private_vars or ctx.sandboxed)
        if simple:
            variables[var] = text
        else:
            ctx.set_var(var, text)
        # One pass (inlined for flat bodies: this is the hot loop).  A
        # plan never fails, reports or sets a loop flag: only lines run
        # the general way need the checks.
        if steps is None:
            ok = yield from interp.run_list(ctx, Cursor(body))
            checks = True
        else:
            ok = 1
            checks = False
            fast = interp.verbose == "off" and not ctx.sandboxed
            for plan, run, origin in steps:
                if plan is not None and fast and plan(ctx):
                    variables["STATUS"] = "1"
                    continue
                checks = True
                ctx.origin = origin
                r = run(ctx)
                if r.__class__ is not int:
                    r = yield from r
                if r <= 0 and interp.auto_break:
                    ok = 0
                    break
                if ctx.loop_break or ctx.loop_next or ctx.loop_last:
                    if ctx.loop_break:
                        ok = 0
                    break
        if checks and (ctx.loop_break or ctx.loop_next or ctx.loop_last or not ok):
            what = _after_pass(ctx, ok)
            if what == "fail":
                return 0
            if what == "stop":
                break
        # The body may change the variable: read it back.
        current = variables.get(var) if simple else ctx.get_var(var)
        if current is not text:
            value = _read_back(var, current)
        value = value + step_v
        ctx.ticks -= 1
        if ctx.ticks < 0:
            yield from ctx.checkpoint()
    return 1


def _read_back(var: str, current: Any) -> Any:
    if current is None:
        raise ScriptError(f"for loop variable {var} was deleted in the loop")
    try:
        v = float(current)
    except ValueError:
        raise ScriptError(
            f"for loop variable {var} is not a number: {quote(current)}") from None
    if not math.isfinite(v):
        raise ScriptError(f"for loop variable {var} is not a finite number: {quote(current)}")
    if v == int(v) and abs(v) < 2**52:
        return int(v)
    return v


@command("foreach", help="foreach VAR v1 v2 ... / body / end", effect=VARIABLES)
def cmd_foreach(ctx: Context, argv: list[str]) -> Any:
    body = _collect(ctx, "foreach")
    if len(argv) < 2:
        raise UsageError("USAGE: foreach (var) value [value value ...] -- terminate with 'END'")
    flat = _is_flat(body)
    for value in argv[2:]:
        ctx.ticks -= 1
        if ctx.ticks < 0:
            yield from ctx.checkpoint()
        ctx.set_var(argv[1], value)
        ok = yield from run_body(ctx, body, flat)
        what = _after_pass(ctx, ok)
        if what == "fail":
            return 0
        if what == "stop":
            break
    return 1


@command("while", help="while (condition) / body / end", effect=READS)
def cmd_while(ctx: Context, argv: list[str]) -> Any:
    body = _collect(ctx, "while")
    if len(argv) != 2:
        raise UsageError("USAGE: while (condition)")
    flat = _is_flat(body)
    start = ctx.origin
    while True:
        ctx.ticks -= 1
        if ctx.ticks < 0:
            yield from ctx.checkpoint()
        ctx.origin = start
        cond = expand(ctx, argv[1])
        if not _condition(cond):
            return 1
        ok = yield from run_body(ctx, body, flat)
        what = _after_pass(ctx, ok)
        if what == "fail":
            return 0
        if what == "stop":
            return 1


@command(
    "break",
    help="leave the loop (in pantasks: abort the whole list); break -auto on|off",
    effect=lambda argv: WRITES if argv[1:2] == ["-auto"] and len(argv) >= 3 else READS,
)
def cmd_break(ctx: Context, argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "-auto":
        if len(argv) == 2:
            ctx.err("auto break on\n" if ctx.interp.auto_break else "auto break off\n")
            return 0
        mode = argv[2].lower()
        if len(argv) != 3 or mode not in ("on", "off"):
            raise UsageError("USAGE: break -auto [on / off]")
        ctx.interp.auto_break = mode == "on"
        return 1
    ctx.loop_break = True
    return 0


@command("continue", help="next loop iteration", effect=READS)
def cmd_continue(ctx: Context, argv: list[str]) -> int:
    ctx.loop_next = True
    return 1


@command("next", help="next loop iteration", effect=READS)
def cmd_next(ctx: Context, argv: list[str]) -> int:
    ctx.loop_next = True
    return 1


@command("last", help="leave the loop normally", effect=READS)
def cmd_last(ctx: Context, argv: list[str]) -> int:
    ctx.loop_last = True
    return 1


@command("return", help="leave the macro normally", effect=READS)
def cmd_return(ctx: Context, argv: list[str]) -> int:
    ctx.loop_last = True
    return 1


MACRO_USAGE = "USAGE: macro <name> [-c \"comment line\"] (then lines, then 'END')"


@command("macro", help="macro NAME [-c help] ... end; macro delete|list NAME",
         effect=lambda argv: READS if argv[1:2] == ["list"] else WRITES)
def cmd_macro(ctx: Context, argv: list[str]) -> int:
    interp = ctx.interp
    args = list(argv)
    if len(args) >= 2 and args[1] in ("delete", "list", "edit", "read", "write"):
        return _macro_subcommand(ctx, args)
    helptext = ""
    if "-c" in args:
        i = args.index("-c")
        if i + 1 >= len(args):
            raise UsageError(MACRO_USAGE)
        helptext = args[i + 1]
        del args[i : i + 2]
    if len(args) >= 3 and args[1] == "create":
        del args[1]
    if len(args) != 2:
        if len(args) > 2 and ctx.cursor is not None:
            ctx.cursor.collect_body()  # the block that follows is not run
        raise UsageError(MACRO_USAGE)
    name = args[1]
    cursor = ctx.cursor
    start = ctx.origin
    if cursor is None:
        raise ScriptError("macro: no body")
    body, closed = cursor.collect_body()
    ctx.origin = start
    check_name("macro", name)
    if name in interp.commands:
        raise ScriptError(f"cannot redefine inherent command {quote(name)}")
    interp.macros[name] = Macro(name, body, helptext)
    interp.macros_changed()
    if not closed:
        raise ScriptError(f"missing 'END' in macro {quote(name)} (defined up to the end of file)")
    return 1


def _macro_subcommand(ctx: Context, args: list[str]) -> int:
    interp = ctx.interp
    sub = args[1]
    if sub in ("edit", "read", "write"):
        raise ScriptError(f"macro {sub} is not supported")
    if len(args) != 3:
        raise UsageError(f"USAGE: macro {sub} (name)")
    name = args[2]
    macro = interp.macros.get(name)
    if macro is None:
        raise ScriptError(f"macro {quote(name)} not found")
    if sub == "delete":
        del interp.macros[name]
        interp.macros_changed()
    else:
        for line, _origin in macro.body:
            ctx.err(f"  {line}\n")
    return 1


@command("local", help="local [-static] NAME ...: variables private to this macro call",
         effect=VARIABLES)
def cmd_local(ctx: Context, argv: list[str]) -> int:
    static = "-static" in argv
    names = [a for a in argv[1:] if a != "-static"]
    if not names:
        raise UsageError("USAGE: local [-static] (variable) ...")
    for name in names:
        ctx.declare_local(name, static)
    return 1


@command("getargs", help="getargs KEY bool|value [-var V]: take an option from the macro's args",
         effect=VARIABLES)
def cmd_getargs(ctx: Context, argv: list[str]) -> int:
    usage = "USAGE: getargs (key) (mode) [-var out]"
    args = list(argv)
    var = None
    if "-var" in args:
        i = args.index("-var")
        if i + 1 >= len(args):
            raise UsageError(usage)
        var = args[i + 1]
        del args[i : i + 2]
    if len(args) != 3:
        raise UsageError(usage)
    mode = {"bool": "bool", "boolean": "bool", "val": "value", "value": "value"}.get(
        args[2].lower()
    )
    if mode is None:
        raise ScriptError(f"ERROR: invalid mode {quote(args[2])}")
    if not ctx.frames:
        raise ScriptError("getargs: not in a macro")
    key = args[1]
    margs = ctx.frames[-1].args
    for i in range(1, len(margs)):
        if margs[i] != key:
            continue
        if mode == "value":
            if i + 1 >= len(margs):
                raise ScriptError(f"ERROR: missing value for argument {quote(key)}")
            if var:
                ctx.set_var(var, margs[i + 1])
            del margs[i : i + 2]
        else:
            if var:
                ctx.set_var(var, "1")
            del margs[i]
        return 1
    if var and mode == "bool":
        ctx.set_var(var, "0")
    return 1
