# -*- test-case-name: tests.net.test_bench -*-
"""The C{status} benchmark: C{status} on a busy server, over the wire.

A real C{pantasks_server} gets 1,000 tasks (500 of them each keep one
C{sleep} job running, so 500 jobs run), then the scheduler is stopped
(the jobs keep running, nothing new starts) and C{status} is timed, its
round trips alternated with the reference, C{echo x} on the same
server.  Bar (benchmarks.md): median <= 20 ms.

Usage: C{python bench/status.py [--tasks N] [--jobs N] [--requests N]};
the last line is C{RESULT status <median> ms median (ratio <r> vs echo x)}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from latency import Client, machine, percentile, start_server  # noqa: E402


def task_script(tasks: int, jobs: int) -> str:
    out = []
    for i in range(tasks):
        out.append(f"task bench{i:04d}")
        if i < jobs:
            out += ["  command sleep 600", "  periods -exec 0.01 -poll 1 -timeout 0", "  nmax 1"]
        else:
            out += [f"  command echo idle {i}", "  periods -exec 3600", "  active false"]
        out.append("end")
    return "\n".join(out) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=500)
    p.add_argument("--requests", type=int, default=200, help="status requests (and echo x)")
    args = p.parse_args(argv)

    server = start_server()
    try:
        path = os.path.join(server.tmp.name, "tasks.pro")
        with open(path, "w") as f:
            f.write(task_script(args.tasks, args.jobs))
        c = Client(server.port)
        t0 = time.perf_counter()
        out, status = c.ask(f"server input {path}")
        assert status == b"STATUS 1", (out, status)
        load = time.perf_counter() - t0
        c.ask("run")
        deadline = time.monotonic() + 120
        running = 0
        while time.monotonic() < deadline:
            out, _ = c.ask("jobs")
            running = sum(1 for line in out if b"sleep" in line)
            if running >= args.jobs:
                break
            time.sleep(0.2)
        c.ask("stop")
        out, _ = c.ask("status")
        size = sum(len(x) + 1 for x in out)
        print(f"status: {args.tasks} tasks, {running} running jobs; {len(out)} lines, "
              f"{size} bytes per reply; {machine()}")
        print(f"(loading the {args.tasks} tasks with server input took {load * 1e3:.0f} ms)")
        st: list[float] = []
        ex: list[float] = []
        for i in range(args.requests):
            for name in (("status", "echo") if i % 2 else ("echo", "status")):
                t0 = time.perf_counter()
                out, status_line = c.ask("status" if name == "status" else "echo x")
                dt = time.perf_counter() - t0
                assert status_line == b"STATUS 1"
                (st if name == "status" else ex).append(dt)
        st.sort()
        ex.sort()
        med, emed = statistics.median(st) * 1e3, statistics.median(ex) * 1e3
        print(f"{'request':>8}  {'median':>8}  {'p90':>8}  {'max':>8}  (ms)")
        print(f"{'status':>8}  {med:>8.2f}  {percentile(st, .9) * 1e3:>8.2f}  "
              f"{st[-1] * 1e3:>8.2f}")
        print(f"{'echo x':>8}  {emed:>8.2f}  {percentile(ex, .9) * 1e3:>8.2f}  "
              f"{ex[-1] * 1e3:>8.2f}")
        print(f"bar: status median <= 20 ms: {'meets' if med <= 20 else 'MISSES'}")
        print(f"RESULT status {med:.2f} ms median (ratio {med / emed:.1f} vs echo x)")
        c.ask("shutdown now")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
