# -*- test-case-name: tests.web.test_web_server -*-
"""The C{web} benchmark: the status page and C{/metrics} of a busy server.

A real C{pantasks_server} with the web page on loopback holds 1,000 tasks
and 500 running jobs (500 tasks each run one long C{sleep}; the other 500
ran two short jobs each, so every task has its metric series).  Timed:

  - the overview page and C{/metrics}, one request after another on a
    kept-alive connection (median, p90);
  - the protocol's C{echo x} round trip, idle and while a second client
    loads the overview 20 times a second (p99 of each, same run).

Bars (issue 13): median page <= 50 ms, median metrics <= 30 ms, echo p99
under page load <= 2 x idle echo p99.

Usage: C{python bench/web.py [--requests N] [--echoes N]}; the last line
is C{RESULT web ...}.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import re
import sys
import threading
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from latency import (  # noqa: E402
    PASSWORD,
    Client,
    machine,
    percentile,
    start_server,
    time_pantasks,
)

TASKS = 1000
RUNNING = 500


def web_url(server_dir: str, timeout: float = 30.0) -> tuple[str, int]:
    """The web page's host and port, from the server log."""
    deadline = time.monotonic() + timeout
    path = os.path.join(server_dir, "server.out")
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                m = re.search(r"web page at http://([\d.]+):(\d+)/", f.read())
        except OSError:
            m = None
        if m:
            return m.group(1), int(m.group(2))
        time.sleep(0.2)
    raise SystemExit("the web page did not start")


class Web:
    """A kept-alive HTTP client with the bench user's Basic credentials."""

    def __init__(self, host: str, port: int) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        token = base64.b64encode(f"pantasks:{PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def get(self, path: str) -> bytes:
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
        return body

    def timed(self, path: str, n: int) -> tuple[list[float], int]:
        times = []
        size = 0
        for _ in range(n):
            t0 = time.perf_counter()
            size = len(self.get(path))
            times.append(time.perf_counter() - t0)
        return sorted(times), size


def populate(client: Client) -> None:
    """1,000 tasks; 500 of them keep one job running."""
    lines = []
    for i in range(TASKS):
        if i < RUNNING:
            body = ["command sleep 3600", "periods -exec 0.05 -timeout 0", "nmax 1"]
        else:
            body = ["command true", "periods -exec 0.2 -timeout 60", "nmax 2"]
        lines += [f"task bench{i:04d}", *body, "end"]
    for line in lines:
        client.ask(line)
    client.ask("run")


def wait_running(web: Web, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = web.get("/metrics").decode()
        running = re.search(r"^pantasks_jobs_running (\S+)$", text, re.M)
        ended = sum(float(v) for v in re.findall(
            r'^pantasks_jobs_ended_total\{outcome="success",task="bench\d+"\} (\S+)$', text,
            re.M))
        if running and float(running.group(1)) >= RUNNING and ended >= 2 * (TASKS - RUNNING):
            return
        time.sleep(1)
    raise SystemExit("the jobs did not all start")


def page_load(host: str, port: int, rate: float, stop: threading.Event,
              counts: list[int]) -> None:
    """Load the overview C{rate} times a second until C{stop}."""
    web = Web(host, port)
    period = 1.0 / rate
    due = time.monotonic()
    while not stop.is_set():
        web.get("/")
        counts[0] += 1
        due += period
        delay = due - time.monotonic()
        if delay > 0:
            stop.wait(delay)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200, help="page and metrics requests")
    p.add_argument("--echoes", type=int, default=3000, help="echo requests per phase")
    args = p.parse_args(argv)

    server = start_server(conf="[web]\nendpoint = tcp:0:interface=127.0.0.1\n"
                               "[jobs]\nexec_jitter = false\n")
    try:
        host, port = web_url(server.tmp.name)
        client = Client(server.port)
        print(f"web: {TASKS} tasks, {RUNNING} running jobs; {machine()}")
        t0 = time.monotonic()
        populate(client)
        web = Web(host, port)
        wait_running(web)
        print(f"set up in {time.monotonic() - t0:.1f} s")
        web.timed("/", 20)  # warm up
        web.timed("/metrics", 5)
        page, page_size = web.timed("/", args.requests)
        metrics, metrics_size = web.timed("/metrics", args.requests)
        tasks, tasks_size = web.timed("/tasks", max(5, args.requests // 10))
        for name, times, size in (("overview", page, page_size),
                                  ("/metrics", metrics, metrics_size),
                                  ("tasks (page 1)", tasks, tasks_size)):
            print(f"{name:>14}: median {percentile(times, .5) * 1e3:7.2f} ms, "
                  f"p90 {percentile(times, .9) * 1e3:7.2f} ms, {size} bytes")

        time_pantasks(client, 300)  # warm up
        idle = sorted(time_pantasks(client, args.echoes))
        stop = threading.Event()
        counts = [0]
        loader = threading.Thread(target=page_load, args=(host, port, 20.0, stop, counts),
                                  daemon=True)
        started = time.monotonic()
        loader.start()
        loaded = sorted(time_pantasks(client, args.echoes))
        stop.set()
        loader.join(30)
        rate = counts[0] / (time.monotonic() - started)
        idle99, loaded99 = percentile(idle, .99) * 1e3, percentile(loaded, .99) * 1e3
        print(f"echo p99: idle {idle99:.3f} ms, during page load ({rate:.1f} pages/s) "
              f"{loaded99:.3f} ms; p50 {percentile(idle, .5) * 1e3:.3f} / "
              f"{percentile(loaded, .5) * 1e3:.3f} ms")
        page50, metrics50 = percentile(page, .5) * 1e3, percentile(metrics, .5) * 1e3
        ratio = loaded99 / idle99
        ok = page50 <= 50 and metrics50 <= 30 and ratio <= 2
        print(f"bars: page <= 50 ms, metrics <= 30 ms, echo p99 loaded <= 2 x idle: "
              f"{'meets' if ok else 'MISSES'}")
        print(f"RESULT web page {page50:.2f} ms, metrics {metrics50:.2f} ms, "
              f"echo p99 {loaded99:.3f} ms loaded vs {idle99:.3f} ms idle (x{ratio:.2f})")
        client.ask("stop")
        client.ask("flush jobs")
        client.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
