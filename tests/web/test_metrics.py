# -*- test-case-name: tests.web.test_metrics -*-
"""C{/metrics} as Prometheus reads it: the text is parsed with
C{prometheus_client}'s own parser and the values checked against the
jobs that ran on a fake clock and a fake runner."""

from __future__ import annotations

import pytest

pytest.importorskip("prometheus_client", reason="prometheus_client missing: run make all "
                    "(setup.py needs it)")

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402

from pantasks.web.lag import LagMonitor  # noqa: E402
from pantasks.web.metrics import Metrics  # noqa: E402
from tests.sched.helpers import Harness  # noqa: E402


def parse(text: bytes) -> dict[tuple, float]:
    """Every sample as C{(name, sorted labels) -> value}."""
    samples = {}
    for family in text_string_to_metric_families(text.decode("utf-8")):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.shutdown()


@pytest.fixture
def metrics(h):
    m = Metrics(h.sched, sessions=lambda: ["control", "watch", "watch", "login"],
                host_slots=lambda: [("ipp001", "busy", 3), ("ipp001", "idle", 1)],
                worst_lag=lambda: 0.25, process=False)
    h.sched.add_observer(m)
    return m


TASKS = """
task good
  command work
  periods -exec 10 -timeout 100
  npending 5
  task.exit 0
    echo ok
  end
end
task bad
  command work
  periods -exec 10 -timeout 5
end
task stuck
  command work
  periods -exec 10 -timeout 1000
  npending 1
end
"""


def test_values_match_the_jobs_that_ran(h, metrics):
    h.run(TASKS)
    h.run("run")
    h.advance(10)
    good, bad, stuck = h.running()
    h.advance(2)
    h.finish(good, 0)
    h.runner.crash(bad)
    h.advance(8)  # t=20: good and bad launch again, stuck is refused
    good2, bad2 = h.running()[1:]
    h.finish(good2, 1)
    h.advance(5)  # t=25: bad2 times out
    h.advance(15, step=1)  # t=40; good, bad launched at 30 and 40, bad's 30 timed out
    s = parse(metrics.render())
    assert value(s, "pantasks_jobs_started_total", task="good") == 4
    assert value(s, "pantasks_jobs_started_total", task="bad") == 4
    assert value(s, "pantasks_jobs_started_total", task="stuck") == 1
    assert value(s, "pantasks_jobs_ended_total", task="good", outcome="success") == 1
    assert value(s, "pantasks_jobs_ended_total", task="good", outcome="failure") == 1
    assert value(s, "pantasks_jobs_ended_total", task="bad", outcome="crash") == 1
    assert value(s, "pantasks_jobs_ended_total", task="bad", outcome="timeout") == 2
    running = len(h.running())
    assert value(s, "pantasks_jobs_running") == running == 2 + 1 + 1
    assert value(s, "pantasks_jobs_pending") == 0
    assert value(s, "pantasks_job_duration_seconds_count", task="good") == 2
    assert value(s, "pantasks_job_duration_seconds_sum", task="good") == 2 + 0
    assert value(s, "pantasks_job_duration_seconds_bucket", task="good", le="1.0") == 1
    assert value(s, "pantasks_job_duration_seconds_bucket", task="good", le="10.0") == 2
    assert value(s, "pantasks_exit_macro_seconds_count") == 1
    assert value(s, "pantasks_task_launch_refusals_total", reason="npending") == 1  # waits
    assert value(s, "pantasks_task_launch_refusals_total", reason="nmax") == 0
    assert value(s, "pantasks_tasks") == 3
    assert value(s, "pantasks_scheduler_state", state="running") == 1
    assert value(s, "pantasks_scheduler_state", state="halted") == 0
    assert value(s, "pantasks_client_sessions", role="watch") == 2
    assert value(s, "pantasks_client_sessions", role="control") == 1
    assert value(s, "pantasks_client_sessions", role="login") == 1
    assert value(s, "pantasks_host_slots", host="ipp001", state="busy") == 3
    assert value(s, "pantasks_reactor_lag_max_seconds") == 0.25


def test_one_off_jobs_share_one_series_and_removed_tasks_are_dropped(h, metrics):
    h.run("run")
    for _ in range(3):
        h.run("job echo hi")
    h.finish_all()
    h.run(TASKS)
    h.advance(10)
    h.run("delete task good -force")
    h.advance(1)
    s = parse(metrics.render())
    assert value(s, "pantasks_jobs_started_total", task="(job)") == 3
    assert value(s, "pantasks_jobs_ended_total", task="(job)", outcome="success") == 3
    assert not [k for k in s if dict(k[1]).get("task", "").startswith("job.")]
    assert not [k for k in s if dict(k[1]).get("task") == "good"]
    assert value(s, "pantasks_jobs_started_total", task="bad") == 1


def test_halt_and_pending(h, metrics):
    h.run(TASKS.replace("echo ok", "sleep 1"))
    h.run("run")
    h.advance(10)
    h.run("halt")
    h.finish_all()
    s = parse(metrics.render())
    # As Nrun in status: a job that ended while halted is counted at run.
    assert value(s, "pantasks_scheduler_state", state="halted") == 1
    assert value(s, "pantasks_jobs_running") == 3
    h.start("run")
    s = parse(metrics.render())
    assert value(s, "pantasks_scheduler_state", state="running") == 1
    assert value(s, "pantasks_jobs_running") == 0
    assert value(s, "pantasks_jobs_pending") == 1  # in its exit macro
    h.advance(1)
    assert value(parse(metrics.render()), "pantasks_jobs_pending") == 0


def test_process_series_are_there():
    h = Harness()
    s = parse(Metrics(h.sched).render())
    assert value(s, "process_open_fds") > 0
    h.shutdown()


def test_reactor_lag_is_measured_on_the_clock():
    clock = Clock()
    seen = []
    lag = LagMonitor(clock, seen.append, interval=0.5)
    lag.start()
    clock.advance(0.5)
    clock.advance(2.0)  # the reactor was held for 1.5 s past the timer
    assert seen == [0.0, 1.5]
    assert lag.take_worst() == 1.5
    clock.advance(0.5)
    assert lag.take_worst() == 0.0
    lag.stop()
    assert not clock.getDelayedCalls()


def test_lag_reaches_the_histogram(h):
    m = Metrics(h.sched, process=False)
    m.reactor_lag(0.01)
    m.reactor_lag(1.0)
    s = parse(m.render())
    assert value(s, "pantasks_reactor_lag_seconds_count") == 2
    assert value(s, "pantasks_reactor_lag_seconds_bucket", le="0.02") == 1


def test_hostile_task_names_stay_inside_their_label():
    from types import SimpleNamespace

    from pantasks.sched.observer import JobEvent

    m = Metrics(SimpleNamespace(jobs={}, tasks={}, state="running"), process=False)
    name = 'x"} 1\nevil_total 99\n\\'
    m.job_changed(JobEvent(1, name, "BUSY", "localhost", 0.0))
    m.job_changed(JobEvent(1, name, "EXIT", "localhost", 5.0, exit_status=0, duration=5.0))
    s = parse(m.render())
    assert value(s, "pantasks_jobs_started_total", task=name) == 1
    assert value(s, "pantasks_jobs_ended_total", task=name, outcome="success") == 1
    assert value(s, "pantasks_job_duration_seconds_bucket", task=name, le="10.0") == 1
    assert not [k for k in s if k[0].startswith("evil")]
