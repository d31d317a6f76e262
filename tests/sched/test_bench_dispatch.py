# -*- test-case-name: tests.sched.test_bench_dispatch -*-
"""bench/dispatch.py still runs (a few jobs, not a measurement)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench", "dispatch.py")


@pytest.mark.parametrize("kind", ["pantasks", "bare"])
def test_one_contender(kind):
    out = subprocess.run(
        [sys.executable, BENCH, "--one", kind, "--jobs", "60", "--concurrency", "4"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    seconds = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    assert 0 < seconds < 30
    assert "failed" not in out.stderr
