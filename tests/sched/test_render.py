"""Tests for L{pantasks.sched.render}: exact text of the listings."""

from __future__ import annotations

import calendar

import pytest

from pantasks.lang.errors import ScriptError
from pantasks.sched.model import Job, Task
from pantasks.sched.render import (
    render_job_list,
    render_scheduler_lines,
    render_showtask,
    render_showtask_chunks,
    render_status,
    render_task_table,
    render_taskstats,
)
from pantasks.sched.timerange import parse_trange

#: Wednesday 2024-01-03 08:30:00 UTC.
NOW = calendar.timegm((2024, 1, 3, 8, 30, 0))
#: Same day, 10:00:00 UTC.
LATER = calendar.timegm((2024, 1, 3, 10, 0, 0))

ORIGIN = None  # the renderers never look at a line's origin


def load_task() -> Task:
    """A static local task with some history."""
    task = Task(name="load", argv=["echo", "hi"])
    task.njobs, task.nsuccess, task.nfailure = 12, 10, 1
    return task


def sleeper_task() -> Task:
    """An inactive dynamic task with a daily window, run by any host."""
    task = Task(
        name="sleeper.long",
        exec_macro=[("command sleep 10", ORIGIN)],
        active=False,
        host="anyhost",
    )
    task.ranges.append(parse_trange(["08:00", "09:00"]))
    return task


def test_no_tasks() -> None:
    assert render_task_table([], NOW) == "\n no defined tasks\n"
    assert render_task_table([], NOW, details=True) == "\n no defined tasks\n"


def test_task_table() -> None:
    text = render_task_table([load_task(), sleeper_task()], NOW)
    assert text == "".join(
        [
            "\n",
            " Task Status\n",
            "  AV Name           Nrun  Njobs  Ngood Nfail Ntime Command     \n",
            "  ++ load              1     12     10     1     0 echo        \n",
            "  -+ sleeper.long      0      0      0     0     0 (dynamic)   \n",
        ]
    )


def test_task_table_valid_column_follows_ranges() -> None:
    text = render_task_table([load_task(), sleeper_task()], LATER)
    assert "  -- sleeper.long " in text
    assert "  ++ load " in text


def test_task_table_dynamic_after_exec_shows_command() -> None:
    """As in the original: once task.exec has set argv, argv[0] shows."""
    task = sleeper_task()
    task.argv = ["sleep", "10"]
    text = render_task_table([task], NOW)
    assert text.endswith("  -+ sleeper.long      0      0      0     0     0 sleep       \n")


def test_task_table_wide_numbers() -> None:
    """Columns widen to the largest value (100000 needs six digits)."""
    task = load_task()
    task.njobs, task.nsuccess, task.ntimeout = 1234567, 100000, 1134566
    assert task.nrun == 0
    text = render_task_table([task], NOW)
    assert text == "".join(
        [
            "\n",
            " Task Status\n",
            "  AV Name   Nrun    Njobs   Ngood Nfail   Ntime Command\n",
            "  ++ load      0  1234567  100000     1 1134566 echo\n",
        ]
    )


def test_task_table_command_width_from_last_task() -> None:
    """The original pads C{Command} to max(name width, last task's command)."""
    long = Task(name="a", argv=["/very/long/path"])
    short = Task(name="b", argv=["ls"])
    rows = render_task_table([long, short], NOW).splitlines()
    assert rows[2] == "  AV Name   Nrun  Njobs  Ngood Nfail Ntime Command"
    assert rows[3] == "  ++ a      0      0      0     0     0 /very/long/path"
    assert rows[4] == "  ++ b      0      0      0     0     0 ls"
    rows = render_task_table([short, long], NOW).splitlines()
    assert rows[2] == "  AV Name   Nrun  Njobs  Ngood Nfail Ntime Command        "
    assert rows[3] == "  ++ b      0      0      0     0     0 ls             "


def test_task_table_nrun_counts_killed() -> None:
    task = load_task()
    task.nkilled = 1
    assert "  ++ load      0     12     10     1     0 echo\n" in render_task_table(
        [task], NOW
    )


def test_task_table_details() -> None:
    load = load_task()
    load.nskipexec = 3
    sleeper = sleeper_task()
    remote = Task(name="remote", argv=["ppImage"], host="ipp004", host_required=True)
    remote.exec_period, remote.poll_period, remote.timeout_period = 2.5, 0.5, 6000
    remote.ranges.append(parse_trange(["08:00", "09:00", "-nmax", "2"]))
    remote.ranges.append(parse_trange(["Sat@00:00", "Sun@23:59:59", "-exclude"]))
    remote.ranges.append(parse_trange(["2024/01/01", "2024/12/31,23:59:59"]))
    remote.ranges[0].nrun = 1
    desired = Task(name="desired", argv=["ls"], host="ipp005")
    text = render_task_table([load, sleeper, remote, desired], NOW, details=True)
    assert text == "".join(
        [
            "\n",
            " Task Status\n",
            "  AV Name           Nrun  Njobs  Ngood Nfail Ntime Command     \n",
            "\n",
            "  ++ load              1     12     10     1     0 echo        \n",
            "    spawn period: 1.000000, polling period: 1.000000, timeout period: 1.000000\n",
            "     Nskip exec: 3\n",
            "    task runs locally\n",
            "\n",
            "  -+ sleeper.long      0      0      0     0     0 (dynamic)   \n",
            "    spawn period: 1.000000, polling period: 1.000000, timeout period: 1.000000\n",
            "     active : 08:00:00 - 09:00:00\n",
            "     Nskip exec: 0\n",
            "    task host selected by controller\n",
            "\n",
            "  ++ remote            0      0      0     0     0 ppImage     \n",
            "    spawn period: 2.500000, polling period: 0.500000, timeout period: 6000.000000\n",
            "     active : 08:00:00 - 09:00:00 (1 of 2)\n",
            "     avoid  : Sat@00:00:00 - Sun@23:59:59\n",
            "     active : 2024/01/01,00:00:00 - 2024/12/31,23:59:59\n",
            "     Nskip exec: 0\n",
            "    host ipp004 (required)\n",
            "\n",
            "  ++ desired           0      0      0     0     0 ls          \n",
            "    spawn period: 1.000000, polling period: 1.000000, timeout period: 1.000000\n",
            "     Nskip exec: 0\n",
            "    host ipp005 (desired)\n",
        ]
    )


def test_task_table_listing_resets_window_count_outside() -> None:
    """The listing runs the validity check, which resets a window's count
    when the clock is outside it (as the original did)."""
    task = load_task()
    task.ranges.append(parse_trange(["08:00", "09:00", "-nmax", "2"]))
    task.ranges[0].nrun = 2
    text = render_task_table([task], NOW, details=True)
    assert "  +- load " in text
    assert "     active : 08:00:00 - 09:00:00 (2 of 2)\n" in text
    text = render_task_table([task], LATER, details=True)
    assert "     active : 08:00:00 - 09:00:00 (0 of 2)\n" in text


def job(job_id: int, task: Task, state: str) -> Job:
    return Job(job_id=job_id, task=task, argv=list(task.argv), options=[], state=state)


def test_no_jobs() -> None:
    assert render_job_list([]) == "\n no defined jobs\n"


def test_job_list_index_column() -> None:
    load = load_task()
    remote = Task(name="remote", argv=["/usr/local/bin/ppImage"], host="anyhost")
    text = render_job_list([job(17, load, "BUSY"), job(123456, remote, "PENDING")])
    assert text == "".join(
        [
            "\n",
            " Jobs in Pantasks Queue\n",
            "    0        17: load                            BUSY                 echo\n",
            "    1    123456: remote                       PENDING "
            "/usr/local/bin/ppImage\n",
        ]
    )


def test_scheduler_lines() -> None:
    assert render_scheduler_lines("running", True) == (
        "\n Scheduler is running\n Controller is running\n"
    )
    assert render_scheduler_lines("harvesting", False) == (
        "\n Scheduler is stopped, harvesting jobs\n Controller is stopped\n"
    )
    assert render_scheduler_lines("stopped", False) == (
        "\n Scheduler is stopped\n Controller is stopped\n"
    )
    with pytest.raises(ValueError):
        render_scheduler_lines("sleeping", False)


def test_status_everything() -> None:
    load = load_task()
    text = render_status([load], [job(3, load, "BUSY")], NOW, "running", False)
    assert text == "".join(
        [
            "\n",
            " Scheduler is running\n",
            " Controller is stopped\n",
            "\n",
            " Task Status\n",
            "  AV Name   Nrun  Njobs  Ngood Nfail Ntime Command\n",
            "  ++ load      1     12     10     1     0 echo\n",
            "\n",
            " Jobs in Pantasks Queue\n",
            "    0         3: load                            BUSY                 echo\n",
            "\n",
        ]
    )


def test_status_empty_without_jobs_with_details() -> None:
    text = render_status([], [], NOW, "stopped", True, details=True, show_jobs=False)
    assert text == (
        "\n Scheduler is stopped\n Controller is running\n\n no defined tasks\n\n"
    )
    text = render_status([], [], NOW, "harvesting", True)
    assert text == (
        "\n Scheduler is stopped, harvesting jobs\n Controller is running\n"
        "\n no defined tasks\n\n no defined jobs\n\n"
    )


def stats_tasks() -> list[Task]:
    load = load_task()
    for dt in (1.0, 2.0, 3.0):
        load.stats["alljobs"].add(dt)
    for dt in (1.0, 2.0):
        load.stats["success"].add(dt)
    sleeper = sleeper_task()
    sleeper.njobs, sleeper.nfailure = 1, 1
    sleeper.stats["alljobs"].add(12.345)
    sleeper.stats["failure"].add(12.345)
    return [load, sleeper]


STATS_HEAD = [
    "\n",
    " Task Statistics\n",
    "                  |           alljobs          |           success          |"
    "           failure          |\n",
    "  AV Name         | Njobs   Tmin   Tave   Tmax | Njobs   Tmin   Tave   Tmax |"
    " Njobs   Tmin   Tave   Tmax |\n",
]
LOAD_STATS = (
    "  ++ load         |    12   1.00   2.00   3.00 |    10   1.00   1.50   2.00 |"
    "     1   NONE   0.00   0.00 |\n"
)
SLEEPER_STATS = (
    "  -+ sleeper.long |     1  12.35  12.35  12.35 |     0   NONE   0.00   0.00 |"
    "     1  12.35  12.35  12.35 |\n"
)


def test_taskstats() -> None:
    assert render_taskstats(stats_tasks(), NOW, None) == "".join(
        STATS_HEAD + [LOAD_STATS, SLEEPER_STATS]
    )


def test_taskstats_regex_unanchored() -> None:
    """The name column still fits every task; only matches are listed."""
    tasks = stats_tasks()
    assert render_taskstats(tasks, NOW, "eep") == "".join(STATS_HEAD + [SLEEPER_STATS])
    assert render_taskstats(tasks, NOW, "^lo|long$") == "".join(
        STATS_HEAD + [LOAD_STATS, SLEEPER_STATS]
    )
    assert render_taskstats(tasks, NOW, "nomatch") == "".join(STATS_HEAD)


def test_taskstats_after_reset_prints_none() -> None:
    """FIXED: after a reset Tmin is NONE again, not stuck at 0."""
    task = load_task()
    task.stats["alljobs"].add(4.0)
    for st in task.stats.values():
        st.reset()
    task.njobs = task.nsuccess = task.nfailure = 0
    text = render_taskstats([task], NOW, None)
    assert text.splitlines()[-1] == (
        "  ++ load |     0   NONE   0.00   0.00 |     0   NONE   0.00   0.00 |"
        "     0   NONE   0.00   0.00 |"
    )


def test_taskstats_empty_and_bad_regex() -> None:
    assert render_taskstats([], NOW, None) == "\n no defined tasks\n"
    with pytest.raises(ScriptError) as e:
        render_taskstats(stats_tasks(), NOW, "(")
    assert str(e.value).startswith("invalid regular expression (: ")
    assert "\n" not in str(e.value)


def show_task() -> Task:
    task = Task(name="load", argv=["echo", "hi"], options=["-v", "x"])
    task.host, task.host_required = "ipp004", True
    task.exec_period, task.poll_period, task.timeout_period = 5, 0.5, 60
    task.ranges.append(parse_trange(["08:00", "09:00", "-nmax", "2"]))
    task.ranges[0].nrun = 1
    task.ranges.append(parse_trange(["Sat@00:00", "Sat@23:59:59", "-exclude"]))
    task.exec_macro = [("$x = 1", ORIGIN), ("command echo $x", ORIGIN)]
    task.exit_macros["0"] = [("echo ok", ORIGIN)]
    task.exit_macros["default"] = [("echo default", ORIGIN)]
    task.exit_macros["timeout"] = []
    task.exit_macros["3"] = [("echo three", ORIGIN), ("if ($x == 1)", ORIGIN)]
    return task


SHOW_OUT = [
    "\n macro load\n",
    "\n command: echo hi \n\n",
    "\n options: -v x \n\n",
    " host ipp004 (required)\n",
    " time periods: exec: 5.000000  poll: 0.500000  timeout: 60.000000\n",
    "     active : 08:00:00 - 09:00:00 (1 of 2)\n",
    "     avoid  : Sat@00:00:00 - Sat@23:59:59\n",
    "\n pre-execute macro\n",
]


def test_showtask() -> None:
    out, err = render_showtask(show_task())
    assert out == "".join(
        SHOW_OUT
        + [
            "\n timeout macro\n",
            "\n crash macro\n",
            "\n default exit macro\n",
            "\n exit macro (status == 0)\n",
            "\n exit macro (status == 3)\n",
        ]
    )
    assert err == "".join(
        [
            "  $x = 1\n",
            "  command echo $x\n",
            "  macro not defined\n",
            "  macro not defined\n",
            "  echo default\n",
            "  echo ok\n",
            "  echo three\n",
            "  if ($x == 1)\n",
        ]
    )


def test_showtask_chunks_keep_order() -> None:
    chunks = render_showtask_chunks(show_task())
    assert chunks[:4] == [
        ("out", "".join(SHOW_OUT)),
        ("err", "  $x = 1\n  command echo $x\n"),
        ("out", "\n timeout macro\n"),
        ("err", "  macro not defined\n"),
    ]
    assert [stream for stream, _ in chunks] == ["out", "err"] * 6


def test_showtask_bare_dynamic_local() -> None:
    task = Task(name="dyn")
    out, err = render_showtask(task)
    assert out == "".join(
        [
            "\n macro dyn\n",
            "\n command: \n\n",
            "\n options: \n\n",
            " task runs locally\n",
            " time periods: exec: 1.000000  poll: 1.000000  timeout: 1.000000\n",
            "\n pre-execute macro\n",
            "\n timeout macro\n",
            "\n crash macro\n",
            "\n default exit macro\n",
        ]
    )
    assert err == "  macro not defined\n" * 4


def test_showtask_anyhost_and_own_ranges() -> None:
    """FIXED: the ranges shown are this task's, not another's."""
    other = sleeper_task()
    task = Task(name="mine", argv=["ls"], host="ANYHOST")
    task.ranges.append(parse_trange(["Mon@08:00", "Fri@17:00"]))
    out, _err = render_showtask(task)
    assert " task host selected by controller\n" in out
    assert "     active : Mon@08:00:00 - Fri@17:00:00\n" in out
    assert "08:00:00 - 09:00:00" not in out
    assert "08:00:00 - 09:00:00" in render_showtask(other)[0]
