# -*- test-case-name: tests.lang.test_interp -*-
"""What an interpreter serves, declared in one place.

The language layer knows nothing of the scheduler or the server, yet
some commands act on them (C{task}, C{status}, C{server run},
C{shutdown}).  An L{Interpreter} gets one L{Services} at construction;
the layers above fill in their part when they are built (the engine puts
the scheduler, the server its hooks), so a command finds its collaborator
in a declared field instead of an attribute set from outside or probed
for with C{getattr}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Services:
    """
    The collaborators an interpreter's commands may use; None where the
    program has none (a client has no scheduler, the standalone shell no
    server).

    @ivar scheduler: the L{pantasks.sched.scheduler.Scheduler}.
    @ivar server: the L{pantasks.net.commands.ServerHooks} of
        C{pantasks_server}.
    """

    scheduler: Any = None
    server: Any = None
