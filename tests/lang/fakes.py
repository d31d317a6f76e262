"""A fake interpreter and helpers for the tests that call language
commands directly with argv lists (file, string, data and list commands)."""

from __future__ import annotations

from types import GeneratorType
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from pantasks.lang.books import BookStore
from pantasks.lang.context import Context
from pantasks.lang.driver import drive
from pantasks.lang.errors import ScriptError
from pantasks.lang.policy import DEFAULT_MAX_VALUE, Limits
from pantasks.lang.queues import Queue
from pantasks.lang.registry import LANGUAGE


class FakeInterp:
    """Just the interpreter state the commands touch: variables, queues,
    books, a scripted shell and the C{list} block reader.

    @param shell_result: what C{shell_capture} answers for a command that
        has no entry in C{replies}.
    """

    def __init__(self, shell_result: tuple[int, str] = (0, "")) -> None:
        self.variables: dict[str, str] = {}
        self.queues: dict[str, Queue] = {}
        self.books = BookStore()
        self.shell_result = shell_result
        self.replies: dict[str, tuple[int, str]] = {}
        self.commands: list[str] = []
        self.blocks: list[list[str]] = []
        self.block_result: Any = 1
        self.max_value = DEFAULT_MAX_VALUE
        self.max_line = Limits().max_line

    def shell_capture(self, cmd: str, err: Any = None) -> Deferred:
        self.commands.append(cmd)
        return succeed(self.replies.get(cmd, self.shell_result))

    def read_list_block(self, ctx: Context, argv: list[str]) -> Any:
        self.blocks.append(list(argv))
        return self.block_result


def run(ctx: Context, *argv: str) -> int:
    """Call the command named by argv[0] as the dispatcher would: a
    ScriptError becomes one error line and status 0."""
    func = LANGUAGE.commands[argv[0]].func
    try:
        result = func(ctx, list(argv))
        if isinstance(result, GeneratorType):
            # a generator command that does not wait (or waits on Deferreds
            # that have fired): run it through the real driver
            box: list = []
            drive(result).addBoth(box.append)
            assert box, f"{argv[0]} is still waiting"
            result = box[0]
            if isinstance(result, Failure):
                result.raiseException()
        return result
    except ScriptError as e:
        ctx.error(str(e))
        return 0


def out(ctx: Context) -> str:
    return ctx.sink.stdout()


def err(ctx: Context) -> str:
    return ctx.sink.stderr()


def one_error(ctx: Context, text: str) -> None:
    """Exactly one line on stderr, nothing on stdout."""
    assert err(ctx) == text + "\n"
    assert out(ctx) == ""
