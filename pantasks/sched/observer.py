# -*- test-case-name: tests.sched.test_observer -*-
"""What the scheduler tells anyone watching it: L{ISchedulerObserver}.

The web page, the metrics and later the server log need the same facts
(a job started or ended, a task came or went, a due launch was held
back and why); they subscribe with L{Scheduler.add_observer
<pantasks.sched.scheduler.Scheduler.add_observer>} instead of walking the
scheduler's tables on every request or patching it from outside.

Observers are called synchronously from the scheduler, on the reactor:
each call must be cheap (O(1)) and must not call back into the scheduler.
A failing observer is logged and never stops the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from zope.interface import Interface, implementer

#: L{JobEvent.state} of a job handed to its runner.
STARTED = "BUSY"

#: Why a task that was due did not launch (L{ISchedulerObserver.launch_refused}).
INACTIVE = "inactive"  # the task is not active
TRANGE = "trange"  # outside its time ranges
NMAX = "nmax"  # its job cap (nmax) is reached
NPENDING = "npending"  # as many jobs running as npending allows
FDS = "fds"  # the server is short of file descriptors
EXEC_BREAK = "exec"  # its task.exec macro said break (or failed)
NO_COMMAND = "nocommand"  # it has no command to run

REFUSAL_REASONS = (INACTIVE, TRANGE, NMAX, NPENDING, FDS, EXEC_BREAK, NO_COMMAND)

#: L{ISchedulerObserver.task_changed} changes.
ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"

#: Bytes of a job's stdout and stderr carried by its end event.
TAIL_BYTES = 2048


@dataclass(frozen=True)
class JobEvent:
    """
    A job changed state.

    @ivar job_id: the job's number.
    @ivar task: the task's name.
    @ivar state: L{STARTED} (C{BUSY}), or how it ended: C{EXIT}, C{CRASH},
        C{TIMEOUT} or C{KILLED}.
    @ivar host: where it runs or ran (C{localhost} for local jobs).
    @ivar time: when (epoch seconds, the scheduler's clock).
    @ivar exit_status: the exit code for C{EXIT}, else None.
    @ivar duration: seconds it ran, for an end; None for a start.
    @ivar stdout: the last L{TAIL_BYTES} of its stdout (ends only).
    @ivar stderr: the same for stderr.
    @ivar one_off: True for a job of the C{job} command (its task is not
        in the task list; its name is C{job.N}).
    """

    job_id: int
    task: str
    state: str
    host: str
    time: float
    exit_status: Optional[int] = None
    duration: Optional[float] = None
    stdout: bytes = b""
    stderr: bytes = b""
    one_off: bool = False

    @property
    def ended(self) -> bool:
        """True when this is a job's end, not its start."""
        return self.state != STARTED

    @property
    def succeeded(self) -> bool:
        """True for an end with exit status 0."""
        return self.state == "EXIT" and self.exit_status == 0


class ISchedulerObserver(Interface):
    """Told what the scheduler does; see the module docstring."""

    def job_changed(event: JobEvent) -> None:
        """A job started or ended (L{JobEvent}).  Every job started is
        reported ended exactly once (a kill included), before its exit
        macro runs."""

    def task_changed(task: Any, change: str) -> None:
        """A task was L{ADDED}, L{CHANGED} (redefined, statistics reset)
        or L{REMOVED}; C{task} is the L{pantasks.sched.model.Task}."""

    def launch_refused(task: Any, reason: str) -> None:
        """A task was due but did not launch, for one of
        L{REFUSAL_REASONS}."""

    def exit_macro_done(task: str, key: str, seconds: float) -> None:
        """The exit macro C{key} (an exit code, C{default}, C{crash},
        C{timeout}) of a job of C{task} took C{seconds}."""

    def scheduler_changed(state: str) -> None:
        """The scheduler's state became C{running}, C{harvesting} (after
        C{stop}) or C{stopped} (C{halt})."""


@implementer(ISchedulerObserver)
class SchedulerObserver:
    """An observer that ignores everything: subclass it and override
    what you need."""

    def job_changed(self, event: JobEvent) -> None:
        pass

    def task_changed(self, task: Any, change: str) -> None:
        pass

    def launch_refused(self, task: Any, reason: str) -> None:
        pass

    def exit_macro_done(self, task: str, key: str, seconds: float) -> None:
        pass

    def scheduler_changed(self, state: str) -> None:
        pass
