# -*- test-case-name: tests.sched.test_commands -*-
"""Scheduler commands: task definitions and the operator's controls.

C{task NAME} ... C{end} runs its body lines as ordinary commands with the
task being defined as their target, so any statement may appear there
(real scripts use C{if} blocks and assignments); C{command}, C{options},
C{periods}, C{host}, C{stdout} and C{stderr} also work at run time,
inside C{task.exec}, on the task being executed.
"""

from __future__ import annotations

from typing import Any

from pantasks import __version__
from pantasks.lang.context import Context
from pantasks.lang.errors import ScriptError, UsageError
from pantasks.lang.names import check_name, is_safe_name
from pantasks.lang.numbers import finite, int_of_digits, parse_whole
from pantasks.lang.registry import READS, RUNS, WRITES, CommandTable
from pantasks.lang.safeopen import output_problem
from pantasks.lang.source import is_end
from pantasks.lang.text import quote
from pantasks.sched.model import SPECIAL_EXITS, Task
from pantasks.sched.render import (
    compile_task_regex,
    render_job_list,
    render_scheduler_lines,
    render_showtask_chunks,
    render_status,
    render_task_table,
    render_taskstats,
)
from pantasks.sched.timerange import parse_trange, range_warning

SCHEDULER = CommandTable()
command = SCHEDULER.command

NOT_IN_TASK = "ERROR: not defining or running a task"

#: The original's task keywords, matched in any case inside C{task ... end}.
TASK_KEYWORDS = frozenset(
    "host nice nmax active trange stdout stderr command options periods npending "
    "task.exit task.exec".split()
)


def _keyword_case(line: str) -> str:
    """C{HOST local} inside a task block runs as C{host local}."""
    word = line.split(None, 1)[0] if line else ""
    low = word.lower()
    if low != word and low in TASK_KEYWORDS:
        return low + line[len(word):]
    return line


def scheduler_of(ctx: Context) -> Any:
    sched = ctx.interp.services.scheduler
    if sched is None:
        raise ScriptError("no scheduler in this program")
    return sched


def _defining(ctx: Context) -> Task:
    task = ctx.defining
    if task is None:
        raise ScriptError(NOT_IN_TASK)
    return task


def _target(ctx: Context) -> Task:
    """The task being defined, else the one whose task.exec runs."""
    task = ctx.defining or ctx.task
    if task is None:
        raise ScriptError(NOT_IN_TASK)
    return task


def _int(text: str, usage: str) -> int:
    """A whole number (C{12}, C{+3}, C{08}); anything else is C{usage}."""
    return parse_whole(text, usage)


#: The longest period, in seconds (about 31 years): beyond it a timer is
#: meaningless and only risks overflowing the reactor's arithmetic.
MAX_PERIOD = 1e9


def _float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScriptError(f"periods: {what} must be a number of seconds, not "
                          f"'{quote(text)}'") from None
    if value < 0:
        raise ScriptError(f"periods: {what} must not be negative ({quote(text)})")
    return finite(value, f"periods: {what} must be a number of seconds up to {MAX_PERIOD:.0f},"
                  f" not '{quote(text)}'", hi=MAX_PERIOD)


# -- the task block -------------------------------------------------------
TASK_USAGE = (
    "USAGE: task -list\n"
    "USAGE: task -longlist\n"
    "USAGE: task -show (task)\n"
    "USAGE: task <name>\n"
    "  (enter commands & task functions; end with the word 'END')"
)


@command("task", help="task NAME / definition lines / end: define or edit a task", effect=WRITES)
def cmd_task(ctx: Context, argv: list[str]) -> Any:
    if len(argv) != 2:
        _consume_block(ctx)
        raise UsageError(TASK_USAGE)
    name = argv[1]
    if not is_safe_name(name):
        _consume_block(ctx)
        check_name("task", name)
    sched = scheduler_of(ctx)
    task = sched.take_for_edit(name)
    existing = task is not None
    if task is None:
        task = Task(name=name)
    saved = ctx.defining
    ctx.defining = task
    cursor = ctx.cursor
    interp = ctx.interp
    closed = False
    try:
        while cursor is not None:
            item = cursor.next()
            if item is None:
                break
            line, origin = item
            if is_end(line):
                closed = True
                break
            ctx.origin = origin
            r = interp.run_line(ctx, _keyword_case(line))
            if r.__class__ is not int:
                r = yield from r
            # Errors in a definition line are reported but do not stop it.
            ctx.loop_break = ctx.loop_next = ctx.loop_last = False
    finally:
        ctx.defining = saved
    if not closed:
        ctx.error(f"missing 'END' in task definition {name}")
    if not task.argv and not task.dynamic:
        if existing:
            sched.add_task(task)
        raise ScriptError(f"task {name}: task command not defined")
    sched.add_task(task)
    return 1


def _consume_block(ctx: Context) -> None:
    cursor = ctx.cursor
    if cursor is not None:
        cursor.collect_body()


@command("task.exec", help="task.exec / lines / end: macro run before each job", effect=WRITES)
def cmd_task_exec(ctx: Context, argv: list[str]) -> int:
    cursor = ctx.cursor
    body, closed = cursor.collect_body() if cursor else ([], False)
    task = _defining(ctx)
    if len(argv) != 1:
        raise UsageError("USAGE: task.exec")
    if not closed:
        ctx.error("missing 'END' in task.exec")
    task.exec_macro = body
    return 1


@command("task.exit", help="task.exit N|default|crash|timeout / lines / end", effect=WRITES)
def cmd_task_exit(ctx: Context, argv: list[str]) -> int:
    cursor = ctx.cursor
    body, closed = cursor.collect_body() if cursor else ([], False)
    task = _defining(ctx)
    if len(argv) != 2:
        raise UsageError("USAGE: task.exit (state)")
    key = argv[1]
    if key not in SPECIAL_EXITS:
        # As the original: the status is atoi(name), so a word acts as 0.
        digits = key.strip()
        sign = ""
        if digits[:1] in ("+", "-"):
            sign, digits = digits[0], digits[1:]
        n = ""
        for c in digits:
            if not (c.isdigit() and c.isascii()):
                break
            n += c
        value = int_of_digits(n) if n else 0
        key = str(-value if sign == "-" else value)
    if not closed:
        ctx.error(f"missing 'END' in task.exit {argv[1]}")
    task.exit_macros[key] = body
    return 1


# -- definition keywords -----------------------------------------------------
@command("command", help="command ARG0 [ARG...]: the task's command", effect=WRITES)
def cmd_command(ctx: Context, argv: list[str]) -> int:
    task = _target(ctx)
    if len(argv) < 2:
        raise UsageError("USAGE: command <command> <arg> ...")
    task.argv = argv[1:]
    return 1


@command("options", help="options WORD...: words handed to the exit macros as $options:N",
         effect=WRITES)
def cmd_options(ctx: Context, argv: list[str]) -> int:
    task = _target(ctx)
    if len(argv) < 2:
        raise UsageError("USAGE: options <opt> ...")
    task.options = argv[1:]
    return 1


HOST_USAGE = (
    "USAGE: host <name> [-required]\n"
    "  define host machine for this task\n"
    "  -required flags indicates controller must use this host\n"
    "  value of 'local' for host indicates process not using controller\n"
    "  value of 'anyhost' for host indicates controller may assign at will"
)


@command("host", help="host local|anyhost|NAME [-required]: where the task's jobs run",
         effect=WRITES)
def cmd_host(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    required = "-required" in args
    args = [a for a in args if a != "-required"]
    if len(args) != 1:
        raise UsageError(HOST_USAGE)
    task = _target(ctx)
    name = check_name("host", args[0])
    task.host_required = required
    if name.lower() == "local":
        task.host = None
    elif name.lower() == "anyhost":
        task.host = "anyhost"
    else:
        task.host = name
    return 1


@command("periods", help="periods [-poll S] [-exec S] [-timeout S]", effect=WRITES)
def cmd_periods(ctx: Context, argv: list[str]) -> int:
    task = _target(ctx)
    usage = "USAGE: periods [-poll value] [-exec value] [-timeout value]"
    args = argv[1:]
    values = {}
    while args:
        flag = args.pop(0)
        if flag not in ("-poll", "-exec", "-timeout") or not args:
            raise UsageError(usage)
        values[flag] = _float(args.pop(0), flag[1:])
    if "-poll" in values:
        task.poll_period = values["-poll"]
    if "-exec" in values:
        task.exec_period = values["-exec"]
    if "-timeout" in values:
        task.timeout_period = values["-timeout"]
    return 1


def _dump(ctx: Context, argv: list[str], attr: str) -> int:
    task = _target(ctx)
    if len(argv) != 2:
        raise UsageError(f"USAGE: {argv[0]} (filename|NULL)")
    path = None if argv[1].upper() == "NULL" or argv[1] == "" else argv[1]
    problem = None if path is None else output_problem(path)
    if problem is not None:
        raise ScriptError(f"{argv[0]}: cannot write to '{quote(path)}': {problem}")
    setattr(task, attr, path)
    return 1


command("stdout", help="stdout FILE|NULL: append the jobs' stdout to FILE", effect=WRITES)(
    lambda ctx, argv: _dump(ctx, argv, "stdout_path"))
command("stderr", help="stderr FILE|NULL: append the jobs' stderr to FILE", effect=WRITES)(
    lambda ctx, argv: _dump(ctx, argv, "stderr_path"))


def _set_count(ctx: Context, argv: list[str], attr: str) -> int:
    """C{npending N} / C{nmax N}: a whole number of jobs, 0 = no limit."""
    task = _defining(ctx)
    usage = f"USAGE: {argv[0]} (N)"
    if len(argv) != 2:
        raise UsageError(usage)
    n = _int(argv[1], usage)
    if n < 0:
        raise ScriptError(f"{argv[0]} must not be negative ({n})")
    setattr(task, attr, n)
    return 1


command("npending", help="npending N: at most N jobs of the task at once (0 = no limit)",
        effect=WRITES)(lambda ctx, argv: _set_count(ctx, argv, "npending_max"))
command("nmax", help="nmax N: at most N jobs in all (0 = no limit)", effect=WRITES)(
    lambda ctx, argv: _set_count(ctx, argv, "nmax"))


@command("active", help="active true|false: whether the task launches jobs", effect=WRITES)
def cmd_active(ctx: Context, argv: list[str]) -> int:
    task = _defining(ctx)
    if len(argv) != 2:
        raise UsageError("USAGE: active (true|false)")
    word = argv[1].lower()
    if word not in ("true", "false"):
        raise ScriptError(f"ERROR: invalid option: {argv[1]}")
    task.active = word == "true"
    return 1


@command("nice", help="nice N: run the task's jobs at nice level N (0..20)", effect=WRITES)
def cmd_nice(ctx: Context, argv: list[str]) -> int:
    task = _defining(ctx)
    usage = "ERROR: nice (nicelevel) -- nicelevel must be an integer 0 to 20"
    if len(argv) != 2:
        raise UsageError(usage)
    task.nice = parse_whole(argv[1], usage, 0, 20)
    return 1


@command("trange", help="trange START STOP [-nmax N] [-exclude] | trange -reset", effect=WRITES)
def cmd_trange(ctx: Context, argv: list[str]) -> int:
    task = _defining(ctx)
    if len(argv) == 2 and argv[1] == "-reset":
        task.ranges = []
        return 1
    sched = ctx.interp.services.scheduler
    now = sched.reactor.seconds() if sched is not None else None
    rng = parse_trange(argv[1:], now)
    warning = range_warning(rng)
    if warning:
        ctx.err(warning + "\n")
    task.ranges.append(rng)
    return 1


# -- operator controls -------------------------------------------------------
def _noargs(argv: list[str]) -> None:
    if len(argv) != 1:
        raise UsageError(f"USAGE: {argv[0]}")


@command("run", help="run: launch tasks and harvest jobs", effect=WRITES)
def cmd_run(ctx: Context, argv: list[str]) -> int:
    _noargs(argv)
    scheduler_of(ctx).run()
    return 1


@command("stop", help="stop: launch no new jobs (running jobs are still harvested)",
         effect=WRITES)
def cmd_stop(ctx: Context, argv: list[str]) -> int:
    _noargs(argv)
    scheduler_of(ctx).stop()
    return 1


@command("halt", help="halt: launch nothing and harvest nothing until run or stop",
         effect=WRITES)
def cmd_halt(ctx: Context, argv: list[str]) -> int:
    _noargs(argv)
    scheduler_of(ctx).halt()
    return 1


STATUS_HELP = """\
USAGE: status [-tasks] [-jobs] [-taskinfo|-info|-v|-verbose|-details]
              [-taskstats [regex]] [-taskstatsreset [regex]]
"""


def _status_effect(argv: list[str]) -> str:
    """C{-taskstatsreset} resets statistics; every other form only reads."""
    return WRITES if "-taskstatsreset" in argv[1:] else READS


@command("status", help="status [options]: the scheduler, its tasks and jobs",
         effect=_status_effect)
def cmd_status(ctx: Context, argv: list[str]) -> int:
    sched = scheduler_of(ctx)
    now = sched.reactor.seconds()
    args = argv[1:]
    details = False
    tasks_only = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-h", "-help", "--help"):
            ctx.err(STATUS_HELP)
            return 0
        if a == "-tasks":
            tasks_only = True
        elif a == "-jobs":
            pass  # the job list is always shown
        elif a in ("-taskinfo", "-info", "-v", "-verbose", "-details"):
            details = True
        elif a in ("-taskstats", "-taskstatsreset"):
            rest = args[i + 1:]
            if len(rest) > 1:
                ctx.err(STATUS_HELP)
                return 0
            regex = rest[0] if rest else None
            tasks = list(sched.tasks.values())
            pattern = compile_task_regex(regex)  # a bad pattern: one line, nothing else
            if a == "-taskstats":
                ctx.out(render_scheduler_lines(_shown_state(sched), sched.controller_running))
                ctx.out(render_taskstats(tasks, now, regex))
                return 1
            for t in tasks:
                if pattern is None or pattern.search(t.name):
                    sched.reset_stats(t)
            return 1
        elif a in ("-c", "-control", "-controller"):
            pass  # no remote controller in this build: nothing to add
        else:
            ctx.err(STATUS_HELP)
            return 0
        i += 1
    tasks = list(sched.tasks.values())
    if tasks_only:
        ctx.out(render_task_table(tasks, now, details))
        return 1
    ctx.out(
        render_status(
            tasks, list(sched.jobs.values()), now, _shown_state(sched),
            sched.controller_running, details=details, show_jobs=True,
        )
    )
    return 1


def _shown_state(sched: Any) -> str:
    """The state C{status} shows: C{halt} apart from never having run."""
    if sched.state == "stopped" and getattr(sched, "halted", False):
        return "halted"
    return sched.state


@command("showtask", help="showtask NAME: a task's settings and macros", effect=READS)
def cmd_showtask(ctx: Context, argv: list[str]) -> int:
    if len(argv) != 2:
        raise UsageError("USAGE: showtask (task)")
    task = scheduler_of(ctx).tasks.get(argv[1])
    if task is None:
        raise ScriptError(f"task {argv[1]} not found")
    # The macro bodies go to stderr, the rest to stdout, in the original's
    # order (a client that merges the streams sees them interleaved).
    for stream, text in render_showtask_chunks(task):
        (ctx.out if stream == "out" else ctx.err)(text)
    return 1


def _job_id(text: str, usage: str) -> int:
    return parse_whole(text, usage)


@command("kill", help="kill JOBID: kill a job and everything it started", effect=WRITES)
def cmd_kill(ctx: Context, argv: list[str]) -> int:
    if len(argv) != 2:
        raise UsageError("USAGE: kill (JobID)")
    return _kill(ctx, argv[1], "USAGE: kill (JobID)")


def _kill(ctx: Context, text: str, usage: str) -> int:
    outcome = scheduler_of(ctx).kill(_job_id(text, usage))
    if outcome == "unknown":
        ctx.out("job not found\n")
    elif outcome == "finishing":
        ctx.out(f"job {text} has ended; its exit macro is running\n")
    else:
        ctx.out("job removed\n")
    return 1


DELETE_USAGE = "USAGE: delete job (JobID)\nUSAGE: delete task (TaskName) [-force]"


@command("delete", help="delete job JOBID | delete task NAME [-force]", effect=WRITES)
def cmd_delete(ctx: Context, argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else ""
    if what == "job":
        if len(argv) != 3:
            raise UsageError("USAGE: delete job (JobID)")
        return _kill(ctx, argv[2], "USAGE: delete job (JobID)")
    if what == "task":
        args = argv[2:]
        force = "-force" in args
        args = [a for a in args if a != "-force"]
        if len(args) != 1:
            raise UsageError("USAGE: delete task (TaskName) [-force]")
        problem = scheduler_of(ctx).delete_task(args[0], force)
        if problem:
            raise ScriptError(problem)
        return 1
    raise UsageError(DELETE_USAGE)


@command("flush", help="flush jobs: kill and forget every job", effect=WRITES)
def cmd_flush(ctx: Context, argv: list[str]) -> int:
    if argv[1:] != ["jobs"]:
        raise UsageError("USAGE: flush jobs")
    scheduler_of(ctx).flush()
    return 1


@command("verbose", help="verbose [on|off|threads|toggle]: scheduler messages in the log",
         effect=lambda argv: READS if len(argv) == 1 else WRITES)
def cmd_verbose(ctx: Context, argv: list[str]) -> int:
    sched = scheduler_of(ctx)
    if len(argv) == 1:
        ctx.out(f"verbose mode {'ON' if sched.verbose else 'OFF'}\n")
        return 1
    levels = {"on": 1, "off": 0, "threads": 2}
    word = argv[1].lower() if len(argv) == 2 else ""
    if word == "toggle":
        sched.verbose = 0 if sched.verbose else 1
    elif word in levels:
        sched.verbose = levels[word]
    else:
        raise UsageError("USAGE: verbose (on/off/threads/toggle)")
    return 1


@command("version", help="version: program versions", effect=READS)
def cmd_version(ctx: Context, argv: list[str]) -> int:
    import platform

    import twisted

    ctx.out(
        f"\npantasks version: {__version__}\n"
        f"python version: {platform.python_version()}\n"
        f"twisted version: {twisted.__version__}\n"
    )
    return 1


@command("job", help="job [-host H] COMMAND...: run a one-off job", effect=RUNS)
def cmd_job(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    host = None
    if len(args) >= 2 and args[0] == "-host":
        host = check_name("host", args[1])
        args = args[2:]
    if not args:
        raise UsageError("USAGE: job [-host H] command [args...]")
    job = scheduler_of(ctx).one_off(args, None if host in (None, "local") else host)
    ctx.err(f"job {job.job_id} started\n")
    return 1


@command("jobs", help="jobs: list running jobs", effect=READS)
def cmd_jobs(ctx: Context, argv: list[str]) -> int:
    ctx.out(render_job_list(list(scheduler_of(ctx).jobs.values())))
    return 1
