"""The one place where a job's end becomes $JOB_STATUS, a counter, timing
groups and the exit macro that runs."""

from __future__ import annotations

import pytest

from pantasks.exec.result import CRASH, EXIT, KILLED, LOST, SPAWNFAIL, TIMEOUT, JobResult
from pantasks.sched.outcome import Outcome, outcome_of


def result(state: str, status: int = 0) -> JobResult:
    return JobResult(job_id=1, state=state, exit_status=status)


@pytest.mark.parametrize("res,macros,expected", [
    (result(EXIT, 0), {"0", "default"},
     Outcome(EXIT, "0", "nsuccess", ("success", "alljobs"), "0")),
    (result(EXIT, 3), {"0", "default"},
     Outcome(EXIT, "3", "nfailure", ("failure", "alljobs"), "default")),
    (result(SPAWNFAIL, 127), {"127"},
     Outcome(EXIT, "127", "nfailure", ("failure", "alljobs"), "127")),
    (result(CRASH, 9), set(), Outcome(CRASH, "CRASH", "nfailure", ("failure", "alljobs"), "crash")),
    (result(LOST), set(), Outcome(CRASH, "CRASH", "nfailure", ("failure", "alljobs"), "crash")),
    (result(TIMEOUT, 15), {"timeout"}, Outcome(TIMEOUT, "TIMEOUT", "ntimeout", (), "timeout")),
    (result(KILLED, 15), {"default"}, Outcome(KILLED, "KILLED", "nkilled", (), None)),
])
def test_outcome_of(res: JobResult, macros: set[str], expected: Outcome) -> None:
    assert outcome_of(res, macros) == expected


def test_unknown_state_is_a_bug() -> None:
    with pytest.raises(ValueError):
        outcome_of(result("NOPE"), set())
