# -*- test-case-name: tests.sched.test_model -*-
"""Tasks and jobs as data: what a task is, what a job copies from it.

The scheduler (L{pantasks.sched.scheduler}) decides when tasks run; the
renderers (L{pantasks.sched.render}) print them; this module only holds
their state, so all three can be tested apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

#: Exit macro selectors that are not exit codes.
SPECIAL_EXITS = ("default", "crash", "timeout")


@dataclass
class Stats:
    """Timing statistics of one group of jobs (all, successes, failures).

    C{tmin} is None until a sample exists (printed C{NONE}); a reset
    goes back to None, fixing the original's Tmin stuck at 0.
    """

    n: int = 0
    tmin: Optional[float] = None
    tsum: float = 0.0
    tmax: float = 0.0

    def add(self, dtime: float) -> None:
        self.n += 1
        self.tsum += dtime
        self.tmin = dtime if self.tmin is None else min(self.tmin, dtime)
        self.tmax = max(self.tmax, dtime)

    @property
    def tave(self) -> float:
        return self.tsum / self.n if self.n else 0.0

    def reset(self) -> None:
        self.n, self.tmin, self.tsum, self.tmax = 0, None, 0.0, 0.0


@dataclass
class TimeRange:
    """One C{trange} window (see L{pantasks.sched.timerange}).

    @ivar kind: C{"DAY"}, C{"WEEK"} or C{"ABS"}.
    @ivar start: seconds into the day / week (Sunday 00:00 UTC = 0), or
        epoch seconds for ABS.
    @ivar nmax: per-window job cap (0 = none); C{nrun} counts jobs
        submitted in the current window.
    @ivar exclude: an "avoid" window.
    """

    kind: str
    start: float
    stop: float
    nmax: int = 0
    exclude: bool = False
    nrun: int = 0


@dataclass
class Task:
    """A periodic rule that may launch a job (see pantasks-script(7)).

    Counters follow the original: C{njobs} submitted, C{nsuccess},
    C{nfailure} (non-zero exit or crash), C{ntimeout}, C{nkilled} (ours:
    killed or flushed, so C{nrun} stays right), C{nskipexec}.
    """

    name: str
    argv: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    host: Optional[str] = None  # None = local, "anyhost", or a host name
    host_required: bool = False
    exec_period: float = 1.0
    poll_period: float = 1.0
    timeout_period: float = 1.0
    npending_max: int = 0
    nmax: int = 0
    active: bool = True
    nice: int = 0
    ranges: list[TimeRange] = field(default_factory=list)
    stdout_path: Optional[str] = None
    stderr_path: Optional[str] = None
    exec_macro: Optional[list] = None  # list of (line, Origin)
    exit_macros: dict[str, list] = field(default_factory=dict)
    # counters
    njobs: int = 0
    nsuccess: int = 0
    nfailure: int = 0
    ntimeout: int = 0
    nkilled: int = 0
    nskipexec: int = 0
    npending: int = 0
    stats: dict[str, Stats] = field(
        default_factory=lambda: {"alljobs": Stats(), "success": Stats(), "failure": Stats()}
    )
    last: Optional[float] = None  # start of the current exec period
    timer: Any = None
    #: True while its C{task.exec} runs (it may wait, e.g. on C{exec}).
    in_exec: bool = False
    #: The last spawn failure reported for this task (repeats are not
    #: logged again until a job of the task starts).
    spawn_error: Optional[str] = None
    #: True while launches are held back for lack of file descriptors.
    fd_blocked: bool = False
    #: True for the task of a C{job} command (not in the task list).
    one_off: bool = False

    @property
    def dynamic(self) -> bool:
        """True when C{task.exec} sets the command (listed as C{(dynamic)})."""
        if not self.exec_macro:
            return False
        return any(line.split(None, 1)[0] == "command" for line, _o in self.exec_macro)

    @property
    def nrun(self) -> int:
        """Jobs submitted and not yet finished."""
        return self.njobs - self.nsuccess - self.nfailure - self.ntimeout - self.nkilled

    def command_label(self) -> str:
        if self.dynamic or not self.argv:
            return "(dynamic)"
        return self.argv[0]


@dataclass
class Job:
    """One launch of a task: what it copied from the task at creation."""

    job_id: int
    task: Task
    argv: list[str]
    options: list[str]
    nice: int = 0
    host: Optional[str] = None
    host_required: bool = False
    stdout_path: Optional[str] = None
    stderr_path: Optional[str] = None
    state: str = "PENDING"  # PENDING BUSY EXIT CRASH TIMEOUT KILLED
    started: float = 0.0
    hostname: str = "localhost"
    #: The runner's result once it arrived; while the scheduler is halted
    #: it waits here until C{run} or C{stop}.
    result: Any = None
    #: True once the job has been counted (success, failure, timeout or
    #: kill); its exit macro may still be running.
    harvested: bool = False
    #: True when the job is local (it holds file descriptors here).
    local: bool = True
