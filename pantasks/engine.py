# -*- test-case-name: tests.sched.test_scheduler -*-
"""The engine every front end shares: interpreter, scheduler, job runner.

The standalone shell, the server and the tests all build it the same
way, so a script behaves identically whichever program runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from pantasks.lang.context import OutputSink


@dataclass
class Engine:
    """The parts wired together; see L{make_engine}."""

    interp: Any
    scheduler: Any
    runner: Any
    containment: Any = None


def make_engine(
    reactor: Any,
    log_sink: Optional[OutputSink] = None,
    runner: Any = None,
    jitter: bool = True,
    rand: Any = None,
    max_output_bytes: int = 16 * 2**20,
    kill_grace: float = 5.0,
    slicer: Any = None,
    containment: Any = None,
) -> Engine:
    """Build an interpreter with the scheduler's commands and a runner.

    @param reactor: IReactorTime + IReactorProcess (a Clock in unit tests).
    @param log_sink: where task macros and scheduler messages write.
    @param runner: an IJobRunner; by default a local process pool.
    @param jitter: False for exact exec periods (the original's +-25%
        fuzz off); tests use it.
    @param rand: the fuzz's source of uniform numbers in [0, 1).
    @param max_output_bytes: per job and stream, the output kept in
        memory for the exit macro (the rest goes only to the task's file).
    @param kill_grace: seconds between SIGTERM and SIGKILL when a job is
        killed or times out.
    @param slicer: a L{pantasks.lang.driver.Slicer} giving executions
        time slices on C{reactor}; None runs each to its end (unit tests
        on a fake clock).
    @param containment: the L{pantasks.exec.contain.Containment} of the
        local runner (the server's is a subreaper); None: the runner's
        own, tag-based only.
    """
    from pantasks.lang.interp import Interpreter
    from pantasks.sched.commands import SCHEDULER
    from pantasks.sched.scheduler import Scheduler

    interp = Interpreter(reactor=reactor, tables=[SCHEDULER], log_sink=log_sink, slicer=slicer)
    if runner is None:
        from pantasks.exec.local import LocalRunner

        runner = LocalRunner(reactor, max_output_bytes=max_output_bytes, kill_grace=kill_grace,
                             containment=containment)
    scheduler = Scheduler(interp, runner, reactor, rand=rand, jitter=jitter)
    interp.services.scheduler = scheduler
    return Engine(interp, scheduler, runner, containment)

