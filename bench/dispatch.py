# -*- test-case-name: tests.sched.test_bench_dispatch -*-
"""The C{dispatch} benchmark: jobs per second through the whole task path.

One local task (C{periods -exec 0 -poll 0}, C{npending 32}, C{nmax N},
command C{true}, exit macro C{$n ++}) is timed from C{run} until its last
exit macro has run.  In the same run, alternated round by round, the two
references of C{benchmarks.md}: a bare Twisted loop spawning C{/bin/true}
with the same concurrency, and GNU parallel C{-j32}.  Each contender runs
in a fresh child process, so none inherits another's reactor, memory or
file descriptors.  Medians are reported; the bar is >= 0.65 x bare spawn
and >= 3 x GNU parallel.

Usage: C{python bench/dispatch.py [--jobs N] [--rounds R]
[--parallel-jobs N] [--concurrency C]} (defaults: 5000 jobs for every
contender, 3 rounds, concurrency 32); the last line is
C{RESULT dispatch <jobs/s> jobs/s (ratio <r> vs bare spawn, <p> vs GNU
parallel)}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SCRIPT = """\
$n = 0
task dispatch
  command true
  host local
  periods -exec 0 -poll 0 -timeout 60
  npending {concurrency}
  nmax {jobs}
  task.exit 0
    $n ++
  end
  task.exit default
    echo dispatch: job failed with $JOB_STATUS
  end
end
"""


def _done_poller(reactor: Any, check: Any, finished: Any) -> None:
    """Call C{finished()} once C{check()} is true, looking every 5 ms."""
    from twisted.internet.task import LoopingCall

    def look() -> None:
        if check():
            loop.stop()
            finished()

    loop = LoopingCall(look)
    loop.clock = reactor
    loop.start(0.005, now=False)


def one_pantasks(jobs: int, concurrency: int) -> float:
    """Run the task through a real engine; return the seconds from C{run}
    until the last exit macro ran."""
    sys.path.insert(0, ROOT)
    from twisted.internet import reactor

    from pantasks.engine import make_engine
    from pantasks.exec.local import raise_nofile_limit
    from pantasks.lang.context import OutputSink

    raise_nofile_limit()
    engine = make_engine(reactor, log_sink=OutputSink(sys.stderr, sys.stderr))
    interp = engine.interp
    box: dict[str, float] = {}

    def go() -> None:
        ctx = interp.new_context()
        d = interp.execute_text(ctx, SCRIPT.format(jobs=jobs, concurrency=concurrency))

        def started(_: Any) -> None:
            box["t0"] = time.perf_counter()
            interp.execute_text(interp.new_context(), "run")
            _done_poller(
                reactor,
                lambda: interp.variables.get("n") == str(jobs),
                finish,
            )

        d.addCallback(started)

    def finish() -> None:
        box["t1"] = time.perf_counter()
        reactor.stop()

    reactor.callWhenRunning(go)
    reactor.run()
    return box["t1"] - box["t0"]


def one_bare(jobs: int, concurrency: int) -> float:
    """A bare Twisted loop keeping C{concurrency} C{/bin/true} running
    until C{jobs} have ended; return the seconds it took."""
    from twisted.internet import reactor
    from twisted.internet.protocol import ProcessProtocol

    state = {"started": 0, "ended": 0}
    true = shutil.which("true") or "/bin/true"

    class P(ProcessProtocol):
        def processEnded(self, reason: Any) -> None:
            state["ended"] += 1
            if state["ended"] == jobs:
                box["t1"] = time.perf_counter()
                reactor.stop()
            else:
                spawn()

    def spawn() -> None:
        if state["started"] < jobs:
            state["started"] += 1
            reactor.spawnProcess(P(), true, [true], env=os.environ)

    box: dict[str, float] = {}

    def go() -> None:
        box["t0"] = time.perf_counter()
        for _ in range(concurrency):
            spawn()

    reactor.callWhenRunning(go)
    reactor.run()
    return box["t1"] - box["t0"]


def run_child(kind: str, jobs: int, concurrency: int) -> float:
    """Run one contender in a fresh interpreter; return its jobs/s."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--one", kind,
         "--jobs", str(jobs), "--concurrency", str(concurrency)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    seconds = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    return jobs / seconds


def run_parallel(jobs: int, concurrency: int) -> Optional[float]:
    """GNU parallel running C{true} C{jobs} times, C{-j concurrency}."""
    parallel = shutil.which("parallel")
    if parallel is None:
        return None
    seq = "".join(f"{i}\n" for i in range(jobs)).encode()
    t0 = time.perf_counter()
    subprocess.run(
        [parallel, "--will-cite", "-j", str(concurrency), "-N0", "true"],
        input=seq, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return jobs / (time.perf_counter() - t0)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=5000, help="jobs per pantasks/bare round")
    p.add_argument("--parallel-jobs", type=int, default=None,
                   help="jobs per GNU parallel round (default: --jobs)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--one", choices=("pantasks", "bare"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.parallel_jobs is None:
        args.parallel_jobs = args.jobs

    if args.one:
        fn = one_pantasks if args.one == "pantasks" else one_bare
        seconds = fn(args.jobs, args.concurrency)
        print(json.dumps({"seconds": seconds}))
        return 0

    rates: dict[str, list[float]] = {"pantasks": [], "bare spawn": [], "GNU parallel": []}
    print(f"dispatch: {args.jobs} jobs of 'true', concurrency {args.concurrency}, "
          f"{args.rounds} alternated rounds (GNU parallel: {args.parallel_jobs} jobs per round)")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    print(f"{'round':>5}  {'pantasks':>10}  {'bare spawn':>10}  {'GNU parallel':>12}  (jobs/s)")
    for r in range(1, args.rounds + 1):
        # Alternate the order inside each round too (A B C, C B A...).
        order = ["pantasks", "bare spawn", "GNU parallel"]
        if r % 2 == 0:
            order.reverse()
        row = {}
        for name in order:
            if name == "pantasks":
                row[name] = run_child("pantasks", args.jobs, args.concurrency)
            elif name == "bare spawn":
                row[name] = run_child("bare", args.jobs, args.concurrency)
            else:
                row[name] = run_parallel(args.parallel_jobs, args.concurrency)
            if row[name] is not None:
                rates[name].append(row[name])
        par = row["GNU parallel"]
        print(f"{r:>5}  {row['pantasks']:>10.0f}  {row['bare spawn']:>10.0f}  "
              f"{par if par is None else round(par):>12}")
    med = {k: statistics.median(v) if v else None for k, v in rates.items()}
    ratio_bare = med["pantasks"] / med["bare spawn"]
    line = (f"{'median':>5}  {med['pantasks']:>10.0f}  {med['bare spawn']:>10.0f}  "
            f"{'n/a' if med['GNU parallel'] is None else round(med['GNU parallel']):>12}")
    print(line)
    if med["GNU parallel"]:
        ratio_par = med["pantasks"] / med["GNU parallel"]
        par_text = f", {ratio_par:.2f} vs GNU parallel"
    else:
        par_text = ", GNU parallel not installed (apt-get install parallel)"
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print(f"RESULT dispatch {med['pantasks']:.0f} jobs/s "
          f"(ratio {ratio_bare:.2f} vs bare spawn{par_text})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
