# -*- test-case-name: tests.net.test_bench -*-
"""The C{latency} benchmark: round trip of C{echo x} over the line protocol.

A real C{pantasks_server} on loopback answers C{echo x} (C{O x} then
C{STATUS 1}); the reference, in the same run and alternated round by
round, is a minimal Twisted C{LineReceiver} echo server in its own
process.  One client sends a request, waits for the whole reply, and
times it.  Bars (benchmarks.md): p50 <= 3 x the echo server, p99 <= 5 ms.

Usage: C{python bench/latency.py [--requests N] [--rounds R]}; the last
line is C{RESULT latency <p50> ms p50, <p99> ms p99 (ratio <r> vs echo
server)}.

The helpers here (L{start_server}, L{Client}) are shared by the other
network benchmarks, C{status.py} and C{clients.py}.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PASSWORD = "bench-" + secrets.token_hex(8)


# -- servers -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process started by L{start_server} or L{start_echo_server}."""

    def __init__(self, proc: subprocess.Popen, port: int, tmp: Any) -> None:
        self.proc = proc
        self.port = port
        self.tmp = tmp

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmp is not None:
            self.tmp.cleanup()


def _wait_port(proc: subprocess.Popen, pattern: bytes) -> int:
    deadline = time.monotonic() + 30
    seen = b""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    proc.kill()
    raise SystemExit(f"server did not start: {seen.decode(errors='replace')}")


def start_server(extra_rc: str = "", conf: str = "") -> Server:
    """
    A real C{pantasks_server} in a temporary directory, its log in files
    there, on the first free port from a free one.
    """
    tmp = tempfile.TemporaryDirectory(prefix="pantasks-bench-")
    d = tmp.name
    base = free_port()
    with open(os.path.join(d, "ptolemy.rc"), "w") as f:
        f.write(f"# bench\nPASSWORD {PASSWORD}\nPANTASKS_SERVER_PORT {base}:{base + 20}\n"
                f"PANTASKS_SERVER_STDOUT {d}/server.out\n"
                f"PANTASKS_SERVER_STDERR {d}/server.err\n{extra_rc}")
    args = ["-c", "ptolemy.rc"]
    if conf:
        with open(os.path.join(d, "pantasks.conf"), "w") as f:
            f.write(conf)
        args += ["--config", "pantasks.conf"]
    exe = os.path.join(os.path.dirname(sys.executable), "pantasks_server")
    argv = [exe] if os.path.exists(exe) else [sys.executable, "-m", "pantasks.cli.server"]
    env = dict(os.environ, PYTHONPATH=ROOT, HOME=d)
    env.pop("PTOLEMY", None)
    proc = subprocess.Popen(argv + args, cwd=d, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return Server(proc, _wait_port(proc, rb"bound to port: (\d+)"), tmp)


def start_echo_server() -> Server:
    """The reference: a minimal Twisted LineReceiver echo server."""
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--echo-server"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    return Server(proc, _wait_port(proc, rb"listening (\d+)"), None)


def echo_server_main() -> None:
    from twisted.internet import reactor
    from twisted.internet.protocol import ServerFactory
    from twisted.protocols.basic import LineReceiver

    class Echo(LineReceiver):
        delimiter = b"\n"

        def lineReceived(self, line: bytes) -> None:
            self.sendLine(line)

    factory = ServerFactory.forProtocol(Echo)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    print(f"listening {port.getHost().port}", flush=True)
    reactor.run()


# -- a blocking client ----------------------------------------------------------
class Client:
    """A plain socket client of the line protocol."""

    def __init__(self, port: int, login: bool = True) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), 30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.lines: deque[bytes] = deque()
        if login:
            greeting = self.readline()
            assert greeting.startswith(b"PANTASKS 1 "), greeting
            self.sock.sendall(f"PASS {PASSWORD}\n".encode())
            ok = self.readline()
            assert ok.startswith(b"OK "), ok

    def readline(self) -> bytes:
        while not self.lines:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("server closed the connection")
            parts = (self.buf + chunk).split(b"\n")
            self.buf = parts.pop()
            self.lines.extend(parts)
        return self.lines.popleft()

    def ask(self, line: str) -> tuple[list[bytes], bytes]:
        """Send one request; return (output lines, STATUS/MORE line)."""
        self.sock.sendall(line.encode() + b"\n")
        out = []
        while True:
            reply = self.readline()
            if reply.startswith(b"STATUS ") or reply.startswith(b"MORE "):
                return out, reply
            out.append(reply)

    def close(self) -> None:
        self.sock.close()


def percentile(sorted_values: list[float], q: float) -> float:
    """The C{q} quantile (0..1) of already sorted values (nearest rank)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpus} CPUs{', ' + model if model else ''}, Python {sys.version.split()[0]}"


# -- the benchmark -----------------------------------------------------------
def time_pantasks(client: Client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out, status = client.ask("echo x")
        times.append(time.perf_counter() - t0)
        if out != [b"O x"] or status != b"STATUS 1":
            raise SystemExit(f"wrong reply: {out!r} {status!r}")
    return times


def time_echo(client: Client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.sock.sendall(b"echo x\n")
        line = client.readline()
        times.append(time.perf_counter() - t0)
        if line != b"echo x":
            raise SystemExit(f"wrong echo: {line!r}")
    return times


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=20000, help="requests per contender")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.echo_server:
        echo_server_main()
        return 0

    per_round = max(1, args.requests // args.rounds)
    pantasks = start_server()
    echo = start_echo_server()
    try:
        pc = Client(pantasks.port)
        ec = Client(echo.port, login=False)
        time_pantasks(pc, 500)  # warm up both
        time_echo(ec, 500)
        all_p: list[float] = []
        all_e: list[float] = []
        print(f"latency: 'echo x' round trips on loopback, {per_round * args.rounds} per "
              f"contender in {args.rounds} alternated rounds; {machine()}")
        print(f"{'round':>5}  {'pantasks p50':>12}  {'p99':>8}  {'echo srv p50':>12}  {'p99':>8}"
              "  (ms)")
        for r in range(1, args.rounds + 1):
            order = ["pantasks", "echo"] if r % 2 else ["echo", "pantasks"]
            row: dict[str, list[float]] = {}
            for name in order:
                row[name] = (time_pantasks(pc, per_round) if name == "pantasks"
                             else time_echo(ec, per_round))
            all_p += row["pantasks"]
            all_e += row["echo"]
            ps, es = sorted(row["pantasks"]), sorted(row["echo"])
            print(f"{r:>5}  {percentile(ps, .5) * 1e3:>12.3f}  {percentile(ps, .99) * 1e3:>8.3f}"
                  f"  {percentile(es, .5) * 1e3:>12.3f}  {percentile(es, .99) * 1e3:>8.3f}")
        all_p.sort()
        all_e.sort()
        p50, p99 = percentile(all_p, .5) * 1e3, percentile(all_p, .99) * 1e3
        e50, e99 = percentile(all_e, .5) * 1e3, percentile(all_e, .99) * 1e3
        print(f"{'all':>5}  {p50:>12.3f}  {p99:>8.3f}  {e50:>12.3f}  {e99:>8.3f}")
        ratio = p50 / e50
        verdict = "meets" if ratio <= 3 and p99 <= 5 else "MISSES"
        print(f"bars: p50 <= 3 x echo server, p99 <= 5 ms: {verdict}")
        print(f"RESULT latency {p50:.3f} ms p50, {p99:.3f} ms p99 "
              f"(ratio {ratio:.2f} vs echo server)")
        pc.close()
        ec.close()
    finally:
        pantasks.stop()
        echo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
