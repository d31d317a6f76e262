# -*- test-case-name: tests.net.test_bench -*-
"""The C{clients} benchmark: many authenticated clients at once.

50 clients log in with C{AUTH} to a real C{pantasks_server} and each runs
200 mixed commands (C{echo}, an assignment read back, C{status},
C{showtask}, an unknown command) one after another, while a task launches
8 jobs per second.  Every reply is checked against what that request
must produce.  Bars (benchmarks.md): 0 wrong or lost replies, p99 <= 50 ms.
The clients are asyncio coroutines in one process (no GIL contention
between client threads skews the times).

Usage: C{python bench/clients.py [--clients N] [--commands N]}; the last
line is C{RESULT clients <p99> ms p99, <wrong> wrong, <lost> lost
(<n> replies, <rate> req/s)}.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from latency import PASSWORD, Client, machine, percentile, start_server  # noqa: E402

from pantasks.net.auth import hmac_response  # noqa: E402

CONF = "[users]\nbench = {pw}, control\n"


async def one_client(port: int, i: int, commands: int, stats: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def line() -> str:
        data = await reader.readline()
        if not data:
            raise EOFError
        return data.decode().rstrip("\n")

    async def ask(text: str) -> tuple[list[str], str]:
        writer.write(text.encode() + b"\n")
        out = []
        while True:
            reply = await line()
            if reply.startswith("STATUS ") or reply.startswith("MORE "):
                return out, reply
            out.append(reply)

    try:
        nonce = (await line()).split()[3]
        writer.write(f"AUTH bench {hmac_response(PASSWORD, nonce)}\n".encode())
        if await line() != "OK bench control":
            stats["wrong"] += commands
            return
        for k in range(commands):
            kind = k % 5
            t0 = time.perf_counter()
            if kind == 0:
                got = await ask(f"echo c{i}-{k}")
                ok = got == ([f"O c{i}-{k}"], "STATUS 1")
            elif kind == 1:
                got = await ask(f"$b{i} = {k} * 2; echo $b{i}")
                ok = got == ([f"O {k * 2}"], "STATUS 1")
            elif kind == 2:
                got = await ask("status")
                ok = got[1] == "STATUS 1" and any(" tick " in x for x in got[0])
            elif kind == 3:
                got = await ask("showtask tick")
                ok = got[1] == "STATUS 1" and any("tick" in x for x in got[0])
            else:
                got = await ask(f"nosuch{i}x{k}")
                ok = got == ([f"E nosuch{i}x{k}: Command not found."], "STATUS 0")
            stats["times"].append(time.perf_counter() - t0)
            if ok:
                stats["good"] += 1
            else:
                stats["wrong"] += 1
                if len(stats["examples"]) < 5:
                    stats["examples"].append((i, k, got))
        writer.write(b"QUIT\n")
        await writer.drain()
    except (EOFError, ConnectionError) as e:
        stats["errors"].append(f"client {i}: {e!r}")
    finally:
        writer.close()


async def run_all(port: int, clients: int, commands: int, stats: dict) -> float:
    t0 = time.perf_counter()
    await asyncio.gather(*(one_client(port, i, commands, stats) for i in range(clients)))
    return time.perf_counter() - t0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--commands", type=int, default=200)
    p.add_argument("--jobs-per-second", type=float, default=8.0)
    args = p.parse_args(argv)

    server = start_server(conf=CONF.format(pw=PASSWORD))
    try:
        admin = Client(server.port)
        for text in ["task tick", "command true", f"periods -exec {1 / args.jobs_per_second}",
                     "end", "run"]:
            admin.ask(text)
        time.sleep(1.0)
        _out, _ = admin.ask("status")
        stats: dict = {"times": [], "good": 0, "wrong": 0, "errors": [], "examples": []}
        elapsed = asyncio.run(run_all(server.port, args.clients, args.commands, stats))
        out, _ = admin.ask("status")
        row = next((x.decode() for x in out if b" tick " in x), "")
        admin.ask("stop")
        admin.close()
    finally:
        server.stop()

    expected = args.clients * args.commands
    times = sorted(stats["times"])
    lost = expected - stats["good"] - stats["wrong"]
    p50, p99 = percentile(times, .5) * 1e3, percentile(times, .99) * 1e3
    rate = len(times) / elapsed if elapsed else 0
    print(f"clients: {args.clients} clients x {args.commands} mixed commands, "
          f"task at {args.jobs_per_second:g} jobs/s; {machine()}")
    print(f"{'replies':>8}  {'wrong':>6}  {'lost':>5}  {'p50 ms':>7}  {'p99 ms':>7}  "
          f"{'max ms':>7}  {'mean ms':>7}  {'req/s':>7}")
    print(f"{len(times):>8}  {stats['wrong']:>6}  {lost:>5}  {p50:>7.2f}  {p99:>7.2f}  "
          f"{times[-1] * 1e3 if times else 0:>7.2f}  "
          f"{statistics.mean(times) * 1e3 if times else 0:>7.2f}  {rate:>7.0f}")
    print(f"task row after the run: {row.strip()}")
    for example in stats["examples"]:
        print(f"wrong reply: client {example[0]} request {example[1]}: {example[2]!r}")
    for error in stats["errors"][:5]:
        print(f"error: {error}")
    ok = stats["wrong"] == 0 and lost == 0 and p99 <= 50
    print(f"bars: 0 wrong or lost replies, p99 <= 50 ms: {'meets' if ok else 'MISSES'}")
    print(f"RESULT clients {p99:.2f} ms p99, {stats['wrong']} wrong, {lost} lost "
          f"({len(times)} replies, {rate:.0f} req/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
