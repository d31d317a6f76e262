"""The C{scale} benchmark: a server holding 10,000 tasks and 100,000 book
pages.

A real C{pantasks_server} gets 10,000 tasks (C{server input}, inactive so
that nothing runs), then loads 100,000 pages of ipptool-like MDC text the
way scripts do (C{queueload tmp -x "cat FILE"}, then C{ipptool2book tmp
BOOK -key chip_id:class_id -uniq -setword pantaskState INIT}, in batches
of 20,000 pages, as exit macros load job output; a captured output is
capped at 16 MB).  Measured:
the server's resident memory (C{VmRSS}, and its peak C{VmHWM}), the time
of C{status -tasks}, the load time, and the longest the load held the
reactor.  The hold is seen from outside: a second client sends C{echo x}
round trips all through the load; its slowest round trip, less the idle
median, is how long the server could not answer.

Bars (benchmarks.md): RSS <= 300 MB; C{status -tasks} <= 100 ms (median);
loading never holds the reactor longer than one slice (10 ms; the probe's
idle p99 from the same run is allowed on top, as noise of a shared
machine).  There is no reference to alternate with: the figures are
absolute.

Usage: C{python bench/scale.py [--tasks N] [--pages N] [--requests N]};
the last line is C{RESULT scale <rss> MB RSS, status -tasks <ms> ms, load
<s> s, longest hold <ms> ms}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from latency import Client, machine, percentile, start_server  # noqa: E402

#: The default time slice (pantasks.conf [limits] slice), in ms.
SLICE_MS = 10.0


def task_script(tasks: int) -> str:
    out = []
    for i in range(tasks):
        out += [f"task scale{i:05d}", f"  command echo task {i}", "  periods -exec 3600",
                "  active false", "end"]
    return "\n".join(out) + "\n"


def mdc_text(pages: int, first: int = 0) -> str:
    """C{pages} blocks of chipPendingImfile output (10 words each),
    numbered from C{first}."""
    parts = ["chipPendingImfile MULTI\n"]
    for i in range(first, first + pages):
        parts.append(
            "\nchipPendingImfile  METADATA\n"
            f"   chip_id          S64       {i // 60}\n"
            f"   class_id         STR       XY{i % 60:02d}\n"
            f"   exp_id           S64       {100000 + i // 60}\n"
            f"   exp_name         STR       o5{i // 60:07d}g0001o\n"
            "   camera           STR       GPC1\n"
            "   telescope        STR       PS1\n"
            f"   uri              STR       neb://ipp0{i % 90:02d}.0/gpc1/{i}.fits\n"
            "   workdir          STR       neb://@HOST@.0/gpc1/20261202\n"
            "   label            STR       OSS.nightlyscience\n"
            "   fault            S16       0\n"
            "END\n")
    return "".join(parts)


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of process C{pid}, in MB."""
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


class Probe(threading.Thread):
    """C{echo x} round trips, one after another, until stopped."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.client = Client(port)
        self.times: list[float] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            t0 = time.perf_counter()
            out, status = self.client.ask("echo x")
            self.times.append(time.perf_counter() - t0)
            assert status == b"STATUS 1", (out, status)

    def stop(self) -> list[float]:
        self.running = False
        self.join(30)
        return sorted(self.times)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=10000)
    p.add_argument("--pages", type=int, default=100000)
    p.add_argument("--batch", type=int, default=20000,
                   help="pages per queueload + ipptool2book (captured output is capped at 16 MB)")
    p.add_argument("--requests", type=int, default=20, help="status -tasks requests")
    args = p.parse_args(argv)

    server = start_server()
    try:
        pid = server.proc.pid
        d = server.tmp.name
        with open(os.path.join(d, "tasks.pro"), "w") as f:
            f.write(task_script(args.tasks))
        batches = []
        for first in range(0, args.pages, args.batch):
            name = f"pages{len(batches)}.mdc"
            with open(os.path.join(d, name), "w") as f:
                f.write(mdc_text(min(args.batch, args.pages - first), first))
            batches.append(name)
        c = Client(server.port)
        idle_rss, _ = memory_mb(pid)

        t0 = time.perf_counter()
        out, status = c.ask(f"server input {os.path.join(d, 'tasks.pro')}")
        assert status == b"STATUS 1", (out[-3:], status)
        tasks_load = time.perf_counter() - t0

        # the probe's idle round trips, then the same probe during the load
        probe = Probe(server.port)
        probe.start()
        time.sleep(2.0)
        idle = probe.stop()
        probe = Probe(server.port)
        probe.start()
        time.sleep(0.2)
        start = time.perf_counter()
        queueload = ipptool2book = 0.0
        for name in batches:
            t0 = time.perf_counter()
            out, status = c.ask(f'queueload tmp -x "cat {name}"')
            assert status == b"STATUS 1" and not out, (out[-3:], status)
            t1 = time.perf_counter()
            out, status = c.ask(
                "ipptool2book tmp pages -key chip_id:class_id -uniq -setword pantaskState INIT")
            assert status == b"STATUS 1" and not out, (out[-3:], status)
            t2 = time.perf_counter()
            queueload += t1 - t0
            ipptool2book += t2 - t1
        time.sleep(0.2)
        during = probe.stop()
        out, _ = c.ask("book npages pages -key pantaskState INIT -var n")
        out, _ = c.ask("echo $n")
        assert out == [f"O {args.pages}".encode()], out
        rss, hwm = memory_mb(pid)

        st: list[float] = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            out, status = c.ask("status -tasks")
            st.append(time.perf_counter() - t0)
            assert status == b"STATUS 1"
        lines = len(out)
        st.sort()
        status_ms = statistics.median(st) * 1e3

        idle_med = statistics.median(idle) * 1e3
        idle_p99 = percentile(idle, 0.99) * 1e3
        hold = during[-1] * 1e3 - idle_med
        load_s = t2 - start
        print(f"scale: {args.tasks} tasks, {args.pages} book pages (10 words each, loaded in "
              f"{len(batches)} batches); {machine()}")
        print(f"(server input of the tasks took {tasks_load:.2f} s; status -tasks is "
              f"{lines} lines)")
        print(f"{'measure':<34} {'value':>10}  bar")
        print(f"{'RSS idle':<34} {idle_rss:>8.0f} MB")
        print(f"{'RSS with tasks and pages':<34} {rss:>8.0f} MB  <= 300 MB")
        print(f"{'RSS peak (VmHWM)':<34} {hwm:>8.0f} MB")
        print(f"{'status -tasks median':<34} {status_ms:>8.1f} ms  <= 100 ms")
        print(f"{'status -tasks p90':<34} {percentile(st, 0.9) * 1e3:>8.1f} ms")
        print(f"{'queueload (cat), all batches':<34} {queueload:>8.2f} s")
        print(f"{'ipptool2book, all batches':<34} {ipptool2book:>8.2f} s")
        print(f"{'echo x idle: n, median, p99, max':<34} {len(idle):>5d}, {idle_med:.2f}, "
              f"{idle_p99:.2f}, {idle[-1] * 1e3:.1f} ms")
        print(f"{'echo x during load: n, p99, max':<34} {len(during):>5d}, "
              f"{percentile(during, 0.99) * 1e3:.1f}, {during[-1] * 1e3:.1f} ms")
        print(f"{'longest hold (max - idle median)':<34} {hold:>8.1f} ms  "
              f"<= {SLICE_MS:.0f} ms + idle p99")
        ok = rss <= 300 and status_ms <= 100 and hold <= SLICE_MS + idle_p99
        print(f"bars: {'meets' if ok else 'MISSES'}")
        print(f"RESULT scale {rss:.0f} MB RSS, status -tasks {status_ms:.1f} ms, "
              f"load {load_s:.2f} s, longest hold {hold:.1f} ms")
        c.ask("shutdown now")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
