# -*- test-case-name: tests.web.test_pages -*-
"""The HTML of the status pages, built from the L{Snapshot}.

Each page is a fragment (what changes) inside a fixed frame; the frame's
script (C{/static/live.js}) re-fetches the fragment when the server says
something changed (server-sent events), so pages update without a reload.
Without JavaScript a meta refresh does the same, more slowly.

Every value from outside (task names, commands, hosts, job output) goes
through L{pantasks.web.html.esc}; links to a task quote its name.
"""

from __future__ import annotations

import shlex
import time
from typing import Any, Optional
from urllib.parse import quote

from pantasks.sched.render import _range_line
from pantasks.sched.timerange import time_valid
from pantasks.web.html import Markup, el, esc, join
from pantasks.web.snapshot import REFUSAL_TEXT, JobRecord, Snapshot

#: Scheduler states as the page words them (the C{status} wording).
STATE_TEXT = {
    "running": "running",
    "harvesting": "stopped (harvesting jobs)",
    "stopped": "halted",
}

#: Problem rows on the overview at most (the tasks page has them all).
OVERVIEW_PROBLEMS = 50

#: Jobs listed per section of the jobs page.
JOBS_SHOWN = 100

#: Rows of the tasks page (more: the next page), so a page of a big
#: pipeline is built in a few milliseconds and holds no client back.
TASKS_PER_PAGE = 200

#: Columns of the tasks page: (key, heading, sort key).
TASK_COLUMNS = (
    ("name", "Name"), ("nrun", "Nrun"), ("njobs", "Njobs"), ("ngood", "Ngood"),
    ("nfail", "Nfail"), ("ntime", "Ntime"), ("rate", "Good/h"), ("bad", "Bad/h"),
    ("command", "Command"), ("problem", "Problem"),
)

NAV = (("/", "Overview"), ("/tasks", "Tasks"), ("/jobs", "Jobs"), ("/hosts", "Hosts"),
       ("/metrics", "Metrics"))


def task_href(name: str) -> str:
    """The URL of a task's page."""
    return "/task/" + quote(name, safe="")


def age(seconds: Optional[float]) -> str:
    """C{4s}, C{3m05s}, C{2h07m}, C{3d04h}."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def clock(when: Optional[float]) -> str:
    """UTC time of day, C{HH:MM:SS}."""
    if when is None:
        return ""
    return time.strftime("%H:%M:%S", time.gmtime(when))


def seconds(value: Optional[float]) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def frame(title: str, here: str, fragment: Markup, server: str, user: str) -> Markup:
    """The whole page around a fragment."""
    nav = [el("a", label, href=href, class_="here" if href == here else None)
           for href, label in NAV]
    return Markup("<!DOCTYPE html>\n" + el(
        "html",
        el("head",
           el("meta", charset="utf-8"),
           el("meta", name="viewport", content="width=device-width, initial-scale=1"),
           el("title", f"{title} - pantasks {server}"),
           el("link", rel="stylesheet", href="/static/style.css"),
           el("script", src="/static/live.js", defer=True),
           Markup('<noscript><meta http-equiv="refresh" content="10"></noscript>')),
        el("body",
           el("header", el("strong", f"pantasks {server}"), el("nav", *nav),
              el("span", f"{user}", class_="user")),
           el("main", fragment, id="live")),
        lang="en"))


# -- overview --------------------------------------------------------------
def chart(series: list[tuple[int, int, int]]) -> Markup:
    """Jobs per minute over the last hour as an SVG bar chart (good
    below, failed stacked on top), oldest minute on the left."""
    width, height, bar = 600, 120, 10
    top = max([g + b for _a, g, b in series] + [1])
    bars = []
    for i, (ago, good, bad) in enumerate(series):
        x = i * bar
        hg = round(good * (height - 15) / top)
        hb = round(bad * (height - 15) / top)
        label = f"{ago} min ago: {good} succeeded, {bad} failed"
        if hg:
            bars.append(el("rect", el("title", label), x=x, y=height - hg, width=bar - 1,
                           height=hg, class_="good"))
        if hb:
            bars.append(el("rect", el("title", label), x=x, y=height - hg - hb, width=bar - 1,
                           height=hb, class_="bad"))
    return el("svg", el("text", f"max {top}/min", x=2, y=10, class_="axis"), *bars,
              viewBox=f"0 0 {width} {height}", class_="chart", role="img",
              aria_label="jobs per minute, last hour")


def overview(snap: Snapshot, now: float, hosts_down: list[str]) -> Markup:
    """Scheduler state, jobs, the last hour, tasks with problems, hosts down."""
    sched = snap.scheduler
    good, bad = snap.rates.totals(now)
    running = len(snap.running)
    state = STATE_TEXT.get(sched.state, sched.state)
    facts = el("dl",
               el("dt", "Scheduler"), el("dd", state, class_=f"state {sched.state}",
                                         id="scheduler-state"),
               el("dt", "Jobs running"), el("dd", running, id="jobs-running"),
               el("dt", "Jobs pending"), el("dd", max(0, len(sched.jobs) - running)),
               el("dt", "Tasks"), el("dd", len(sched.tasks)),
               el("dt", "Last hour"),
               el("dd", el("span", f"{good} succeeded", class_="good"), ", ",
                  el("span", f"{bad} failed", class_="bad"), id="last-hour"),
               class_="facts")
    problems = snap.problems()
    if problems:
        rows = [el("tr", el("td", el("a", r.name, href=task_href(r.name))),
                   el("td", r.problem, class_="problem"),
                   el("td", _last_job_text(snap.jobs_of(r.name)[:1])))
                for r in problems[:OVERVIEW_PROBLEMS]]
        more = (el("p", f"... and {len(problems) - OVERVIEW_PROBLEMS} more: see ",
                   el("a", "Tasks", href="/tasks?sort=problem"))
                if len(problems) > OVERVIEW_PROBLEMS else None)
        problem_part = [el("table", el("tr", el("th", "Task"), el("th", "Problem"),
                                       el("th", "Last job")), *rows, id="problems"), more]
    else:
        problem_part = [el("p", "No task needs a look.", id="problems")]
    if hosts_down:
        host_part = el("ul", *[el("li", h) for h in hosts_down], id="hosts-down")
    else:
        host_part = el("p", "No host is down.", id="hosts-down")
    return join([
        el("h1", "Overview"), facts,
        el("h2", "Jobs per minute, last hour"), chart(snap.rates.series(now)),
        el("h2", "Tasks with problems"), problem_part,
        el("h2", "Hosts down"), host_part,
    ])


def _last_job_text(jobs: list[JobRecord]) -> str:
    if not jobs:
        return ""
    j = jobs[0]
    how = f"exit {j.exit_status}" if j.state == "EXIT" else j.state
    return f"job {j.job_id}: {how} on {j.host} at {clock(j.ended)}"


# -- tasks -----------------------------------------------------------------
def tasks_page(snap: Snapshot, now: float, sort: str = "name", filter_: str = "",
               descending: bool = False, page: int = 0) -> Markup:
    """The C{status -tasks} table with rates and problems: sortable by
    any column, filtered by a substring of the name, L{TASKS_PER_PAGE}
    rows from row C{page * TASKS_PER_PAGE}."""
    rows = []
    needle = filter_.lower()
    for task in snap.scheduler.tasks.values():
        if needle and needle not in task.name.lower():
            continue
        record = snap.tasks.get(task.name)
        good, bad = record.rates.totals(now) if record is not None else (0, 0)
        problem = record.problem if record is not None and record.problem else ""
        rows.append((task, good, bad, problem))
    keys = {
        "name": lambda r: r[0].name, "nrun": lambda r: r[0].nrun,
        "njobs": lambda r: r[0].njobs, "ngood": lambda r: r[0].nsuccess,
        "nfail": lambda r: r[0].nfailure, "ntime": lambda r: r[0].ntimeout,
        "rate": lambda r: r[1], "bad": lambda r: r[2],
        "command": lambda r: r[0].command_label(), "problem": lambda r: (r[3] == "", r[3]),
    }
    if sort not in keys:
        sort = "name"
    rows.sort(key=keys[sort], reverse=descending)
    q = f"&filter={quote(filter_)}" if filter_ else ""
    head = []
    for key, label in TASK_COLUMNS:
        down = key == sort and not descending
        arrow = (" \u25b2" if not descending else " \u25bc") if key == sort else ""
        head.append(el("th", el("a", label + arrow,
                                href=f"/tasks?sort={key}{'&desc=1' if down else ''}{q}")))
    pages_n = max(1, -(-len(rows) // TASKS_PER_PAGE))
    page = min(max(0, page), pages_n - 1)
    shown = rows[page * TASKS_PER_PAGE:(page + 1) * TASKS_PER_PAGE]
    here = f"/tasks?sort={sort}{'&desc=1' if descending else ''}{q}"
    turn = None
    if pages_n > 1:
        turn = el("p", f"Page {page + 1} of {pages_n}: ",
                  el("a", "previous", href=f"{here}&page={page - 1}") if page else None,
                  " " if page and page < pages_n - 1 else None,
                  el("a", "next", href=f"{here}&page={page + 1}")
                  if page < pages_n - 1 else None, class_="pages")
    body = []
    for task, good, bad, problem in shown:
        flags = ("+" if task.active else "-") + ("+" if time_valid(task.ranges, now) else "-")
        body.append(
            f'<tr><td><span class="flags">{flags}</span> '
            f'<a href="{esc(task_href(task.name))}">{esc(task.name)}</a></td>'
            f"<td>{task.nrun}</td><td>{task.njobs}</td><td>{task.nsuccess}</td>"
            f"<td>{task.nfailure}</td><td>{task.ntimeout}</td><td>{good}</td><td>{bad}</td>"
            f"<td>{esc(task.command_label())}</td>"
            f'<td class="problem">{esc(problem)}</td></tr>')
    form = el("form",
              el("input", type="search", name="filter", value=filter_,
                 placeholder="filter by name"),
              el("input", type="hidden", name="sort", value=sort),
              el("button", "Filter", type="submit"),
              method="get", action="/tasks")
    return join([
        el("h1", "Tasks"), form,
        el("p", f"{len(rows)} of {len(snap.scheduler.tasks)} tasks; "
                "Good/h and Bad/h: jobs over the last hour."),
        el("table", el("tr", *head), Markup("".join(body)), id="tasks", class_="tasks"), turn,
    ])


# -- one task ----------------------------------------------------------------
def task_page(snap: Snapshot, name: str, now: float) -> Optional[Markup]:
    """A task's definition, counters, timings, running and last jobs with
    the tail of their output; None when there is no such task."""
    task = snap.scheduler.tasks.get(name)
    if task is None:
        return None
    where = ("locally" if task.host is None else
             f"on {task.host} ({'required' if task.host_required else 'desired'})")
    definition = el(
        "dl",
        el("dt", "Command"),
        el("dd", el("code", shlex.join(task.argv) if task.argv else "(dynamic)")),
        el("dt", "Runs"), el("dd", where),
        el("dt", "Periods"),
        el("dd", f"exec {task.exec_period:g} s, poll {task.poll_period:g} s, "
                 f"timeout {task.timeout_period:g} s"),
        el("dt", "Limits"),
        el("dd", f"npending {task.npending_max or 'none'}, nmax {task.nmax or 'none'}"),
        el("dt", "Active"), el("dd", "yes" if task.active else "no"),
        el("dt", "Time ranges"),
        el("dd", el("pre", "".join(_range_line(r) for r in task.ranges).rstrip())
           if task.ranges else "always"),
        el("dt", "Macros"),
        el("dd", ", ".join((["task.exec"] if task.exec_macro else []) +
                           [f"task.exit {k}" for k in task.exit_macros]) or "none"),
        class_="facts")
    counters = el("table",
                  el("tr", *[el("th", h) for h in ("Nrun", "Njobs", "Ngood", "Nfail", "Ntime",
                                                   "Nkilled", "Nskipexec")]),
                  el("tr", *[el("td", v) for v in (task.nrun, task.njobs, task.nsuccess,
                                                   task.nfailure, task.ntimeout, task.nkilled,
                                                   task.nskipexec)]),
                  id="counters")
    stat_rows = []
    for group in ("alljobs", "success", "failure"):
        st = task.stats[group]
        stat_rows.append(el("tr", el("td", group), el("td", st.n),
                            el("td", seconds(st.tmin) if st.tmin is not None else "NONE"),
                            el("td", seconds(st.tave)), el("td", seconds(st.tmax))))
    stats = el("table", el("tr", *[el("th", h) for h in ("Jobs", "N", "Tmin", "Tave", "Tmax")]),
               *stat_rows, id="timings")
    record = snap.tasks.get(name)
    problem = (el("p", "Needs a look: ", el("strong", record.problem), class_="problem")
               if record is not None and record.problem else None)
    refusal = None
    if record is not None and record.refusal is not None:
        reason, since = record.refusal
        refusal = el("p", f"Not launching since {clock(since)}: "
                          f"{REFUSAL_TEXT.get(reason, reason)}.")
    running = [j for j in snap.running.values() if j.task == name and not j.one_off]
    last = snap.jobs_of(name)
    return join([
        el("h1", "Task ", el("code", name)), problem, refusal, definition,
        el("h2", "Counters"), counters,
        el("h2", "Timing (seconds)"), stats,
        el("h2", f"Running jobs ({len(running)})"), _jobs_table(running, now, "running-jobs"),
        el("h2", "Last jobs"), _jobs_table(last, now, "last-jobs", output=True),
    ])


def _jobs_table(jobs: list[JobRecord], now: float, id_: str, output: bool = False,
                show_task: bool = False) -> Markup:
    if not jobs:
        return el("p", "None.", id=id_)
    head = ["Job"] + (["Task"] if show_task else []) + ["Status", "Host", "Started",
                                                        "Duration / age"]
    rows = []
    for j in jobs:
        took = age(now - j.started) if j.ended is None else seconds(j.duration)
        cells = [el("td", j.job_id)]
        if show_task:
            cells.append(el("td", j.task if j.one_off else el("a", j.task,
                                                              href=task_href(j.task))))
        cells += [el("td", j.status_text, class_=j.outcome), el("td", j.host),
                  el("td", clock(j.started)), el("td", took)]
        rows.append(el("tr", *cells, id=f"job-{j.job_id}"))
        if output and (j.stdout or j.stderr):
            tails = []
            for label, data in (("stdout", j.stdout), ("stderr", j.stderr)):
                if data:
                    tails.append(el("div", el("span", label, class_="label"),
                                    el("pre", data.decode("utf-8", "replace"))))
            rows.append(el("tr", el("td", *tails, colspan=len(head)), class_="output"))
    return el("table", el("tr", *[el("th", h) for h in head]), *rows, id=id_)


# -- jobs --------------------------------------------------------------------
def jobs_page(snap: Snapshot, now: float) -> Markup:
    """Running jobs (oldest first) and recently ended ones (newest first)."""
    running = sorted(snap.running.values(), key=lambda j: j.job_id)
    recent = list(reversed(snap.recent))[:JOBS_SHOWN]
    more = (el("p", f"(the oldest {JOBS_SHOWN} of {len(running)} shown)")
            if len(running) > JOBS_SHOWN else None)
    return join([
        el("h1", "Jobs"),
        el("h2", f"Running ({len(running)})"), more,
        _jobs_table(running[:JOBS_SHOWN], now, "running", show_task=True),
        el("h2", "Recently ended"), _jobs_table(recent, now, "recent", show_task=True),
    ])


# -- hosts -------------------------------------------------------------------
def hosts_page(snap: Snapshot, hosts: Optional[list[dict[str, Any]]]) -> Markup:
    """Remote hosts with their slots, last error and jobs; without a
    controller, where jobs run."""
    if not hosts:
        local = sum(1 for j in snap.running.values() if j.host == "localhost")
        return join([el("h1", "Hosts"),
                     el("p", "No remote hosts are configured: jobs run on this host "
                             f"({local} running now).", id="hosts")])
    rows = [el("tr", el("td", h["name"]), el("td", h.get("state", "")),
               el("td", h.get("slots", "")), el("td", h.get("busy", "")),
               el("td", h.get("error", ""))) for h in hosts]
    return join([el("h1", "Hosts"),
                 el("table", el("tr", *[el("th", x) for x in ("Host", "State", "Slots", "Busy",
                                                              "Last error")]),
                    *rows, id="hosts")])


def message_page(title: str, text: str) -> Markup:
    """A bare page for errors (no frame, no script)."""
    return Markup("<!DOCTYPE html>\n" + el(
        "html", el("head", el("meta", charset="utf-8"), el("title", title),
                   el("link", rel="stylesheet", href="/static/style.css")),
        el("body", el("main", el("h1", title), el("p", text))), lang="en"))
