# -*- test-case-name: tests.lang.test_basic -*-
"""Basic built-ins: echo, input/module, exec, sleep, set, help and friends."""

from __future__ import annotations

import os
from typing import Any

from pantasks.lang import expr as _expr
from pantasks.lang.context import Context
from pantasks.lang.errors import ExprError, ScriptError, UsageError
from pantasks.lang.registry import command


@command("echo", help="echo [-no-return] words...: print the words")
def cmd_echo(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    newline = "\n"
    if args and args[0] == "-no-return":
        args = args[1:]
        newline = ""
    ctx.out(" ".join(args) + newline)
    return 1


for _nop in ("nop", "#", "##", "###"):
    command(_nop, help="do nothing (a comment when typed)")(lambda ctx, argv: 1)


@command("input", help="input FILE: run the lines of a script file", readonly=False)
def cmd_input(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        raise UsageError("USAGE: input (filename)")
    if not os.path.isfile(argv[1]):
        raise ScriptError(f"no file {argv[1]}")
    return (yield from ctx.interp.load_file(ctx, argv[1]))


@command("module", help="module FILE: run a script found in the $MODULES directories", readonly=False)
def cmd_module(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        raise UsageError("USAGE: module (filename)")
    dirs = ctx.get_list("MODULES")
    if ctx.get_var("MODULES:n") is None:
        raise ScriptError("MODULES list not found")
    for d in dirs:
        path = os.path.join(d, argv[1])
        if os.path.isfile(path):
            return (yield from ctx.interp.load_file(ctx, path))
    raise ScriptError(f"module {argv[1]} not found")


def _exec(ctx: Context, argv: list[str]) -> Any:
    args = argv[1:]
    timeout = None
    if len(args) >= 2 and args[0] == "-timeout":
        try:
            timeout = float(args[1])
        except ValueError:
            raise UsageError("USAGE: exec [-timeout seconds] command ...") from None
        args = args[2:]
    if not args:
        raise UsageError("USAGE: exec [-timeout seconds] command ...")
    line = " ".join(args)
    code = yield ctx.interp.shell_run(ctx, line, timeout)
    if code is None:
        raise ScriptError(f"timeout on {line}")
    if code < 0:
        raise ScriptError(f"job exited on signal {-code}")
    return 1 if code == 0 else 0


command("exec", help="exec [-timeout S] command...: run a shell command", readonly=False)(_exec)
command("!", help="! command...: run a shell command", readonly=False)(_exec)


def _seconds(text: str, usage: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(usage) from None


@command("sleep", help="sleep N: wait N seconds (other work goes on)")
def cmd_sleep(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        raise UsageError("USAGE: sleep (seconds)")
    yield ctx.interp.sleep(int(_seconds(argv[1], "USAGE: sleep (seconds)")))
    return 1


@command("usleep", help="usleep N: wait N microseconds")
def cmd_usleep(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        raise UsageError("USAGE: usleep (microseconds)")
    yield ctx.interp.sleep(_seconds(argv[1], "USAGE: usleep (microseconds)") / 1e6)
    return 1


@command("set", help="set NAME = expression: assign a numeric value")
def cmd_set(ctx: Context, argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "=":
        raise UsageError("USAGE: set NAME = expression")
    text = " ".join(argv[3:])
    try:
        value = _expr.evaluate(text)
    except ExprError as e:
        raise ScriptError(f"set: {e}") from None
    ctx.set_var(argv[1], value)
    return 1


@command("opihi", help="opihi verbose on|off|error: echo lines as they run")
def cmd_opihi(ctx: Context, argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "verbose" and argv[2] in ("on", "off", "error"):
        ctx.interp.verbose = argv[2]
        return 1
    if len(argv) == 2 and argv[1] == "verbose":
        ctx.err(f"opihi verbose {ctx.interp.verbose}\n")
        return 1
    raise UsageError("USAGE: opihi verbose (on|off|error)")


def _quit(ctx: Context, argv: list[str]) -> int:
    code = 0
    if len(argv) > 1:
        try:
            code = int(argv[1])
        except ValueError:
            raise UsageError(f"USAGE: {argv[0]} [exit code]") from None
    handler = ctx.interp.quit_handler
    if handler is None:
        raise ScriptError(f"{argv[0]}: not available here")
    handler(ctx, code)
    return 1


command("quit", help="quit [code]: leave pantasks", readonly=False)(_quit)
command("exit", help="exit [code]: leave pantasks", readonly=False)(_quit)


@command("output", help="output FILE|stdout|stderr [-err]: redirect output", readonly=False)
def cmd_output(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    err = "-err" in args
    args = [a for a in args if a != "-err"]
    if len(args) != 1:
        raise UsageError("USAGE: output (filename|stdout|stderr) [-err]")
    target = args[0]
    sink = ctx.sink
    attr = "redirect_err" if err else "redirect_out"
    old = getattr(sink, attr)
    if old is not None:
        try:
            old.close()
        except OSError:
            pass
    if target in ("stdout", "stderr"):
        setattr(sink, attr, None)
        return 1
    try:
        setattr(sink, attr, open(target, "a"))
    except OSError as e:
        setattr(sink, attr, None)
        raise ScriptError(f"cannot open {target}: {e.strerror}") from None
    return 1


@command("help", help="help [command]: list commands, or describe one")
def cmd_help(ctx: Context, argv: list[str]) -> int:
    interp = ctx.interp
    if len(argv) == 1:
        for name in interp.names():
            ctx.out(f"{name:<25s} -- {_help_of(interp, name)}\n")
        return 1
    name = argv[1]
    if name not in interp.commands and name not in interp.macros:
        raise ScriptError(f"No help for: {name}")
    ctx.out(f"{name} -- {_help_of(interp, name)}\n")
    return 1


def _help_of(interp: Any, name: str) -> str:
    cmd = interp.commands.get(name)
    if cmd is not None:
        return cmd.help
    macro = interp.macros.get(name)
    return (macro.help or "(macro)") if macro else ""


@command("which", help="which NAME: say what NAME is")
def cmd_which(ctx: Context, argv: list[str]) -> int:
    if len(argv) != 2:
        raise UsageError("USAGE: which (command)")
    name = argv[1]
    interp = ctx.interp
    if name not in interp.commands and name not in interp.macros:
        raise ScriptError(f"{name} not found")
    ctx.err(f"{name:<25s} -- {_help_of(interp, name)}\n")
    return 1


@command("?", help="list all commands")
def cmd_list_commands(ctx: Context, argv: list[str]) -> int:
    interp = ctx.interp
    for name in interp.names():
        ctx.err(f"{name:<25s} -- {_help_of(interp, name)}\n")
    return 1


@command("??", help="print every variable")
def cmd_list_variables(ctx: Context, argv: list[str]) -> int:
    merged = dict(ctx.interp.variables)
    merged.update(ctx.private_vars)
    for name in sorted(merged):
        ctx.err(f"{name} = {merged[name]}\n")
    return 1
