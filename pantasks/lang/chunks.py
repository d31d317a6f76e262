# -*- test-case-name: tests.lang.test_chunks -*-
"""Built-ins that walk large data do it in chunks that respect the slice.

C{ipptool2book} of 100,000 pages, C{queueload} of a large text or
C{list -split} of many words would hold the reactor for seconds if done
in one go.  They are written as generators: they work through L{CHUNK}
items, then C{yield from ctx.checkpoint()}, which gives the reactor back
when the execution's time slice is spent (and raises when the execution
was cancelled), so other clients, timers and jobs are served meanwhile.

Such a command never leaves anything half-made: it builds its result
aside, or undoes what it did, when it fails or is cancelled.
"""

from __future__ import annotations

from typing import Any, Generator, Iterator, TypeVar

#: How many items (lines, pages, words) a built-in handles between two
#: checkpoints: small enough to stay well inside a slice, large enough
#: that the checkpoints cost nothing measurable.
CHUNK = 500

T = TypeVar("T")


def run_steps(ctx: Any, steps: Generator[None, None, T]) -> Generator[Any, Any, T]:
    """Drive C{steps}, a pure-data generator that yields (None) after each
    chunk of work, calling the context's checkpoint at each of its yields.

    If the checkpoint raises (the execution was cancelled), the exception
    is thrown into C{steps} so that it can undo its work.

    @return: (as the generator's value) what C{steps} returns.
    """
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
        try:
            yield from ctx.checkpoint()
        except BaseException as e:
            try:
                steps.throw(e)
            except StopIteration:
                pass
            raise


def finish(steps: Generator[None, None, T]) -> T:
    """Run C{steps} to its end without giving the reactor back (for
    callers outside an execution, and tests)."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def chunked(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    """C{items} in slices of C{size}."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
