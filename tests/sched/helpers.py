# -*- test-case-name: tests.sched.test_scheduler -*-
"""A scheduler on a fake clock and a fake runner, for unit tests.

Everything runs synchronously: time moves only when a test calls
L{Harness.advance}, and jobs end only when it calls L{Harness.finish} (or
their timeout passes), so every test is exact and instant.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from twisted.internet.task import Clock

from pantasks.engine import make_engine
from pantasks.exec.fake import FakeRunner
from pantasks.lang.context import CollectingSink


class Harness:
    """An engine (interpreter + scheduler) on a C{Clock} and a L{FakeRunner}.

    @ivar clock: the C{task.Clock}.
    @ivar runner: the L{FakeRunner}.
    @ivar sink: a C{CollectingSink} taking the log and command output.
    @ivar sched: the L{pantasks.sched.scheduler.Scheduler}.
    @ivar interp: the interpreter.
    """

    def __init__(
        self,
        start: float = 0.0,
        rand: Optional[Callable[[], float]] = None,
        kill_grace: float = 0.0,
        not_found: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        """
        @param start: the clock's epoch seconds at the start.
        @param rand: the timer fuzz's random source; None for no fuzz.
        @param kill_grace: the fake runner's seconds from TERM to the end.
        @param not_found: commands the runner cannot find (SPAWNFAIL 127).
        """
        self.clock = Clock()
        self.clock.advance(start)
        self.runner = FakeRunner(self.clock, kill_grace=kill_grace, not_found=not_found)
        self.sink = CollectingSink()
        engine = make_engine(
            self.clock, log_sink=self.sink, runner=self.runner,
            jitter=rand is not None, rand=rand,
        )
        self.interp = engine.interp
        self.sched = engine.scheduler
        self.ctx = self.interp.new_context(self.sink)

    # -- scripts -----------------------------------------------------------
    def run(self, text: str, filename: str = "test.pro") -> int:
        """Run script text now; it must not wait on the clock.

        @return: its status (1 or 0).
        """
        d = self.interp.execute_text(self.ctx, text, filename)
        box: list[Any] = []
        d.addBoth(box.append)
        assert box, f"script waited on the clock: {text!r}"
        if not isinstance(box[0], int):
            box[0].raiseException()
        return box[0]

    def start(self, text: str) -> Any:
        """Run script text that may wait; return its Deferred."""
        return self.interp.execute_text(self.ctx, text, "test.pro")

    def var(self, name: str) -> Optional[str]:
        return self.interp.variables.get(name)

    def out(self) -> str:
        return self.sink.stdout()

    def err(self) -> str:
        return self.sink.stderr()

    def clear(self) -> None:
        self.sink.chunks.clear()

    # -- time and jobs ---------------------------------------------------------
    def advance(self, seconds: float, step: Optional[float] = None) -> None:
        """Move the clock by C{seconds}, in steps of C{step} if given (so
        timers fire at their own times, as on a real reactor)."""
        if step is None:
            self.clock.advance(seconds)
            return
        end = self.clock.seconds() + seconds
        while self.clock.seconds() + step < end:
            self.clock.advance(step)
        self.clock.advance(end - self.clock.seconds())

    def now(self) -> float:
        return self.clock.seconds()

    def running(self) -> list[int]:
        """Ids of the jobs the fake runner is running, oldest first."""
        return sorted(self.runner._jobs)

    def launches(self) -> list[Any]:
        """Every L{JobSpec} started, in order."""
        return self.runner.started

    def finish(self, job_id: int, status: int = 0, stdout: bytes = b"",
               stderr: bytes = b"") -> None:
        self.runner.finish(job_id, status, stdout, stderr)

    def finish_all(self, status: int = 0) -> int:
        ids = self.running()
        for job_id in ids:
            self.finish(job_id, status)
        return len(ids)

    def task(self, name: str) -> Any:
        return self.sched.tasks[name]

    def consistent(self, name: str) -> None:
        """Assert the task's counters add up with the jobs that exist."""
        task = self.task(name)
        running = len(self.sched.running_jobs(task))
        assert task.nrun == running, (task.nrun, running)
        assert task.njobs == (task.nsuccess + task.nfailure + task.ntimeout
                              + task.nkilled + running)
        assert task.npending == len([j for j in self.sched.jobs.values() if j.task is task])

    def shutdown(self) -> None:
        """Stop everything (C{stop}, C{flush jobs}); assert that no timer
        and no job is left behind."""
        self.sched.stop()
        self.sched.flush()
        self.clock.advance(0)
        self.clock.advance(self.runner.kill_grace)
        assert not self.clock.getDelayedCalls(), self.clock.getDelayedCalls()
        assert not self.sched.jobs, self.sched.jobs
