# -*- test-case-name: tests.sched.test_original_scripts -*-
"""Automated counterparts of the original's own test scripts (test/*.sh).

The originals were interactive: an operator loaded one, typed C{done}
after a while and read the messages.  Ours are scripts of our own under
C{tests/sched/scripts/}, run on a real engine with real local jobs, and
each test asserts what the original checked by hand: counts of
successes against lines written, job rates, npending capping
concurrency, dynamic commands and options, skipped execs, output queues,
per-window C{-nmax}, and the nice level of the child read from C{/proc}.
Only those needing no remote host are here (the controller's are not).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

from twisted.internet import defer, reactor
from twisted.internet.task import LoopingCall

from tests.sched.integration import EngineTestCase, proc_children


class LocalTests(EngineTestCase):
    """local.sh ... local9.sh."""

    @defer.inlineCallbacks
    def test_local(self):
        """local.sh: successes == lines in the shared output file, and the
        task keeps launching at its exec period (the original's 4.2 jobs/s
        bar is a speed figure: bench/dispatch.py measures speed; here a
        generous time-out only proves the jobs keep coming)."""
        yield self.load("local.pro", OUT=self.path("tmp.txt"))
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 1, 5)
        n0 = self.num("Npass")
        yield self.until(lambda: self.num("Npass") >= n0 + 10, 60)
        yield self.done()
        npass = self.num("Npass")
        self.assertEqual(len(self.lines("tmp.txt")), npass)
        self.assertEqual(set(self.lines("tmp.txt")), {"one line of output"})
        self.assertEqual(self.num("Nbad"), 0)
        task = self.sched.tasks["echoer"]
        self.assertEqual((task.nsuccess, task.nfailure, task.ntimeout, task.nrun),
                         (npass, 0, 0, 0))

    @defer.inlineCallbacks
    def test_local2_memory(self):
        """local2.sh: the same task, plus the server's memory growth read
        with ps from inside the script (the original allowed 30 kB over its
        run; a Python heap settles in larger steps, so we allow 2 MB over
        ~150 jobs after a warm-up)."""
        yield self.load("local.pro", OUT=self.path("tmp.txt"))
        self.interp.variables["OUT"] = self.path("tmp.txt")
        yield self.execute("task echoer\n periods -exec 0.02\nend\nrun")
        yield self.until(lambda: self.num("Npass") >= 50, 10)
        yield self.execute("rss.now\n$startmem = $rss")
        n0 = self.num("Npass")
        yield self.until(lambda: self.num("Npass") >= n0 + 150, 20)
        yield self.execute("rss.now\n$endmem = $rss")
        yield self.done()
        growth = self.num("endmem") - self.num("startmem")
        self.assertLess(growth, 2048, f"grew {growth} kB")
        self.assertEqual(len(self.lines("tmp.txt")), self.num("Npass"))

    @defer.inlineCallbacks
    def _fast(self, with_exec: int):
        yield self.load("local3.pro", OUT=self.path("tmp.txt"), WITH_EXEC=with_exec)
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 1, 5)
        n0 = self.num("Npass")
        # Many jobs at a 5 ms period (speed itself: bench/dispatch.py).
        yield self.until(lambda: self.num("Npass") >= n0 + 50, 60)
        yield self.done()
        self.assertEqual(len(self.lines("tmp.txt")), self.num("Npass"))
        self.assertEqual(self.num("Nrun"), with_exec)
        yield self.execute("status")
        self.assertIn(" Scheduler is stopped, harvesting jobs\n", self.sink.stdout())

    def test_local3(self):
        """local3.sh: exec and poll periods of 5 ms: many jobs, every one
        counted and written."""
        return self._fast(0)

    def test_local4(self):
        """local4.sh: the same with a trivial task.exec."""
        return self._fast(1)

    @defer.inlineCallbacks
    def _dynamic(self, with_options: int):
        yield self.load("local5.pro", OUT=self.path("tmp.txt"), WITH_OPTIONS=with_options)
        yield self.execute("status -tasks")
        self.assertRegex(self.sink.stdout(), r"  \+\+ dynamic .* \(dynamic\)\n")
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 100, 10)
        yield self.done()
        lines = self.lines("tmp.txt")
        npass = self.num("Npass")
        self.assertEqual(len(lines), npass)
        numbers = [int(m.group(1)) for m in map(re.compile(r"^(\d+) : dynamic line$").match,
                                                lines) if m]
        self.assertEqual(len(numbers), len(lines), lines[:5])
        # Each command was built from $Npass at that exec: 0 first, and
        # never ahead of the successes counted so far.
        self.assertEqual(min(numbers), 0)
        self.assertLess(max(numbers), npass)
        self.assertGreater(len(set(numbers)), npass / 4)
        self.assertEqual(self.num("Noptbad"), 0)

    def test_local5_dynamic_command(self):
        """local5.sh: the command is set by task.exec at each exec."""
        return self._dynamic(0)

    def test_local6_options(self):
        """local6.sh: ... and options, which every exit macro sees."""
        return self._dynamic(1)

    @defer.inlineCallbacks
    def test_local7_exec_always_breaks(self):
        """local7.sh: no job is made; every attempt is a skipped exec."""
        yield self.load("local7.pro")
        yield self.execute("run")
        yield self.until(lambda: self.num("Ntry") >= 1, 5)
        n0 = self.num("Ntry")
        yield self.until(lambda: self.num("Ntry") >= n0 + 50, 60)
        yield self.done()
        task = self.sched.tasks["never"]
        self.assertEqual(task.njobs, 0)
        self.assertEqual(task.nskipexec, self.num("Ntry"))
        self.assertNotIn("not reached", self.sink.stdout())

    @defer.inlineCallbacks
    def test_local8_nskip_zero(self):
        """local8.sh: a break that never fires: Nskip exec stays 0."""
        yield self.load("local8.pro")
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 5, 10)
        yield self.done()
        yield self.execute("status -taskinfo")
        out = self.sink.stdout()
        self.assertIn("     Nskip exec: 0\n", out)
        self.assertIn(
            "    spawn period: 0.100000, polling period: 0.500000, timeout period: 2.000000\n",
            out)
        self.assertIn("    task runs locally\n", out)

    @defer.inlineCallbacks
    def test_local9_progress(self):
        """local9.sh, short: a progress line per 100 successes, and every
        success wrote its line."""
        yield self.load("local9.pro", OUT=self.path("output.txt"))
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 300, 20)
        yield self.done()
        npass = int(self.num("Npass"))
        progress = re.findall(r"^progress (\d+) : [0-9.e+-]+$", self.sink.stdout(), re.M)
        self.assertEqual([int(p) for p in progress], list(range(100, npass + 1, 100)))
        self.assertEqual(len(self.lines("output.txt")), npass)


class JobErrorTests(EngineTestCase):
    @defer.inlineCallbacks
    def test_joberror(self):
        """joberror.sh: a failing command with heavy stdout and stderr: the
        default macro gets its status and its own output queues; the shared
        file gets both streams."""
        missing = self.path("no-such-dir")
        yield self.load("joberror.pro", OUT=self.path("tmp.txt"), MISSING=missing)
        yield self.execute("run")
        yield self.until(lambda: self.sched.tasks["lister"].njobs == 3 and not self.sched.jobs,
                         10)
        yield self.done()
        ref = subprocess.run(["ls", "-l", "/usr/bin", missing], capture_output=True, text=True)
        self.assertNotEqual(ref.returncode, 0)
        nout = len(ref.stdout.splitlines())
        reports = re.findall(r"^lister: exit status: (\d+) out (\d+) err (\d+)$",
                             self.sink.stdout(), re.M)
        self.assertEqual(reports, [(str(ref.returncode), str(nout), "1")] * 3)
        self.assertEqual(self.num("Nfail"), 3)
        self.assertEqual(self.num("Npass"), 0)
        self.assertIn(missing, self.var("why"))
        self.assertEqual(len(self.lines("tmp.txt")), 3 * (nout + 1))
        task = self.sched.tasks["lister"]
        self.assertEqual((task.nfailure, task.nsuccess, task.nrun), (3, 0, 0))


def _window(seconds_from_now: float, length: float) -> tuple[str, str, float, float]:
    """A daily UTC window starting C{seconds_from_now} from now, as
    C{HH:MM:SS} texts and as epoch seconds; None if it would cross
    midnight (ranges do not wrap)."""
    start = int(time.time() + seconds_from_now)
    stop = int(start + length)
    if start // 86400 != stop // 86400:
        return None
    fmt = lambda t: time.strftime("%H:%M:%S", time.gmtime(t))  # noqa: E731
    return fmt(start), fmt(stop), start, stop


class TimeRangeTests(EngineTestCase):
    @defer.inlineCallbacks
    def test_runmacro_window_nmax(self):
        """runmacro.sh: task.exec calls a user macro that runs a shell
        command; a window with -nmax 2 lets exactly two jobs run."""
        window = _window(-1, 30)
        if window is None:
            self.skipTest("too close to UTC midnight")
        start, stop, _t0, _t1 = window
        yield self.load("runmacro.pro", OUT=self.path("tmp.txt"),
                        MACRO_OUT=self.path("macro.txt"), START=start, STOP=stop)
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 2, 5)
        yield self.wait(1.5)  # 7 more exec periods: none may launch
        yield self.done()
        self.assertEqual(self.num("Npass"), 2)
        self.assertEqual(len(self.lines("tmp.txt")), 2)
        self.assertTrue(all(line.startswith("started ") for line in self.lines("tmp.txt")))
        self.assertEqual(len(self.lines("macro.txt")), 2)
        self.assertEqual(self.sink.stdout().count("in note.exec\n"), 2)
        yield self.execute("status -taskinfo")
        self.assertIn(f"     active : {start} - {stop} (2 of 2)\n", self.sink.stdout())
        self.assertIn("  +- windowed", self.sink.stdout())

    @defer.inlineCallbacks
    def test_trange_window(self):
        """trange.sh: jobs run only inside the daily window."""
        window = _window(1.5, 1)
        if window is None:
            self.skipTest("too close to UTC midnight")
        start, stop, t0, t1 = window
        yield self.load("trange.pro", OUT=self.path("tmp.txt"), START=start, STOP=stop)
        yield self.execute("run")
        yield self.until(lambda: time.time() > t1 + 1.5, 10)
        yield self.done()
        started = [float(x) for x in self.lines("tmp.txt")]
        self.assertGreaterEqual(len(started), 5)
        self.assertEqual(len(started), self.num("Npass"))
        for t in started:
            self.assertGreaterEqual(t, t0)
            self.assertLess(t, t1 + 1.2)  # the window's last second, plus spawn time


class IoTests(EngineTestCase):
    DATA = (
        "chips MULTI\n\n"
        "chips METADATA\n   chip_id   S64   101\n   class_id  STR   XY01\nEND\n\n"
        "chips METADATA\n   chip_id   S64   102\n   class_id  STR   XY02\nEND\n"
    )

    @defer.inlineCallbacks
    def test_iotest_queues(self):
        """iotest.sh: an inactive task does nothing until re-activated; the
        exec macro's global `stdout` queue and the job's own `stdout`
        queue never mix; the exit macro turns the job's output into a book."""
        with open(self.path("iotest.dat"), "w") as f:
            f.write(self.DATA)
        yield self.load("iotest.pro", DATA=self.path("iotest.dat"))
        yield self.execute("run")
        yield self.wait(1)
        self.assertEqual(self.sched.tasks["io"].njobs, 0)
        self.assertNotIn("exec start", self.sink.stdout())
        yield self.execute("task io\n active true\nend")
        yield self.until(lambda: self.num("Nexit") >= 2, 10)
        yield self.done()
        out = self.sink.stdout()
        self.assertIn("exec start\npushed by exec\nexec stop\n", out)
        nlines = len(self.DATA.splitlines())
        self.assertIn(f"exit start {nlines}\n", out)
        self.assertIn("exit stop 0\n", out)
        self.assertNotIn("exit start 1\n", out)
        yield self.execute("show.chips\nqueuesize stdout -var g")
        self.assertIn("chips: 2\n", self.sink.stdout())
        self.assertEqual(self.var("g"), "0")  # exec emptied the global queue


class ConcurrencyTests(EngineTestCase):
    def _watch(self):
        """Sample how many jobs run, every 2 ms; return the list of samples."""
        samples = []
        loop = LoopingCall(lambda: samples.append(self.runner.running()))
        loop.clock = reactor
        loop.start(0.002)
        self.addCleanup(lambda: loop.running and loop.stop())
        return samples

    @defer.inlineCallbacks
    def test_load(self):
        """load.sh: `echo hi` every 10 ms with npending 5: many successes,
        never more than 5 jobs at once."""
        yield self.load("load.pro")
        samples = self._watch()
        yield self.execute("run")
        yield self.until(lambda: self.num("Npass") >= 100, 10)
        yield self.done()
        self.assertLessEqual(max(samples), 5)
        task = self.sched.tasks["loader"]
        self.assertEqual((task.nsuccess, task.nfailure, task.nrun),
                         (self.num("Npass"), 0, 0))
        self.assertEqual(task.nskipexec, 0)

    @defer.inlineCallbacks
    def test_sleep_npending_caps_concurrency(self):
        """sleep.sh: sleep jobs every 0.2 s; npending 5 keeps exactly five
        running, as the process table shows."""
        yield self.load("sleep.pro", NAP="1.5")
        samples = self._watch()
        yield self.execute("run")
        yield self.until(lambda: self.sched.tasks["napper"].npending == 5, 5)
        yield self.wait(0.1)  # the last one may still be exec'ing sleep
        children = [c for c in proc_children(os.getpid()) if c[1] == "sleep 1.5"]
        self.assertEqual(len(children), 5)
        yield self.execute("status")
        self.assertRegex(self.sink.stdout(), r"  \+\+ napper +5 +5 ")
        yield self.until(lambda: self.num("Npass") >= 6, 10)
        yield self.done()
        self.assertEqual(max(samples), 5)

    @defer.inlineCallbacks
    def test_nice(self):
        """nice.sh: the nice task's children run at nice 10, the other's at
        the server's own level, read from /proc/PID/stat."""
        yield self.load("nice.pro", NICE_NAP="3.01", PLAIN_NAP="3.02")
        yield self.execute("run")
        yield self.until(lambda: self.sched.tasks["nicer"].npending >= 2
                         and self.sched.tasks["plain"].npending >= 2, 5)
        yield self.wait(0.1)  # let the children get past setsid/nice to sleep
        children = proc_children(os.getpid())
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        nicer = [n for _p, cmd, n in children if cmd == "sleep 3.01"]
        plain = [n for _p, cmd, n in children if cmd == "sleep 3.02"]
        self.assertGreaterEqual(len(nicer), 2)
        self.assertGreaterEqual(len(plain), 2)
        self.assertEqual(set(nicer), {max(mine, 10)})
        self.assertEqual(set(plain), {mine})
        self.assertIn("nicer start\n", self.sink.stdout())
        self.assertIn("plain start\n", self.sink.stdout())

