# -*- test-case-name: tests.exec.test_runner_conformance -*-
"""The one interface between the scheduler and the places where jobs run.

The scheduler knows nothing about processes, SSH slots or agents: it builds
a L{JobSpec}, hands it to an L{IJobRunner} and waits for the L{JobResult}.
The local process pool (L{pantasks.exec.local.LocalRunner}), the controller
and the test double (L{pantasks.exec.fake.FakeRunner}) all implement it, and
one conformance suite (C{tests/exec/test_runner_conformance.py}) checks each.
"""

from __future__ import annotations

from dataclasses import dataclass

from zope.interface import Interface


@dataclass
class JobSpec:
    """
    What to run, and how.

    @ivar job_id: the scheduler's id for the job; unique among the jobs a
        runner has running.
    @ivar argv: the command and its arguments.  No shell is involved:
        C{argv[0]} is looked up in C{PATH} as C{execvp} does.
    @ivar nice: the scheduling priority (nice level) the job runs at;
        0 leaves the server's own level.
    @ivar timeout: seconds after which the runner kills the job and reports
        C{TIMEOUT}; C{None} or C{0} means never.
    @ivar env: the job's whole environment, or C{None} to inherit the
        server's.
    @ivar cwd: the job's working directory, or C{None} for the server's.
    @ivar stdout_path: a file the job's standard output is appended to, raw
        and as it streams (the task's C{stdout} file); C{None} or C{"NULL"}
        for none.
    @ivar stderr_path: the same for standard error; it may name the same
        file as C{stdout_path}.
    @ivar host: where the job should run (the controller's business; the
        local runner ignores it).
    """

    job_id: int
    argv: list[str]
    nice: int = 0
    timeout: float | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None
    host: str | None = None


class IJobRunner(Interface):
    """
    Something that runs jobs and reports how each one ended.

    A runner never reports a job-level failure (command not found, crash,
    timeout, kill, no more file descriptors) as an exception or an errback:
    the L{Deferred} returned by L{start} always fires with a L{JobResult}
    whose C{state} says what happened.  It never fires before L{start} has
    returned.
    """

    def start(spec):
        """
        Start a job.

        @param spec: what to run.
        @type spec: L{JobSpec}
        @return: a L{Deferred} that fires with the job's L{JobResult} once
            the job has ended for any reason and its output was harvested.
        @raise ValueError: if a job with C{spec.job_id} is already running
            (a programming error of the caller, not a job failure).
        """

    def kill(job_id):
        """
        Kill a running job and its whole process tree: politely (SIGTERM)
        first, then for sure (SIGKILL) after a grace period.  The job's
        L{Deferred} then fires with state C{KILLED}.

        @param job_id: the id the job was started with.
        @type job_id: L{int}
        @return: C{True} if the job was running (the kill is under way),
            C{False} if no such job is running.
        @rtype: L{bool}
        """

    def running():
        """
        @return: how many started jobs have not ended yet.
        @rtype: L{int}
        """

    def stop(now):
        """
        Stop running jobs: while stopping, L{start} reports C{SPAWNFAIL}.

        @param now: if true, kill every running job (state C{KILLED});
            otherwise let them finish.
        @type now: L{bool}
        @return: a L{Deferred} that fires (with C{None}) when no job is left
            running; after that the runner accepts jobs again.
        """
