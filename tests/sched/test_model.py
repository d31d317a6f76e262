# -*- test-case-name: tests.sched.test_model -*-
"""Tasks, jobs and timing statistics as plain data."""

from __future__ import annotations

from pantasks.lang.context import Origin
from pantasks.sched.model import Stats, Task


def test_stats_min_starts_and_resets_to_none():
    s = Stats()
    assert s.tmin is None and s.tave == 0.0
    for t in (3.0, 1.0, 2.0):
        s.add(t)
    assert (s.n, s.tmin, s.tave, s.tmax) == (3, 1.0, 2.0, 3.0)
    s.reset()
    assert (s.n, s.tmin, s.tave, s.tmax) == (0, None, 0.0, 0.0)
    s.add(5.0)
    assert s.tmin == 5.0  # not stuck at 0 as in the original


def test_nrun_counts_every_way_a_job_ends():
    t = Task("t", njobs=10, nsuccess=3, nfailure=2, ntimeout=1, nkilled=1)
    assert t.nrun == 3


def test_dynamic_and_command_label():
    t = Task("t")
    assert not t.dynamic and t.command_label() == "(dynamic)"
    t.argv = ["echo", "x"]
    assert t.command_label() == "echo"
    t.exec_macro = [("$a = 1", Origin(None, 1)), ("command echo $a", Origin(None, 2))]
    assert t.dynamic and t.command_label() == "(dynamic)"
