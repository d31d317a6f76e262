# -*- test-case-name: tests.exec.test_local -*-
"""Run jobs as child processes of the server (the original's "local" jobs).

Modelled on Twisted's C{ProcessMonitor}: every process is started with
C{reactor.spawnProcess} and harvested the moment it ends (no polling), a kill
is SIGTERM then SIGKILL after a grace period through a cancellable delayed
call, and all time comes from the injected reactor.

Each job runs in its own session and process group, so a timeout, C{kill}
or C{shutdown now} reaches the job's whole process tree (DESIGN.md section
7).  How the child gets there is explained at L{LocalRunner._command}.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import stat
import sys
from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from pantasks.exec.contain import Containment
from pantasks.exec.interfaces import IJobRunner, JobSpec
from pantasks.exec.result import (
    CRASH,
    EXIT,
    KILLED,
    SPAWNFAIL,
    STATUS_CANNOT_RUN,
    STATUS_NOT_FOUND,
    TIMEOUT,
    JobResult,
    TailBuffer,
)
from pantasks.exec.spawn import spawn_in_session
from pantasks.lang.safeopen import FileRefused, open_output

#: The search path C{execvp} uses when the environment has no C{PATH}.
DEFAULT_PATH = "/bin:/usr/bin"

#: Default bound on the output kept in memory, per stream and per job.
DEFAULT_MAX_OUTPUT = 16 * 2**20

_AUTO: Any = object()

# Used only where util-linux setsid(1) is missing: a tiny Python launcher
# doing what setsid + nice do.  It costs a Python start-up per job (~10 ms
# of CPU against ~0.4 ms for setsid), hence only a fallback.
_PY_LAUNCHER = """\
import os, sys
os.setsid()
n = int(sys.argv[1])
if n:
    try:
        os.setpriority(os.PRIO_PROCESS, 0, n)
    except OSError as e:
        sys.stderr.write("pantasks: cannot set nice level %d: %s\\n" % (n, e.strerror))
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as e:
    sys.stderr.write("pantasks: cannot run %r: %s\\n" % (sys.argv[2], e.strerror))
    os._exit(127 if e.errno == 2 else 126)
"""


def _descriptor_note() -> str:
    """Why a job could not get descriptors, for its error line."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError:
        return f" (the server's limit is {soft} open files)"
    return (f" (the server has {used} of its {soft} open files in use; "
            "raise the limit, see pantasks_server(8))")


def _tree_key(job_id: int) -> str:
    """The containment key of a job's process tree."""
    return f"job{job_id}"


def raise_nofile_limit() -> tuple[int, int]:
    """
    Raise this process's soft limit on open files (C{RLIMIT_NOFILE}) to its
    hard limit: every running job holds two pipes, and the server calls this
    at start so that the limit is the system's, not the login shell's.

    @return: the (soft, hard) limits now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = [hard]
    if hard == resource.RLIM_INFINITY:
        # Linux refuses more than fs.nr_open even with an infinite hard limit.
        try:
            with open("/proc/sys/fs/nr_open") as f:
                wanted = [int(f.read())]
        except (OSError, ValueError):
            wanted = [2**20, 65536]
    for target in wanted:
        if soft != resource.RLIM_INFINITY and soft >= target:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            break
        except (OSError, ValueError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def close_inherited_on_exec() -> int:
    """
    Mark every descriptor above 2 that this process inherited (or left
    inheritable) close-on-exec, so jobs never receive them.

    Python opens its own descriptors close-on-exec; anything else was
    handed to the server by whoever started it (a shell keeps fd 255).
    Left as they are, they leak into every job, and one at or above the
    soft C{RLIMIT_NOFILE} makes C{posix_spawn} fail with C{EBADF} for every
    job (Twisted asks it to close the descriptors the child must not keep).

    @return: how many descriptors were marked.
    """
    import fcntl

    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return 0
    marked = 0
    for fd in fds:
        if fd <= 2:
            continue
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFD)
            if not flags & fcntl.FD_CLOEXEC:
                fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)
                marked += 1
        except OSError:
            continue
    return marked


def resolve_command(
    name: str, path: str | None = None, cwd: str | None = None
) -> tuple[str | None, int]:
    """
    Find the file C{execvp(name, ...)} would run, without running it.

    @param name: the command (C{argv[0]}); with a C{/} it is used as is,
        otherwise each directory of C{path} is tried in turn.
    @param path: the C{PATH} of the job's environment, or C{None} for
        L{DEFAULT_PATH} (what C{execvp} does when C{PATH} is unset).
    @param cwd: the directory the job will run in, against which relative
        names are resolved (C{None}: the server's).
    @return: C{(filename, 0)}, or C{(None, errno)} with C{ENOENT} if nothing
        was found, C{EACCES} if something was found but is not an executable
        file.
    """
    if not name:
        return None, errno.ENOENT
    if "/" in name:
        candidates = [name]
    else:
        dirs = (DEFAULT_PATH if path is None else path).split(":")
        candidates = [os.path.join(d, name) if d else name for d in dirs]
    error = errno.ENOENT
    for candidate in candidates:
        full = candidate
        if cwd and not os.path.isabs(candidate):
            full = os.path.join(cwd, candidate)
        try:
            st = os.stat(full)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.ELOOP, errno.ENAMETOOLONG):
                error = e.errno
            continue
        if stat.S_ISREG(st.st_mode) and os.access(full, os.X_OK):
            return candidate, 0
        error = errno.EACCES
    return None, error


class _Stream:
    """
    One output stream of a job: a bounded in-memory tail plus, optionally,
    the task's dump file, to which data is appended as it arrives.
    """

    __slots__ = ("name", "buffer", "path", "fd", "messages")

    def __init__(self, name: str, limit: int, path: str | None, messages: list[str]) -> None:
        self.name = name
        self.buffer = TailBuffer(limit)
        self.path = None if path in (None, "", "NULL") else path
        self.fd: int | None = None
        self.messages = messages

    def open(self) -> None:
        if self.path is None:
            return
        try:
            # Never blocks (a FIFO, a device), only a regular file or /dev/null.
            self.fd = open_output(self.path)
        except FileRefused as e:
            why = str(e)
            if why == os.strerror(errno.EMFILE):
                why += _descriptor_note()
            self.messages.append(f"unable to open {self.name} dump file {self.path}: {why}")

    def write(self, data: bytes) -> None:
        self.buffer.write(data)
        fd = self.fd
        if fd is None:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            self.messages.append(f"error writing {self.name} dump file {self.path}: {e.strerror}")
            self.close()

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                os.close(fd)
            except OSError:
                pass


class _Job:
    """The runner's book-keeping for one running job."""

    __slots__ = (
        "spec",
        "deferred",
        "started",
        "pid",
        "transport",
        "stdout",
        "stderr",
        "messages",
        "ending_state",
        "exited",
        "timeout_call",
        "kill_call",
        "drain_call",
    )

    def __init__(self, spec: JobSpec, started: float, limit: int) -> None:
        self.spec = spec
        self.deferred: defer.Deferred[JobResult] = defer.Deferred()
        self.started = started
        self.pid: int | None = None
        self.transport: Any = None
        self.messages: list[str] = []
        self.stdout = _Stream("stdout", limit, spec.stdout_path, self.messages)
        self.stderr = _Stream("stderr", limit, spec.stderr_path, self.messages)
        #: TIMEOUT or KILLED once we started ending the job ourselves.
        self.ending_state: str | None = None
        #: True once the job's own process has been reaped.
        self.exited = False
        self.timeout_call: IDelayedCall | None = None
        self.kill_call: IDelayedCall | None = None
        self.drain_call: IDelayedCall | None = None

    def cancel_calls(self) -> None:
        for name in ("timeout_call", "kill_call", "drain_call"):
            call = getattr(self, name)
            if call is not None:
                setattr(self, name, None)
                if call.active():
                    call.cancel()


class _JobProtocol(ProcessProtocol):
    """Feeds one job's output and end to its L{LocalRunner}."""

    def __init__(self, runner: LocalRunner, job: _Job) -> None:
        self.runner = runner
        self.job = job

    def connectionMade(self) -> None:
        # Runs inside spawnProcess, before the first chance of a (synchronous)
        # processExited, so the pid is known from then on.
        self.job.transport = self.transport
        self.job.pid = self.transport.pid

    def outReceived(self, data: bytes) -> None:
        self.job.stdout.write(data)

    def errReceived(self, data: bytes) -> None:
        self.job.stderr.write(data)

    def processExited(self, reason: Failure) -> None:
        self.runner._exited(self.job)

    def processEnded(self, reason: Failure) -> None:
        self.runner._ended(self.job, reason)


@implementer(IJobRunner)
class LocalRunner:
    """
    Run jobs as local child processes, each in its own process group.

    @ivar hostname: what results report as C{hostname}.
    @ivar max_output_bytes: in-memory bound per stream and job.
    @ivar kill_grace: seconds between SIGTERM and SIGKILL.
    @ivar drain_grace: seconds to keep reading a job's output after its
        process exited, while background processes it left behind still
        hold the pipes; then the pipes are closed and the job is harvested.
    @ivar output_high_water: the most output bytes any one stream of any
        job ever held in memory (for operators and tests).
    """

    hostname = "localhost"
    log = Logger()

    def __init__(
        self,
        reactor: Any,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT,
        kill_grace: float = 5.0,
        drain_grace: float = 1.0,
        setsid: str | None = _AUTO,
        nice: str | None = _AUTO,
        killpg: Callable[[int, int], None] = os.killpg,
        containment: Containment | None = None,
    ) -> None:
        """
        @param reactor: provides C{IReactorTime} and C{IReactorProcess}.
        @param max_output_bytes: how much of each stream to keep in memory.
        @param kill_grace: seconds between SIGTERM and SIGKILL.
        @param drain_grace: see L{drain_grace}.
        @param setsid: path of util-linux C{setsid}; found in C{PATH} by
            default; C{None} to use the (slow) Python launcher instead.
        @param nice: path of coreutils C{nice}, likewise.
        @param killpg: how to signal a process group (a parameter for tests
            that run without real processes).
        @param containment: finds and kills what a job started outside its
            process group (the server passes one that is a subreaper);
            default: tag-based only, no subreaper, no reaping.
        """
        self._reactor = reactor
        self.max_output_bytes = max_output_bytes
        self.kill_grace = kill_grace
        self.drain_grace = drain_grace
        self._setsid = shutil.which("setsid") if setsid is _AUTO else setsid
        self._nice = shutil.which("nice") if nice is _AUTO else nice
        self._killpg = killpg
        self.containment = (containment if containment is not None
                            else Containment(subreaper=False))
        self._jobs: dict[int, _Job] = {}
        self._stopping = False
        self._stop_waiters: list[defer.Deferred[None]] = []
        self._devnull_fd: int | None = None
        self.output_high_water = 0

    # IJobRunner

    def start(self, spec: JobSpec) -> defer.Deferred[JobResult]:
        """
        Start C{spec} as a local process; see L{IJobRunner.start}.
        """
        if spec.job_id in self._jobs:
            raise ValueError(f"job {spec.job_id} is already running")
        started = self._reactor.seconds()
        name = spec.argv[0] if spec.argv else ""
        if self._stopping:
            return self._spawnfail(spec, started, f"cannot run '{name}': the runner is stopping")
        if not spec.argv:
            return self._spawnfail(spec, started, "cannot run an empty command")
        if spec.cwd is not None and not os.path.isdir(spec.cwd):
            return self._spawnfail(
                spec,
                started,
                f"cannot run '{name}': cannot change to directory {spec.cwd}",
            )
        env = os.environ if spec.env is None else spec.env
        found, err = resolve_command(name, env.get("PATH"), spec.cwd)
        # Every process of the job inherits the tag, however it detaches.
        env = self.containment.tagged_env(env, _tree_key(spec.job_id))
        if found is None:
            status = STATUS_NOT_FOUND if err == errno.ENOENT else STATUS_CANNOT_RUN
            return self._spawnfail(
                spec, started, f"cannot run '{name}': {os.strerror(err)}", status
            )

        job = _Job(spec, started, self.max_output_bytes)
        job.stdout.open()
        job.stderr.open()
        self._jobs[spec.job_id] = job
        try:
            transport = None
            if not spec.nice and spec.cwd is None:
                # The fast path: posix_spawnp with setsid, one exec per job.
                transport = spawn_in_session(
                    self._reactor, _JobProtocol(self, job), found, list(spec.argv),
                    env, {0: self._devnull(), 1: "r", 2: "r"},
                )
            if transport is None:
                executable, args = self._command(spec)
                transport = self._reactor.spawnProcess(
                    _JobProtocol(self, job),
                    executable,
                    args,
                    env=env,
                    path=spec.cwd,
                    usePTY=False,
                    childFDs={0: self._devnull(), 1: "r", 2: "r"},
                )
        except Exception as e:
            del self._jobs[spec.job_id]
            job.stdout.close()
            job.stderr.close()
            if isinstance(e, OSError):
                why = e.strerror or str(e)
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    why += _descriptor_note()
            else:
                self.log.failure("spawning job {job_id}", job_id=spec.job_id)
                why = str(e) or type(e).__name__
            return self._spawnfail(
                spec, started, f"cannot run '{name}': {why}", messages=job.messages
            )
        job.transport = transport
        if spec.timeout and spec.timeout > 0 and not job.exited:
            job.timeout_call = self._reactor.callLater(spec.timeout, self._timed_out, job)
        return job.deferred

    def kill(self, job_id: int) -> bool:
        """
        Kill a running job's process group; see L{IJobRunner.kill}.
        """
        job = self._jobs.get(job_id)
        if job is None:
            return False
        self._terminate(job, KILLED)
        return True

    def running(self) -> int:
        """
        @return: how many jobs are running.
        """
        return len(self._jobs)

    def stop(self, now: bool) -> defer.Deferred[None]:
        """
        Wait for (or, with C{now}, kill) every running job; see
        L{IJobRunner.stop}.
        """
        self._stopping = True
        if now:
            for job in list(self._jobs.values()):
                self._terminate(job, KILLED)
        d: defer.Deferred[None] = defer.Deferred()
        self._stop_waiters.append(d)
        self._maybe_stopped()
        return d

    # How a job is started

    def _command(self, spec: JobSpec) -> tuple[str, list[str]]:
        """
        Build the command line that puts the job in its own session and
        process group, at its nice level, and then execs it.

        Twisted's C{spawnProcess} has no C{preexec_fn}, and its fast path
        (C{posix_spawnp}, used whenever no C{cwd} is given) does not expose
        C{POSIX_SPAWN_SETSID} either, so the child cannot call setsid() by
        itself.  We exec through util-linux C{setsid}: a small C program
        that calls setsid() and execvp()s the rest of its arguments (it
        forks only when already a group leader, which a freshly spawned
        child never is, so the job keeps the pid we know and that pid is
        the group id).  Measured on 2 cores, spawning C{true} 1000 times:
        2000 jobs/s direct, 1300/s through setsid (+0.45 ms CPU per job),
        180/s through C{python -c} (+10 ms per job).  A nice level is set
        by coreutils C{nice} in the same chain, before the job starts, so
        every process it forks inherits it (setting it from the parent
        after the spawn would race with those forks); it costs one more
        exec, only for jobs with a nice level.  C{argv[0]} stays as given,
        found through the job's C{PATH} by the wrappers' execvp, and
        C{--} keeps a command beginning with C{-} from being read as an
        option.
        """
        argv = list(spec.argv)
        nice = spec.nice or 0
        if self._setsid is not None and (nice == 0 or self._nice is not None):
            args = [self._setsid, "--"]
            if nice:
                # setpriority(2) takes an absolute level, nice(1) a relative one.
                increment = nice - os.getpriority(os.PRIO_PROCESS, 0)
                if increment:
                    args += [self._nice, "-n", str(increment), "--"]
            return self._setsid, args + argv
        python = sys.executable
        return python, [python, "-S", "-c", _PY_LAUNCHER, str(nice)] + argv

    def _devnull(self) -> int:
        if self._devnull_fd is None:
            self._devnull_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        return self._devnull_fd

    def _spawnfail(
        self,
        spec: JobSpec,
        started: float,
        why: str,
        status: int = STATUS_CANNOT_RUN,
        messages: list[str] | None = None,
    ) -> defer.Deferred[JobResult]:
        """
        Report a job that could not be started: its stderr (and stderr dump
        file) gets one C{pantasks: ...} line; the Deferred fires on the next
        reactor turn, never before L{start} returns.
        """
        line = f"pantasks: {why}\n".encode("utf-8", "replace")
        messages = [] if messages is None else messages
        stream = _Stream("stderr", self.max_output_bytes, spec.stderr_path, messages)
        stream.open()
        stream.write(line)
        stream.close()
        result = JobResult(
            job_id=spec.job_id,
            state=SPAWNFAIL,
            exit_status=status,
            stderr=stream.buffer.getvalue(),
            hostname=self.hostname,
            started=started,
            ended=started,
            dtime=0.0,
            messages=messages,
        )
        d: defer.Deferred[JobResult] = defer.Deferred()
        self._reactor.callLater(0, d.callback, result)
        return d

    # How a job ends

    def _signal(self, job: _Job, sig: int) -> None:
        """
        Send C{sig} to the job's process group; if there is no such group
        (the child has not reached setsid() yet, or it has gone), to the
        job's own process while it lives.  Then to every other process of
        the job's tree (those that left the group with setsid/setpgid or
        daemonised): see L{pantasks.exec.contain}.
        """
        self._signal_group(job, sig)
        root = job.pid if not job.exited else None
        key = _tree_key(job.spec.job_id)
        if sig == signal.SIGKILL:
            self.containment.kill_tree(key, root)
        else:
            self.containment.signal_tree(key, sig, root)

    def _signal_group(self, job: _Job, sig: int) -> None:
        if job.pid is not None:
            try:
                self._killpg(job.pid, sig)
                return
            except ProcessLookupError:
                pass
            except OSError as e:
                self.log.warn(
                    "cannot signal job {job_id} (pid {pid}): {why}",
                    job_id=job.spec.job_id,
                    pid=job.pid,
                    why=e.strerror,
                )
        if not job.exited and job.transport is not None:
            try:
                job.transport.signalProcess(sig)
            except (ProcessExitedAlready, OSError):
                pass

    def _terminate(self, job: _Job, state: str) -> None:
        """
        End a job ourselves: SIGTERM to its group, SIGKILL after
        C{kill_grace}.  The first reason given (timeout or kill) is kept.
        """
        if job.ending_state is not None:
            return
        job.ending_state = state
        if job.timeout_call is not None:
            if job.timeout_call.active():
                job.timeout_call.cancel()
            job.timeout_call = None
        if job.exited:
            # Only leftovers holding the pipes remain: no grace for them.
            self._signal(job, signal.SIGKILL)
            return
        self._signal(job, signal.SIGTERM)
        job.kill_call = self._reactor.callLater(self.kill_grace, self._kill_hard, job)

    def _timed_out(self, job: _Job) -> None:
        job.timeout_call = None
        # Timers run before I/O in a reactor turn: after a stall, the job may
        # have exited in time without our having seen SIGCHLD yet.  Reap it
        # first (as the original checks the exit before the timeout).
        transport = job.transport
        if getattr(transport, "pid", None) is not None and hasattr(transport, "reapProcess"):
            transport.reapProcess()
        if job.exited:
            return
        self._terminate(job, TIMEOUT)

    def _kill_hard(self, job: _Job) -> None:
        job.kill_call = None
        self._signal(job, signal.SIGKILL)

    def _exited(self, job: _Job) -> None:
        """
        The job's own process was reaped.  If we were killing the job, its
        group gets SIGKILL now: what outlives the leader then has no
        business surviving it.  The output is read until the pipes close,
        for at most C{drain_grace} seconds.
        """
        job.exited = True
        if job.timeout_call is not None:
            if job.timeout_call.active():
                job.timeout_call.cancel()
            job.timeout_call = None
        if job.ending_state is not None:
            if job.kill_call is not None:
                if job.kill_call.active():
                    job.kill_call.cancel()
                job.kill_call = None
            self._signal(job, signal.SIGKILL)
        job.drain_call = self._reactor.callLater(self.drain_grace, self._drain_expired, job)

    def _drain_expired(self, job: _Job) -> None:
        """
        The job exited C{drain_grace} seconds ago and its pipes are still
        open.  Read what they hold now (the reactor may not have had a turn
        to do it: timers run before I/O, and a busy turn can outlast the
        grace), then close them: whatever still holds them open is a
        background process the job left behind.
        """
        job.drain_call = None
        transport = job.transport
        held = False
        for child_fd, stream in ((1, job.stdout), (2, job.stderr)):
            reader = getattr(transport, "pipes", {}).get(child_fd)
            if reader is not None and not self._read_available(reader.fileno(), stream):
                held = True
        if held:
            job.messages.append(
                "processes left behind by the job kept its output open; "
                f"stopped reading it {self.drain_grace:g}s after the job exited"
            )
        transport.closeStdout()
        transport.closeStderr()

    @staticmethod
    def _read_available(fd: int, stream: _Stream, most: int = 4 * 2**20) -> bool:
        """
        Read a non-blocking pipe until it is empty, at end of file, or
        C{most} bytes were read (a writer still going).

        @return: C{True} at end of file.
        """
        done = 0
        while done < most:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return False
            except OSError:
                return True
            if not data:
                return True
            stream.write(data)
            done += len(data)
        return False

    def _ended(self, job: _Job, reason: Failure) -> None:
        """
        The job's process is reaped and its pipes are closed: build its
        result and fire its Deferred.
        """
        job.cancel_calls()
        job.stdout.close()
        job.stderr.close()
        self._jobs.pop(job.spec.job_id, None)
        ended = self._reactor.seconds()
        sig = getattr(reason.value, "signal", None)
        if sig is not None:
            exit_status = sig
            natural = CRASH
        else:
            exit_status = getattr(reason.value, "exitCode", None) or 0
            natural = EXIT
        for stream in (job.stdout, job.stderr):
            if stream.buffer.peak_held > self.output_high_water:
                self.output_high_water = stream.buffer.peak_held
        result = JobResult(
            job_id=job.spec.job_id,
            state=job.ending_state or natural,
            exit_status=exit_status,
            term_signal=sig,
            stdout=job.stdout.buffer.getvalue(),
            stderr=job.stderr.buffer.getvalue(),
            truncated_stdout=job.stdout.buffer.truncated,
            truncated_stderr=job.stderr.buffer.truncated,
            hostname=self.hostname,
            started=job.started,
            ended=ended,
            dtime=ended - job.started,
            pid=job.pid,
            messages=job.messages,
        )
        try:
            job.deferred.callback(result)
        finally:
            self._maybe_stopped()

    def _maybe_stopped(self) -> None:
        if not self._stopping or self._jobs:
            return
        self._stopping = False
        if self._devnull_fd is not None:
            fd, self._devnull_fd = self._devnull_fd, None
            os.close(fd)
        waiters, self._stop_waiters = self._stop_waiters, []
        for d in waiters:
            d.callback(None)
