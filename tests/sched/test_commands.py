# -*- test-case-name: tests.sched.test_commands -*-
"""The scheduler's commands: what they accept, refuse and print.

Output formats follow the original (usage lines, C{job removed},
C{verbose mode ON}...); the listings themselves are tested in
C{test_render}.  Each test ends with no timer left on the clock.
"""

from __future__ import annotations

import calendar

import pytest

from pantasks.sched.model import TimeRange
from pantasks.sched.scheduler import RANGE_RECHECK_MAX, next_range_change
from tests.sched.helpers import Harness


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.shutdown()


def test_task_usage(h):
    assert h.run("task a b\n command x\nend") == 0
    assert "USAGE: task -list\nUSAGE: task -longlist\n" in h.err()
    assert "  (enter commands & task functions; end with the word 'END')" in h.err()
    assert h.sched.tasks == {}


def test_missing_end(h):
    h.run("task t\n command x")
    assert "missing 'END' in task definition t" in h.err()
    assert "t" in h.sched.tasks


def test_keywords_outside_a_task(h):
    for line in ("command x", "options a", "host local", "periods -exec 1", "stdout f",
                 "npending 3", "nmax 3", "active true", "nice 3", "trange 01:00 02:00"):
        h.clear()
        assert h.run(line) == 0, line
        assert "ERROR: not defining or running a task" in h.err(), line


def test_runtime_keywords_in_task_exec(h):
    h.run("task t\n command x\n periods -exec 1 -timeout 50\n task.exec\n"
          "  options o$n\n  host anyhost\n  periods -exec 2\n  stdout out.txt\n"
          "  command y $n\n end\nend\n$n = 7\nrun")
    h.advance(1)
    spec = h.launches()[0]
    assert (spec.argv, spec.host, spec.stdout_path) == (["y", "7"], "anyhost", "out.txt")
    t = h.task("t")
    assert (t.options, t.exec_period) == (["o7"], 2.0)


def test_definition_only_keywords_refused_at_run_time(h):
    h.run("task t\n command x\n periods -exec 1\n task.exec\n  npending 2\n end\nend\nrun")
    h.advance(1)
    assert "ERROR: not defining or running a task" in h.err()
    assert h.task("t").nskipexec == 1


def test_host_forms(h):
    h.run("task t\n command x\n host LOCAL\nend")
    assert h.task("t").host is None
    h.run("task t\n host anyhost\nend")
    assert h.task("t").host == "anyhost"
    h.run("task t\n host ipp042 -required\nend")
    assert (h.task("t").host, h.task("t").host_required) == ("ipp042", True)
    h.run("task t\n host ipp043\nend")
    assert (h.task("t").host, h.task("t").host_required) == ("ipp043", False)
    h.run("task t\n host\nend")
    assert "USAGE: host <name> [-required]\n  define host machine for this task\n" in h.err()


def test_periods(h):
    h.run("task t\n command x\n periods -poll 0.5 -exec 2 -timeout 30\nend")
    t = h.task("t")
    assert (t.poll_period, t.exec_period, t.timeout_period) == (0.5, 2.0, 30.0)
    for bad, msg in (("-exec", "USAGE: periods [-poll value] [-exec value] [-timeout value]"),
                     ("-exec abc", "periods: exec must be a number of seconds, not 'abc'"),
                     ("-timeout -1", "periods: timeout must not be negative (-1)"),
                     ("-often 3", "USAGE: periods")):
        h.clear()
        h.run(f"task t\n periods {bad}\nend")
        assert msg in h.err(), bad
    assert (t.poll_period, t.exec_period, t.timeout_period) == (0.5, 2.0, 30.0)


def test_stdout_stderr_null(h):
    h.run("task t\n command x\n stdout a.txt\n stderr NULL\nend")
    assert (h.task("t").stdout_path, h.task("t").stderr_path) == ("a.txt", None)
    h.run("task t\n stdout null\nend")
    assert h.task("t").stdout_path is None


def test_active_and_nice(h):
    h.run("task t\n command x\n active FALSE\n nice 20\nend")
    assert (h.task("t").active, h.task("t").nice) == (False, 20)
    h.run("task t\n nice -1\n nice 1.5\n active\nend")
    assert h.err().count("nicelevel must be an integer 0 to 20") == 2
    assert "USAGE: active (true|false)" in h.err()
    assert h.task("t").nice == 20


def test_exit_selector_normalisation(h):
    h.run("task t\n command x\n task.exit 007\n  echo a\n end\n task.exit -2\n  echo b\n end\n"
          " task.exit crash\n  echo c\n end\n task.exit\n end\nend")
    assert set(h.task("t").exit_macros) == {"7", "-2", "crash"}
    assert "USAGE: task.exit (state)" in h.err()


def test_status_taskstats_starts_with_scheduler_lines(h):
    h.run("task t\n command x\nend\nstatus -taskstats")
    assert h.out().startswith(
        "\n Scheduler is stopped\n Controller is stopped\n\n Task Statistics\n")
    h.clear()
    h.run("status -taskstats nomatch")
    assert "  ++ t" not in h.out()
    assert h.run("status -taskstatsreset [") == 0
    assert "invalid regular expression" in h.err()


def test_status_help(h):
    assert h.run("status -h") == 0
    assert h.err().startswith("USAGE: status")


def test_run_stop_halt_usage(h):
    for word in ("run", "stop", "halt"):
        h.clear()
        assert h.run(f"{word} now") == 0
        assert h.err().endswith(f"USAGE: {word}\n")
    h.run("run")
    assert h.sched.state == "running"
    h.run("stop")
    assert h.sched.state == "harvesting"
    h.clear()
    h.run("status")
    assert " Scheduler is stopped, harvesting jobs\n" in h.out()
    h.run("halt")
    assert h.sched.state == "stopped"
    h.clear()
    h.run("status")
    assert " Scheduler is halted (ended jobs wait for run or stop)\n" in h.out()
    h.run("stop")
    h.clear()
    h.run("status")
    assert "halted" not in h.out()


def test_job_command_and_jobs(h):
    h.run("job sleep 10")
    assert "job 1 started" in h.err()
    h.run("jobs")
    assert " Jobs in Pantasks Queue\n" in h.out()
    assert "sleep" in h.out()
    h.run("stop")  # results wait while the scheduler is stopped (halted)
    h.finish(1)
    assert h.sched.jobs == {}


def test_option_abbreviation_reaches_options(h):
    h.run("task t\n command x\n option DEFAULT\nend")
    assert h.task("t").options == ["DEFAULT"]


# -- next_range_change ---------------------------------------------------------
MONDAY = calendar.timegm((2024, 1, 1, 0, 0, 0))


def test_next_range_change_day_and_week():
    day = TimeRange("DAY", 3600, 7200)
    assert next_range_change([day], MONDAY + 10) == MONDAY + 10 + RANGE_RECHECK_MAX
    assert next_range_change([day], MONDAY + 3590) == MONDAY + 3600
    assert next_range_change([day], MONDAY + 7190.5) == MONDAY + 7201
    assert next_range_change([day], MONDAY + 7201) == MONDAY + 7201 + RANGE_RECHECK_MAX
    week = TimeRange("WEEK", 86400 * 3, 86400 * 4)  # Wed..Thu
    tuesday_late = MONDAY + 86400 + 86400 - 30
    assert next_range_change([week], tuesday_late) == MONDAY + 2 * 86400


def test_next_range_change_abs_past_and_future():
    past = TimeRange("ABS", MONDAY - 100, MONDAY - 50)
    future = TimeRange("ABS", MONDAY + 20, MONDAY + 30)
    assert next_range_change([past], MONDAY) == MONDAY + RANGE_RECHECK_MAX
    assert next_range_change([past, future], MONDAY) == MONDAY + 20
    assert next_range_change([future], MONDAY + 25) == MONDAY + 31


def test_status_taskstats_pattern_as_written_on_a_command_line(h):
    """The forms pantasks-script(7) documents: \\\\ for a backslash, \\{ for
    a brace, a quoted pattern with parentheses; a bad one prints nothing
    but its error."""
    h.run("task chip.run\n command x\nend\ntask chipXrun\n command x\nend\n"
          "task warp.aa\n command x\nend")

    def listed(pattern):
        h.clear()
        assert h.run(f"status -taskstats {pattern}") == 1
        return [t for t in ("chip.run", "chipXrun", "warp.aa") if f"  ++ {t} " in h.out()]

    assert listed("chip\\\\.run") == ["chip.run"]
    assert listed("a\\{2}$") == ["warp.aa"]
    assert listed('"^(chip|warp)\\\\."') == ["chip.run", "warp.aa"]
    assert listed("[[:upper:]]") == ["chipXrun"]
    h.clear()
    assert h.run('status -taskstats "(x)\\\\1"') == 0
    assert h.out() == ""
    assert "backreferences (\\1) are not supported" in h.err()
