# -*- test-case-name: tests.web.test_metrics -*-
"""C{/metrics}: the scheduler in the Prometheus exposition format.

Counters and histograms are updated by the scheduler observer as jobs
start and end (O(1) per event); the few gauges that describe "now"
(running and pending jobs, sessions by role, host slots) are read when
scraped.  A site that runs Prometheus can alert on a stalled pipeline
(C{rate(pantasks_jobs_ended_total[10m]) == 0}) or a frozen server
(C{pantasks_reactor_lag_seconds}) without parsing C{status}.

Every series, and why it is there:

  - C{pantasks_jobs_started_total{task}}, C{pantasks_jobs_ended_total{task,
    outcome}} (outcome: success, failure, crash, timeout, killed);
  - C{pantasks_jobs_running} (started and not counted yet, as C{Nrun} in
    C{status}: a job that ends while the scheduler is halted is counted at
    C{run} or C{stop}), C{pantasks_jobs_pending} (counted, exit macro still
    running);
  - C{pantasks_job_duration_seconds{task}} (histogram);
  - C{pantasks_exit_macro_seconds} (histogram of exit macro run times);
  - C{pantasks_task_launch_refusals_total{reason}} (see
    L{pantasks.sched.observer.REFUSAL_REASONS});
  - C{pantasks_tasks}, C{pantasks_scheduler_state{state}};
  - C{pantasks_host_slots{host, state}} (remote hosts; empty without a
    controller);
  - C{pantasks_client_sessions{role}} (line protocol connections:
    control, watch, and C{login} for those not logged in yet);
  - C{pantasks_reactor_lag_seconds} (histogram) and
    C{pantasks_reactor_lag_max_seconds} (the worst since the last scrape);
  - the C{process_*} series of C{prometheus_client} (CPU, memory, open
    file descriptors: the scheduler holds jobs back near the fd limit).

Jobs of the C{job} command are counted under the task C{(job)}, so they
do not make a series per job.  A removed task's series are dropped.

Why the per-task families are formatted here and not by
C{prometheus_client}: with 1,000 tasks they are 16,000 lines, and
C{generate_latest} took 0.6 s (holding the reactor) to format them on
every scrape.  Here each task's lines are formatted when the task changes
and kept, so a scrape formats only what changed since the last one (and
joins the rest).  Everything else (refusals, exit macros, reactor lag,
the gauges, C{process_*}) goes through a C{prometheus_client} registry,
and the tests read the whole text with C{prometheus_client}'s parser.
"""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any, Callable, Iterable, Iterator, Optional

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from pantasks.sched import observer as obs

#: Label of the C{job} command's jobs.
ONE_OFF_TASK = "(job)"

#: Outcomes of C{pantasks_jobs_ended_total}.
OUTCOMES = ("success", "failure", "crash", "timeout", "killed")

#: Job duration buckets (seconds): pipeline jobs take from a second to hours
#: (few buckets: with 1,000 tasks each one is 1,000 more lines per scrape).
DURATION_BUCKETS = (1.0, 10.0, 60.0, 600.0, 3600.0)

#: Exit macro buckets (seconds): macros are short; a slow one holds a job.
MACRO_BUCKETS = (0.001, 0.01, 0.1, 1.0, 10.0)

#: Reactor lag buckets (seconds): 10 ms is fine, a second is a freeze.
LAG_BUCKETS = (0.005, 0.02, 0.1, 0.5, 2.0)

#: Deleted task names remembered, so that the late end of a job killed
#: by C{delete task -force} does not bring their series back.
MAX_REMOVED = 10000

#: What C{Scheduler.state} becomes in C{pantasks_scheduler_state}.
SCHEDULER_STATES = {"running": "running", "harvesting": "stopped", "stopped": "halted"}

#: The content type of the exposition format.
CONTENT_TYPE = CONTENT_TYPE_LATEST


def outcome_of(event: obs.JobEvent) -> str:
    """The C{outcome} label of a job's end."""
    if event.state == "EXIT":
        return "success" if event.exit_status == 0 else "failure"
    return event.state.lower()


class _Now(Collector):
    """The gauges read at scrape time."""

    def __init__(self, metrics: "Metrics") -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        m = self.metrics
        sched = m.scheduler
        running = m.running
        yield GaugeMetricFamily("pantasks_jobs_running",
                                "Jobs started and not counted yet (Nrun).", value=running)
        yield GaugeMetricFamily(
            "pantasks_jobs_pending",
            "Jobs counted whose exit macro still runs.",
            value=max(0, len(sched.jobs) - running))
        yield GaugeMetricFamily("pantasks_tasks", "Tasks defined.", value=len(sched.tasks))
        state = GaugeMetricFamily("pantasks_scheduler_state",
                                  "1 for the scheduler's state, 0 for the others.",
                                  labels=["state"])
        now = SCHEDULER_STATES.get(sched.state, sched.state)
        for name in ("running", "stopped", "halted"):
            state.add_metric([name], 1 if name == now else 0)
        yield state
        sessions = GaugeMetricFamily("pantasks_client_sessions",
                                     "Line protocol connections by role (login: not "
                                     "logged in yet).", labels=["role"])
        counts = Tally(m.sessions())
        for role in sorted(set(counts) | {"control", "watch", "login"}):
            sessions.add_metric([role], counts.get(role, 0))
        yield sessions
        slots = GaugeMetricFamily("pantasks_host_slots",
                                  "Job slots of remote hosts by state.",
                                  labels=["host", "state"])
        for host, slot_state, n in m.host_slots():
            slots.add_metric([host, slot_state], n)
        yield slots
        yield GaugeMetricFamily("pantasks_reactor_lag_max_seconds",
                                "The worst reactor timer lag since the last scrape.",
                                value=m.take_worst_lag())


def _label(value: str) -> str:
    """A label value escaped as the text format wants it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


_BUCKET_LABELS = [floatToGoString(b) for b in DURATION_BUCKETS] + ["+Inf"]

#: The per-task families: name, type, help.
_TASK_FAMILIES = (
    ("pantasks_jobs_started_total", "counter", "Jobs started, by task."),
    ("pantasks_jobs_ended_total", "counter", "Jobs ended, by task and outcome."),
    ("pantasks_job_duration_seconds", "histogram", "How long jobs ran, by task."),
)


class _TaskSeries:
    """One task's counters and its formatted lines (None: to format)."""

    __slots__ = ("name", "started", "ended", "buckets", "dsum", "dcount", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = 0
        self.ended: dict[str, int] = {}
        self.buckets = [0] * (len(DURATION_BUCKETS) + 1)
        self.dsum = 0.0
        self.dcount = 0
        self.text: Optional[tuple[str, str, str]] = None

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(DURATION_BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
                break
        else:
            self.buckets[-1] += 1
        self.dsum += seconds
        self.dcount += 1

    def lines(self) -> tuple[str, str, str]:
        """The task's lines of each of L{_TASK_FAMILIES}."""
        if self.text is not None:
            return self.text
        task = _label(self.name)
        started = f'pantasks_jobs_started_total{{task="{task}"}} {float(self.started)}\n'
        ended = "".join(
            f'pantasks_jobs_ended_total{{outcome="{o}",task="{task}"}} {float(n)}\n'
            for o, n in sorted(self.ended.items()))
        out = []
        total = 0
        if not self.dcount:  # no job ended yet: no histogram (half the text at start)
            self.text = (started, ended, "")
            return self.text
        for le, n in zip(_BUCKET_LABELS, self.buckets):
            total += n
            out.append(f'pantasks_job_duration_seconds_bucket{{le="{le}",task="{task}"}} '
                       f'{float(total)}\n')
        out.append(f'pantasks_job_duration_seconds_count{{task="{task}"}} {float(self.dcount)}\n')
        out.append(f'pantasks_job_duration_seconds_sum{{task="{task}"}} '
                   f'{floatToGoString(self.dsum)}\n')
        self.text = (started, ended, "".join(out))
        return self.text


class Metrics(obs.SchedulerObserver):
    """
    What C{/metrics} shows; an L{obs.ISchedulerObserver}.

    @ivar registry: a private C{CollectorRegistry} for all but the
        per-task families (not the global one, so several servers in one
        test process do not mix).
    @ivar running: jobs started and not counted yet.
    """

    def __init__(
        self,
        scheduler: Any,
        sessions: Callable[[], Iterable[str]] = tuple,
        host_slots: Callable[[], Iterable[tuple[str, str, int]]] = tuple,
        worst_lag: Callable[[], float] = lambda: 0.0,
        process: bool = True,
    ) -> None:
        """
        @param scheduler: the scheduler (its C{jobs}, C{tasks}, C{state}).
        @param sessions: the role of each client session now.
        @param host_slots: C{(host, state, count)} of remote slots now.
        @param worst_lag: the worst reactor lag since the last call.
        @param process: include the C{process_*} series.
        """
        self.scheduler = scheduler
        self.sessions = sessions
        self.host_slots = host_slots
        self.take_worst_lag = worst_lag
        self.running = 0
        self.tasks: dict[str, _TaskSeries] = {}
        #: The per-task families as sent last (None: a task changed since).
        self._task_text: Optional[bytes] = None
        self._removed: dict[str, None] = {}  # deleted task names, oldest first
        r = self.registry = CollectorRegistry()
        self.exit_macro = Histogram("pantasks_exit_macro_seconds",
                                    "How long exit macros ran.", buckets=MACRO_BUCKETS,
                                    registry=r)
        self.refusals = Counter("pantasks_task_launch_refusals",
                                "Due task launches held back, by reason.", ["reason"],
                                registry=r)
        for reason in obs.REFUSAL_REASONS:
            self.refusals.labels(reason=reason)
        self.lag = Histogram("pantasks_reactor_lag_seconds",
                             "How late the reactor ran a timer.", buckets=LAG_BUCKETS,
                             registry=r)
        r.register(_Now(self))
        if process:
            ProcessCollector(registry=r)

    def _series(self, name: str) -> _TaskSeries:
        series = self.tasks.get(name)
        if series is None:
            series = self.tasks[name] = _TaskSeries(name)
        series.text = None
        self._task_text = None
        return series

    # -- the observer ------------------------------------------------------
    def job_changed(self, event: obs.JobEvent) -> None:
        task = ONE_OFF_TASK if event.one_off else event.task
        if not event.ended:
            self.running += 1
            self._series(task).started += 1
            return
        self.running = max(0, self.running - 1)
        if task in self._removed:
            return  # killed by delete task -force: its series are gone
        series = self._series(task)
        outcome = outcome_of(event)
        series.ended[outcome] = series.ended.get(outcome, 0) + 1
        if event.duration is not None and event.state != "KILLED":
            series.observe(event.duration)

    def task_changed(self, task: Any, change: str) -> None:
        if change != obs.REMOVED:
            self._removed.pop(task.name, None)
            return
        self.tasks.pop(task.name, None)
        self._task_text = None
        self._removed[task.name] = None
        if len(self._removed) > MAX_REMOVED:
            del self._removed[next(iter(self._removed))]

    def launch_refused(self, task: Any, reason: str) -> None:
        self.refusals.labels(reason=reason).inc()

    def exit_macro_done(self, task: str, key: str, seconds: float) -> None:
        self.exit_macro.observe(max(0.0, seconds))

    # -- the reactor -------------------------------------------------------
    def reactor_lag(self, seconds: float) -> None:
        """One lag measurement (L{pantasks.web.lag.LagMonitor}'s C{on_lag})."""
        self.lag.observe(seconds)

    # -- output ------------------------------------------------------------
    def render(self) -> bytes:
        """The exposition text of every series now."""
        if self._task_text is None:
            blocks = [series.lines() for series in self.tasks.values()]
            out = []
            for i, (name, kind, text) in enumerate(_TASK_FAMILIES):
                out.append(f"# HELP {name} {text}\n# TYPE {name} {kind}\n")
                out.extend(block[i] for block in blocks)
            self._task_text = "".join(out).encode("utf-8")
        return self._task_text + generate_latest(self.registry)
