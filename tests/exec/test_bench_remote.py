"""bench/remote.py still runs end to end (a few jobs, not a measurement)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.exec.sshd import SKIP_REASON

BENCH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "bench", "remote.py",
)


@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
def test_remote_bench_runs():
    out = subprocess.run(
        [sys.executable, BENCH, "--rounds", "1", "--jobs", "40", "--parallel-jobs", "2"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    last = out.stdout.strip().splitlines()[-1]
    assert re.match(r"RESULT remote \d+ jobs/s \(.*, \d+\.\d\d vs local dispatch\)\Z", last), out
