# -*- test-case-name: tests.web.test_metrics -*-
"""How late the reactor runs timers: the number that shows a frozen server.

A timer is armed every C{interval} seconds; when it fires, how much later
than asked is the reactor's lag.  A request that held the reactor for a
second (the original's C{while (1)}) shows as a second of lag.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

#: Seconds between two measurements.
DEFAULT_INTERVAL = 0.5


class LagMonitor:
    """
    Measures the reactor's timer lag on an injected clock.

    @ivar last: the last lag measured (seconds).
    @ivar worst: the largest lag since the last L{take_worst}.
    """

    def __init__(self, clock: Any, on_lag: Optional[Callable[[float], None]] = None,
                 interval: float = DEFAULT_INTERVAL) -> None:
        """
        @param clock: C{IReactorTime}.
        @param on_lag: called with each measurement (seconds).
        @param interval: seconds between measurements.
        """
        self.clock = clock
        self.on_lag = on_lag
        self.interval = interval
        self.last = 0.0
        self.worst = 0.0
        self._call: Any = None
        self._due = 0.0

    def start(self) -> None:
        """Measure from now on (again after L{stop})."""
        if self._call is None:
            self._arm()

    def stop(self) -> None:
        """No more measurements; leaves no timer behind."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def take_worst(self) -> float:
        """The worst lag since the last call (at least the last one
        measured, when none was measured since)."""
        worst, self.worst = self.worst, 0.0
        return max(worst, self.last)

    def _arm(self) -> None:
        self._due = self.clock.seconds() + self.interval
        self._call = self.clock.callLater(self.interval, self._fired)

    def _fired(self) -> None:
        lag = max(0.0, self.clock.seconds() - self._due)
        self.last = lag
        self.worst = max(self.worst, lag)
        if self.on_lag is not None:
            self.on_lag(lag)
        self._arm()
