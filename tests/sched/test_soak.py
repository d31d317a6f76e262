# -*- test-case-name: tests.sched.test_soak -*-
"""Soak test (C{make soak}, not in CI): 100,000 real jobs through the whole
task path, with no growth of memory or open file descriptors after the
first 10,000.

Each job is a local C{echo} whose output goes to the task's stdout file
(so every job opens and closes that file as well as its pipes) and whose
exit macro counts it.  Resident memory and the number of open file
descriptors are sampled every 10,000 jobs and printed (run with C{-s} to
see them; the figures go into bench/RESULTS.md).
"""

from __future__ import annotations

import os
import time

import pytest
from twisted.internet import defer

from tests.sched.integration import EngineTestCase, rss_kb

pytestmark = pytest.mark.soak

TOTAL = int(os.environ.get("PANTASKS_SOAK_JOBS", "100000"))
STEP = 10000

SCRIPT = """
$Npass = 0
task soak
  command echo "soak line"
  periods -exec 0 -timeout 30
  npending 32
  nmax {total}
  stdout {out}
  task.exit 0
    $Npass ++
  end
  task.exit default
    echo "soak: job failed: $JOB_STATUS"
  end
end
run
"""


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class SoakTests(EngineTestCase):
    timeout = 3600

    @defer.inlineCallbacks
    def test_100000_jobs(self):
        out = self.path("soak.txt")
        fds_before = open_fds()
        yield self.execute(SCRIPT.format(total=TOTAL, out=out))
        samples = []
        t0 = time.monotonic()
        for mark in range(STEP, TOTAL + 1, STEP):
            yield self.until(lambda: self.num("Npass") >= mark, 1200, step=0.05)
            samples.append((mark, time.monotonic() - t0, rss_kb(), open_fds()))
            print(f"soak: {mark:7d} jobs  {samples[-1][1]:7.1f} s  "
                  f"rss {samples[-1][2]} kB  fds {samples[-1][3]}", flush=True)
        yield self.done()
        task = self.sched.tasks["soak"]
        self.assertEqual((task.njobs, task.nsuccess, task.nfailure, task.nrun),
                         (TOTAL, TOTAL, 0, 0))
        with open(out, "rb") as f:
            self.assertEqual(f.read().count(b"\n"), TOTAL)
        base_rss, base_fds = samples[0][2], samples[0][3]
        growth = max(s[2] for s in samples) - base_rss
        print(f"soak: rss after {STEP}: {base_rss} kB, max later growth {growth} kB; "
              f"fds {sorted({s[3] for s in samples})}; "
              f"{TOTAL / samples[-1][1]:.0f} jobs/s", flush=True)
        # The fds sampled include the job pipes of up to npending running
        # jobs (2 each, 3 with the stdout file), so they vary by a few.
        self.assertLessEqual(max(s[3] for s in samples), base_fds + 3 * 32)
        # With no job left, only the reactor's child-signal pipe (2 fds,
        # made at the first spawn) and the runner's /dev/null are new.
        self.assertLessEqual(open_fds(), fds_before + 3)
        self.assertLess(growth, 2048, f"memory grew {growth} kB after the first {STEP} jobs")
