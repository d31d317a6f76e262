# -*- test-case-name: tests.net.test_engine_process -*-
"""The C{fairness} benchmark: no request holds the server.

One client times C{echo x} round trips against a real C{pantasks_server}
in three phases of the same run, alternated round by round:

  - idle: nothing else runs (the reference);
  - loop: another client runs C{while (1)} / C{end};
  - loop+book: a third client also loads 100,000 book pages
    (C{queueload -x} of a MULTI/METADATA file, then C{ipptool2book}),
    again and again.

The busy clients are interrupted (C{INTERRUPT}) at the end of each phase.
Bar (benchmarks.md): p99 of the busy phases <= 3 x slice + the idle p99.

Usage: C{python bench/fairness.py [--requests N] [--rounds R]}; the last
line is C{RESULT fairness <p99> ms p99 busy (bar <b> ms; idle p99 <i> ms)}.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from latency import Client, machine, percentile, start_server  # noqa: E402

SLICE_MS = 10.0
PAGES = 100_000


def write_pages(path: str, n: int) -> None:
    with open(path, "w") as f:
        f.write("chipPendingImfile MULTI\n")
        for i in range(n):
            f.write(f"chipPendingImfile METADATA\n  chip_id S64 {i}\n"
                    f"  class_id STR XY{i % 60:02d}\n  state STR new\nEND\n")


class Busy(threading.Thread):
    """A client that keeps the server busy until stopped."""

    def __init__(self, port: int, lines: list[str]) -> None:
        super().__init__(daemon=True)
        self.client = Client(port)
        self.lines = lines
        self.stop = threading.Event()
        self.done = 0

    def run(self) -> None:
        c = self.client
        while not self.stop.is_set():
            c.sock.sendall("".join(ln + "\n" for ln in self.lines).encode())
            while True:  # MORE lines, then the reply's STATUS
                line = c.readline()
                if line.startswith(b"STATUS "):
                    break
            self.done += 1

    def halt(self) -> None:
        self.stop.set()
        self.client.sock.sendall(b"INTERRUPT\n")
        self.join(120)
        self.client.close()


def echo_times(client: Client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out, status = client.ask("echo x")
        times.append(time.perf_counter() - t0)
        if out != [b"O x"] or status != b"STATUS 1":
            raise SystemExit(f"wrong reply: {out!r} {status!r}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pages", type=int, default=PAGES)
    args = ap.parse_args()
    server = start_server()
    try:
        pages = os.path.join(server.tmp.name, "pages.mdc")
        write_pages(pages, args.pages)
        me = Client(server.port)
        load = [f'queueload pages -x "cat {pages}"', "ipptool2book pages big -key chip_id",
                "book delete big"]
        phases: dict[str, list[float]] = {"idle": [], "loop": [], "loop+book": []}
        loads = 0
        for _ in range(args.rounds):
            phases["idle"] += echo_times(me, args.requests)
            looper = Busy(server.port, ["while (1)", "end"])
            looper.start()
            time.sleep(0.2)
            phases["loop"] += echo_times(me, args.requests)
            loader = Busy(server.port, load)
            loader.start()
            time.sleep(0.2)
            phases["loop+book"] += echo_times(me, args.requests)
            loader.halt()
            looper.halt()
            loads += loader.done
        print(f"fairness: echo round trips, {args.rounds} rounds x {args.requests} per phase; "
              f"{args.pages} pages per load ({loads} loads done); slice {SLICE_MS:g} ms; "
              f"{machine()}")
        print(f"{'phase':<10s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}")
        p99 = {}
        for name, times in phases.items():
            times.sort()
            p99[name] = percentile(times, 0.99) * 1000
            print(f"{name:<10s} {percentile(times, 0.5) * 1000:8.2f} {p99[name]:8.2f} "
                  f"{times[-1] * 1000:8.2f}")
        bar = 3 * SLICE_MS + p99["idle"]
        busy = max(p99["loop"], p99["loop+book"])
        print(f"RESULT fairness {busy:.2f} ms p99 busy (bar {bar:.2f} ms; "
              f"idle p99 {p99['idle']:.2f} ms)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
