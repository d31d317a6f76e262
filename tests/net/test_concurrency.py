# -*- test-case-name: tests.net.test_concurrency -*-
"""Concurrency against a real C{pantasks_server}: 50 clients at once, 100
commands each, while a task launches jobs and one more client runs
C{exec sleep 10}.  Every reply must be the right one, none lost, and the
sleeping client must delay nobody."""

from __future__ import annotations

import threading
import time

from tests.net.procs import Conn, ServerProcess

CLIENTS = 50
COMMANDS = 100


def test_fifty_clients_while_jobs_run(main_server: ServerProcess) -> None:
    admin = Conn(main_server.port)
    assert admin.login() == "OK pantasks control"
    for line in ["task tconc", "command true", "periods -exec 0.05", "npending 4", "end"]:
        admin.ask(line)
    assert admin.ask("run") == ([], "STATUS 1")

    sleeper = Conn(main_server.port)
    sleeper.login()
    sleep_result: dict = {}

    def sleep_client() -> None:
        t0 = time.monotonic()
        sleep_result["reply"] = sleeper.ask("exec sleep 10")
        sleep_result["took"] = time.monotonic() - t0

    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)

    def client(i: int) -> None:
        mine: list[float] = []
        try:
            c = Conn(main_server.port)
            if c.login("alicepw", user="alice") != "OK alice control":
                errors.append(f"client {i}: login")
                return
            start.wait(30)
            for k in range(COMMANDS):
                t0 = time.monotonic()
                kind = k % 4
                if kind == 0:
                    got = c.ask(f"echo c{i}-{k}")
                    ok = got == ([f"O c{i}-{k}"], "STATUS 1")
                elif kind == 1:
                    got = c.ask(f"$v{i} = {k}; echo $v{i}")
                    ok = got == ([f"O {k}"], "STATUS 1")
                elif kind == 2:
                    got = c.ask("status")
                    ok = got[1] == "STATUS 1" and any("tconc" in ln for ln in got[0])
                else:
                    got = c.ask(f"nosuch{i}x{k}")
                    ok = got == ([f"E nosuch{i}x{k}: Command not found."], "STATUS 0")
                mine.append(time.monotonic() - t0)
                if not ok:
                    errors.append(f"client {i} request {k}: {got!r}")
                    return
            c.send("QUIT\n")
            if not c.at_eof():
                errors.append(f"client {i}: not closed after QUIT")
        except Exception as e:  # noqa: BLE001 - report, do not hang
            errors.append(f"client {i}: {e!r}")
        finally:
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    sleeper_thread = threading.Thread(target=sleep_client)
    start.wait(60)
    sleeper_thread.start()
    for t in threads:
        t.join(120)
    sleeper_thread.join(30)

    assert errors == []
    assert len(latencies) == CLIENTS * COMMANDS
    assert sleep_result["reply"] == ([], "STATUS 1")
    assert sleep_result["took"] >= 9.9
    latencies.sort()
    # Nobody waited behind the 10 s sleep (a generous bound well below it).
    assert latencies[-1] < 8.0, f"slowest request {latencies[-1]:.3f} s: someone waited"

    lines, _status = admin.ask("status")
    row = next(ln for ln in lines if "tconc" in ln)
    njobs = int(row.split()[4])  # O ++ NAME Nrun Njobs ...
    assert njobs > 10, f"the task kept launching jobs meanwhile: {row}"
    admin.ask("stop")
    admin.close()
