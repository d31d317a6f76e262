# -*- test-case-name: tests.sched.test_observer -*-
"""The scheduler observer: every event an observer is promised, in order,
on a fake clock; a failing observer never stops the scheduler; the
existing listeners (the server's C{J} lines) still hear job ends."""

from __future__ import annotations

import pytest
from zope.interface.verify import verifyObject

from pantasks.sched import observer as obs
from tests.sched.helpers import Harness


class Recorder(obs.SchedulerObserver):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def job_changed(self, event):
        self.events.append(("job", event))

    def task_changed(self, task, change):
        self.events.append(("task", task.name, change))

    def launch_refused(self, task, reason):
        self.events.append(("refused", task.name, reason))

    def exit_macro_done(self, task, key, seconds):
        self.events.append(("macro", task, key, seconds))

    def scheduler_changed(self, state):
        self.events.append(("state", state))

    def jobs(self):
        return [e[1] for e in self.events if e[0] == "job"]

    def of(self, kind):
        return [e[1:] for e in self.events if e[0] == kind]


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.shutdown()


@pytest.fixture
def rec(h):
    r = Recorder()
    h.sched.add_observer(r)
    return r


TASK = """
task t
  command work
  periods -exec 10 -timeout 100
end
"""


def test_base_class_provides_the_interface():
    assert verifyObject(obs.ISchedulerObserver, obs.SchedulerObserver())


def test_refuses_what_is_not_an_observer(h):
    with pytest.raises(TypeError):
        h.sched.add_observer(object())


def test_job_start_and_end_with_status_host_duration_and_output(h, rec):
    h.run(TASK)
    h.run("run")
    h.advance(10)
    [job_id] = h.running()
    h.advance(3)
    h.finish(job_id, 3, stdout=b"x" * 5000 + b"last words\n", stderr=b"oops\n")
    start, end = rec.jobs()
    assert (start.job_id, start.task, start.state, start.host) == (job_id, "t", "BUSY", "localhost")
    assert not start.ended and start.time == 10
    assert (end.job_id, end.state, end.exit_status, end.duration) == (job_id, "EXIT", 3, 3)
    assert end.ended and not end.succeeded and end.time == 13
    assert end.stdout.endswith(b"last words\n") and len(end.stdout) == obs.TAIL_BYTES
    assert end.stderr == b"oops\n"
    assert not end.one_off


def test_crash_timeout_and_kill_are_ends_too(h, rec):
    h.run("""
task t
  command work
  periods -exec 10 -timeout 5
  npending 3
end
""")
    h.run("run")
    h.advance(10)
    a = h.running()[-1]
    h.runner.crash(a)
    h.advance(10)
    b = h.running()[-1]
    h.advance(5)  # timeout
    h.advance(5)
    c = h.running()[-1]
    h.run(f"kill {c}")
    h.advance(1)
    ends = {e.job_id: e.state for e in rec.jobs() if e.ended}
    assert ends == {a: "CRASH", b: "TIMEOUT", c: "KILLED"}
    # Each job: exactly one start and one end.
    for job_id in (a, b, c):
        assert [e.ended for e in rec.jobs() if e.job_id == job_id] == [False, True]


def test_one_off_jobs_are_marked(h, rec):
    h.run("run")
    h.run("job echo hi")
    [job_id] = h.running()
    h.finish(job_id)
    assert [e.one_off for e in rec.jobs()] == [True, True]


def test_task_added_changed_removed(h, rec):
    h.run(TASK)
    h.run(TASK)
    h.run("status -taskstatsreset t")
    h.run("delete task t")
    assert rec.of("task") == [("t", "added"), ("t", "changed"), ("t", "changed"),
                              ("t", "removed")]


@pytest.mark.parametrize("definition, reason", [
    ("active false", "inactive"),
    ("nmax 1", "nmax"),
    ("npending 1", "npending"),
])
def test_launch_refusals_name_their_reason(h, rec, definition, reason):
    h.run(f"""
task t
  command work
  periods -exec 10 -timeout 1000
  {definition}
end
""")
    h.run("run")
    h.advance(35, step=1)
    assert ("t", reason) in rec.of("refused")
    assert {r for _t, r in rec.of("refused")} == {reason}


def test_exec_break_is_a_refusal(h, rec):
    h.run("""
task t
  command work
  periods -exec 10
  task.exec
    break
  end
end
""")
    h.run("run")
    h.advance(25, step=1)
    assert rec.of("refused") and set(rec.of("refused")) == {("t", "exec")}


def test_exit_macro_time(h, rec):
    h.run("""
task t
  command work
  periods -exec 10 -timeout 1000
  task.exit 0
    echo done
  end
end
""")
    h.run("run")
    h.advance(10)
    h.finish(h.running()[0])
    assert rec.of("macro") == [("t", "0", 0.0)]


def test_scheduler_states(h, rec):
    h.run("run")
    h.run("run")
    h.run("halt")
    h.run("stop")
    assert rec.of("state") == [("running",), ("stopped",), ("harvesting",)]


def test_a_failing_observer_does_not_stop_the_scheduler_and_listeners_still_hear(h, rec):
    class Broken(obs.SchedulerObserver):
        def job_changed(self, event):
            raise RuntimeError("observer bug")

    heard = []
    h.sched.listeners.append(lambda job, state, text, host: heard.append((job.job_id, state, text)))
    h.sched.add_observer(Broken())
    h.run(TASK)
    h.run("run")
    h.advance(10)
    [job_id] = h.running()
    h.finish(job_id, 0)
    assert heard == [(job_id, "EXIT", "0")]
    assert [e.state for e in rec.jobs()] == ["BUSY", "EXIT"]
    assert h.task("t").nsuccess == 1
    h.consistent("t")


def test_remove_observer(h, rec):
    h.sched.remove_observer(rec)
    h.sched.remove_observer(rec)  # twice is fine
    h.run(TASK)
    assert rec.events == []
