# -*- test-case-name: tests.sched.test_scheduler -*-
"""The scheduler service: decides when each task launches a job, and
harvests each job when it ends.

It is event-driven.  Each task has its own timer (a C{callLater} on the
injected clock) for its next exec; a job's end is handled as soon as the
runner reports it, not on the next poll.  The rules for I{whether} a task
may launch follow the original (active, trange, nmax, npending, exec
period with +-25% jitter, C{task.exec} may C{break} to skip).  Where jobs
run is the business of an L{pantasks.exec.interfaces.IJobRunner}.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Optional

from twisted.application import service
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger

from pantasks.exec.interfaces import JobSpec
from pantasks.exec.result import CRASH, EXIT, KILLED, SPAWNFAIL, TIMEOUT, JobResult
from pantasks.lang.context import Context
from pantasks.lang.source import Cursor
from pantasks.sched.model import Job, Task
from pantasks.sched.timerange import bump_ranges, time_valid

log = Logger()

#: While a task may not launch for a reason only time can change (trange),
#: look again this often (seconds).
RECHECK = 1.0


class Scheduler(service.Service):
    """Tasks, jobs and the rules that connect them.

    @ivar state: C{"stopped"} (the start state: nothing scheduled until
        C{run}), C{"running"}, or C{"harvesting"} (after C{stop}: no new
        jobs, running ones still harvested).  C{halt} is C{"stopped"}:
        results that arrive meanwhile wait until C{run} or C{stop}.
    """

    name = "scheduler"

    def __init__(
        self,
        interp: Any,
        runner: Any,
        reactor: Any,
        rand: Optional[Callable[[], float]] = None,
        jitter: bool = True,
    ) -> None:
        self.interp = interp
        self.runner = runner
        self.reactor = reactor
        self.rand = rand or random.random
        self.jitter = jitter
        self.tasks: dict[str, Task] = {}
        self.jobs: dict[int, Job] = {}
        self.state = "stopped"
        self.verbose = 0
        self.next_job_id = 1
        self._held: list[tuple[Job, JobResult]] = []
        self._exiting: list[Deferred] = []
        interp.scheduler = self

    # -- the log ------------------------------------------------------------
    def say(self, text: str) -> None:
        """A scheduler message to the server log (stdout stream)."""
        self.interp.log_sink.out(text if text.endswith("\n") else text + "\n")

    def warn(self, text: str) -> None:
        self.interp.log_sink.err(text if text.endswith("\n") else text + "\n")

    # -- run / stop / halt -------------------------------------------------
    def run(self) -> None:
        """Launch tasks and harvest jobs (C{run})."""
        was = self.state
        self.state = "running"
        if was != "running":
            now = self.reactor.seconds()
            for task in self.tasks.values():
                self._reset_timer(task, now)
        self._release_held()

    def stop(self) -> None:
        """No new jobs; running ones are still harvested (C{stop})."""
        self.state = "harvesting"
        self._cancel_timers()
        self._release_held()

    def halt(self) -> None:
        """No new jobs and no harvesting until C{run} or C{stop} (C{halt})."""
        self.state = "stopped"
        self._cancel_timers()

    def _cancel_timers(self) -> None:
        for task in self.tasks.values():
            if task.timer is not None and task.timer.active():
                task.timer.cancel()
            task.timer = None

    def _reset_timer(self, task: Task, now: float) -> None:
        # The first exec after run comes between 1x and 2x the exec period
        # (the original's ResetTaskTimers); without jitter, at exactly 1x.
        task.last = now + (self.rand() * task.exec_period if self.jitter else 0.0)
        self._arm(task, task.last + task.exec_period)

    def _arm(self, task: Task, when: float) -> None:
        if self.state != "running" or task.name not in self.tasks:
            return
        if task.timer is not None and task.timer.active():
            if task.timer.getTime() <= when:
                return
            task.timer.cancel()
        delay = max(0.0, when - self.reactor.seconds())
        task.timer = self.reactor.callLater(delay, self._check, task)

    # -- task list ---------------------------------------------------------
    def take_for_edit(self, name: str) -> Optional[Task]:
        """Take an existing task out of the list while it is redefined."""
        task = self.tasks.pop(name, None)
        if task is not None and task.timer is not None and task.timer.active():
            task.timer.cancel()
            task.timer = None
        return task

    def add_task(self, task: Task) -> None:
        """Put a (re)defined task at the end of the list and schedule it."""
        self.tasks.pop(task.name, None)
        self.tasks[task.name] = task
        if self.state == "running":
            now = self.reactor.seconds()
            if task.last is None:
                self._reset_timer(task, now)
            else:
                self._arm(task, max(now, task.last + task.exec_period))

    def delete_task(self, name: str, force: bool = False) -> str:
        """Remove a task; refuse while its jobs run unless C{force}."""
        task = self.tasks.get(name)
        if task is None:
            return f"task {name} not found"
        running = [j for j in self.jobs.values() if j.task is task]
        if running and not force:
            return f"task {name} has {len(running)} running jobs (use delete task {name} -force)"
        for job in running:
            self.kill(job.job_id)
        self.take_for_edit(name)
        return ""

    # -- one task check ----------------------------------------------------
    def _check(self, task: Task) -> None:
        task.timer = None
        if self.state != "running" or self.tasks.get(task.name) is not task:
            return
        if getattr(task, "in_exec", False):
            return
        now = self.reactor.seconds()
        if not task.active:
            return  # re-armed when the task is redefined
        if not time_valid(task.ranges, now):
            self._arm(task, now + min(RECHECK, max(task.exec_period, 0.001)))
            return
        if task.nmax and task.njobs >= task.nmax:
            return  # re-armed by a stats reset
        if task.npending_max and task.npending >= task.npending_max:
            return  # re-armed when one of its jobs ends
        if task.last is not None and now - task.last < task.exec_period:
            self._arm(task, task.last + task.exec_period)
            return
        # The period restarts now, give or take 25% (the original's fuzz).
        fuzz = (self.rand() - 0.5) * 0.5 * task.exec_period if self.jitter else 0.0
        task.last = now + fuzz
        if task.exec_macro:
            task.in_exec = True
            ctx = self.interp.new_context()
            ctx.task = task
            d = self.interp.execute(ctx, task.exec_macro)
            d.addBoth(self._after_exec, task)
        else:
            self._launch(task)
            self._arm(task, task.last + task.exec_period)

    def _after_exec(self, status: Any, task: Task) -> None:
        task.in_exec = False
        if not isinstance(status, int):
            self.warn(f"task {task.name}: task.exec failed: {status}")
            status = 0
        if self.tasks.get(task.name) is not task:
            return
        if self.state != "running":
            return
        if not status:
            task.nskipexec += 1
        else:
            self._launch(task)
        self._arm(task, task.last + task.exec_period)

    def _launch(self, task: Task) -> Optional[Job]:
        if not task.argv:
            self.warn(f"task {task.name}: task command not defined")
            return None
        job = self.new_job(task)
        task.njobs += 1
        bump_ranges(task.ranges, self.reactor.seconds())
        self.submit(job, task.timeout_period)
        return job

    # -- jobs ---------------------------------------------------------------
    def new_job(self, task: Task) -> Job:
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
        )
        self.next_job_id += 1
        task.npending += 1
        self.jobs[job.job_id] = job
        return job

    def submit(self, job: Job, timeout: float) -> None:
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
        if self.verbose:
            self.say(f"job {job.job_id} ({job.task.name}) started: {' '.join(job.argv)}")
        try:
            d = self.runner.start(spec)
        except Exception as e:  # a runner bug must not take the reactor down
            d = succeed(JobResult(job.job_id, SPAWNFAIL, 126, stderr=f"pantasks: {e}\n".encode()))
        d.addCallback(self._job_ended, job)
        d.addErrback(self._job_error, job)

    def _job_error(self, failure: Any, job: Job) -> None:
        log.failure("harvesting job {id}", failure, id=job.job_id)
        self._forget(job)

    def _job_ended(self, result: JobResult, job: Job) -> Optional[Deferred]:
        if self.state == "stopped" and result.state != KILLED:
            self._held.append((job, result))
            return None
        return self.harvest(job, result)

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for job, result in held:
            self.harvest(job, result)

    def harvest(self, job: Job, result: JobResult) -> Deferred:
        """Count the job, run its exit macro, forget it."""
        task = job.task
        for message in result.messages:
            self.warn(message)
        state = result.state
        if state == SPAWNFAIL:
            state = EXIT
        job.state = state
        if state == KILLED:
            task.nkilled += 1
            self._forget(job)
            return succeed(None)
        dtime = result.dtime
        if state == EXIT:
            status_text = str(result.exit_status)
            if result.exit_status == 0:
                task.nsuccess += 1
                task.stats["success"].add(dtime)
            else:
                task.nfailure += 1
                task.stats["failure"].add(dtime)
            task.stats["alljobs"].add(dtime)
            key = status_text if status_text in task.exit_macros else "default"
        elif state == CRASH:
            status_text = "CRASH"
            task.nfailure += 1
            task.stats["failure"].add(dtime)
            task.stats["alljobs"].add(dtime)
            key = "crash"
        else:  # TIMEOUT
            status_text = "TIMEOUT"
            task.ntimeout += 1
            key = "timeout"
        if self.verbose:
            self.say(f"job {job.job_id} ({task.name}) {state} {status_text} {dtime:.3f}s")
        for listener in list(getattr(self, "listeners", [])):
            listener(job, state, status_text, result.hostname)
        macro = task.exit_macros.get(key)
        if not macro:
            self._forget(job)
            return succeed(None)
        ctx = self._exit_context(job, result, status_text)
        d = self.interp.execute(ctx, macro)
        d.addBoth(self._exit_done, job)
        return d

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

    def _exit_done(self, status: Any, job: Job) -> None:
        if not isinstance(status, int):
            self.warn(f"task {job.task.name}: exit macro failed: {status}")
        self._forget(job)

    def _forget(self, job: Job) -> None:
        if self.jobs.pop(job.job_id, None) is None:
            return
        task = job.task
        task.npending = max(0, task.npending - 1)
        if self.state == "running" and self.tasks.get(task.name) is task:
            last = task.last if task.last is not None else 0.0
            self._arm(task, max(self.reactor.seconds(), last + task.exec_period))
        if not self.jobs and self._exiting:
            waiting, self._exiting = self._exiting, []
            for d in waiting:
                d.callback(None)

    def reset_stats(self, task: Task) -> None:
        """C{status -taskstatsreset}: zero the counters and timings.

        Jobs still running stay counted (C{njobs} = running), so C{Nrun}
        stays right; a task that had reached C{nmax} may launch again.
        """
        task.njobs = task.npending
        task.nsuccess = task.nfailure = task.ntimeout = task.nkilled = 0
        for stats in task.stats.values():
            stats.reset()
        if self.state == "running" and self.tasks.get(task.name) is task:
            self._arm(task, self.reactor.seconds())

    def kill(self, job_id: int) -> bool:
        """Kill a job (its whole process tree); no exit macro runs."""
        job = self.jobs.get(job_id)
        if job is None:
            return False
        if not self.runner.kill(job_id):
            # Not running in the runner (already ended): just forget it.
            job.task.nkilled += 1
            self._forget(job)
        return True

    def flush(self) -> None:
        """Kill and forget every job (C{flush jobs})."""
        for job_id in list(self.jobs):
            self.kill(job_id)

    def one_off(self, argv: list[str], host: Optional[str] = None) -> Job:
        """A job outside any task (the C{job} command)."""
        task = Task(name=f"job.{self.next_job_id}", argv=list(argv), host=host)
        task.timeout_period = 0
        job = self.new_job(task)
        task.njobs += 1
        self.submit(job, 0)
        return job

    # -- waiting for the end ------------------------------------------------
    def wait_idle(self) -> Deferred:
        """A Deferred firing when no job is left."""
        if not self.jobs:
            return succeed(None)
        d: Deferred = Deferred()
        self._exiting.append(d)
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
