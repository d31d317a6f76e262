# -*- test-case-name: tests.sched.test_outcome -*-
"""Where a job's end becomes what scripts and people see.

One pure function, L{outcome_of}, maps a runner's L{JobResult} to
everything the scheduler derives from it: the job's final state, the text
of C{$JOB_STATUS} (and C{$EXIT}), the task counter it adds to, the timing
groups of C{status -taskstats}, and which exit macro runs.  Harvesting,
C{status}, the log, the watch lines and the web page all read it from
here, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import Optional

from pantasks.exec.result import CRASH, EXIT, KILLED, LOST, SPAWNFAIL, TIMEOUT, JobResult


@dataclass(frozen=True)
class Outcome:
    """
    What a finished job means.

    @ivar state: the job's final state: C{EXIT}, C{CRASH}, C{TIMEOUT} or
        C{KILLED} (a job that could not start ends as C{EXIT} with the
        shell's status 127 or 126, as the original's did).
    @ivar status_text: C{$JOB_STATUS}: the exit status, or C{CRASH},
        C{TIMEOUT}, C{KILLED}.
    @ivar counter: the L{pantasks.sched.model.Task} counter it adds one to.
    @ivar stats: the timing groups its run time goes into.
    @ivar macro_key: the exit macro that runs (C{task.exit KEY}), or None.
    """

    state: str
    status_text: str
    counter: str
    stats: tuple[str, ...]
    macro_key: Optional[str]


def outcome_of(result: JobResult, exit_macros: Container[str]) -> Outcome:
    """
    The L{Outcome} of C{result} for a task whose exit macros are keyed by
    C{exit_macros} (exit statuses as text, C{default}, C{crash},
    C{timeout}).

    An exit status with its own macro runs that one, any other exit runs
    C{default}; a job lost with its host that was not run again ends as a
    crash (the controller requeues it before it gets here).
    """
    state = result.state
    if state in (EXIT, SPAWNFAIL):
        text = str(result.exit_status)
        ok = result.exit_status == 0
        return Outcome(EXIT, text, "nsuccess" if ok else "nfailure",
                       ("success" if ok else "failure", "alljobs"),
                       text if text in exit_macros else "default")
    if state in (CRASH, LOST):
        return Outcome(CRASH, "CRASH", "nfailure", ("failure", "alljobs"), "crash")
    if state == TIMEOUT:
        return Outcome(TIMEOUT, "TIMEOUT", "ntimeout", (), "timeout")
    if state == KILLED:
        return Outcome(KILLED, "KILLED", "nkilled", (), None)
    raise ValueError(f"unknown job state {state!r}")
