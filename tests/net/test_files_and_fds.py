# -*- test-case-name: tests.net.test_files_and_fds -*-
"""Against a real C{pantasks_server}: a task's output file that is a FIFO
is refused without blocking anything, and jobs run under a low
descriptor limit (C{prlimit --nofile=64:64}), failing only when
descriptors really run out, with a clear message."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write


def _start(tmp_path: Path, prefix: list[str] = (), pass_fds: tuple = ()) -> ServerProcess:
    base = free_port_base()
    write(tmp_path / "ptolemy.rc",
          "# files and descriptors test server\nPASSWORD secret\n"
          f"PANTASKS_SERVER_PORT {base}:{base + 20}\n"
          f"PANTASKS_SERVER_STDOUT {tmp_path}/server.out\n"
          f"PANTASKS_SERVER_STDERR {tmp_path}/server.err\n")
    argv = [*prefix, *server_argv(), "-c", "ptolemy.rc"]
    if pass_fds:
        import subprocess

        srv = ServerProcess.__new__(ServerProcess)
        _popen = subprocess.Popen

        def popen(*a, **kw):  # type: ignore[no-untyped-def]
            return _popen(*a, pass_fds=pass_fds, **kw)

        subprocess.Popen = popen  # type: ignore[misc]
        try:
            ServerProcess.__init__(srv, argv, tmp_path, clean_env(tmp_path))
        finally:
            subprocess.Popen = _popen  # type: ignore[misc]
    else:
        srv = ServerProcess(argv, tmp_path, clean_env(tmp_path))
    srv.dir = tmp_path  # type: ignore[attr-defined]
    srv.wait_port()
    return srv


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = _start(tmp_path)
    try:
        yield srv
    finally:
        srv.stop(signal.SIGKILL)


def _login(srv: ServerProcess) -> Conn:
    c = Conn(srv.port)
    assert c.login() == "OK pantasks control"
    return c


def _block(c: Conn, lines: list[str]) -> tuple[list[str], str]:
    for line in lines[:-1]:
        c.send(line + "\n")
        assert c.readline().startswith("MORE"), line
    return c.ask(lines[-1])


def _log(srv: ServerProcess) -> str:
    return "".join((srv.dir / n).read_text(errors="replace")  # type: ignore[attr-defined]
                   for n in ("server.out", "server.err"))


def _wait(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_fifo_output_refused_without_blocking(server: ServerProcess, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    c = _login(server)
    # At definition time: one clear error on that task.
    reply, status = _block(c, ["task tfifo", "command true", f"stdout {fifo}", "end"])
    assert any(re.fullmatch(rf"E stdout: cannot write to '{re.escape(str(fifo))}': "
                            r"not a regular file \(a FIFO\)", r) for r in reply), reply
    # At run time (the name became a FIFO after the definition): the job
    # runs, the dump is refused in the log, and nothing waits for a reader.
    later = tmp_path / "later.out"
    reply, status = _block(c, ["task tlate", "command echo late", f"stdout {later}",
                               "periods -exec 0.2", "nmax 1", "end"])
    assert status == "STATUS 1", reply
    os.mkfifo(later)
    assert c.ask("run")[1] == "STATUS 1"
    assert _wait(lambda: "unable to open stdout dump file" in _log(server)), _log(server)[-2000:]
    assert re.search(rf"tlate \(\d+\): unable to open stdout dump file {re.escape(str(later))}: "
                     r"not a regular file \(a FIFO\)", _log(server)), _log(server)[-2000:]
    # A client's output redirection to a FIFO, the same.
    assert c.ask(f"output {fifo}") == ([f"E cannot open {fifo}: not a regular file (a FIFO)"],
                                       "STATUS 0")
    other = _login(server)
    start = time.monotonic()
    assert other.ask("echo answered") == (["O answered"], "STATUS 1")
    assert time.monotonic() - start < 10
    lines, _ = c.ask("status")
    assert any("tlate" in ln for ln in lines)
    c.close()
    other.close()


def test_odd_output_names(server: ServerProcess, tmp_path: Path) -> None:
    """Names with spaces, quotes and non-ASCII letters are just names."""
    c = _login(server)
    name = tmp_path / "a b 'c' ü.log"
    reply, status = _block(c, ["task todd", "command echo odd", f'stdout "{name}"',
                               "periods -exec 0.2", "nmax 1", "end"])
    assert status == "STATUS 1", reply
    assert c.ask("run")[1] == "STATUS 1"
    assert _wait(lambda: name.exists() and name.read_text() == "odd\n")
    c.close()


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is missing")
def test_jobs_run_under_64_descriptors(tmp_path: Path) -> None:
    """A server started under C{prlimit --nofile=64:64}, holding an
    inherited descriptor above the limit (a shell's fd 255 does that),
    runs its jobs; with more jobs than descriptors, the extra ones fail
    with a clear line and the server keeps serving."""
    r, w = os.pipe()
    high = os.dup2(r, 100)
    os.close(r)
    try:
        srv = _start(tmp_path, ["prlimit", "--nofile=64:64", "--"], pass_fds=(high, w))
    finally:
        os.close(high)
        os.close(w)
    try:
        c = _login(srv)
        reply, status = _block(c, ["task few", "command echo ran", "periods -exec 0.05",
                                   "nmax 10", "task.exit 0", "echo few ok $JOB_ID", "end",
                                   "end"])
        assert status == "STATUS 1", reply
        assert c.ask("run")[1] == "STATUS 1"
        assert _wait(lambda: _log(srv).count("few ok") == 10), _log(srv)[-2000:]
        assert "Bad file descriptor" not in _log(srv)
        # Now 60 jobs at once, each holding two pipes: the scheduler holds
        # the extra ones back (one clear line) rather than fail them, keeps
        # descriptors for the clients, and still runs several at a time.
        reply, status = _block(c, ["task many", "command sleep 2", "periods -exec 0.01",
                                   "npending 60", "nmax 30", "end"])
        assert status == "STATUS 1", reply
        assert _wait(lambda: "task many: not launching" in _log(srv), 30), _log(srv)[-3000:]
        assert re.search(r"task many: not launching: \d+ of 64 file descriptors in use \((\d+) "
                         r"jobs of the task running", _log(srv)), _log(srv)[-3000:]
        running = max(int(m) for m in re.findall(r"\((\d+) jobs of the task running",
                                                  _log(srv)))
        assert running >= 5, _log(srv)[-3000:]
        other = Conn(srv.port)
        assert other.login() == "OK pantasks control"
        assert other.ask("echo still serving") == (["O still serving"], "STATUS 1")
        other.close()
        assert _wait(lambda: "launching again" in _log(srv), 30)
        assert "Bad file descriptor" not in _log(srv)
        c.close()
    finally:
        srv.stop(signal.SIGKILL)


RUNNER_SCRIPT = """
import sys
from twisted.internet import reactor
from pantasks.exec.interfaces import JobSpec
from pantasks.exec.local import LocalRunner

runner = LocalRunner(reactor, kill_grace=0.2)
results = []

def go():
    for i in range(40):
        d = runner.start(JobSpec(i + 1, ["sleep", "0.5"]))
        d.addCallback(results.append)
    def check():
        if len(results) < 40:
            return reactor.callLater(0.1, check)
        for r in results:
            print(r.state, r.stderr.decode().strip())
        reactor.stop()
    check()

reactor.callWhenRunning(go)
reactor.run()
"""


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is missing")
def test_running_out_is_one_clear_line(tmp_path: Path) -> None:
    """Where descriptors really run out (40 jobs at once, 32 descriptors,
    no scheduler holding back), the jobs that cannot start fail with a
    line saying so; the others run."""
    import subprocess
    import sys

    proc = subprocess.run(["prlimit", "--nofile=32:32", "--", sys.executable, "-c",
                           RUNNER_SCRIPT], capture_output=True, text=True, timeout=60,
                          env=clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 40, proc.stdout
    ran = [ln for ln in lines if ln.strip() == "EXIT"]
    failed = [ln for ln in lines if ln.startswith("SPAWNFAIL")]
    assert ran and failed and len(ran) + len(failed) == 40, lines
    for line in failed:
        assert re.fullmatch(r"SPAWNFAIL pantasks: cannot run 'sleep': Too many open files "
                            r"\(the server has \d+ of its 32 open files in use; raise the "
                            r"limit, see pantasks_server\(8\)\)", line), line
