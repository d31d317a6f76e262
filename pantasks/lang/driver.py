# -*- test-case-name: tests.lang.test_driver -*-
"""Run interpreter generators on the reactor without letting any hold it.

Script execution is written as generators: a command that must wait
(C{exec}, a backtick, C{queueload -x}, C{sleep}) yields a Deferred, and
every level above it (macro, loop, file) passes the wait up with
C{yield from}.  An L{Execution} steps the outermost generator, resuming
it when the Deferred fires.  Commands that do not wait return plain
integers, so the common path creates no generator at all.  We chose
generators over a thread per execution because they keep every piece of
state on the reactor thread: no locks, and the scheduler's counters are
never raced.

Waiting is not the only way to hold the reactor: a loop that computes
must give it back too.  Loops and lists count down C{ctx.ticks} and call
L{pantasks.lang.context.Context.checkpoint} when it runs out; that
yields L{SLICE} once the execution's time slice is spent, and the
L{Slicer} resumes runnable executions one slice per reactor turn, round
robin, so network I/O, timers and job harvests run between any two
slices.  The same checkpoint delivers cancellation (L{Interrupted}) and
enforces CPU budgets, so every execution can be stopped between two
statements.
"""

from __future__ import annotations

import time
from collections import deque
from types import GeneratorType
from typing import Any, Callable, Optional

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

#: Yielded by a checkpoint whose slice is spent: resume me later.
SLICE = object()

#: Default length of a time slice, in seconds.
DEFAULT_SLICE = 0.010

#: Lines (or loop passes) between two looks at the clock.
TICKS = 64


class Interrupted(BaseException):
    """
    Raised inside a cancelled execution, at its next checkpoint or wait.

    A C{BaseException} so that the handlers that turn a bug into one
    error line (C{except Exception}) do not swallow it; C{finally} blocks
    still restore frames, cursors and loop state on the way out.

    @ivar message: the whole user-facing line, C{interrupted: ...}.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Slicer:
    """
    The run queue of executions whose slice is spent: one slice per
    reactor turn, first come first served (round robin), so I/O and
    timers get the reactor between any two slices.

    @ivar slice: seconds an execution may run before it gives the reactor
        back.
    @ivar executions: the executions alive now (for C{sessions} and
        C{shutdown now}).
    """

    def __init__(self, reactor: Any, slice: float = DEFAULT_SLICE,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.reactor = reactor
        self.slice = slice
        self.timer = timer
        self.executions: set[Execution] = set()
        self._ready: deque[Callable[[], None]] = deque()
        self._call: Any = None

    def schedule(self, resume: Callable[[], None]) -> None:
        """Run C{resume} in a later reactor turn, after those queued before."""
        self._ready.append(resume)
        if self._call is None:
            self._call = self.reactor.callLater(0, self._run_one)

    def _run_one(self) -> None:
        self._call = None
        if not self._ready:
            return
        resume = self._ready.popleft()
        if self._ready:
            self._call = self.reactor.callLater(0, self._run_one)
        resume()

    def cancel_all(self, cause: str, keep: Optional["Execution"] = None) -> None:
        """Cancel every live execution but C{keep} (C{shutdown now})."""
        for ex in list(self.executions):
            if ex is not keep:
                ex.cancel(cause)


class Execution:
    """
    One running generator: its context, its slices, its budget, and how
    to cancel it.

    @ivar ctx: the L{pantasks.lang.context.Context} it runs in (or None).
    @ivar label: what runs, for messages (a request's first line, a task
        macro's name).
    @ivar budget: CPU seconds it may use in all (None: no limit).
    @ivar cpu: seconds it has run so far.
    @ivar result: fires with the generator's value, or fails with its
        exception (L{Interrupted} when cancelled).
    """

    def __init__(self, gen: GeneratorType, ctx: Any = None, slicer: Optional[Slicer] = None,
                 label: str = "", budget: Optional[float] = None) -> None:
        self.gen = gen
        self.ctx = ctx
        self.slicer = slicer
        self.label = label
        self.budget = budget
        self.cpu = 0.0
        self.cancelled: Optional[str] = None
        self.result: Deferred = Deferred()
        self.slice_start = 0.0
        self.slice_end = float("inf")
        self._timer = slicer.timer if slicer is not None else time.monotonic
        self._waiting: Optional[Deferred] = None
        self._running = False
        if ctx is not None:
            ctx.execution = self
            ctx.ticks = TICKS

    # -- control -------------------------------------------------------------
    def cancel(self, cause: str = "") -> None:
        """
        Stop this execution between two statements.  A wait in progress
        (a process, a timer) is cancelled at once (its canceller kills
        the process group); a running or queued execution stops at its
        next checkpoint.

        @param cause: why, added to the message (C{cancelled by alice}).
        """
        if self.result.called or self.cancelled is not None:
            return
        what = self.label or "command"
        self.cancelled = f"interrupted: {what}" + (f" ({cause})" if cause else "")
        if self.ctx is not None:
            self.ctx.ticks = 0
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting.cancel()

    def poke(self) -> None:
        """Make the next statement look at the clock, the sink and the
        cancel flag (its output went to a client that does not read)."""
        if self.ctx is not None:
            self.ctx.ticks = 0

    def over_budget(self, now: float) -> bool:
        """Whether the CPU budget is spent; cancels when it is."""
        if self.budget is None or self.cpu + (now - self.slice_start) <= self.budget:
            return False
        self.cancel(f"CPU budget of {self.budget:g} s spent")
        return True

    # -- stepping ------------------------------------------------------------
    def start(self) -> Deferred:
        """Run until the first wait or slice end; return L{result}."""
        if self.slicer is not None:
            self.slicer.executions.add(self)
        self._step(None, False)
        return self.result

    def _step(self, value: Any, is_failure: bool) -> None:
        gen = self.gen
        self._running = True
        now = self._timer()
        self.slice_start = now
        if self.slicer is not None:
            self.slice_end = now + self.slicer.slice
        try:
            while True:
                try:
                    if self.cancelled is not None and (is_failure or value is SLICE):
                        waiting = gen.throw(Interrupted(self.cancelled))
                    elif is_failure:
                        waiting = gen.throw(value.value)
                    else:
                        waiting = gen.send(value)
                except StopIteration as stop:
                    self._done()
                    self.result.callback(stop.value)
                    return
                except BaseException:
                    self._done()
                    self.result.errback(Failure())
                    return
                if waiting is SLICE:
                    self._pause()
                    assert self.slicer is not None
                    self.slicer.schedule(self._resume_slice)
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
                self._pause()
                self._waiting = waiting
                waiting.addBoth(lambda _ignored, b=box: self._resume_wait(b[0]))
                return
        finally:
            self._running = False

    def _pause(self) -> None:
        self.cpu += self._timer() - self.slice_start

    def _done(self) -> None:
        self._pause()
        if self.slicer is not None:
            self.slicer.executions.discard(self)

    def _resume_slice(self) -> None:
        self._step(SLICE, False)

    def _resume_wait(self, value: Any) -> None:
        self._waiting = None
        self._step(value, isinstance(value, Failure))


def drive(gen: Any, ctx: Any = None, label: str = "",
          budget: Optional[float] = None) -> Deferred:
    """Run C{gen} (or pass through a plain result) to completion.

    @param ctx: the execution's context: it learns its L{Execution}
        (checkpoints, cancellation) and the interpreter's slicer, if any.
    @param label: what runs, for C{interrupted: ...} messages.
    @param budget: CPU seconds the execution may use (None: no limit).
    @return: a Deferred firing with the generator's return value; it has
        already fired when nothing had to wait.  It fails with
        L{Interrupted} when the execution was cancelled and did not
        handle it.
    """
    if not isinstance(gen, GeneratorType):
        return succeed(gen)
    slicer = ctx.interp.slicer if ctx is not None else None
    return Execution(gen, ctx, slicer, label, budget).start()
