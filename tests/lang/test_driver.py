# -*- test-case-name: tests.lang.test_driver -*-
"""Time slices, round robin, cancellation and CPU budgets of executions,
on a fake clock and a fake CPU timer."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from pantasks.lang.context import CollectingSink
from pantasks.lang.driver import Slicer
from pantasks.lang.interp import Interpreter


class FakeTimer:
    """Monotonic seconds that advance by C{step} at every read: each look
    at the clock costs C{step} of CPU."""

    def __init__(self, step: float = 0.001) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class TurnClock(Clock):
    """A Clock whose C{advance(0)} is one reactor turn: it runs the calls
    due when it starts, not those they add (Clock would run those too)."""

    def advance(self, amount: float) -> None:
        self.rightNow += amount
        due = [c for c in self.calls if c.getTime() <= self.seconds()]
        for call in due:
            self.calls.remove(call)
            call.called = 1
            call.func(*call.args, **call.kw)


def make(step: float = 0.001) -> tuple[Interpreter, Clock, FakeTimer]:
    clock = TurnClock()
    timer = FakeTimer(step)
    interp = Interpreter(reactor=clock, slicer=Slicer(clock, 0.010, timer))
    return interp, clock, timer


def start(interp: Interpreter, text: str, budget: float | None = None):  # type: ignore[no-untyped-def]
    ctx = interp.new_context(CollectingSink())
    lines = [(ln, None) for ln in text.split("\n") if ln]
    from pantasks.lang.context import Origin

    lines = [(ln, Origin(None, i)) for i, (ln, _) in enumerate(lines, 1)]
    d = interp.execute(ctx, lines, budget)
    box: list = []
    d.addBoth(box.append)
    return ctx, box


class SliceTests(SynchronousTestCase):
    def test_a_loop_gives_the_reactor_back(self) -> None:
        interp, clock, _ = make()
        ctx, box = start(interp, "for i 0 100000\n$n = $i\nend\necho done")
        self.assertEqual(box, [])  # it yielded instead of running to the end
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        turns = 0
        while not box:
            clock.advance(0)
            turns += 1
        self.assertEqual(box, [1])
        self.assertGreater(turns, 5)
        self.assertEqual(ctx.sink.stdout(), "done\n")
        self.assertEqual(interp.variables["n"], "99999")

    def test_round_robin(self) -> None:
        """Two loops take turns, one slice each per reactor turn."""
        interp, clock, _ = make()
        a, box_a = start(interp, "$a = 0\nwhile (1)\n$a ++\nend")
        b, box_b = start(interp, "$b = 0\nwhile (1)\n$b ++\nend")
        progress = []
        for _ in range(6):
            clock.advance(0)
            progress.append((int(interp.variables["a"]), int(interp.variables["b"])))
        for (a1, b1), (a2, b2) in zip(progress, progress[1:]):
            self.assertTrue((a2 > a1) != (b2 > b1), progress)  # exactly one ran
        a.execution.cancel()
        b.execution.cancel()
        clock.advance(0)
        clock.advance(0)
        self.assertEqual(box_a, [0])
        self.assertEqual(box_b, [0])

    def test_without_slicer_runs_to_the_end(self) -> None:
        interp = Interpreter(reactor=Clock())
        _ctx, box = start(interp, "for i 0 20000\n$n = $i\nend")
        self.assertEqual(box, [1])


class CancelTests(SynchronousTestCase):
    def test_cancel_a_loop(self) -> None:
        interp, clock, _ = make()
        ctx, box = start(interp, "macro m\nwhile (1)\nend\nend\nm")
        clock.advance(0)
        ctx.execution.cancel("by test")
        clock.advance(0)
        self.assertEqual(box, [0])
        self.assertEqual(ctx.sink.stderr(), "interrupted: macro m (by test)\n")
        self.assertEqual(ctx.frames, [])  # the macro's frame was unwound
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_cancel_a_wait(self) -> None:
        interp, clock, _ = make()
        ctx, box = start(interp, "sleep 100\n$after = 1")
        self.assertEqual(box, [])
        ctx.execution.cancel()
        self.assertEqual(box, [0])
        self.assertEqual(ctx.sink.stderr(), "interrupted: sleep 100\n")
        self.assertNotIn("after", interp.variables)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_cancel_after_the_end_is_harmless(self) -> None:
        interp, _clock, _ = make()
        ctx, box = start(interp, "echo x")
        self.assertEqual(box, [1])
        ctx.execution.cancel()
        self.assertEqual(ctx.sink.stderr(), "")

    def test_cancel_all_but_one(self) -> None:
        interp, clock, _ = make()
        a, box_a = start(interp, "while (1)\nend")
        b, box_b = start(interp, "while (1)\nend")
        interp.slicer.cancel_all("shutdown now", keep=b.execution)
        clock.advance(0)
        clock.advance(0)
        self.assertEqual(box_a, [0])
        self.assertEqual(a.sink.stderr(), "interrupted: while (1) (shutdown now)\n")
        self.assertEqual(box_b, [])
        b.execution.cancel()
        clock.advance(0)
        self.assertEqual(box_b, [0])


class BudgetTests(SynchronousTestCase):
    def test_cpu_budget(self) -> None:
        interp, clock, timer = make(step=0.002)
        ctx, box = start(interp, "while (1)\nend", budget=0.5)
        for _ in range(1000):
            if box:
                break
            clock.advance(0)
        self.assertEqual(box, [0])
        self.assertEqual(ctx.sink.stderr(),
                         "interrupted: while (1) (CPU budget of 0.5 s spent)\n")
        self.assertGreaterEqual(ctx.execution.cpu, 0.5)

    def test_waiting_is_not_cpu(self) -> None:
        interp, clock, _ = make()
        ctx, box = start(interp, "sleep 10\necho woke", budget=0.5)
        clock.advance(10)
        self.assertEqual(box, [1])
        self.assertEqual(ctx.sink.stdout(), "woke\n")
