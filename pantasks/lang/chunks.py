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

import gc
from typing import Any, Generator, Iterator, TypeVar

#: How many items (lines, pages, words) a built-in handles between two
#: checkpoints: small enough to stay well inside a slice, large enough
#: that the checkpoints cost nothing measurable.
CHUNK = 500

#: After a load that made this many long-lived objects (book pages), they
#: are moved out of the garbage collector's way (L{settle}).
SETTLE_OBJECTS = 10000

T = TypeVar("T")


def settle(count: int) -> None:
    """A load made (or is about to make) C{count} long-lived objects: when
    they are many, freeze what exists now (C{gc.freeze}), so that the
    collector's full passes, whose pause grows with everything they walk
    (a 100,000-page book made them hold the reactor for 100 ms and more),
    no longer walk them.

    Frozen objects are still freed by reference counting when dropped
    (pages and books hold no reference cycles: see L{pantasks.lang.books});
    only a reference cycle among objects that existed at a freeze is never
    collected, which is why this is kept for loads of thousands of pages
    (a reload of a large book), not done for every job's output."""
    if count >= SETTLE_OBJECTS:
        gc.freeze()


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
