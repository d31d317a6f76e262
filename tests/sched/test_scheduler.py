# -*- test-case-name: tests.sched.test_scheduler -*-
"""The scheduler's rules, on a fake clock and a fake runner.

When a task may launch (exec period and its fuzz, npending, nmax, time
ranges), how a job is harvested (exit-macro selection, timeouts, the
variables and queues an exit macro sees) and how counters stay consistent
through C{kill}, C{flush jobs}, C{delete} and stats resets.  Every test
ends with no timer left on the clock.
"""

from __future__ import annotations

import calendar
import random
import signal

import pytest

from tests.sched.helpers import Harness

#: 2024-01-01 00:00:00 UTC, a Monday.
MONDAY = calendar.timegm((2024, 1, 1, 0, 0, 0))
#: 2024-01-07 00:00:00 UTC, a Sunday.
SUNDAY = calendar.timegm((2024, 1, 7, 0, 0, 0))

SIMPLE = """
task t
  command work
  periods -exec 10 -poll 1 -timeout 1000
end
"""


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.shutdown()


def launch_times(h: Harness, seconds: float, finish: bool = True) -> list[float]:
    """Advance the clock from timer to timer for C{seconds}; return the
    clock time of every launch (jobs end at once if C{finish})."""
    times = []
    end = h.now() + seconds
    seen = len(h.launches())
    while True:
        calls = [c.getTime() for c in h.clock.getDelayedCalls()]
        nxt = min(calls) if calls else None
        if nxt is None or nxt > end:
            h.clock.advance(end - h.now())
            break
        h.clock.advance(max(0.0, nxt - h.now()))
        if h.now() < nxt:  # float rounding: land exactly on the call
            h.clock.rightNow = nxt
            h.clock.advance(0)
        while len(h.launches()) > seen:
            times.append(h.now())
            seen += 1
        if finish:
            h.finish_all()
    return times


# -- exec period and fuzz --------------------------------------------------
def test_nothing_runs_before_run(h):
    h.run(SIMPLE)
    h.advance(100)
    assert h.launches() == []
    assert h.sched.state == "stopped"


def test_exec_period_without_jitter(h):
    h.run(SIMPLE)
    h.run("run")
    times = launch_times(h, 55)
    assert times == [10.0, 20.0, 30.0, 40.0, 50.0]
    h.consistent("t")


@pytest.mark.parametrize("value, first, interval", [
    (0.0, 10.0, 7.5),            # fuzz at its lowest: -25%
    (1.0 - 1e-12, 20.0, 12.5),   # at its highest: +25%
])
def test_jitter_extremes(value, first, interval):
    h = Harness(rand=lambda: value)
    h.run(SIMPLE)
    h.run("run")
    times = launch_times(h, 60)
    assert times[0] == pytest.approx(first)
    for a, b in zip(times, times[1:]):
        assert b - a == pytest.approx(interval)
    h.shutdown()


def test_jitter_bounds_random():
    rng = random.Random(4)
    h = Harness(rand=rng.random)
    h.run(SIMPLE)
    h.run("run")
    times = launch_times(h, 3000)
    assert 10 <= times[0] < 20
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) > 200
    assert all(7.5 <= g < 12.5 for g in gaps)
    assert sum(gaps) / len(gaps) == pytest.approx(10, rel=0.05)
    assert min(gaps) < 8 and max(gaps) > 12  # the fuzz is really there
    h.shutdown()


def test_exec_zero_fills_npending_at_once(h):
    h.run("task t\n command work\n periods -exec 0 -timeout 0\n npending 3\nend\nrun")
    h.clock.advance(0)
    assert len(h.running()) == 3
    h.clock.advance(0)
    assert len(h.launches()) == 3
    h.finish(2)
    h.clock.advance(0)
    assert h.running() == [1, 3, 4]


def test_stop_cancels_timers_and_keeps_harvesting(h):
    h.run(SIMPLE + "task t\n task.exit 0\n  $done ++\n end\nend")
    h.run("run")
    h.advance(10)
    assert h.running() == [1]
    h.run("stop")
    # Only the runner's timeout of job 1 is left on the clock.
    assert len(h.clock.getDelayedCalls()) == 1
    h.finish(1)
    assert h.var("done") == "1"
    h.advance(100)
    assert len(h.launches()) == 1


def test_halt_holds_results_until_run(h):
    h.run(SIMPLE + "task t\n task.exit 0\n  $done ++\n end\nend")
    h.run("run")
    h.advance(10)
    h.run("halt")
    h.finish(1)
    assert h.var("done") is None
    assert h.task("t").nrun == 1
    h.run("run")
    assert h.var("done") == "1"
    h.consistent("t")


# -- npending and nmax -----------------------------------------------------
def test_npending_caps_concurrency(h):
    h.run(SIMPLE.replace("-exec 10", "-exec 1") + "task t\n npending 3\nend")
    h.run("run")
    launch_times(h, 20, finish=False)
    assert len(h.running()) == 3
    assert h.task("t").npending == 3
    # One ends: the next starts at once (its period has long passed).
    h.finish(h.running()[0])
    h.clock.advance(0)
    assert len(h.running()) == 3
    assert len(h.launches()) == 4
    h.consistent("t")


def test_nmax_caps_total_and_reset_reenables(h):
    h.run(SIMPLE.replace("-exec 10", "-exec 1") + "task t\n nmax 4\nend")
    h.run("run")
    launch_times(h, 50)
    assert len(h.launches()) == 4
    assert h.task("t").njobs == 4
    h.run("status -taskstatsreset")
    launch_times(h, 50)
    assert len(h.launches()) == 8
    h.consistent("t")


def test_npending_and_nmax_reject_bad_numbers(h):
    h.run("task t\n command x\n npending abc\n nmax -3\nend")
    assert "USAGE: npending (N)" in h.err()
    assert "nmax must not be negative" in h.err()
    assert h.task("t").npending_max == 0 and h.task("t").nmax == 0


# -- time ranges -----------------------------------------------------------
def _hms(t: float) -> int:
    return int(t) % 86400


def test_trange_include_window():
    h = Harness(start=MONDAY)
    h.run(SIMPLE.replace("-exec 10", "-exec 60") + "task t\n trange 01:00 02:00\nend")
    h.run("run")
    times = launch_times(h, 3 * 3600)
    assert times and all(3600 <= _hms(t) <= 7200 for t in times)
    assert len(times) == 61  # 01:00:00, 01:01:00 ... 02:00:00 (inclusive)
    h.shutdown()


def test_trange_exclude_window():
    h = Harness(start=MONDAY)
    h.run(SIMPLE.replace("-exec 10", "-exec 60") + "task t\n trange 01:00 02:00 -exclude\nend")
    h.run("run")
    times = launch_times(h, 3 * 3600)
    assert not [t for t in times if 3600 <= _hms(t) <= 7200]
    assert [t for t in times if _hms(t) < 3600]
    assert [t for t in times if _hms(t) > 7200]
    h.shutdown()


def test_trange_nmax_per_window_over_two_days():
    h = Harness(start=MONDAY)
    h.run(SIMPLE.replace("-exec 10", "-exec 60") + "task t\n trange 01:00 02:00 -nmax 2\nend")
    h.run("run")
    times = launch_times(h, 2 * 86400)
    assert [t - MONDAY for t in times] == [3600, 3660, 86400 + 3600, 86400 + 3660]
    h.run("status -v")
    assert "     active : 01:00:00 - 02:00:00 (0 of 2)" in h.out()
    h.shutdown()


def test_trange_nmax_window_counts_in_status():
    h = Harness(start=MONDAY + 3600)
    h.run(SIMPLE.replace("-exec 10", "-exec 60") + "task t\n trange 01:00 02:00 -nmax 5\nend")
    h.run("run")
    launch_times(h, 200)
    h.run("status -v")
    assert "(3 of 5)" in h.out()
    h.shutdown()


def test_trange_week_range():
    h = Harness(start=SUNDAY)
    h.run(SIMPLE.replace("-exec 10", "-exec 3600") + "task t\n trange Mon Wed\nend")
    h.run("run")
    times = launch_times(h, 7 * 86400)
    days = {calendar.weekday(*__import__("time").gmtime(t)[:3]) for t in times}
    assert days == {0, 1, 2}  # Monday, Tuesday and Wednesday 00:00:00 only
    wednesday = [t for t in times if calendar.weekday(*__import__("time").gmtime(t)[:3]) == 2]
    assert [_hms(t) for t in wednesday] == [0]
    assert len(times) == 49
    h.shutdown()


def test_trange_week_with_times_and_exclude():
    h = Harness(start=SUNDAY)
    h.run(SIMPLE.replace("-exec 10", "-exec 3600")
          + "task t\n trange Mon@06:00 Fri@18:00\n trange Wed Thu -exclude\nend")
    h.run("run")
    times = launch_times(h, 7 * 86400)
    import time as _time
    for t in times:
        tm = _time.gmtime(t)
        wday = (tm.tm_wday + 1) % 7  # Sunday = 0
        sec = wday * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec
        assert 86400 + 6 * 3600 <= sec <= 5 * 86400 + 18 * 3600
        assert not (3 * 86400 <= sec <= 4 * 86400)
    assert times
    h.shutdown()


def test_trange_reset_and_bad_times(h):
    h.run("task t\n command x\n trange 01:00 02:00\n trange 25:00 26:00\nend")
    assert len(h.task("t").ranges) == 1
    assert "25:00" in h.err()
    h.clear()
    h.run("task t\n trange -reset\nend")
    assert h.task("t").ranges == []
    h.run("task t\n trange 22:00 02:00\nend")
    assert "never matches" in h.err()


def test_trange_recheck_is_cheap():
    """Outside its window a task wakes only at range boundaries."""
    h = Harness(start=MONDAY)
    h.run(SIMPLE.replace("-exec 10", "-exec 1") + "task t\n trange 23:00 23:30\nend")
    h.run("run")
    fired = []
    real = h.sched._check
    h.sched._check = lambda task: (fired.append(h.now()), real(task))
    h.advance(22 * 3600, step=600)
    assert len(fired) < 22 * 60 + 10
    h.sched._check = real
    h.shutdown()


# -- timeouts --------------------------------------------------------------
TIMEOUT_TASK = """
task slow
  command ignore-term
  periods -exec 100 -timeout 3
  task.exit timeout
    queuesize stdout -var lines
    echo timeout $JOB_STATUS $JOB_ID lines $lines
  end
  task.exit default
    echo default $JOB_STATUS
  end
end
"""


def test_timeout_kills_job_ignoring_sigterm():
    # The fake job "ignores SIGTERM": it ends only kill_grace (5 s) after
    # the timeout, when the runner's SIGKILL would have come.
    h = Harness(kill_grace=5)
    h.run(TIMEOUT_TASK)
    h.run("run")
    h.advance(100)
    assert h.running() == [1]
    h.runner.output(1, stdout=b"one\ntwo\n")
    h.advance(2.9)
    assert h.running() == [1]
    h.advance(0.1)  # timeout: TERM sent, ignored
    assert h.running() == [1]
    assert h.task("slow").ntimeout == 0
    h.advance(4.9)
    assert h.running() == [1]
    h.advance(0.1)  # the kill grace is over: the job is gone
    assert h.running() == []
    task = h.task("slow")
    assert (task.ntimeout, task.nfailure, task.nsuccess, task.nrun) == (1, 0, 0, 0)
    assert "timeout TIMEOUT 1 lines 2" in h.out()
    assert "default" not in h.out()
    h.consistent("slow")
    h.shutdown()


def test_no_timeout_when_period_is_zero(h):
    h.run(TIMEOUT_TASK.replace("-timeout 3", "-timeout 0").replace("-exec 100", "-exec 1e6"))
    h.run("run")
    h.advance(1e6)
    h.advance(10000)
    assert h.running() == [1]
    assert h.task("slow").ntimeout == 0


# -- exit macro selection ----------------------------------------------------
EXITS = """
task t
  command work
  periods -exec 1 -timeout 1000
  task.exit 0
    echo zero $JOB_STATUS
  end
  task.exit 3
    echo three $JOB_STATUS
  end
  task.exit default
    echo default $JOB_STATUS
  end
  task.exit crash
    echo crash $JOB_STATUS
  end
  task.exit timeout
    echo timeout $JOB_STATUS
  end
end
"""


@pytest.mark.parametrize("how, expected", [
    (("exit", 0), "zero 0"),
    (("exit", 3), "three 3"),
    (("exit", 5), "default 5"),
    (("exit", 255), "default 255"),
    (("crash", signal.SIGSEGV), "crash CRASH"),
])
def test_exit_macro_selection(h, how, expected):
    h.run(EXITS)
    h.run("run")
    h.advance(1)
    h.clear()
    if how[0] == "exit":
        h.finish(1, how[1])
    else:
        h.runner.crash(1, how[1])
    assert h.out().strip() == expected
    h.run("halt")


def test_crash_does_not_fall_back_to_default(h):
    h.run("task t\n command w\n periods -exec 1\n task.exit default\n echo default\n end\nend")
    h.run("run")
    h.advance(1)
    h.runner.crash(1)
    assert "default" not in h.out()
    assert h.task("t").nfailure == 1


def test_word_exit_status_acts_as_zero(h):
    h.run("task t\n command w\n periods -exec 1\n task.exit success\n echo s $JOB_STATUS\n end\n"
          "end")
    assert "0" in h.task("t").exit_macros
    h.run("run")
    h.advance(1)
    h.finish(1, 0)
    assert "s 0" in h.out()


def test_missing_command_is_failed_job_127(h):
    h2 = Harness(not_found={"nosuchcommand"})
    h2.run("task t\n command nosuchcommand a b\n periods -exec 1\n"
           " task.exit default\n  queuepop stderr -var why\n  echo default $JOB_STATUS $why\n end\n"
           "end\nrun")
    h2.advance(3, step=1)
    out = h2.out()
    assert "default 127 pantasks: cannot run 'nosuchcommand': No such file or directory" in out
    task = h2.task("t")
    assert task.nfailure == 3 and task.nrun == 0
    # Logged once, not once per attempt.
    assert h2.err().count("failed to start") == 1
    assert "exit status 127" in h2.err()
    h2.shutdown()


def test_exit_variables(h):
    h.run("task t\n command work -x \"two words\"\n options o1 o2\n periods -exec 1 -timeout 9\n"
          " task.exit 0\n  echo $JOB_ID|$JOB_STATUS|$EXIT|$JOB_HOSTNAME|$JOB_DTIME\n"
          "  echo $taskarg:n|$taskarg:0|$taskarg:2|$options:n|$options:1\n end\nend\nrun")
    h.advance(1)
    h.advance(2.5)
    h.finish(1)
    lines = h.out().splitlines()
    assert lines[0] == "1|0|0|localhost|2.500000"
    assert lines[1] == "3|work|two words|2|o2"
    # Nothing leaks into the globals.
    assert h.var("JOB_STATUS") is None and h.var("options:0") is None


def test_two_jobs_exit_macros_see_only_their_own(h):
    # Both macros wait (sleep) while the other runs; each must keep its
    # own stdout queue, $options:0, $JOB_STATUS and $JOB_ID throughout.
    h.run("""
$i = 0
task t
  command work
  periods -exec 1 -timeout 1000
  npending 2
  task.exec
    $i ++
    options opt$i
  end
  task.exit 0
    queuepop stdout -var first
    echo job $JOB_ID before $first opt $options:0
    sleep 5
    queuesize stdout -var n
    queuepop stdout -var second
    echo job $JOB_ID after $second n $n opt $options:0 status $JOB_STATUS
  end
  task.exit 1
    queuepop stdout -var first
    echo job $JOB_ID before $first opt $options:0
    sleep 2
    queuepop stdout -var second
    echo job $JOB_ID after $second opt $options:0 status $JOB_STATUS
  end
end
run
""")
    h.advance(2, step=1)
    assert h.running() == [1, 2]
    h.advance(0.5)
    h.finish(1, 0, stdout=b"a1\na2\n")
    h.advance(0.5)
    h.finish(2, 1, stdout=b"b1\nb2\nb3\n")
    h.advance(5)
    assert h.out().splitlines() == [
        "job 1 before a1 opt opt1",
        "job 2 before b1 opt opt2",
        "job 2 after b2 opt opt2 status 1",
        "job 1 after a2 n 1 opt opt1 status 0",
    ]
    # The global queue of that name was never touched.
    assert h.interp.queues.get("stdout") is None or len(h.interp.queues["stdout"]) == 0
    h.run("stop")
    h.consistent("t")


def test_failing_exit_macro_is_reported_and_scheduler_goes_on(h):
    h.run("task bad\n command w\n periods -exec 1\n task.exit 0\n  nosuchcmd\n  echo never\n end\n"
          "end\ntask good\n command w\n periods -exec 1\n task.exit 0\n  $good ++\n end\nend\nrun")
    for _ in range(3):
        h.advance(1)
        h.finish_all()
    assert "never" not in h.out()
    assert "nosuchcmd: Command not found." in h.err()
    assert "task bad: exit macro (0) of job 1 stopped at an error" in h.err()
    assert h.var("good") == "3"
    assert h.task("bad").nsuccess == 3
    h.consistent("bad")


def test_break_in_exit_macro_is_quiet(h):
    h.run("task t\n command w\n periods -exec 1\n task.exit 0\n  break\n end\nend\nrun")
    h.advance(1)
    h.finish(1)
    assert "stopped" not in h.err()


# -- task.exec ---------------------------------------------------------------
def test_exec_break_counts_nskip(h):
    h.run("$n = 0\ntask t\n command w\n periods -exec 1\n task.exec\n  $n ++\n"
          "  if ($n % 2 == 0) break\n end\nend\nrun")
    launch_times(h, 10.5)
    task = h.task("t")
    assert h.var("n") == "10"
    assert task.nskipexec == 5 and task.njobs == 5
    h.run("status -v")
    assert "     Nskip exec: 5" in h.out()


def test_exec_error_counts_nskip_too(h):
    h.run("task t\n command w\n periods -exec 1\n task.exec\n  nosuchcmd\n end\nend\nrun")
    launch_times(h, 3.5)
    assert h.task("t").nskipexec == 3 and h.launches() == []


def test_dynamic_command_set_per_exec(h):
    h.run("$k = 0\ntask dyn\n periods -exec 1\n task.exec\n  $k ++\n  command echo $k : line\n"
          " end\nend")
    assert h.task("dyn").dynamic
    h.run("status")
    assert "(dynamic)" in h.out()
    h.run("run")
    launch_times(h, 3.5)
    assert [s.argv for s in h.launches()] == [["echo", str(k), ":", "line"] for k in (1, 2, 3)]


def test_exec_that_waits_blocks_only_its_task(h):
    h.run("task slow\n command w\n periods -exec 1\n task.exec\n  sleep 10\n end\nend\n"
          "task fast\n command w\n periods -exec 1\nend\nrun")
    launch_times(h, 5.5)
    names = [h.sched.jobs[s.job_id].task.name if s.job_id in h.sched.jobs else "?"
             for s in h.launches()]
    assert len(h.launches()) == 5 and "slow" not in names
    launch_times(h, 6)
    assert h.task("slow").njobs == 1
    h.run("stop")
    h.advance(10)


def test_task_without_command_is_discarded(h):
    assert h.run("task nocmd\n periods -exec 1\nend") == 0
    assert "task nocmd: task command not defined" in h.err()
    assert "nocmd" not in h.sched.tasks


def test_redefinition_keeps_counters_and_moves_to_end(h):
    h.run(SIMPLE.replace("-exec 10", "-exec 1") + "task u\n command v\nend\nrun")
    launch_times(h, 3.5)
    before = h.task("t").njobs
    h.run("task t\n active false\nend")
    assert list(h.sched.tasks) == ["u", "t"]
    assert h.task("t").njobs == before
    n = len(h.launches())
    launch_times(h, 5)
    assert all(h.sched.jobs.get(s.job_id) is None for s in h.launches()[n:])
    assert h.task("t").njobs == before
    h.run("task t\n active true\nend")
    launch_times(h, 2)
    assert h.task("t").njobs > before


def test_uppercase_keywords(h):
    h.run("task t\n COMMAND work\n PERIODS -exec 2\n NPENDING 4\nend")
    t = h.task("t")
    assert (t.argv, t.exec_period, t.npending_max) == (["work"], 2.0, 4)


def test_bad_definition_lines_are_reported(h):
    h.run("task t\n command w\n periods -exec abc\n nice 99\n active maybe\nend")
    err = h.err()
    assert "periods: exec must be a number of seconds, not 'abc'" in err
    assert "nice (nicelevel) -- nicelevel must be an integer 0 to 20" in err
    assert "ERROR: invalid option: maybe" in err
    t = h.task("t")
    assert (t.exec_period, t.nice, t.active) == (1.0, 0, True)
    # The scheduler is not wedged (the original deadlocked on a bad nice).
    h.run("task t\n nice 5\nend\nrun")
    assert h.task("t").nice == 5
    h.advance(2)
    assert h.launches()[0].nice == 5


# -- kill, delete, flush: counters stay consistent ---------------------------
KILLABLE = """
task t
  command work
  periods -exec 1 -timeout 1000
  npending 3
  task.exit 0
    $ok ++
  end
  task.exit default
    $other ++
  end
end
run
"""


def test_kill_counts_and_runs_no_macro(h):
    h.run(KILLABLE)
    h.advance(3, step=1)
    assert h.running() == [1, 2, 3]
    h.run("kill 2")
    assert "job removed" in h.out()
    h.run("halt")
    h.clock.advance(0)
    t = h.task("t")
    assert (t.njobs, t.nkilled, t.nrun, t.npending) == (3, 1, 2, 2)
    assert h.var("ok") is None and h.var("other") is None
    h.consistent("t")
    h.finish(1)
    h.finish(3)
    h.run("stop")
    assert h.var("ok") == "2" and t.nrun == 0
    h.consistent("t")


def test_kill_unknown_job(h):
    h.run("kill 42")
    assert h.out() == "job not found\n"
    assert h.run("kill") == 0
    assert "USAGE: kill (JobID)" in h.err()


def test_delete_job(h):
    h.run(KILLABLE)
    h.advance(1)
    h.run("delete job 1")
    assert "job removed" in h.out()
    h.run("stop")
    h.clock.advance(0)
    assert h.task("t").nkilled == 1 and h.task("t").nrun == 0
    h.consistent("t")
    assert h.run("delete job") == 0
    assert "USAGE: delete job (JobID)" in h.err()


def test_delete_is_the_scheduler_command():
    h = Harness()
    assert h.interp.resolve("delete").func.__module__ == "pantasks.sched.commands"
    h.shutdown()


def test_flush_jobs(h):
    h.run(KILLABLE)
    h.advance(3, step=1)
    h.run("flush jobs")
    h.run("stop")
    h.clock.advance(0)
    t = h.task("t")
    assert (t.njobs, t.nkilled, t.nrun, t.npending) == (3, 3, 0, 0)
    assert h.sched.jobs == {}
    h.consistent("t")
    h.run("status")
    assert "  ++ t      0      3      0     0     0 work\n" in h.out()
    assert h.run("flush") == 0 and "USAGE: flush jobs" in h.err()


def test_flush_with_slow_kill_keeps_counts_until_end():
    h = Harness(kill_grace=5)
    h.run(KILLABLE)
    h.advance(3, step=1)
    h.run("flush jobs")
    h.run("stop")
    t = h.task("t")
    assert t.nrun == 3 and t.nkilled == 0  # still dying
    h.run("status")
    assert "KILLED" in h.out()
    h.advance(5)
    assert t.nrun == 0 and t.nkilled == 3
    h.consistent("t")
    h.shutdown()


def test_kill_while_halted_counts_once(h):
    h.run(KILLABLE)
    h.advance(1)
    h.run("halt")
    h.finish(1)  # held: not harvested while halted
    h.run("kill 1")
    h.run("run")
    t = h.task("t")
    assert (t.nkilled, t.nsuccess, t.nrun) == (1, 0, 0)
    assert h.var("ok") is None
    h.run("halt")
    h.consistent("t")


def test_kill_during_exit_macro(h):
    h.run("task t\n command w\n periods -exec 1\n task.exit 0\n  sleep 5\n  $done ++\n end\nend\n"
          "run")
    h.advance(1)
    h.finish(1)
    h.run("stop")
    h.run("kill 1")
    assert "exit macro is running" in h.out()
    h.advance(5)
    t = h.task("t")
    assert (t.nsuccess, t.nkilled, t.nrun) == (1, 0, 0) and h.var("done") == "1"


def test_kill_spawnfailed_job_counts_once():
    h = Harness(not_found={"nope"})
    job = h.sched.one_off(["nope"])
    assert h.sched.kill(job.job_id) == "killed"  # its result is still on its way
    h.clock.advance(0)
    t = job.task
    assert (t.njobs, t.nkilled, t.nfailure, t.nrun) == (1, 1, 0, 0)
    assert h.sched.jobs == {}
    h.shutdown()


def test_delete_task(h):
    h.run(KILLABLE)
    h.advance(2, step=1)
    assert h.run("delete task t") == 0
    assert "task t has 2 running jobs: not deleted" in h.err()
    assert "t" in h.sched.tasks
    assert h.run("delete task nosuch") == 0
    assert "task nosuch not found" in h.err()
    assert h.run("delete task t -force") == 1
    assert "t" not in h.sched.tasks
    h.clock.advance(0)
    assert h.sched.jobs == {}
    h.advance(10)
    assert len(h.launches()) == 2
    assert h.run("delete task") == 0 and "USAGE: delete task" in h.err()
    assert h.run("delete") == 0


def test_delete_idle_task(h):
    h.run(SIMPLE + "run")
    assert h.run("delete task t") == 1
    assert h.sched.tasks == {}
    h.advance(100)
    assert h.launches() == []


def test_stats_reset_keeps_running_jobs_counted(h):
    h.run(KILLABLE)
    h.advance(3, step=1)
    h.finish(1)
    h.run("status -taskstatsreset")
    t = h.task("t")
    assert (t.njobs, t.nsuccess, t.nrun) == (2, 0, 2)
    h.consistent("t")


def test_tmin_reset_shows_none_then_new_minimum(h):
    h.run("task t\n command w\n periods -exec 10 -timeout 1000\nend\nrun")
    h.advance(10)
    h.advance(3)
    h.finish(1)
    h.run("status -taskstats")
    assert "|     1   3.00   3.00   3.00 |" in h.out()
    h.run("status -taskstatsreset t")
    h.clear()
    h.run("status -taskstats")
    assert "|     0   NONE   0.00   0.00 |" in h.out()
    h.advance(7)
    h.advance(5)
    h.finish(2)
    h.clear()
    h.run("status -taskstats")
    assert "|     1   5.00   5.00   5.00 |" in h.out()  # not stuck at 0


def test_counters_consistent_under_random_operations():
    rng = random.Random(7)
    h = Harness(kill_grace=2, rand=rng.random)
    h.run("task a\n command w\n periods -exec 0.5 -timeout 4\n npending 5\n"
          " task.exit 0\n  sleep 1\n end\nend\n"
          "task b\n command w\n periods -exec 0.3 -timeout 3\n nmax 40\nend\nrun")
    for step in range(400):
        h.advance(0.1)
        running = h.running()
        op = rng.random()
        if running and op < 0.3:
            h.finish(rng.choice(running), rng.choice([0, 0, 1, 2]))
        elif running and op < 0.35:
            h.runner.crash(rng.choice(running))
        elif op < 0.37:
            h.run(f"kill {rng.randint(1, len(h.launches()) + 1)}")
        elif op < 0.38:
            h.run("flush jobs")
        elif op < 0.39:
            h.run("status -taskstatsreset")
        elif op < 0.40:
            h.run(rng.choice(["halt", "stop", "run"]))
        for name in ("a", "b"):
            h.consistent(name)
    h.run("run")
    h.advance(20, step=0.5)
    h.shutdown()
    for name in ("a", "b"):
        h.consistent(name)
        assert h.task(name).nrun == 0


# -- file descriptors ----------------------------------------------------------
class _Limits:
    """A stand-in for the C{resource} module with a small fd limit."""

    RLIMIT_NOFILE = 7
    RLIM_INFINITY = -1

    def __init__(self, soft: int) -> None:
        self.soft = soft

    def getrlimit(self, which: int) -> tuple[int, int]:
        return self.soft, self.soft


def test_fd_pressure_holds_back_the_greedy_task(h, monkeypatch):
    from pantasks.sched import scheduler as mod

    used = {"n": 20}
    monkeypatch.setattr(mod, "resource", _Limits(400))
    monkeypatch.setattr(mod, "_open_fds", lambda: used["n"] + 4 * h.sched._local_running)
    h.run("task greedy\n command sleep\n periods -exec 0.01 -timeout 0\n npending 2000\nend\n"
          "task other\n command true\n periods -exec 1 -timeout 0\nend\nrun")
    h.advance(10, step=0.01)
    greedy = h.task("greedy")
    assert 60 <= greedy.npending <= 80
    assert "task greedy: not launching: " in h.err()
    assert h.err().count("task greedy: not launching") == 1
    # The other task still gets its jobs.
    for _ in range(5):
        h.advance(1)
        for job_id in h.running():
            if h.sched.jobs[job_id].task.name == "other":
                h.finish(job_id)
    assert h.task("other").nsuccess >= 5
    h.run("flush jobs")
    h.clock.advance(0)
    h.advance(1.5, step=0.01)
    assert "task greedy: launching again" in h.err()


# -- verbose, version, status ------------------------------------------------
def test_verbose_toggle(h):
    h.run("verbose")
    assert h.out() == "verbose mode OFF\n"
    h.run("verbose toggle\nverbose")
    assert h.out().endswith("verbose mode ON\n")
    h.run("verbose toggle\nverbose")
    assert h.out().endswith("verbose mode OFF\n")
    h.run("verbose threads\nverbose")
    assert h.out().endswith("verbose mode ON\n")
    h.run("verbose off")
    assert h.sched.verbose == 0
    assert h.run("verbose loud") == 0
    assert "USAGE: verbose (on/off/threads/toggle)" in h.err()


def test_verbose_messages(h):
    h.run("verbose on\n" + SIMPLE.replace("-exec 10", "-exec 1") + "run")
    h.advance(1)
    h.finish(1)
    h.advance(1)
    h.runner.crash(2)
    out = h.out()
    assert "job t (1) start: work" in out
    assert "job t (1) exit" in out
    assert "job t (2) crash" in out


def test_version(h):
    h.run("version")
    assert h.out().startswith("\npantasks version: ")


def test_status_layout(h):
    h.run(SIMPLE + "run")
    h.advance(10)
    h.run("status")
    text = h.out()
    assert text.startswith("\n Scheduler is running\n Controller is stopped\n\n Task Status\n")
    assert "  AV Name   Nrun  Njobs  Ngood Nfail Ntime Command\n" in text
    assert "  ++ t      1      1      0     0     0 work\n" in text
    assert " Jobs in Pantasks Queue\n" in text
    assert "    0         1: t                               BUSY                 work\n" in text
    h.clear()
    h.run("stop\nstatus -tasks")
    assert h.out().startswith("\n Task Status\n")
    assert h.run("status -bogus") == 0
    assert "USAGE: status" in h.err()


def test_showtask(h):
    h.run(EXITS)
    h.run("showtask t")
    assert "\n macro t\n" in h.out()
    assert "  echo zero $JOB_STATUS\n" in h.err()
    assert h.run("showtask nosuch") == 0 and "task nosuch not found" in h.err()
