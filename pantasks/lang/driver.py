# -*- test-case-name: tests.lang.test_interp -*-
"""Run interpreter generators on the reactor without blocking it.

Script execution is written as generators: a command that must wait
(C{exec}, a backtick, C{queueload -x}, C{sleep}) yields a Deferred, and
every level above it (macro, loop, file) passes the wait up with
C{yield from}.  L{drive} steps the outermost generator, resuming it when
the Deferred fires.  Commands that do not wait return plain integers, so
the common path creates no generator at all.  We chose generators over a
thread per execution because they keep every piece of state on the
reactor thread: no locks, and the scheduler's counters are never raced.
"""

from __future__ import annotations

from types import GeneratorType
from typing import Any, Generator

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

Step = Generator[Deferred, Any, int]


def drive(gen: Any) -> Deferred:
    """Run C{gen} (or pass through a plain result) to completion.

    @return: a Deferred firing with the generator's return value; it has
        already fired when nothing had to wait.
    """
    if not isinstance(gen, GeneratorType):
        return succeed(gen)
    result: Deferred = Deferred()
    _step(gen, result, None, False)
    return result


def _step(gen: GeneratorType, result: Deferred, value: Any, is_failure: bool) -> None:
    while True:
        try:
            if is_failure:
                waiting = gen.throw(value.value)  # type: ignore[union-attr]
            else:
                waiting = gen.send(value)
        except StopIteration as stop:
            result.callback(stop.value)
            return
        except BaseException:
            result.errback(Failure())
            return
        if not isinstance(waiting, Deferred):
            value, is_failure = waiting, False
            continue
        box: list = []
        waiting.addBoth(box.append)
        if box:
            value = box[0]
            is_failure = isinstance(value, Failure)
            continue

        def resume(v: Any) -> None:
            _step(gen, result, v, isinstance(v, Failure))

        # Replace the recording callback's effect: resume when it fires.
        waiting.addBoth(lambda _ignored, b=box: resume(b[0]))
        return
