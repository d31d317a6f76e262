# -*- test-case-name: tests.lang.test_dispatch -*-
"""The table of built-in commands.

Each built-in is a function C{f(ctx, argv)} registered with L{command}.
C{argv[0]} is the full command name (after prefix abbreviation was
resolved).  The function returns 1 (success) or 0 (failure), or raises a
L{pantasks.lang.errors.ScriptError} whose message becomes one error line.

A command that must wait (for a process, a timer) is written as a
generator function: it yields Deferreds, receives their results, and
returns its status.  The interpreter drives it without blocking the
reactor.

Modules under L{pantasks.lang.commands} (and later layers, such as the
scheduler) register their commands at import time into a L{CommandTable};
an interpreter copies the tables it wants, in order, so the first
registration of a name wins as in the original.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


#: What a command call may change, as it declares it (see L{Command.effect}).
#: It changes nothing anyone else can see: it prints, or reads shared state.
READS = "reads"
#: It changes variables only, and only through L{Context.set_var}, so the
#: variable rule of the caller's policy applies (C{sprintf}, C{strsub}...).
VARIABLES = "variables"
#: It changes only the caller's own connection (C{watch on}, C{quit}).
SESSION = "session"
#: It changes shared state: tasks, jobs, macros, books, queues, files on
#: disk, the working directory, the scheduler, the controller, output
#: redirection, the log, interpreter modes.
WRITES = "writes"
#: It starts programs on the server host (C{exec}, C{list -x}...).
RUNS = "runs"
#: It reads the contents of files on the server host (C{input}, C{list -file}).
FILES = "files"

#: Every effect a command may declare.
EFFECTS = frozenset((READS, VARIABLES, SESSION, WRITES, RUNS, FILES))


@dataclass
class Command:
    """One built-in command.

    @ivar effect: what a call may change: one of L{EFFECTS}, or a function
        of argv giving one for commands whose sub-commands or options
        differ (C{book list} reads, C{book setword} writes), or None when
        the command declares nothing.  The execution's policy
        (L{pantasks.lang.policy}) decides from it; a command that declares
        nothing is refused to every restricted caller (default deny).
    @ivar generator: True when C{func} is a generator function.
    """

    name: str
    func: Callable[..., Any]
    help: str = ""
    effect: Any = None
    generator: bool = field(default=False)

    def __post_init__(self) -> None:
        self.generator = inspect.isgeneratorfunction(self.func)

    def effect_of(self, argv: list[str]) -> Optional[str]:
        """What this call (C{argv}, C{argv[0]} the command's name) may
        change: one of L{EFFECTS}, or None when undeclared."""
        effect = self.effect
        if callable(effect):
            effect = effect(argv)
        return effect if effect in EFFECTS else None


class CommandTable:
    """An ordered set of commands; the first registration of a name wins."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def command(
        self, name: str, help: str = "", *, effect: Any = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering C{func} under C{name}; C{effect} is its
        declaration (see L{Command.effect})."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add(Command(name, func, help, effect))
            return func

        return register

    def add(self, cmd: Command) -> None:
        self.commands.setdefault(cmd.name, cmd)

    def update(self, other: "CommandTable") -> None:
        for cmd in other.commands.values():
            self.add(cmd)


#: Built-ins of the language itself (basic, strings, lists, queues, books).
LANGUAGE = CommandTable()
command = LANGUAGE.command


@dataclass
class Macro:
    """A user-defined command: raw body lines, run on each call."""

    name: str
    body: list[Any]
    help: str = ""
