# -*- test-case-name: tests.web.test_snapshot -*-
"""The pages' snapshot and HTML on a fake clock: problems come and go with
the jobs, rates per minute, bounded memory, and hostile text stays text."""

from __future__ import annotations

import pytest

from pantasks.web import pages
from pantasks.web.html import Markup, el, esc, join
from pantasks.web.snapshot import MINUTES, TASK_JOBS, TASK_TAILS, Snapshot
from tests.sched.helpers import Harness


@pytest.fixture
def h():
    harness = Harness(start=1_800_000_000.0)
    yield harness
    harness.shutdown()


@pytest.fixture
def snap(h):
    s = Snapshot(h.sched, recent=10)
    h.sched.add_observer(s)
    return s


def define(h, name="t", extra=""):
    h.run(f"""
task {name}
  command work
  periods -exec 10 -timeout 5
  {extra}
end
""")


def test_problems_come_and_go(h, snap):
    define(h)
    h.run("run")
    h.advance(10)
    h.finish(h.running()[0], 2, stderr=b"it broke\n")
    assert [(r.name, r.problem) for r in snap.problems()] == [("t", "failing (exit 2)")]
    h.advance(10)
    h.advance(5)  # timeout
    assert snap.tasks["t"].problem == "timing out"
    h.advance(5)
    h.finish(h.running()[0], 0)
    assert snap.problems() == []
    job = snap.jobs_of("t")[0]
    assert (job.status_text, job.outcome, job.duration) == ("0", "success", 0.0)


def test_not_launching_is_a_problem_until_a_job_starts(h, snap):
    define(h, extra="nmax 1")
    h.run("run")
    h.advance(10)
    h.finish(h.running()[0], 0)
    h.advance(10)
    assert snap.tasks["t"].problem == "not launching: nmax reached"
    assert snap.tasks["t"].refusal[0] == "nmax"
    h.run("status -taskstatsreset t")  # may launch again
    h.advance(10)
    assert h.running() and snap.tasks["t"].problem is None


def test_npending_is_not_a_problem(h, snap):
    define(h, extra="npending 1\n  periods -timeout 1000")
    h.run("run")
    h.advance(30, step=1)
    assert snap.tasks["t"].refusal[0] == "npending"
    assert snap.problems() == []


def test_rates_per_minute_and_memory_bounds(h, snap):
    define(h)
    h.run("run")
    for i in range(TASK_JOBS + 5):
        h.advance(10)
        h.finish(h.running()[0], i % 2, stdout=b"x" * 100)
    record = snap.tasks["t"]
    assert len(record.jobs) == TASK_JOBS
    assert len(snap.recent) == 10
    with_output = [j for j in record.jobs if j.stdout]
    assert len(with_output) == TASK_TAILS and with_output[-1] is record.jobs[-1]
    good, bad = snap.rates.totals(h.now())
    assert (good, bad) == (13, 12)
    series = snap.rates.series(h.now())
    assert len(series) == MINUTES and series[-1][0] == 0
    assert sum(g for _a, g, _b in series) == 13
    h.advance(2 * 3600)  # an hour later nothing is left in the window
    h.finish_all()
    assert snap.rates.totals(h.now() + 3600) == (0, 0)


def test_removed_task_is_forgotten(h, snap):
    define(h)
    assert "t" in snap.tasks
    h.run("delete task t")
    assert "t" not in snap.tasks
    v = snap.version
    h.run("run")  # the scheduler's state is news too
    assert snap.version > v


def test_hostile_text_is_escaped():
    evil = '<script>alert("x")</script> & "quotes"'
    assert esc(evil) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;"
    html = el("a", evil, href=evil, title=None, hidden=True)
    assert "<script>" not in html and " hidden" in html and "title" not in html
    assert join(["<b>", Markup("<i>ok</i>"), ["<u>"], None]) == "&lt;b&gt;<i>ok</i>&lt;u&gt;"
    assert pages.task_href("a/b c") == "/task/a%2Fb%20c"


def test_pages_render_a_hostile_task_and_job(h, snap):
    from pantasks.sched.model import Task

    name = 'x<img src=y onerror=alert(1)>'
    h.sched.add_task(Task(name=name, argv=["sh", "<b>"], exec_period=10.0,
                          timeout_period=60.0))
    h.run("run")
    h.advance(10)
    h.finish(h.running()[0], 1, stdout=b"</pre><script>alert(2)</script>")
    now = h.now()
    for html in (pages.overview(snap, now, []), pages.tasks_page(snap, now),
                 pages.task_page(snap, name, now), pages.jobs_page(snap, now)):
        assert "<img" not in html and "<script>" not in html, html
    page = pages.task_page(snap, name, now)
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert pages.task_page(snap, "nosuch", now) is None


def test_tasks_page_turns_pages(h, snap):
    from pantasks.sched.model import Task

    for i in range(pages.TASKS_PER_PAGE + 5):
        h.sched.add_task(Task(name=f"t{i:04d}", argv=["true"]))
    first = pages.tasks_page(snap, h.now())
    assert "Page 1 of 2" in first and "t0000" in first and "t0204" not in first
    assert "page=1" in first
    last = pages.tasks_page(snap, h.now(), page=7)  # past the end: the last page
    assert "Page 2 of 2" in last and "t0204" in last and "t0000" not in last
    assert pages.tasks_page(snap, h.now(), filter_="t0204").count("<tr>") == 2


def test_web_command_when_the_page_is_off(h):
    from pantasks.lang.errors import ScriptError
    from pantasks.web.commands import web_command

    cmd = web_command(None)
    with pytest.raises(ScriptError, match=r"the web page is off \(set \[web\] endpoint"):
        cmd.func(h.ctx, ["web", "token"])
    assert cmd.effect_of(["web", "token"]) == "session"
