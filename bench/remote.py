# -*- test-case-name: tests.exec.test_bench_remote -*-
"""The C{remote} benchmark: jobs per second of C{true} through 8 controller
slots over real SSH to C{pantasks_agent} on localhost.

A private sshd on 127.0.0.1 (keys generated for the run, see
C{tests/exec/sshd.py}) is the remote host.  Contenders, alternated round by
round, each in a fresh child process:

  - C{remote}: a L{RemoteRunner} with 8 slots (8 ssh connections, 8 agents;
    connecting is not timed), keeping 8 jobs in flight until N have ended;
  - C{local}: the local process pool (L{LocalRunner}) with 8 jobs in flight,
    the same runner-level loop (the "local dispatch" reference);
  - C{GNU parallel}: C{parallel --sshlogin 8/localhost true}, one ssh per
    job as GNU parallel does by default.

Medians are reported; the bars are >= 5 x GNU parallel over SSH and
>= 0.3 x local dispatch.  Both pantasks contenders are measured at the
runner (the scheduler does not yet send tasks to the controller); once it
does, this should run a C{host anyhost} task instead.

Needs root (sshd) and openssh-server, openssh-client and parallel
(C{make debs}).  Usage: C{python bench/remote.py [--jobs N]
[--parallel-jobs N] [--rounds R]}; the last line is C{RESULT remote <jobs/s>
jobs/s (ratio <r> vs GNU parallel over SSH, <l> vs local dispatch)}.
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
SLOTS = 8


def one_runner(kind: str, jobs: int, connect_command: str) -> float:
    """Run C{jobs} C{true} jobs, 8 in flight, on a remote or local runner;
    return the seconds from the first start to the last result."""
    sys.path.insert(0, ROOT)
    from twisted.internet import defer, reactor, task

    from pantasks.exec.interfaces import JobSpec
    from pantasks.exec.local import LocalRunner
    from pantasks.exec.remote.runner import RemoteRunner
    from pantasks.exec.remote.slot import IDLE

    box: dict[str, Any] = {"started": 0, "ended": 0}
    true = shutil.which("true") or "/bin/true"

    @defer.inlineCallbacks
    def go() -> Any:
        if kind == "remote":
            runner = RemoteRunner(reactor, connect_command=connect_command)
            slots = [runner.add_slot("hosta") for _ in range(SLOTS)]
            while not all(s.state == IDLE for s in slots):
                bad = [s.error for s in slots if s.error]
                if bad:
                    raise SystemExit(f"remote: slot down: {bad[0]}")
                yield task.deferLater(reactor, 0.05, lambda: None)
        else:
            runner = LocalRunner(reactor)
        done: defer.Deferred = defer.Deferred()

        def ended(result: Any) -> None:
            if result.state != "EXIT" or result.exit_status:
                done.errback(RuntimeError(f"job ended {result.state} {result.exit_status}"))
                return
            box["ended"] += 1
            if box["ended"] == jobs:
                box["t1"] = time.perf_counter()
                done.callback(None)
            else:
                start()

        def start() -> None:
            if box["started"] < jobs:
                box["started"] += 1
                runner.start(JobSpec(box["started"], [true])).addCallback(ended)

        box["t0"] = time.perf_counter()
        for _ in range(SLOTS):
            start()
        yield done
        if kind == "remote":
            yield runner.close()

    def run() -> None:
        d = go()
        d.addErrback(lambda f: box.setdefault("error", f.getErrorMessage()))
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(run)
    reactor.run()
    if "error" in box:
        raise SystemExit(box["error"])
    return box["t1"] - box["t0"]


def run_child(kind: str, jobs: int, connect_command: str) -> float:
    """Run one pantasks contender in a fresh interpreter; return jobs/s."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--one", kind, "--jobs", str(jobs),
         "--connect-command", connect_command],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    seconds = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    return jobs / seconds


def run_parallel(jobs: int, ssh_config: str) -> Optional[float]:
    """GNU parallel: C{true} C{jobs} times on C{8/localhost} over ssh."""
    parallel = shutil.which("parallel")
    if parallel is None:
        return None
    seq = "".join(f"{i}\n" for i in range(jobs)).encode()
    t0 = time.perf_counter()
    subprocess.run(
        [parallel, "--will-cite", "--ssh", f"ssh -F {ssh_config}",
         "--sshlogin", f"{SLOTS}/localhost", "-N0", "true"],
        input=seq, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
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
    p.add_argument("--jobs", type=int, default=2000, help="jobs per pantasks round")
    p.add_argument("--parallel-jobs", type=int, default=100,
                   help="jobs per GNU parallel round (one ssh each: slow)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--one", choices=("remote", "local"), help=argparse.SUPPRESS)
    p.add_argument("--connect-command", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.one:
        seconds = one_runner(args.one, args.jobs, args.connect_command)
        print(json.dumps({"seconds": seconds}))
        return 0

    sys.path.insert(0, ROOT)
    from tests.exec.sshd import SKIP_REASON, SSHServer

    if SKIP_REASON:
        print(f"remote: skipped: {SKIP_REASON}")
        return 0
    server = SSHServer().start()
    try:
        # GNU parallel logs in as "localhost": an alias of the private sshd.
        with open(server.ssh_config) as f:
            config = f.read()
        with open(server.ssh_config, "w") as f:
            f.write(config.replace("Host hosta\n", "Host hosta localhost\n", 1))
        with open(server.path("known_hosts"), "a") as f, open(server.path("host_key.pub")) as k:
            f.write("localhost " + " ".join(k.read().split()[:2]) + "\n")
        return measure(args, server)
    finally:
        server.stop()


def measure(args: argparse.Namespace, server: Any) -> int:
    names = ["remote", "local", "GNU parallel"]
    rates: dict[str, list[float]] = {name: [] for name in names}
    print(f"remote: 'true' jobs, {SLOTS} in flight; {args.jobs} per pantasks round, "
          f"{args.parallel_jobs} per GNU parallel round; {args.rounds} alternated rounds")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    print(f"{'round':>5}  {'remote':>8}  {'local':>8}  {'GNU parallel':>12}  (jobs/s)")
    for r in range(1, args.rounds + 1):
        order = names if r % 2 else names[::-1]
        row: dict[str, Optional[float]] = {}
        for name in order:
            if name == "GNU parallel":
                row[name] = run_parallel(args.parallel_jobs, server.ssh_config)
            else:
                row[name] = run_child(name, args.jobs, server.connect_command)
            if row[name] is not None:
                rates[name].append(row[name])
        par = row["GNU parallel"]
        print(f"{r:>5}  {row['remote']:>8.0f}  {row['local']:>8.0f}  "
              f"{'n/a' if par is None else f'{par:.1f}':>12}")
    med = {k: statistics.median(v) if v else None for k, v in rates.items()}
    par = med["GNU parallel"]
    print(f"{'median':>5}  {med['remote']:>8.0f}  {med['local']:>8.0f}  "
          f"{'n/a' if par is None else f'{par:.1f}':>12}")
    ratio_local = med["remote"] / med["local"]
    if par:
        ratio_par = med["remote"] / par
        par_text = f"ratio {ratio_par:.1f} vs GNU parallel over SSH"
        meets = ratio_par >= 5 and ratio_local >= 0.3
        print(f"bars: >= 5 x GNU parallel over SSH, >= 0.3 x local dispatch: "
              f"{'meets' if meets else 'DOES NOT MEET'}")
    else:
        par_text = "GNU parallel not installed (apt-get install parallel)"
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print(f"RESULT remote {med['remote']:.0f} jobs/s ({par_text}, "
          f"{ratio_local:.2f} vs local dispatch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
