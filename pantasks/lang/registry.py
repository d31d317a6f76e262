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
from typing import Any, Callable


@dataclass
class Command:
    """One built-in command.

    @ivar readonly: True when the command changes no server state; a
        C{watch} client may run only these.
    @ivar block: True when the command reads a block of following lines
        (C{macro}, C{task}, C{for}...), so the server answers C{MORE}.
    @ivar generator: True when C{func} is a generator function.
    """

    name: str
    func: Callable[..., Any]
    help: str = ""
    readonly: Any = True
    generator: bool = field(default=False)

    def __post_init__(self) -> None:
        self.generator = inspect.isgeneratorfunction(self.func)

    def is_readonly(self, argv: list[str]) -> bool:
        """Whether this call changes nothing; C{readonly} may be a function
        of argv for commands whose sub-commands differ (C{book list} reads,
        C{book setword} writes)."""
        if callable(self.readonly):
            return bool(self.readonly(argv))
        return bool(self.readonly)


class CommandTable:
    """An ordered set of commands; the first registration of a name wins."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def command(
        self, name: str, help: str = "", *, readonly: Any = True
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering C{func} under C{name}."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add(Command(name, func, help, readonly))
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
