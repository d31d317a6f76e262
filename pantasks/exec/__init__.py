# -*- test-case-name: tests.exec -*-
"""Where jobs run: the local process pool and the controller's remote slots.

The scheduler talks to them only through L{IJobRunner}: it starts a job from
a L{JobSpec} and gets a Deferred that fires with a L{JobResult}, whatever
way the job ended.
"""

from pantasks.exec.interfaces import IJobRunner, JobSpec
from pantasks.exec.result import (
    CRASH,
    EXIT,
    KILLED,
    SPAWNFAIL,
    STATES,
    TIMEOUT,
    JobResult,
)

__all__ = [
    "CRASH",
    "EXIT",
    "KILLED",
    "SPAWNFAIL",
    "STATES",
    "TIMEOUT",
    "IJobRunner",
    "JobResult",
    "JobSpec",
]
