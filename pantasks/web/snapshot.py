# -*- test-case-name: tests.web.test_snapshot -*-
"""What the web pages show, kept up to date by the scheduler observer.

Each event costs O(1); a page reads what it shows (the problem tasks,
the last jobs, the minute counts) without walking every job.  Memory is
bounded: so many ended jobs in all, so many per task, output tails only
for the newest few jobs of each task.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Optional

from pantasks.sched import observer as obs

#: Minutes of history in the rate charts.
MINUTES = 60

#: Ended jobs kept per task (the task page's "last jobs").
TASK_JOBS = 20

#: Of those, how many keep their output tails.
TASK_TAILS = 3

#: Why a task is shown as not launching, in words.
REFUSAL_TEXT = {
    obs.INACTIVE: "inactive",
    obs.TRANGE: "outside its time ranges",
    obs.NMAX: "nmax reached",
    obs.NPENDING: "npending reached",
    obs.FDS: "server short of file descriptors",
    obs.EXEC_BREAK: "task.exec said break",
    obs.NO_COMMAND: "no command",
}

#: Refusals shown as problems (npending and a task.exec break are the
#: task working as written).
PROBLEM_REFUSALS = frozenset((obs.INACTIVE, obs.TRANGE, obs.NMAX, obs.FDS, obs.NO_COMMAND))


@dataclass
class JobRecord:
    """One job as the pages show it."""

    job_id: int
    task: str
    host: str
    started: float
    state: str = obs.STARTED
    ended: Optional[float] = None
    exit_status: Optional[int] = None
    duration: Optional[float] = None
    stdout: bytes = b""
    stderr: bytes = b""
    one_off: bool = False

    @property
    def outcome(self) -> str:
        """C{running}, C{success}, C{failure}, C{crash}, C{timeout}, C{killed}."""
        if self.state == obs.STARTED:
            return "running"
        if self.state == "EXIT":
            return "success" if self.exit_status == 0 else "failure"
        return self.state.lower()

    @property
    def status_text(self) -> str:
        """The exit status, or the state (C{CRASH}, C{TIMEOUT}...)."""
        if self.state == "EXIT":
            return str(self.exit_status)
        return self.state


class MinuteCounts:
    """Successes and failures per minute over the last L{MINUTES}."""

    def __init__(self) -> None:
        self._minutes: deque[list[int]] = deque()  # [minute, good, bad], oldest first

    def add(self, when: float, good: bool) -> None:
        minute = int(when // 60)
        if not self._minutes or self._minutes[-1][0] < minute:
            self._minutes.append([minute, 0, 0])
            while self._minutes[0][0] <= minute - MINUTES:
                self._minutes.popleft()
        # (The newest minute; later than C{minute} if the clock went back.)
        self._minutes[-1][1 if good else 2] += 1

    def series(self, now: float) -> list[tuple[int, int, int]]:
        """C{(minutes ago, good, bad)} for each of the last L{MINUTES}
        minutes, the oldest first (59 ... 0)."""
        minute = int(now // 60)
        counts = {m: (g, b) for m, g, b in self._minutes}
        return [(ago, *counts.get(minute - ago, (0, 0))) for ago in range(MINUTES - 1, -1, -1)]

    def totals(self, now: float) -> tuple[int, int]:
        """Successes and failures over the last hour."""
        first = int(now // 60) - MINUTES + 1
        good = bad = 0
        for m, g, b in self._minutes:
            if m >= first:
                good += g
                bad += b
        return good, bad


class TaskRecord:
    """What the pages know about one task beyond its L{Task} object."""

    __slots__ = ("name", "jobs", "rates", "refusal", "problem")

    def __init__(self, name: str) -> None:
        self.name = name
        self.jobs: deque[JobRecord] = deque(maxlen=TASK_JOBS)
        self.rates = MinuteCounts()
        #: The last refusal: (reason, when), until a job starts.
        self.refusal: Optional[tuple[str, float]] = None
        #: Why the task needs a look (None: it does not).
        self.problem: Optional[str] = None


class Snapshot(obs.SchedulerObserver):
    """
    The pages' view of the scheduler; an L{obs.ISchedulerObserver}.

    @ivar scheduler: read for task definitions and counters (by name).
    @ivar running: job id to L{JobRecord} of the jobs not counted yet.
    @ivar recent: ended jobs, the newest last.
    @ivar tasks: task name to L{TaskRecord}.
    @ivar rates: successes and failures per minute, all tasks.
    @ivar version: bumped at every change (live updates send it).
    @ivar watchers: called (no argument) after every change; must be cheap.
    """

    def __init__(self, scheduler: Any, recent: int = 500) -> None:
        self.scheduler = scheduler
        self.running: dict[int, JobRecord] = {}
        self.recent: deque[JobRecord] = deque(maxlen=recent)
        self.tasks: dict[str, TaskRecord] = {}
        self.rates = MinuteCounts()
        self.version = 0
        self.watchers: list[Callable[[], None]] = []
        for task in scheduler.tasks.values():
            self.tasks[task.name] = TaskRecord(task.name)

    def _changed(self) -> None:
        self.version += 1
        for watcher in self.watchers:
            watcher()

    def _task(self, name: str) -> TaskRecord:
        record = self.tasks.get(name)
        if record is None:
            record = self.tasks[name] = TaskRecord(name)
        return record

    # -- the observer ------------------------------------------------------
    def job_changed(self, event: obs.JobEvent) -> None:
        if not event.ended:
            self.running[event.job_id] = JobRecord(
                event.job_id, event.task, event.host, event.time, one_off=event.one_off)
            if not event.one_off:
                record = self._task(event.task)
                record.refusal = None
                if record.problem is not None and record.problem.startswith("not launching"):
                    record.problem = None
            self._changed()
            return
        job = self.running.pop(event.job_id, None)
        if job is None:
            job = JobRecord(event.job_id, event.task, event.host,
                            event.time - (event.duration or 0.0), one_off=event.one_off)
        job.state = event.state
        job.host = event.host
        job.ended = event.time
        job.exit_status = event.exit_status
        job.duration = event.duration
        job.stdout = event.stdout
        job.stderr = event.stderr
        self.recent.append(job)
        if event.state != "KILLED":
            self.rates.add(event.time, event.succeeded)
        if not event.one_off and (event.task in self.tasks or
                                  event.task in self.scheduler.tasks):
            record = self._task(event.task)
            if len(record.jobs) >= TASK_TAILS:
                older = record.jobs[-TASK_TAILS]
                older.stdout = older.stderr = b""
            record.jobs.append(job)
            if event.state != "KILLED":
                record.rates.add(event.time, event.succeeded)
            if event.succeeded:
                if record.problem is not None and not record.problem.startswith("not launching"):
                    record.problem = None
            elif event.state == "TIMEOUT":
                record.problem = "timing out"
            elif event.state == "CRASH":
                record.problem = "crashing"
            elif event.state == "EXIT":
                record.problem = f"failing (exit {event.exit_status})"
        self._changed()

    def task_changed(self, task: Any, change: str) -> None:
        if change == obs.REMOVED:
            self.tasks.pop(task.name, None)
        else:
            record = self._task(task.name)
            if change == obs.CHANGED:
                record.refusal = None
                record.problem = None
        self._changed()

    def launch_refused(self, task: Any, reason: str) -> None:
        record = self._task(task.name)
        now = self.scheduler.reactor.seconds()
        same = record.refusal is not None and record.refusal[0] == reason
        record.refusal = (reason, record.refusal[1] if same else now)
        if reason in PROBLEM_REFUSALS and (record.problem is None
                                           or record.problem.startswith("not launching")):
            record.problem = f"not launching: {REFUSAL_TEXT[reason]}"
        if not same:
            self._changed()

    def scheduler_changed(self, state: str) -> None:
        self._changed()

    # -- reading -------------------------------------------------------------
    def problems(self) -> list[TaskRecord]:
        """The tasks that need a look: failing first, then timing out,
        crashing, not launching; by name within each."""
        order = {"f": 0, "t": 1, "c": 2, "n": 3}
        found = [r for r in self.tasks.values() if r.problem is not None]
        found.sort(key=lambda r: (order.get(r.problem[0], 4), r.name))  # type: ignore[index]
        return found

    def jobs_of(self, name: str) -> list[JobRecord]:
        """The task's last ended jobs, the newest first."""
        record = self.tasks.get(name)
        return list(reversed(record.jobs)) if record is not None else []
