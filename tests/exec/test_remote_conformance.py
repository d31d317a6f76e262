"""The L{IJobRunner} conformance suite on L{RemoteRunner}, its slots
running the agent directly as a subprocess (SSH is not the point here; the
same suite runs over real SSH in C{test_remote_ssh})."""

from __future__ import annotations

from twisted.trial import unittest

from pantasks.exec.interfaces import JobSpec
from tests.exec.remote_helpers import direct_runner
from tests.exec.test_runner_conformance import RunnerConformanceMixin


class RemoteRunnerDirectConformanceTests(RunnerConformanceMixin, unittest.TestCase):
    """L{RemoteRunner} with three slots, agents started without SSH."""

    def setUp(self) -> None:
        self.runner = direct_runner()
        for _ in range(3):
            self.runner.add_slot("hosta")
        self.addCleanup(self.runner.close)

    def long_spec(self, job_id, timeout=None):
        return JobSpec(job_id, ["sleep", "60"], timeout=timeout)

    def run_quick(self, job_id, status, out):
        return self.runner.start(
            JobSpec(
                job_id, ["sh", "-c", 'printf %s "$1"; exit $2', "sh", out.decode(), str(status)]
            )
        )
