# -*- test-case-name: tests.sched.test_bad_input -*-
"""Bad input and hostile jobs, with real processes: each gives one clear
message, and the scheduler keeps running the other tasks.

Bad definitions (no command, C{periods -exec abc}, C{nice 99},
C{trange 25:00 26:00}), a failing exit macro, a command that does not
exist, a job printing a gigabyte, a job tree that ignores SIGTERM past
its timeout, and a task asking for 2000 concurrent sleeping jobs when
file descriptors run short.
"""

from __future__ import annotations

import os
import resource

from twisted.internet import defer

from tests.sched.integration import EngineTestCase, processes_matching, rss_kb

#: A task that must keep succeeding whatever else goes wrong.
STEADY = """
$steady = 0
task steady
  command true
  periods -exec 0.05 -timeout 5
  task.exit 0
    $steady ++
  end
end
"""


class BadInputTests(EngineTestCase):

    @defer.inlineCallbacks
    def _steady_goes_on(self, more: int = 10) -> defer.Deferred:
        n = self.num("steady")
        yield self.until(lambda: self.num("steady") >= n + more, 10)

    @defer.inlineCallbacks
    def test_bad_definitions_and_failing_exit_macro(self):
        yield self.execute(STEADY + "run")
        yield self._steady_goes_on()
        # Each block in its own execution: a failed definition aborts the
        # rest of its script (auto_break), as in the original.
        blocks = [
            "task nocommand\n periods -exec 0.1\nend",
            "task badperiod\n command true\n periods -exec abc\nend",
            "task badnice\n command true\n nice 99\nend",
            "task badtime\n command true\n trange 25:00 26:00\nend",
            "task badexit\n command true\n periods -exec 0.1\n"
            " task.exit 0\n  $exits ++\n  no.such.macro $JOB_ID\n end\nend",
        ]
        statuses = []
        for block in blocks:
            statuses.append((yield self.execute(block)))
        # Only a task with no command is refused; the others are defined,
        # without their bad line.
        self.assertEqual(statuses, [0, 1, 1, 1, 1])
        err = self.sink.stderr()
        self.assertIn("task nocommand: task command not defined", err)
        self.assertIn("periods: exec must be a number of seconds, not 'abc'", err)
        self.assertIn("nice (nicelevel) -- nicelevel must be an integer 0 to 20", err)
        self.assertIn("25:00", err)
        self.assertNotIn("nocommand", self.sched.tasks)
        yield self._steady_goes_on()
        self.interp.variables["exits"] = "0"
        yield self.until(lambda: self.num("exits") >= 3, 10)
        err = self.sink.stderr()
        self.assertIn("no.such.macro: Command not found.", err)
        self.assertIn("task badexit: exit macro (0) of job", err)
        self.assertIn("stopped at an error", err)
        yield self._steady_goes_on()
        yield self.done()
        for name in ("steady", "badexit", "badperiod", "badnice", "badtime"):
            task = self.sched.tasks[name]
            self.assertEqual(task.nrun, 0)
        self.assertEqual(self.sched.tasks["badnice"].nice, 0)
        self.assertEqual(self.sched.tasks["steady"].nfailure, 0)

    @defer.inlineCallbacks
    def test_missing_command_fails_with_127(self):
        yield self.execute(STEADY + """
task ghost
  command no-such-command-for-pantasks -x
  periods -exec 0.1
  stderr $ERRFILE
  task.exit default
    queuepop stderr -var why
    echo "ghost $JOB_STATUS = $why"
  end
end
run
""".replace("$ERRFILE", self.path("ghost.err")))
        yield self.until(lambda: self.sched.tasks["ghost"].nfailure >= 3, 10)
        yield self._steady_goes_on()
        yield self.done()
        line = "cannot run 'no-such-command-for-pantasks': No such file or directory"
        self.assertIn(f"ghost 127 = pantasks: {line}\n", self.sink.stdout())
        err = self.sink.stderr()
        self.assertIn(f"failed to start, exit status 127: {line}", err)
        self.assertEqual(err.count("failed to start"), 1)  # not once per attempt
        self.assertIn(f"pantasks: {line}", self.lines("ghost.err"))
        ghost = self.sched.tasks["ghost"]
        self.assertEqual((ghost.nsuccess, ghost.nrun), (0, 0))

    @defer.inlineCallbacks
    def test_gigabyte_of_stdout(self):
        """A job writing 1 GiB to stdout: all of it reaches the task's
        stdout file, the server keeps only a bounded tail in memory, and
        the other task is not starved meanwhile."""
        size = 2**30
        before = rss_kb()
        yield self.execute(STEADY + f"""
task flood
  command head -c {size} /dev/zero
  periods -exec 0.1 -timeout 120
  nmax 1
  stdout {self.path("flood.out")}
  task.exit 0
    queuesize stdout -var floodlines
    echo flood done
  end
end
run
""")
        yield self.until(lambda: self.sched.tasks["flood"].npending == 1, 5)
        n0 = self.num("steady")
        yield self.until(lambda: "flood done" in self.sink.stdout(), 100, step=0.1)
        # The other task kept succeeding while the flood was harvested.
        self.assertGreater(self.num("steady"), n0, "the other task starved during the flood")
        yield self.done()
        self.assertEqual(os.path.getsize(self.path("flood.out")), size)
        self.assertLessEqual(self.runner.output_high_water, self.runner.max_output_bytes + 2**17)
        self.assertLess(rss_kb() - before, 200 * 1024)
        self.assertEqual(self.sched.tasks["flood"].nsuccess, 1)

    @defer.inlineCallbacks
    def test_tree_ignoring_sigterm_times_out(self):
        """A job whose child ignores SIGTERM (and a job that ignores it
        itself) times out: the timeout macro runs, and no process of
        either tree survives."""
        yield self.execute(STEADY + """
task stubborn
  command sh -c "(trap '' TERM; exec sleep 61.25) & sleep 61.26; wait"
  periods -exec 0.1 -timeout 0.5
  nmax 1
  task.exit timeout
    echo "stubborn: $JOB_STATUS"
  end
end
task deaf
  command sh -c "trap '' TERM; sleep 61.27 & sleep 61.28; wait"
  periods -exec 0.1 -timeout 0.5
  nmax 1
  task.exit timeout
    echo "deaf: $JOB_STATUS"
  end
end
run
""")
        yield self.until(lambda: len(processes_matching("sleep 61.2")) >= 4, 5)
        yield self.until(lambda: "stubborn: TIMEOUT" in self.sink.stdout()
                         and "deaf: TIMEOUT" in self.sink.stdout(), 10)
        yield self.until(lambda: not processes_matching("sleep 61.2"), 3)
        yield self._steady_goes_on()
        for name in ("stubborn", "deaf"):
            task = self.sched.tasks[name]
            self.assertEqual((task.ntimeout, task.nfailure, task.nrun), (1, 0, 0))

    @defer.inlineCallbacks
    def test_npending_2000_under_fd_pressure(self):
        """C{npending 2000} on a task whose jobs sleep, with the soft limit
        on open files lowered to 512: the task stops launching before the
        server runs out (one message), the other task keeps running, and
        no job fails to start for lack of descriptors."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        yield self.execute(STEADY + """
task greedy
  command sleep 30
  periods -exec 0 -timeout 60
  npending 2000
end
run
""")
        greedy = self.sched.tasks["greedy"]
        yield self.until(lambda: greedy.fd_blocked, 30)
        self.assertGreater(greedy.npending, 100)
        self.assertLess(greedy.npending, 256)
        yield self._steady_goes_on(20)
        self.assertEqual(greedy.nfailure, 0)
        self.assertEqual(self.sched.tasks["steady"].nfailure, 0)
        err = self.sink.stderr()
        self.assertEqual(err.count("task greedy: not launching: "), 1, err)
        self.assertIn("file descriptors in use", err)
        self.assertNotIn("Too many open files", err)
        yield self.execute("flush jobs")
        yield self.until(lambda: greedy.nkilled >= 100, 20)
        self.assertEqual(greedy.nrun, greedy.npending)
