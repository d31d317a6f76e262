# -*- test-case-name: tests.sched.test_render -*-
"""The text of C{status}, C{status -taskstats}, the job list and C{showtask}.

Operators and scripts parse these listings, so they reproduce the
original's layouts byte for byte (C{TaskOps.c}, C{JobOps.c},
C{status_server.c}); each function here returns text and touches nothing
but the time-range counters that the validity check resets (as the
original's listings did).

Deliberate differences, all fixes:

  - The job list's first column is the job's 0-based position in the
    queue (the original printed the number of jobs on every row, where its
    loop index was obviously meant).
  - C{showtask} lists the ranges of the task it shows (the original used a
    stale index and showed another task's ranges, or crashed).
  - A numeric column is as wide as its largest value (at least 5); the
    original's digit count was one short for exact powers of ten from
    100000 up, which pushed the row out of line.
  - WEEK ranges print with the right day name (see
    L{pantasks.sched.timerange}).

Kept on purpose: the C{Command} column is padded to the longer of the
name column and the last task's command (the original's width rule), and
a task shows C{(dynamic)} until its C{task.exec} has set a command, then
that command's C{argv[0]}.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from pantasks.lang.patterns import Pattern, compile_optional
from pantasks.sched.model import SPECIAL_EXITS, Job, Task, TimeRange
from pantasks.sched.timerange import format_range_time, time_valid

#: C{scheduler_state} values of L{render_status}.
SCHEDULER_LINES = {
    "running": " Scheduler is running\n",
    "harvesting": " Scheduler is stopped, harvesting jobs\n",
    "stopped": " Scheduler is stopped\n",
    # After halt: distinguishable from stop (which still harvests jobs).
    "halted": " Scheduler is halted (ended jobs wait for run or stop)\n",
}


def _width(value: int, minimum: int = 5) -> int:
    """Width of a numeric column whose largest value is C{value}."""
    return max(minimum, len(str(max(value, 0))))


def _command_of(task: Task) -> str:
    """C{argv[0]}, or C{(dynamic)} while no command is set."""
    return task.argv[0] if task.argv else "(dynamic)"


def _flags(task: Task, now: float) -> str:
    """The C{  AV } prefix of a task row: active and time-valid flags."""
    active = "+" if task.active else "-"
    valid = "+" if time_valid(task.ranges, now) else "-"
    return f"  {active}{valid} "


def _range_line(rng: TimeRange) -> str:
    """One C{active :} / C{avoid  :} line of a task's details."""
    start = format_range_time(rng.kind, rng.start)
    stop = format_range_time(rng.kind, rng.stop)
    if rng.exclude:
        return f"     avoid  : {start} - {stop}\n"
    line = f"     active : {start} - {stop}"
    if rng.nmax:
        line += f" ({rng.nrun} of {rng.nmax})"
    return line + "\n"


def _host_line(task: Task, indent: str) -> str:
    """Where the task's jobs run, as the listings word it."""
    if task.host is None:
        return f"{indent}task runs locally\n"
    if task.host.lower() == "anyhost":
        return f"{indent}task host selected by controller\n"
    need = "required" if task.host_required else "desired"
    return f"{indent}host {task.host} ({need})\n"


def render_task_table(tasks: list[Task], now: float, details: bool = False) -> str:
    """The task table (C{status -tasks}, C{-taskinfo} with C{details}).

    @param tasks: the tasks in list order.
    @param now: epoch seconds (UTC) for the V (time-valid) column.
    @param details: add periods, ranges, skipped execs and host per task.
    @return: the text, starting with a newline.
    """
    out = ["\n"]
    if not tasks:
        out.append(" no defined tasks\n")
        return "".join(out)

    name_w = max(len(t.name) for t in tasks)
    # The original's rule: the longer of the name column and the *last*
    # task's command (its loop overwrote the maximum on every pass).
    cmd_w = max(name_w, len(_command_of(tasks[-1])))
    run_w = _width(max(t.nrun for t in tasks))
    jobs_w = _width(max(t.njobs for t in tasks))
    good_w = _width(max(t.nsuccess for t in tasks))
    fail_w = _width(max(t.nfailure for t in tasks))
    time_w = _width(max(t.ntimeout for t in tasks))

    out.append(" Task Status\n")
    out.append(
        "  AV %-*s  %*s  %*s  %*s %*s %*s %-*s\n"
        % (name_w, "Name", run_w, "Nrun", jobs_w, "Njobs", good_w, "Ngood",
           fail_w, "Nfail", time_w, "Ntime", cmd_w, "Command")
    )
    for task in tasks:
        if details:
            out.append("\n")
        out.append(_flags(task, now))
        out.append(
            "%-*s  %*d  %*d  %*d %*d %*d %-*s\n"
            % (name_w, task.name, run_w, task.nrun, jobs_w, task.njobs,
               good_w, task.nsuccess, fail_w, task.nfailure, time_w, task.ntimeout,
               cmd_w, _command_of(task))
        )
        if not details:
            continue
        out.append(
            "    spawn period: %f, polling period: %f, timeout period: %f\n"
            % (task.exec_period, task.poll_period, task.timeout_period)
        )
        out.extend(_range_line(rng) for rng in task.ranges)
        out.append("     Nskip exec: %d\n" % task.nskipexec)
        out.append(_host_line(task, "    "))
    return "".join(out)


def render_job_list(jobs: list[Job]) -> str:
    """The job list (part of C{status}).

    @param jobs: the jobs in queue order.
    @return: the text, starting with a newline; each row is the job's
        0-based position, its ID, task name, state and C{argv[0]}.
    """
    out = ["\n"]
    if not jobs:
        out.append(" no defined jobs\n")
        return "".join(out)
    out.append(" Jobs in Pantasks Queue\n")
    for index, job in enumerate(jobs):
        arg0 = job.argv[0] if job.argv else ""
        out.append(
            " %4d  %8d: %-25s %10s %20s\n" % (index, job.job_id, job.task.name, job.state, arg0)
        )
    return "".join(out)


def render_scheduler_lines(scheduler_state: str, controller_running: bool) -> str:
    """The head of C{status}: a blank line, the scheduler and controller
    lines (also printed before C{status -taskstats}).

    @param scheduler_state: C{running}, C{harvesting} (tasks stopped, jobs
        still harvested), C{halted} (after C{halt}: nothing harvested) or
        C{stopped} (never run).
    @param controller_running: whether the controller is up.
    @raise ValueError: unknown C{scheduler_state}.
    """
    try:
        sched = SCHEDULER_LINES[scheduler_state]
    except KeyError:
        raise ValueError(f"unknown scheduler state {scheduler_state!r}") from None
    ctrl = " Controller is running\n" if controller_running else " Controller is stopped\n"
    return "\n" + sched + ctrl


def render_status(
    tasks: list[Task],
    jobs: list[Job],
    now: float,
    scheduler_state: str,
    controller_running: bool,
    details: bool = False,
    show_jobs: bool = True,
) -> str:
    """The C{status} report.

    One command serves the standalone shell and the server, so this
    merges the two originals: the scheduler and controller lines, the task
    table (with C{details} for C{-v}/C{-taskinfo}...), the job list unless
    C{show_jobs} is false, then the server's closing blank line.  The
    standalone original always listed the jobs; the server only with
    C{-jobs}; listing them by default loses nothing (C{status -tasks}
    prints the table alone, through L{render_task_table}).

    @param tasks: the tasks in list order.
    @param jobs: the jobs in queue order.
    @param now: epoch seconds (UTC).
    @param scheduler_state: see L{render_scheduler_lines}.
    @param controller_running: whether the controller is up.
    @param details: detailed task table.
    @param show_jobs: append the job list.
    """
    parts = [
        render_scheduler_lines(scheduler_state, controller_running),
        render_task_table(tasks, now, details),
    ]
    if show_jobs:
        parts.append(render_job_list(jobs))
    parts.append("\n")
    return "".join(parts)


def _stats_group(count: int, tmin: Optional[float], tave: float, tmax: float) -> str:
    if tmin is None:
        return " | %5d %6s %6.2f %6.2f" % (count, "NONE", tave, tmax)
    return " | %5d %6.2f %6.2f %6.2f" % (count, tmin, tave, tmax)


def compile_task_regex(regex: Optional[str]) -> Optional[Pattern]:
    """Compile a C{-taskstats}/C{-taskstatsreset} task-name pattern.

    Patterns are POSIX extended regular expressions, unanchored (searched
    anywhere in the name) as C{regexec} does, matched in linear time (see
    L{pantasks.lang.patterns}).

    @return: the pattern, or None when C{regex} is None.
    @raise ScriptError: the pattern does not compile (one line).
    """
    return compile_optional(regex)


def render_taskstats(tasks: list[Task], now: float, regex: Optional[str]) -> str:
    """The C{status -taskstats [regex]} table.

    The name column fits every task, matched or not, as in the original.
    Counts are the task's C{njobs}, C{nsuccess} and C{nfailure}; times
    come from its L{Stats<pantasks.sched.model.Stats>} groups.

    @param tasks: the tasks in list order.
    @param now: epoch seconds (UTC) for the V column.
    @param regex: only tasks whose name matches (unanchored), or None.
    @raise ScriptError: bad regex.
    """
    pattern = compile_task_regex(regex)
    out = ["\n"]
    if not tasks:
        out.append(" no defined tasks\n")
        return "".join(out)
    name_w = max(len(t.name) for t in tasks)
    group = "           %s          |"
    out.append(" Task Statistics\n")
    out.append(
        "     %-*s |" % (name_w, "")
        + "".join(group % g for g in ("alljobs", "success", "failure"))
        + "\n"
    )
    out.append(
        "  AV %-*s |" % (name_w, "Name")
        + " Njobs   Tmin   Tave   Tmax |" * 3
        + "\n"
    )
    for task in tasks:
        if pattern is not None and not pattern.search(task.name):
            continue
        out.append(_flags(task, now))
        out.append("%-*s" % (name_w, task.name))
        for key, count in (
            ("alljobs", task.njobs),
            ("success", task.nsuccess),
            ("failure", task.nfailure),
        ):
            st = task.stats[key]
            out.append(_stats_group(count, st.tmin, st.tave, st.tmax))
        out.append(" |\n")
    return "".join(out)


def _exit_status_number(name: str) -> int:
    """C{atoi} of an exit-macro selector: leading integer, else 0."""
    m = re.match(r"\s*([+-]?\d+)", name)
    return int(m.group(1)) if m else 0


def _macro_listing(macro: Optional[Iterable]) -> str:
    """A macro body indented two spaces, or C{  macro not defined}."""
    lines = [line for line, _origin in macro] if macro else []
    if not lines:
        return "  macro not defined\n"
    return "".join(f"  {line}\n" for line in lines)


def render_showtask_chunks(task: Task) -> list[tuple[str, str]]:
    """C{showtask NAME} as an ordered list of C{(stream, text)} pieces,
    C{stream} being C{"out"} or C{"err"} (the macro bodies go to standard
    error, their headers to standard output, as in the original).  A
    caller that can interleave the two streams keeps the original order.

    @param task: the task to show.
    """
    out: list[str] = []
    out.append(f"\n macro {task.name}\n")
    out.append("\n command: " + "".join(f"{a} " for a in task.argv) + "\n\n")
    out.append("\n options: " + "".join(f"{o} " for o in task.options) + "\n\n")
    out.append(_host_line(task, " "))
    out.append(
        " time periods: exec: %f  poll: %f  timeout: %f\n"
        % (task.exec_period, task.poll_period, task.timeout_period)
    )
    out.extend(_range_line(rng) for rng in task.ranges)

    chunks: list[tuple[str, str]] = []

    def section(header: str, macro: Optional[Iterable]) -> None:
        out.append(header)
        chunks.append(("out", "".join(out)))
        out.clear()
        chunks.append(("err", _macro_listing(macro)))

    section("\n pre-execute macro\n", task.exec_macro)
    section("\n timeout macro\n", task.exit_macros.get("timeout"))
    section("\n crash macro\n", task.exit_macros.get("crash"))
    section("\n default exit macro\n", task.exit_macros.get("default"))
    for name, macro in task.exit_macros.items():
        if name in SPECIAL_EXITS:
            continue
        section("\n exit macro (status == %d)\n" % _exit_status_number(name), macro)
    return chunks


def render_showtask(task: Task) -> tuple[str, str]:
    """C{showtask NAME}: the text for standard output and standard error.

    @param task: the task to show (the caller reports C{task NAME not
        found} and the usage line).
    @return: C{(stdout_text, stderr_text)}.
    """
    chunks = render_showtask_chunks(task)
    stdout = "".join(text for stream, text in chunks if stream == "out")
    stderr = "".join(text for stream, text in chunks if stream == "err")
    return stdout, stderr
