# -*- test-case-name: tests.sched.test_scheduler -*-
"""The scheduler service: decides when each task launches a job, and
harvests each job when it ends.

It is event-driven.  Each task has its own timer (a C{callLater} on the
injected clock) for its next exec; a job's end is handled as soon as the
runner reports it, not on the next poll.  The rules for I{whether} a task
may launch follow the original (active, trange, nmax, npending, exec
period with +-25% jitter, C{task.exec} may C{break} to skip).  Where jobs
run is the business of an L{pantasks.exec.interfaces.IJobRunner}.

Every job is counted exactly once, as a success, a failure (non-zero
exit, crash, or a command that could not be started), a timeout, or a
kill (C{kill}, C{delete job}, C{flush jobs}, C{delete task -force},
C{shutdown now}), so C{Nrun} (submitted minus counted) always equals the
number of jobs still running.  The original forgot killed jobs, so its
C{Nrun} stayed too high for ever.
"""

from __future__ import annotations

import os
import random
import resource
from typing import Any, Callable, Optional

from twisted.application import service
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger

from pantasks.exec.interfaces import JobSpec
from pantasks.exec.result import CRASH, EXIT, KILLED, SPAWNFAIL, TIMEOUT, JobResult
from pantasks.lang.context import Context
from pantasks.lang.driver import Interrupted, drive
from pantasks.lang.source import Cursor
from pantasks.sched import observer as obs
from pantasks.sched.model import Job, Task
from pantasks.sched.outcome import outcome_of
from pantasks.sched.timerange import ABS, DAY, WEEK, _test_time, bump_ranges, time_valid

log = Logger()

#: While a task may not launch for lack of file descriptors, look again
#: this often (seconds).
RECHECK = 1.0

#: While a task is outside its time ranges, it is checked again when the
#: clock next crosses a range boundary, or after this long (seconds), in
#: case the system clock was set back.
RANGE_RECHECK_MAX = 60.0

_PERIODS = {DAY: 86400, WEEK: 7 * 86400}


def next_range_change(ranges: list, now: float) -> float:
    """The next instant after C{now} when a task's validity may change:
    the next start or end (the second after C{stop}) of any of its ranges,
    at most L{RANGE_RECHECK_MAX} away.

    @param ranges: L{pantasks.sched.model.TimeRange}s.
    @param now: epoch seconds.
    """
    base = float(int(now // 1))
    best = RANGE_RECHECK_MAX
    for rng in ranges:
        t = _test_time(rng.kind, now)
        for bound in (rng.start, rng.stop + 1):
            if rng.kind == ABS:
                delta = bound - t
                if delta <= 0:
                    continue
            else:
                period = _PERIODS[rng.kind]
                delta = (bound - t) % period or period
            best = min(best, delta)
    return max(base + best, now + 0.001)

#: File descriptors a local job may hold in the server: its stdout and
#: stderr pipes and the task's two dump files.
FDS_PER_JOB = 4

#: The last file descriptors of the server are kept for tasks that have
#: no job running, for the listening socket, clients and the logs: a task
#: with many jobs running (C{npending 2000} of sleeping jobs) may not take
#: them, so the other tasks keep running.
FD_RESERVE = 64

#: CPU seconds one run of a task.exec or exit macro may use by default
#: (pantasks.conf C{[limits] macro_cpu}); a runaway macro is stopped and
#: logged, and the task goes on.
DEFAULT_MACRO_BUDGET = 60.0

#: The C{verbose} line for each final state (the original's words).
_VERBOSE = {
    EXIT: "job {task} ({id}) exit",
    CRASH: "job {task} ({id}) crash",
    TIMEOUT: "timeout on {task}",
    KILLED: "job {task} ({id}) killed",
}


def _open_fds() -> int:
    """How many file descriptors this process has open."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1
    except OSError:  # no /proc: a portable, slower count
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        count = 0
        for fd in range(min(soft, 65536)):
            try:
                os.fstat(fd)
            except OSError:
                continue
            count += 1
        return count


class Scheduler(service.Service):
    """Tasks, jobs and the rules that connect them.

    @ivar state: C{"stopped"} (the start state: nothing scheduled until
        C{run}), C{"running"}, or C{"harvesting"} (after C{stop}: no new
        jobs, running ones still harvested).  C{halt} is C{"stopped"}:
        results that arrive meanwhile wait until C{run} or C{stop}.
    @ivar tasks: the tasks in list (scheduling and listing) order.
    @ivar jobs: the jobs not yet forgotten, by id, in launch order; a job
        stays here while its exit macro runs.
    @ivar verbose: 0 (quiet), 1 (C{verbose on}: job starts and ends in
        the log) or 2 (C{verbose threads}, the same here).
    @ivar listeners: callables C{(job, state, status_text, hostname)}
        told about every harvested job (before its exit macro runs).
    @ivar observers: the L{obs.ISchedulerObserver}s (L{add_observer}).
    """

    name = "scheduler"

    def __init__(
        self,
        interp: Any,
        runner: Any,
        reactor: Any,
        rand: Optional[Callable[[], float]] = None,
        jitter: bool = True,
        fd_reserve: int = FD_RESERVE,
    ) -> None:
        """
        @param interp: the L{pantasks.lang.interp.Interpreter} that runs
            the tasks' macros (the engine puts this scheduler in its
            C{services}, where the scheduler's commands find it).
        @param runner: an L{pantasks.exec.interfaces.IJobRunner}.
        @param reactor: C{IReactorTime} (a C{task.Clock} in tests).
        @param rand: uniform random numbers in [0, 1) for the timer fuzz.
        @param jitter: False disables the fuzz (exact periods).
        @param fd_reserve: see L{FD_RESERVE}.
        """
        self.interp = interp
        self.runner = runner
        self.reactor = reactor
        self.rand = rand or random.random
        self.jitter = jitter
        self.fd_reserve = fd_reserve
        #: CPU seconds a task.exec or exit macro run may use (None: no limit).
        self.macro_budget: Optional[float] = DEFAULT_MACRO_BUDGET
        self.tasks: dict[str, Task] = {}
        self.jobs: dict[int, Job] = {}
        self.state = "stopped"
        #: True after halt (state "stopped" too), until run or stop.
        self.halted = False
        self.verbose = 0
        self.next_job_id = 1
        self.listeners: list[Callable[..., Any]] = []
        self.observers: list[obs.ISchedulerObserver] = []
        self._editing: set[str] = set()
        self._held: list[Job] = []
        self._idle_waiters: list[Deferred] = []
        self._local_running = 0
        #: Whether the controller (remote hosts) runs; C{status} shows it.
        #: There is no controller yet, so it stays False.
        self.controller_running = False

    # -- the log ------------------------------------------------------------
    def say(self, text: str) -> None:
        """A scheduler message to the server log (stdout stream)."""
        self.interp.log_sink.out(text if text.endswith("\n") else text + "\n")

    def warn(self, text: str) -> None:
        """A scheduler problem to the server log (stderr stream)."""
        self.interp.log_sink.err(text if text.endswith("\n") else text + "\n")

    # -- observers ----------------------------------------------------------
    def add_observer(self, observer: obs.ISchedulerObserver) -> None:
        """Tell C{observer} about jobs, tasks and refusals from now on.

        @raise TypeError: C{observer} does not provide
            L{obs.ISchedulerObserver}.
        """
        if not obs.ISchedulerObserver.providedBy(observer):
            raise TypeError(f"{observer!r} does not provide ISchedulerObserver")
        self.observers.append(observer)

    def remove_observer(self, observer: obs.ISchedulerObserver) -> None:
        """Stop telling C{observer} (no error if it was not told)."""
        if observer in self.observers:
            self.observers.remove(observer)

    def _tell(self, method: str, *args: Any) -> None:
        """Call C{method} on every observer; a failing one is logged."""
        for observer in list(self.observers):
            try:
                getattr(observer, method)(*args)
            except Exception:
                log.failure("scheduler observer {observer} failed", observer=repr(observer))

    def _job_event(self, job: Job, state: str, host: Optional[str] = None,
                   exit_status: Optional[int] = None, duration: Optional[float] = None,
                   result: Optional[JobResult] = None) -> None:
        if not self.observers:
            return
        tail = obs.TAIL_BYTES
        self._tell("job_changed", obs.JobEvent(
            job_id=job.job_id, task=job.task.name, state=state, one_off=job.task.one_off,
            host=host or job.host or "localhost", time=self.reactor.seconds(),
            exit_status=exit_status, duration=duration,
            stdout=result.stdout[-tail:] if result is not None and result.stdout else b"",
            stderr=result.stderr[-tail:] if result is not None and result.stderr else b"",
        ))

    def _set_state(self, state: str) -> None:
        was, self.state = self.state, state
        if was != state:
            self._tell("scheduler_changed", state)

    def _refuse(self, task: Task, reason: str) -> None:
        if self.observers:
            self._tell("launch_refused", task, reason)

    # -- run / stop / halt -------------------------------------------------
    def run(self) -> None:
        """Launch tasks and harvest jobs (C{run})."""
        was = self.state
        self._set_state("running")
        self.halted = False
        if was != "running":
            now = self.reactor.seconds()
            for task in self.tasks.values():
                self._reset_timer(task, now)
        self._release_held()

    def stop(self) -> None:
        """No new jobs; running ones are still harvested (C{stop})."""
        self._set_state("harvesting")
        self.halted = False
        self._cancel_timers()
        self._release_held()

    def halt(self) -> None:
        """No new jobs and no harvesting until C{run} or C{stop} (C{halt})."""
        self._set_state("stopped")
        self.halted = True
        self._cancel_timers()

    def _cancel_timers(self) -> None:
        for task in self.tasks.values():
            self._cancel_timer(task)

    @staticmethod
    def _cancel_timer(task: Task) -> None:
        if task.timer is not None and task.timer.active():
            task.timer.cancel()
        task.timer = None

    def _reset_timer(self, task: Task, now: float) -> None:
        # The first exec after run comes between 1x and 2x the exec period
        # (the original's ResetTaskTimers); without jitter, at exactly 1x.
        task.last = now + (self.rand() * task.exec_period if self.jitter else 0.0)
        self._arm(task, task.last + task.exec_period)

    def _arm(self, task: Task, when: float) -> None:
        """Make sure the task is checked at C{when} at the latest."""
        if self.state != "running" or self.tasks.get(task.name) is not task:
            return
        if task.timer is not None and task.timer.active():
            if task.timer.getTime() <= when:
                return
            task.timer.cancel()
        delay = max(0.0, when - self.reactor.seconds())
        task.timer = self.reactor.callLater(delay, self._check, task)

    # -- task list ---------------------------------------------------------
    def take_for_edit(self, name: str) -> Optional[Task]:
        """Take an existing task out of the list while it is redefined
        (the scheduler skips it until L{add_task})."""
        task = self.tasks.pop(name, None)
        if task is not None:
            self._cancel_timer(task)
            self._editing.add(name)
        return task

    def add_task(self, task: Task) -> None:
        """Put a (re)defined task at the end of the list and schedule it."""
        existed = self.tasks.pop(task.name, None) is not None or task.name in self._editing
        self._editing.discard(task.name)
        self.tasks[task.name] = task
        self._tell("task_changed", task, obs.CHANGED if existed else obs.ADDED)
        if self.state == "running":
            now = self.reactor.seconds()
            if task.last is None:
                self._reset_timer(task, now)
            else:
                self._arm(task, max(now, task.last + task.exec_period))

    def running_jobs(self, task: Task) -> list[Job]:
        """The task's jobs that have not ended (or been counted) yet."""
        return [j for j in self.jobs.values() if j.task is task and not j.harvested]

    def delete_task(self, name: str, force: bool = False) -> str:
        """Remove a task (C{delete task NAME [-force]}).

        @return: C{""} when done, else the reason it was refused: the
            task does not exist, or jobs of it are running and C{force}
            is false.  With C{force} they are killed (counted as kills,
            no exit macro runs).
        """
        task = self.tasks.get(name)
        if task is None:
            return f"task {name} not found"
        running = self.running_jobs(task)
        if running and not force:
            n = len(running)
            return (f"task {name} has {n} running job{'s' if n != 1 else ''}: "
                    f"not deleted (kill them, or use delete task {name} -force)")
        for job in running:
            self.kill(job.job_id)
        self.take_for_edit(name)
        self._editing.discard(name)
        self._tell("task_changed", task, obs.REMOVED)
        return ""

    # -- one task check ----------------------------------------------------
    def _check(self, task: Task) -> None:
        task.timer = None
        if self.state != "running" or self.tasks.get(task.name) is not task:
            return
        if task.in_exec:
            return  # re-armed when the exec macro ends
        now = self.reactor.seconds()
        if not task.active:
            self._refuse(task, obs.INACTIVE)
            return  # re-armed when the task is redefined
        if not time_valid(task.ranges, now):
            self._refuse(task, obs.TRANGE)
            self._arm(task, next_range_change(task.ranges, now))
            return
        if task.nmax and task.njobs >= task.nmax:
            self._refuse(task, obs.NMAX)
            return  # re-armed by a stats reset
        if task.npending_max and task.npending >= task.npending_max:
            self._refuse(task, obs.NPENDING)
            return  # re-armed when one of its jobs ends
        if task.last is not None and now < task.last + task.exec_period:
            # (Compared as the timer computes it, so float rounding cannot
            # make a due timer re-arm itself for "now" for ever.)
            self._arm(task, task.last + task.exec_period)
            return
        if task.host is None and not self._fds_available(task):
            self._refuse(task, obs.FDS)
            # Re-armed when one of its jobs ends, and in any case soon.
            self._arm(task, now + RECHECK)
            return
        # The period restarts, give or take 25% (the original's fuzz).  It
        # restarts from when this exec was due, not from now, when the
        # reactor is only a little late (less than a period): so the time
        # one spawn takes does not stretch every period of a fast task.
        # After a longer wait (npending, nmax, trange) it restarts now, so
        # that nothing is caught up in a burst.
        base = now
        if task.last is not None:
            due = task.last + task.exec_period
            if now - due < task.exec_period:
                base = due
        fuzz = (self.rand() - 0.5) * 0.5 * task.exec_period if self.jitter else 0.0
        task.last = base + fuzz
        if task.exec_macro:
            task.in_exec = True
            ctx = self.interp.new_context()
            ctx.task = task
            d = drive(self._run_macro(ctx, task.exec_macro), ctx, "task.exec",
                      self.macro_budget)
            d.addBoth(self._after_exec, task)
        else:
            self._launch(task)
            self._arm(task, task.last + task.exec_period)

    def _run_macro(self, ctx: Context, lines: list) -> Any:
        """Run a task macro; return C{(status, broke)}, C{broke} being
        true when it ended on C{break} (not on an error)."""
        try:
            status = yield from self.interp.run_list(ctx, Cursor(lines))
            return status, ctx.loop_break
        except Interrupted as e:
            # Cancelled (shutdown now) or over its CPU budget: one line
            # naming the task; reported as a break so that nothing else
            # is said about it, and the task carries on.
            task = ctx.task or ctx.job.task
            self.warn(f"task {task.name}: {e.message}")
            return 0, True
        finally:
            ctx.loop_break = ctx.loop_next = ctx.loop_last = False

    def _after_exec(self, outcome: Any, task: Task) -> None:
        task.in_exec = False
        if not isinstance(outcome, tuple):
            log.failure("task.exec of {task}", outcome, task=task.name)
            self.warn(f"task {task.name}: task.exec failed: {outcome.getErrorMessage()}")
            outcome = (0, False)
        status, _broke = outcome
        if self.tasks.get(task.name) is not task or self.state != "running":
            return
        if not status:
            # break, or a failing command (auto_break): no job this time.
            task.nskipexec += 1
            self._refuse(task, obs.EXEC_BREAK)
        else:
            self._launch(task)
        self._arm(task, task.last + task.exec_period)

    def _launch(self, task: Task) -> Optional[Job]:
        if not task.argv:
            self.warn(f"task {task.name}: task command not defined")
            self._refuse(task, obs.NO_COMMAND)
            return None
        job = self.new_job(task)
        task.njobs += 1
        bump_ranges(task.ranges, self.reactor.seconds())
        self.submit(job, task.timeout_period)
        return job

    def _fds_available(self, task: Task) -> bool:
        """Whether a local job of C{task} may start without eating the
        server's last file descriptors (see L{FD_RESERVE})."""
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft == resource.RLIM_INFINITY:
            return True
        need = FDS_PER_JOB
        # Fast path: far from the limit whatever else is open.
        if FDS_PER_JOB * self._local_running + 2 * self.fd_reserve + 256 < soft // 2:
            task.fd_blocked = False
            return True
        used = _open_fds()
        has_jobs = task.npending > 0
        # Under a small limit (prlimit --nofile=64) a fixed reserve would
        # leave one job at a time: keep at most a quarter of the limit.
        most = min(self.fd_reserve, max(soft // 4, 4))
        reserve = most if has_jobs else min(16, most)
        if used + need + reserve <= soft:
            if task.fd_blocked:
                task.fd_blocked = False
                self.warn(f"task {task.name}: launching again ({used} of {soft} "
                          "file descriptors in use)")
            return True
        if not task.fd_blocked:
            task.fd_blocked = True
            self.warn(
                f"task {task.name}: not launching: {used} of {soft} file descriptors "
                f"in use ({task.npending} jobs of the task running; the last "
                f"{reserve} are kept for other tasks)"
            )
        return False

    # -- jobs ---------------------------------------------------------------
    def new_job(self, task: Task) -> Job:
        """A job copying what it needs from C{task} (counted in npending)."""
        job = Job(
            job_id=self.next_job_id,
            task=task,
            argv=list(task.argv),
            options=list(task.options),
            nice=task.nice,
            host=task.host,
            host_required=task.host_required,
            stdout_path=task.stdout_path,
            stderr_path=task.stderr_path,
            started=self.reactor.seconds(),
            local=task.host is None,
        )
        self.next_job_id += 1
        task.npending += 1
        self.jobs[job.job_id] = job
        return job

    def submit(self, job: Job, timeout: float) -> None:
        """Hand C{job} to the runner; its result comes to L{harvest}."""
        spec = JobSpec(
            job_id=job.job_id,
            argv=job.argv,
            nice=job.nice,
            timeout=timeout if timeout and timeout > 0 else None,
            stdout_path=job.stdout_path,
            stderr_path=job.stderr_path,
            host=job.host,
        )
        job.state = "BUSY"
        self._job_event(job, obs.STARTED)
        if self.verbose:
            self.say(f"job {job.task.name} ({job.job_id}) start: {' '.join(job.argv)}")
        if job.local:
            self._local_running += 1
        try:
            d = self.runner.start(spec)
        except Exception as e:  # a runner bug must not take the reactor down
            log.failure("starting job {id}", id=job.job_id)
            d = succeed(JobResult(job.job_id, SPAWNFAIL, 126, stderr=f"pantasks: {e}\n".encode()))
        d.addCallback(self._job_ended, job)
        d.addErrback(self._job_error, job)

    def _job_error(self, failure: Any, job: Job) -> None:
        log.failure("harvesting job {id}", failure, id=job.job_id)
        self.warn(f"job {job.task.name} ({job.job_id}): internal error: "
                  f"{failure.getErrorMessage()}")
        if not job.harvested:
            job.harvested = True
            job.task.nfailure += 1
            self._job_event(job, CRASH, duration=self.reactor.seconds() - job.started)
        self._forget(job)

    def _job_ended(self, result: JobResult, job: Job) -> Optional[Deferred]:
        if job.local:
            self._local_running -= 1
        if self.jobs.get(job.job_id) is not job or job.harvested:
            return None  # already forgotten (killed while it was starting)
        if self.state == "stopped" and result.state != KILLED:
            job.result = result
            self._held.append(job)
            return None
        return self.harvest(job, result)

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for job in held:
            if self.jobs.get(job.job_id) is job and not job.harvested:
                self.harvest(job, job.result)

    def _notify(self, job: Job, state: str, status_text: str, hostname: str,
                result: Optional[JobResult] = None) -> None:
        """Tell the observers and the listeners (the server's C{J} lines)
        how a job ended; a failing one is logged and never stops the
        harvest."""
        if self.observers:
            exit_status = result.exit_status if result is not None and state == EXIT else None
            duration = result.dtime if result is not None else None
            self._job_event(job, state, hostname, exit_status, duration, result)
        for listener in list(self.listeners):
            try:
                listener(job, state, status_text, hostname)
            except Exception:
                log.failure("job listener failed")

    def harvest(self, job: Job, result: JobResult) -> Deferred:
        """Count the job, run its exit macro, forget it.

        @return: a Deferred firing when the exit macro (if any) is done.
        """
        task = job.task
        job.harvested = True
        job.result = None
        for message in result.messages:
            self.warn(f"job {task.name} ({job.job_id}): {message}")
        state = result.state
        if state == SPAWNFAIL:
            self._spawn_failed(job, result)
        elif task.spawn_error is not None:
            task.spawn_error = None
        outcome = outcome_of(result, task.exit_macros)
        job.state = state = outcome.state
        status_text = outcome.status_text
        setattr(task, outcome.counter, getattr(task, outcome.counter) + 1)
        for group in outcome.stats:
            task.stats[group].add(result.dtime)
        if self.verbose:
            self.say(_VERBOSE[state].format(task=task.name, id=job.job_id))
        self._notify(job, state, status_text, result.hostname, result)
        key = outcome.macro_key
        macro = task.exit_macros.get(key) if key is not None else None
        if not macro:
            self._forget(job)
            return succeed(None)
        ctx = self._exit_context(job, result, status_text)
        d = drive(self._run_macro(ctx, macro), ctx, f"task.exit {key}", self.macro_budget)
        d.addBoth(self._exit_done, job, key, self.reactor.seconds())
        return d

    def _spawn_failed(self, job: Job, result: JobResult) -> None:
        """Log why a job could not start: once per task and reason, so a
        missing command does not flood the log every exec period."""
        task = job.task
        why = result.stderr.decode("utf-8", "replace").strip() or "could not start"
        if why.startswith("pantasks: "):
            why = why[len("pantasks: "):]
        if why != task.spawn_error or self.verbose:
            more = "" if self.verbose else " (repeats not shown until a job starts)"
            self.warn(f"task {task.name}: job {job.job_id} failed to start, exit status "
                      f"{result.exit_status}: {why}{more}")
        task.spawn_error = why

    def _exit_context(self, job: Job, result: JobResult, status_text: str) -> Context:
        from pantasks.lang.queues import Queue

        ctx = self.interp.new_context()
        ctx.job = job
        ctx.task = None
        pv = ctx.private_vars
        for name, values in (("taskarg", job.argv), ("options", job.options)):
            for i, v in enumerate(values):
                pv[f"{name}:{i}"] = v
            pv[f"{name}:n"] = str(len(values))
        pv["JOB_STATUS"] = status_text
        pv["EXIT"] = status_text
        pv["JOB_DTIME"] = "%.6f" % result.dtime
        pv["JOB_HOSTNAME"] = result.hostname or "localhost"
        pv["JOB_ID"] = str(job.job_id)
        for name, data in (("stdout", result.stdout), ("stderr", result.stderr)):
            q = Queue(name)
            if data:
                q.push(data.decode("utf-8", errors="replace"))
            ctx.private_queues[name] = q
        return ctx

    def _exit_done(self, outcome: Any, job: Job, key: str, began: float) -> None:
        self._tell("exit_macro_done", job.task.name, key, self.reactor.seconds() - began)
        if not isinstance(outcome, tuple):
            log.failure("exit macro of job {id}", outcome, id=job.job_id)
            self.warn(f"task {job.task.name}: exit macro ({key}) of job {job.job_id} "
                      f"failed: {outcome.getErrorMessage()}")
        elif not outcome[0] and not outcome[1]:
            self.warn(f"task {job.task.name}: exit macro ({key}) of job {job.job_id} "
                      "stopped at an error")
        self._forget(job)

    def _forget(self, job: Job) -> None:
        if self.jobs.pop(job.job_id, None) is None:
            return
        task = job.task
        task.npending = max(0, task.npending - 1)
        if self.state == "running" and self.tasks.get(task.name) is task:
            last = task.last if task.last is not None else 0.0
            self._arm(task, max(self.reactor.seconds(), last + task.exec_period))
        if not self.jobs and self._idle_waiters:
            waiting, self._idle_waiters = self._idle_waiters, []
            for d in waiting:
                d.callback(None)

    def reset_stats(self, task: Task) -> None:
        """C{status -taskstatsreset}: zero the counters and timings.

        Jobs still running stay counted (C{njobs} = running), so C{Nrun}
        stays right; a task that had reached C{nmax} may launch again.
        Tmin goes back to C{NONE} (the original left it stuck at 0).
        """
        task.njobs = len(self.running_jobs(task))
        task.nsuccess = task.nfailure = task.ntimeout = task.nkilled = 0
        for stats in task.stats.values():
            stats.reset()
        self._tell("task_changed", task, obs.CHANGED)
        if self.state == "running" and self.tasks.get(task.name) is task:
            self._arm(task, self.reactor.seconds())

    def kill(self, job_id: int) -> str:
        """Kill a job and its whole process tree; no exit macro runs.

        The job is counted as killed when the runner reports its end (at
        once if it already ended and its result waits for C{run}).

        @return: C{"killed"}, C{"unknown"} (no such job) or C{"finishing"}
            (it already ended and its exit macro is running).
        """
        job = self.jobs.get(job_id)
        if job is None:
            return "unknown"
        if job.harvested:
            return "finishing"
        job.state = "KILLED"
        if job.result is not None:  # ended while halted: drop its result
            if job in self._held:
                self._held.remove(job)
            job.result = None
            self._count_killed(job)
        elif not self.runner.kill(job_id):
            # The runner no longer has it (its result is on its way): the
            # kill wins, the late result is ignored.
            self._count_killed(job)
        return "killed"

    def _count_killed(self, job: Job) -> None:
        job.harvested = True
        job.task.nkilled += 1
        self._job_event(job, KILLED, duration=self.reactor.seconds() - job.started)
        self._forget(job)

    def flush(self) -> int:
        """Kill every job not yet ended (C{flush jobs}).

        @return: how many jobs were killed.
        """
        n = 0
        for job_id in list(self.jobs):
            if self.kill(job_id) == "killed":
                n += 1
        return n

    def one_off(self, argv: list[str], host: Optional[str] = None) -> Job:
        """A job outside any task (the C{job} command)."""
        task = Task(name=f"job.{self.next_job_id}", argv=list(argv), host=host)
        task.timeout_period = 0
        task.one_off = True
        job = self.new_job(task)
        task.njobs += 1
        self.submit(job, 0)
        return job

    # -- waiting for the end ------------------------------------------------
    def wait_idle(self) -> Deferred:
        """A Deferred firing when no job is left (exit macros included)."""
        if not self.jobs:
            return succeed(None)
        d: Deferred = Deferred()
        self._idle_waiters.append(d)
        return d

    def shutdown(self, now: bool = False) -> Deferred:
        """Stop launching; wait for jobs (or kill them first when C{now})."""
        self.stop()
        if now:
            self.flush()
        return DeferredList([self.wait_idle()])

    def stopService(self) -> Deferred:
        service.Service.stopService(self)
        return self.shutdown(now=False)
