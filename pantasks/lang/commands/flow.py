# -*- test-case-name: tests.lang.test_flow -*-
"""Blocks and flow control: if, for, foreach, while, macro, break & co.

Block commands read their body from the cursor of the list they run in
(see L{pantasks.lang.source}).  C{if} runs its true branch line by line
as it reads it, so nested blocks consume their own C{end}; loops collect
their body once and run it on every pass.
"""

from __future__ import annotations

from typing import Any

from pantasks.lang import expr as _expr
from pantasks.lang.context import Context
from pantasks.lang.errors import ExprError, ScriptError, UsageError
from pantasks.lang.expand import expand
from pantasks.lang.interp import Macro, format_number
from pantasks.lang.registry import command
from pantasks.lang.source import Cursor, is_else, is_end, opens_block


def _condition(ctx: Context, cond: str) -> bool:
    try:
        return _expr.truth(cond)
    except ExprError:
        raise ScriptError(f"syntax error in logic: {cond}") from None


def _skip_block(cursor: Any, stop_at_else: bool) -> str:
    """Consume lines up to this block's C{end} (or C{else}); return which."""
    depth = 0
    while True:
        item = cursor.next() if cursor is not None else None
        if item is None:
            return "eof"
        line = item[0]
        if is_end(line):
            if depth == 0:
                return "end"
            depth -= 1
        elif depth == 0 and stop_at_else and is_else(line):
            return "else"
        elif opens_block(line):
            depth += 1


@command("if", help="if (condition) [command] / block ... [else ...] end")
def cmd_if(ctx: Context, argv: list[str]) -> Any:
    if len(argv) < 2:
        raise UsageError("USAGE: if (condition) [command]")
    cond = argv[1]
    if len(argv) > 2:
        # Inline form: the remaining words are run as a new line.
        if _condition(ctx, cond):
            return ctx.interp.run_line(ctx, " ".join(argv[2:]))
        return 1
    return _if_block(ctx, cond)


def _if_block(ctx: Context, cond: str) -> Any:
    cursor = getattr(ctx, "cursor", None)
    try:
        truth = _condition(ctx, cond)
    except ScriptError:
        _skip_block(cursor, False)
        raise
    interp = ctx.interp
    running = truth
    if not running:
        if _skip_block(cursor, True) != "else":
            return 1
        running = True
    status = 1
    seen_else = not truth
    while True:
        item = cursor.next() if cursor is not None else None
        if item is None:
            ctx.error("missing 'END' in if block")
            return 0
        line, origin = item
        if is_end(line):
            return status
        if is_else(line):
            if seen_else:
                _skip_block(cursor, False)
                raise ScriptError("if: second else")
            # End of the true branch: skip the false one.
            _skip_block(cursor, False)
            return status
        ctx.origin = origin
        r = interp.run_line(ctx, line)
        if r.__class__ is not int:
            r = yield from r
        status = 1 if r > 0 else 0
        if not status and interp.auto_break:
            _skip_block(cursor, False)
            return 0


def _number(text: str, what: str) -> float:
    try:
        return float(_expr.evaluate(text))
    except (ExprError, ValueError):
        raise ScriptError(f"for loop {what} value must be numerical") from None


def _loop_var_text(value: float) -> str:
    i = int(value)
    return str(i) if value == i else format_number(value)


def _collect(ctx: Context, what: str) -> list:
    cursor = getattr(ctx, "cursor", None)
    if cursor is None:
        raise ScriptError(f"misbalanced loop ({what} has no body)")
    body, closed = cursor.collect_body()
    if not closed:
        raise ScriptError("misbalanced loop")
    return body


def run_body(ctx: Context, body: list, flat: bool) -> Any:
    """Run a loop body once.  A I{flat} body (no line opens a block, so
    nothing reads from the cursor) runs without a cursor of its own: loops
    are the interpreter's hot path."""
    interp = ctx.interp
    if not flat:
        return (yield from interp.run_list(ctx, Cursor(body)))
    status = 1
    auto_break = interp.auto_break
    for line, origin in body:
        ctx.origin = origin
        r = interp.run_line(ctx, line)
        if r.__class__ is not int:
            r = yield from r
        status = 1 if r > 0 else 0
        if ctx.loop_break or ctx.loop_next or ctx.loop_last or (not status and auto_break):
            break
    return status


def _is_flat(body: list) -> bool:
    return not any(opens_block(line) for line, _origin in body)


def _after_pass(ctx: Context, status: int) -> str:
    """Decide what a loop does after one pass: 'go', 'stop' or 'fail'."""
    interp = ctx.interp
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
    if not status and interp.auto_break:
        return "fail"
    return "go"


@command("for", help="for VAR START END [STEP] [-incl] ... end (END excluded)")
def cmd_for(ctx: Context, argv: list[str]) -> Any:
    incl = "-incl" in argv
    args = [a for a in argv if a != "-incl"]
    if len(args) not in (4, 5):
        _collect(ctx, "for")
        raise UsageError("USAGE: for VAR START END [STEP] [-incl]")
    body = _collect(ctx, "for")
    var = args[1]
    start = _number(args[2], "starting")
    end = _number(args[3], "ending")
    step = _number(args[4], "step") if len(args) == 5 else 1.0
    if step == 0:
        raise ScriptError("for loop step value must not be zero")
    if incl:
        end += 0.01 * step
    flat = _is_flat(body)
    value = start
    while (value < end) if step > 0 else (value > end):
        ctx.set_var(var, _loop_var_text(value))
        status = yield from run_body(ctx, body, flat)
        what = _after_pass(ctx, status)
        if what == "fail":
            return 0
        if what == "stop":
            break
        current = ctx.get_var(var)
        try:
            value = float(current) if current is not None else value
        except ValueError:
            raise ScriptError(f"for loop variable {var} is not a number: {current}") from None
        value += step
    return 1


@command("foreach", help="foreach VAR v1 v2 ... / body / end")
def cmd_foreach(ctx: Context, argv: list[str]) -> Any:
    body = _collect(ctx, "foreach")
    if len(argv) < 2:
        raise UsageError("USAGE: foreach VAR value ...")
    flat = _is_flat(body)
    for value in argv[2:]:
        ctx.set_var(argv[1], value)
        status = yield from run_body(ctx, body, flat)
        what = _after_pass(ctx, status)
        if what == "fail":
            return 0
        if what == "stop":
            break
    return 1


@command("while", help="while (condition) / body / end")
def cmd_while(ctx: Context, argv: list[str]) -> Any:
    body = _collect(ctx, "while")
    if len(argv) != 2:
        raise UsageError("USAGE: while (condition)")
    flat = _is_flat(body)
    while True:
        cond = expand(ctx, argv[1])
        if not _condition(ctx, cond):
            return 1
        status = yield from run_body(ctx, body, flat)
        what = _after_pass(ctx, status)
        if what == "fail":
            return 0
        if what == "stop":
            return 1


@command("break", help="leave the loop (in pantasks: abort the whole list); break -auto on|off")
def cmd_break(ctx: Context, argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "-auto":
        if argv[2] not in ("on", "off"):
            raise UsageError("USAGE: break [-auto on|off]")
        ctx.interp.auto_break = argv[2] == "on"
        return 1
    ctx.loop_break = True
    return 0


@command("continue", help="go to the next pass of the loop")
def cmd_continue(ctx: Context, argv: list[str]) -> int:
    ctx.loop_next = True
    return 1


@command("next", help="go to the next pass of the loop")
def cmd_next(ctx: Context, argv: list[str]) -> int:
    ctx.loop_next = True
    return 1


@command("last", help="leave the loop normally")
def cmd_last(ctx: Context, argv: list[str]) -> int:
    ctx.loop_last = True
    return 1


@command("return", help="leave the macro normally")
def cmd_return(ctx: Context, argv: list[str]) -> int:
    ctx.loop_last = True
    return 1


@command("macro", help="macro NAME [-c help] ... end; macro delete|list NAME", readonly=False)
def cmd_macro(ctx: Context, argv: list[str]) -> int:
    interp = ctx.interp
    args = list(argv)
    helptext = ""
    if "-c" in args:
        i = args.index("-c")
        if i + 1 >= len(args):
            raise UsageError("USAGE: macro NAME [-c help]")
        helptext = args[i + 1]
        del args[i : i + 2]
    if len(args) >= 3 and args[1] in ("delete", "list"):
        name = args[2]
        macro = interp.macros.get(name)
        if macro is None:
            raise ScriptError(f"macro {name} not found")
        if args[1] == "delete":
            del interp.macros[name]
            interp.macros_changed()
        else:
            for line, _origin in macro.body:
                ctx.err(line + "\n")
        return 1
    if len(args) >= 3 and args[1] == "create":
        del args[1]
    if len(args) != 2:
        raise UsageError("USAGE: macro NAME [-c help] / lines / end")
    name = args[1]
    cursor = getattr(ctx, "cursor", None)
    if cursor is None:
        raise ScriptError("macro: no body")
    body, closed = cursor.collect_body()
    if not closed:
        ctx.error(f"missing 'END' in macro {name}")
    if name in interp.commands:
        raise ScriptError(f"cannot redefine inherent command {name}")
    interp.macros[name] = Macro(name, body, helptext)
    interp.macros_changed()
    return 1


@command("local", help="local [-static] NAME ...: variables private to this macro call")
def cmd_local(ctx: Context, argv: list[str]) -> int:
    static = "-static" in argv
    names = [a for a in argv[1:] if a != "-static"]
    if not names:
        raise UsageError("USAGE: local [-static] (variable) ...")
    if not ctx.frames:
        raise ScriptError("local: not in a macro")
    prefix = f"{ctx.frames[-1].name}.{len(ctx.frames)}."
    for name in names:
        key = prefix + name
        # -static keeps the value a previous call of this macro left.
        if not (static and key in ctx.locals):
            ctx.locals[key] = "NULL"
    return 1


@command("getargs", help="getargs KEY bool|value [-var V]: take an option from the macro's args")
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
        raise ScriptError(f"ERROR: invalid mode {args[2]}")
    if not ctx.frames:
        raise ScriptError("getargs: not in a macro")
    key = args[1]
    margs = ctx.frames[-1].args
    for i in range(1, len(margs)):
        if margs[i] != key:
            continue
        if mode == "value":
            if i + 1 >= len(margs):
                raise ScriptError(f"ERROR: missing value for argument {key}")
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
