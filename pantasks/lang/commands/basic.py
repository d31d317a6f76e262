# -*- test-case-name: tests.lang.test_basic -*-
"""Basic built-ins: echo, input/module, exec, sleep, set, help and friends.

Options are found anywhere on the line, as the original's
C{get_argument} found them (C{echo a -no-return}).  C{exec} and its
timeout run through the reactor, so a slow command delays nothing else;
on a timeout the command is killed (the original left it running).
"""

from __future__ import annotations

import os
from typing import Any

from pantasks.lang import expr as _expr
from pantasks.lang.args import take_flag, take_value
from pantasks.lang.context import Context
from pantasks.lang.errors import ExprError, ScriptError, UsageError
from pantasks.lang.numbers import whole
from pantasks.lang.registry import FILES, READS, RUNS, SESSION, VARIABLES, WRITES, command
from pantasks.lang.safeopen import FileRefused, open_output
from pantasks.lang.text import atof, quote

#: The longest C{sleep}, in seconds (C's C{sleep} takes an unsigned int;
#: this is about 68 years, and keeps the reactor's timers sane).
MAX_SLEEP = 2**31 - 1

#: The most C{$MODULES} directories searched.
MAX_MODULES = 10**6


@command("echo", help="echo [-no-return] words...: print the words", effect=READS)
def cmd_echo(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    newline = "\n"
    if "-no-return" in args:
        args.remove("-no-return")
        newline = ""
    if args:
        ctx.out(" ".join(args) + newline)
    return 1


for _nop in ("nop", "#", "##", "###"):
    command(_nop, help="do nothing (a comment when typed)", effect=READS)(lambda ctx, argv: 1)


@command("input", help="input FILE: run the lines of a script file", effect=FILES)
def cmd_input(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        raise UsageError("USAGE: input <filename>")
    if os.path.isdir(argv[1]):
        raise ScriptError(f"input: {quote(argv[1])} is a directory, not a script file")
    if not os.path.isfile(argv[1]):
        raise ScriptError(f"no file {quote(argv[1])}")
    return (yield from ctx.interp.load_file(ctx, argv[1]))


@command("module", help="module FILE: run a script found in the $MODULES directories",
         effect=FILES)
def cmd_module(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        raise UsageError("USAGE: module <filename>")
    count = ctx.get_var("MODULES:n")
    if count is None:
        raise ScriptError("MODULES list not found")
    for i in range(max(0, whole(atof(count), "MODULES:n is not a count", hi=MAX_MODULES))):
        d = ctx.get_var(f"MODULES:{i}")
        if d is None:
            raise ScriptError(f"MODULES list element {i} not found")
        path = f"{d}/{argv[1]}"
        if os.path.isfile(path):
            return (yield from ctx.interp.load_file(ctx, path))
    raise ScriptError(f"module {quote(argv[1])} not found")


def _exec(ctx: Context, argv: list[str]) -> Any:
    usage = f"USAGE: {argv[0]} [-timeout seconds] command ..."
    args = list(argv)
    text = take_value(args, "-timeout", usage)
    timeout = atof(text) if text is not None else 0.0
    if len(args) < 2:
        raise UsageError(usage)
    line = " ".join(args[1:])
    code = yield ctx.interp.shell_run(ctx, line, timeout if timeout > 0 else None)
    if code is None:
        raise ScriptError(f"timeout on {quote(line)} (killed after {text} s)")
    if code < 0:
        raise ScriptError(f"{quote(args[1])} exited on signal {-code}")
    return 1 if code == 0 else 0


command("exec", help="exec [-timeout S] command...: run a shell command", effect=RUNS)(_exec)
command("!", help="! command...: run a shell command", effect=RUNS)(_exec)


@command("sleep", help="sleep N: wait N whole seconds (other work goes on)", effect=READS)
def cmd_sleep(ctx: Context, argv: list[str]) -> Any:
    usage = "usage: sleep N"
    if len(argv) < 2:
        raise UsageError(usage)
    yield ctx.interp.sleep(max(0, whole(atof(argv[1]), usage, hi=MAX_SLEEP)))
    return 1


@command("usleep", help="usleep N: wait N microseconds (other work goes on)", effect=READS)
def cmd_usleep(ctx: Context, argv: list[str]) -> Any:
    usage = "usage: usleep N"
    if len(argv) < 2:
        raise UsageError(usage)
    yield ctx.interp.sleep(max(0, whole(atof(argv[1]), usage, hi=MAX_SLEEP * 10**6)) / 1e6)
    return 1


@command("set", help="set NAME = expression: assign a numeric value", effect=VARIABLES)
def cmd_set(ctx: Context, argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "=":
        raise UsageError("USAGE: set NAME = (expression)")
    text = " ".join(argv[3:])
    try:
        value = _expr.evaluate(text)
    except ExprError as e:
        raise ScriptError(f"set {quote(argv[1])}: {e}: {quote(text)}") from None
    ctx.set_var(argv[1], value)
    return 1


@command("opihi", help="opihi verbose on|off|error: echo lines as they run",
         effect=lambda argv: READS if len(argv) < 3 else WRITES)
def cmd_opihi(ctx: Context, argv: list[str]) -> int:
    if len(argv) < 2:
        raise UsageError("USAGE: opihi (verbose) [on/off/error]")
    if argv[1].lower() != "verbose":
        raise ScriptError(f"unknown mode {quote(argv[1])}")
    if len(argv) == 2:
        ctx.err(f"opihi verbose mode: {ctx.interp.verbose}\n")
        return 1
    mode = argv[2].lower()
    if mode not in ("on", "off", "error"):
        raise ScriptError(f"unknown verbose mode {quote(argv[2])}")
    ctx.interp.verbose = mode
    return 1


def _quit(ctx: Context, argv: list[str]) -> int:
    usage = f"USAGE: {argv[0]} [exit code]"
    code = whole(atof(argv[1]), usage) & 0xFF if len(argv) > 1 else 0
    handler = ctx.interp.quit_handler
    if handler is None:
        raise ScriptError(f"{argv[0]}: not available here")
    handler(ctx, code)
    # Stop this execution here: every enclosing list, macro and file.
    ctx.quitting = True
    ctx.loop_break = True
    return 1


command("quit", help="quit [code]: leave pantasks", effect=SESSION)(_quit)
command("exit", help="exit [code]: leave pantasks", effect=SESSION)(_quit)


@command("output", help="output FILE|stdout|stderr [-err] [-current V]: redirect output",
         effect=lambda argv: VARIABLES if "-current" in argv[1:] else WRITES)
def cmd_output(ctx: Context, argv: list[str]) -> int:
    usage = "USAGE: output <filename> [-err] [-current var]"
    args = list(argv)
    err = take_flag(args, "-err")
    sink = ctx.sink
    attr = "redirect_err" if err else "redirect_out"
    current = take_value(args, "-current", usage)
    if current is not None:
        f = getattr(sink, attr)
        name = getattr(f, "name", None) if f is not None else None
        ctx.set_var(current, name or ("stderr" if err else "stdout"))
        return 1
    if "-buffer" in args or "-dump" in args:
        raise ScriptError("output -buffer and -dump are not supported")
    if len(args) != 2:
        raise UsageError(usage)
    target = args[1]
    old = getattr(sink, attr)
    if old is not None:
        try:
            old.close()
        except OSError:
            pass
    if target in ("stdout", "stderr"):
        setattr(sink, attr, None)
        return 1
    try:  # never blocks on a FIFO or a device
        f = open(target, "a", encoding="utf-8", errors="replace",
                 opener=lambda path, flags: open_output(path))
    except (FileRefused, ValueError) as e:  # ValueError: a NUL in the name
        setattr(sink, attr, None)
        why = e if isinstance(e, FileRefused) else "invalid file name"
        raise ScriptError(f"cannot open {quote(target)}: {why}") from None
    setattr(sink, attr, f)
    return 1


@command("help", help="help [command]: list commands, or describe one", effect=READS)
def cmd_help(ctx: Context, argv: list[str]) -> int:
    interp = ctx.interp
    if len(argv) == 1:
        for name in interp.names():
            ctx.out(f"{name:<25s} -- {_help_of(interp, name)}\n")
        return 1
    name = argv[1]
    if name not in interp.commands and name not in interp.macros:
        raise ScriptError(f"No help for: {quote(name)} (not a command or macro; "
                          "help lists them)")
    ctx.out(help_text(interp, name) + "\n")
    return 1


def help_text(interp: Any, name: str) -> str:
    """C{help NAME}: a macro's own help, else the command's entry in the
    manual pages (L{pantasks.manual}), else its one-line summary."""
    from pantasks import manual

    if name in interp.macros:
        return f"{name} -- {_help_of(interp, name)}"
    pages = getattr(interp, "help_pages", (manual.SCRIPT_PAGE,))
    return manual.entry(name, pages) or f"{name} -- {_help_of(interp, name)}"


def _help_of(interp: Any, name: str) -> str:
    cmd = interp.commands.get(name)
    if cmd is not None:
        return cmd.help
    macro = interp.macros.get(name)
    return (macro.help or "(macro)") if macro else ""


@command("which", help="which NAME: say what NAME is", effect=READS)
def cmd_which(ctx: Context, argv: list[str]) -> int:
    if len(argv) != 2:
        raise UsageError("USAGE: which (command)")
    name = argv[1]
    interp = ctx.interp
    if name not in interp.commands and name not in interp.macros:
        raise ScriptError(f"no exact match to {quote(name)}")
    ctx.err(f"{name:<25s} -- {_help_of(interp, name)}\n")
    return 1


@command("?", help="list all commands", effect=READS)
def cmd_list_commands(ctx: Context, argv: list[str]) -> int:
    interp = ctx.interp
    for name in interp.names():
        ctx.err(f"{name:<25s} -- {_help_of(interp, name)}\n")
    return 1


@command("??", help="print every variable", effect=READS)
def cmd_list_variables(ctx: Context, argv: list[str]) -> int:
    merged = dict(ctx.interp.variables)
    merged.update(ctx.private_vars)
    for name in sorted(merged):
        ctx.err(f"{name} = {merged[name]}\n")
    return 1
