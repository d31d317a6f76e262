# -*- test-case-name: tests.lang.test_interp -*-
"""Execution contexts: what one running piece of script owns.

Every execution (a command line typed by a client, a task's C{task.exec},
a job's exit macro, a script load) gets its own L{Context}: its macro call
frames (C{$0}, C{$1}..., C{local} variables), its loop flags, its output
sink, and, for exit macros, private variables (C{JOB_STATUS},
C{options:*}...) and private C{stdout}/C{stderr} queues.  Globals
(variables, macros, books, queues, tasks) live on the interpreter and are
shared.  Two exit macros running at once therefore never see each other's
job output.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from pantasks.lang.driver import SLICE, TICKS, Interrupted
from pantasks.lang.policy import check_values, value_too_long

if TYPE_CHECKING:  # pragma: no cover
    from pantasks.lang.interp import Interpreter
    from pantasks.lang.policy import WatchPolicy
    from pantasks.lang.queues import Queue


class OutputSink:
    """Where a context's standard output and error go.

    The base sink writes to two file objects; the server gives each
    connection a sink that frames lines as C{O}/C{E} replies.
    C{output FILE} redirects by replacing C{redirect_out}/C{redirect_err}.
    """

    #: The network connection this sink answers (a server connection's
    #: sink sets it), or None.
    connection: Any = None

    def __init__(self, out: Any = None, err: Any = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else sys.stderr
        self.redirect_out: Any = None
        self.redirect_err: Any = None

    def write_out(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def write_err(self, text: str) -> None:
        self._err.write(text)
        self._err.flush()

    def out(self, text: str) -> None:
        if self.redirect_out is not None:
            self.redirect_out.write(text)
            self.redirect_out.flush()
        else:
            self.write_out(text)

    def err(self, text: str) -> None:
        if self.redirect_err is not None:
            self.redirect_err.write(text)
            self.redirect_err.flush()
        else:
            self.write_err(text)

    def waiter(self) -> Any:
        """A Deferred that fires when this sink can take output again, or
        None when it can now (a connection whose client does not read
        says so, and the execution waits at its next checkpoint)."""
        return None


class CollectingSink(OutputSink):
    """A sink that keeps what was written, in order, as (stream, text) pairs.

    Used by tests and by the server to build replies.
    """

    def __init__(self) -> None:
        super().__init__(out=None, err=None)
        self.chunks: list[tuple[str, str]] = []

    def write_out(self, text: str) -> None:
        self.chunks.append(("O", text))

    def write_err(self, text: str) -> None:
        self.chunks.append(("E", text))

    def stdout(self) -> str:
        return "".join(t for s, t in self.chunks if s == "O")

    def stderr(self) -> str:
        return "".join(t for s, t in self.chunks if s == "E")


@dataclass
class Origin:
    """Where a line came from: file name (or None) and 1-based line number."""

    file: Optional[str]
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.file else f"line {self.line}"


@dataclass
class Frame:
    """One macro call: its name and argument words (C{args[0]} is the name)."""

    name: str
    args: list[str]


@dataclass
class Context:
    """The state of one execution; see the module docstring.

    @ivar private_vars: variables visible only to this execution
        (an exit macro's C{JOB_STATUS}, C{options:*}, C{taskarg:*}...).
        Reads and writes of a name present here stay here.
    @ivar private_queues: queues visible only to this execution (an exit
        macro's C{stdout} and C{stderr}).
    @ivar locals: C{local} variables, keyed C{<macro>.<depth>.<name>} as in
        the original (C{..0.<name>} outside any macro).  They outlive the
        macro call, as in the original, but not the execution.
    @ivar static_keys: the keys of C{local -static} variables; their values
        are also kept on the interpreter, so the next execution that
        declares them finds the last value.
    @ivar task: the task whose C{task.exec} is running, or being defined;
        set by the scheduler layer, None elsewhere.
    @ivar job: the job whose exit macro runs (scheduler layer), or None.
    @ivar defining: the task whose C{task NAME} block is being read
        (scheduler layer), or None.
    @ivar cursor: the L{pantasks.lang.source.Cursor} of the list running
        now; block commands read their bodies from it.
    @ivar origin: where the line running now came from (error messages).
    """

    interp: "Interpreter"
    sink: OutputSink = field(default_factory=OutputSink)
    frames: list[Frame] = field(default_factory=list)
    locals: dict[str, str] = field(default_factory=dict)
    static_keys: set[str] = field(default_factory=set)
    private_vars: dict[str, str] = field(default_factory=dict)
    private_queues: dict[str, "Queue"] = field(default_factory=dict)
    origin: Optional[Origin] = None
    task: Any = None
    job: Any = None
    defining: Any = None
    cursor: Any = None
    loop_break: bool = False
    loop_next: bool = False
    loop_last: bool = False
    #: Every variable write goes through L{set_var} (no fast paths that
    #: store into the globals directly); set when the context has a policy.
    sandboxed: bool = False
    #: Who runs this execution (a network user's name), or "".
    user: str = ""
    #: The caller's role (C{control}, C{watch}), or "" for the server's own.
    role: str = ""
    #: What the caller may do (L{pantasks.lang.policy}); None: anything.
    policy: Optional["WatchPolicy"] = None
    #: Set by C{quit}/C{exit}: every enclosing list, file and macro stops.
    quitting: bool = False
    on_exit: Optional[Callable[[int], None]] = None
    #: The L{pantasks.lang.driver.Execution} running this context, if any.
    execution: Any = None
    #: Statements left before the next L{checkpoint}; loops count it down.
    ticks: int = TICKS

    # -- time slices and cancellation ----------------------------------------
    def checkpoint(self) -> Any:
        """
        Give the reactor back if this execution's slice is spent, wait
        while its output cannot be delivered, and stop it if it was
        cancelled or its CPU budget is spent.  A generator: loops call
        C{yield from ctx.checkpoint()} when C{ctx.ticks} drops below 0,
        and built-ins that walk large data call it every few hundred
        items.

        @raise Interrupted: the execution was cancelled.
        """
        self.ticks = TICKS
        ex = self.execution
        if ex is None:
            return
        if ex.cancelled is None:
            waiter = self.sink.waiter()
            if waiter is not None:
                yield waiter
            now = ex._timer()
            if not ex.over_budget(now) and ex.slicer is not None and now >= ex.slice_end:
                yield SLICE
        if ex.cancelled is not None:
            raise Interrupted(ex.cancelled)

    # -- output -----------------------------------------------------------
    def out(self, text: str) -> None:
        """Write C{text} to this execution's standard output."""
        self.sink.out(text)

    def err(self, text: str) -> None:
        """Write C{text} to this execution's standard error."""
        self.sink.err(text)

    def error(self, message: str) -> None:
        """Report an error line, prefixed with the script location if any."""
        if self.origin is not None and self.origin.file:
            self.sink.err(f"{self.origin}: {message}\n")
        else:
            self.sink.err(message + "\n")

    # -- variables --------------------------------------------------------
    @property
    def depth(self) -> int:
        """How many macro calls are active."""
        return len(self.frames)

    def local_key(self, name: str) -> str:
        """The key C{local NAME} uses at the current macro depth."""
        if self.frames:
            return f"{self.frames[-1].name}.{len(self.frames)}.{name}"
        return f"..0.{name}"

    def _local_key(self, name: str) -> Optional[str]:
        key = self.local_key(name)
        return key if key in self.locals else None

    def declare_local(self, name: str, static: bool = False) -> None:
        """C{local [-static] NAME}: a variable private to this macro call.

        A new local is C{NULL}; a static one starts from the value it had
        when an execution last left it.
        """
        key = self.local_key(name)
        if static:
            self.static_keys.add(key)
            if key in self.locals:
                return
            value = self.interp.statics.get(key, "NULL")
        else:
            self.static_keys.discard(key)
            value = "NULL"
        if self.policy is not None:
            self.policy.store_local(self, key, value)
        else:
            self.locals[key] = value

    def get_var(self, name: str) -> Optional[str]:
        """The value of variable C{name}, or None when it does not exist."""
        if self.locals:
            v = self.locals.get(self.local_key(name))
            if v is not None:
                return v
        if self.private_vars:
            v = self.private_vars.get(name)
            if v is not None:
                return v
        return self.interp.variables.get(name)

    def has_var(self, name: str) -> bool:
        """Whether variable C{name} exists."""
        return self.get_var(name) is not None

    def set_var(self, name: str, value: str) -> None:
        """Assign: an existing local first, then a private, else a global.

        @raise ScriptError: the value is longer than the interpreter's
            C{max_value}, or the policy refuses (nothing is stored).
        """
        if len(value) > self.interp.max_value:
            raise value_too_long(f"${name}", len(value), self.interp.max_value)
        if self.policy is not None:
            self.policy.set_var(self, name, value)
            return
        if self.locals:
            key = self.local_key(name)
            if key in self.locals:
                self.locals[key] = value
                if key in self.static_keys:
                    self.interp.statics[key] = value
                return
        if name in self.private_vars:
            self.private_vars[name] = value
            return
        self.interp.variables[name] = value

    def del_var(self, name: str) -> bool:
        """Delete variable C{name}; False when it did not exist."""
        if self.policy is not None:
            return self.policy.del_var(self, name)
        key = self._local_key(name)
        if key is not None:
            del self.locals[key]
            return True
        if name in self.private_vars:
            del self.private_vars[name]
            return True
        return self.interp.variables.pop(name, None) is not None

    def set_list(self, name: str, values: list[str]) -> None:
        """Store C{values} as the list C{name:0..} with C{name:n}.

        @raise ScriptError: a value is too long (nothing is stored).
        """
        check_values(self.interp, f"${name}", values)
        if self.policy is not None:
            items = [(f"{name}:{i}", v) for i, v in enumerate(values)]
            self.policy.check_many(self, items + [(f"{name}:n", str(len(values)))])
        for i, v in enumerate(values):
            self.set_var(f"{name}:{i}", v)
        self.set_var(f"{name}:n", str(len(values)))

    def get_list(self, name: str) -> list[str]:
        """The list C{name} (empty when C{name:n} is missing)."""
        n = self.get_var(f"{name}:n")
        try:
            count = int(float(n)) if n is not None else 0
        except ValueError:
            count = 0
        out = []
        for i in range(count):
            v = self.get_var(f"{name}:{i}")
            out.append("" if v is None else v)
        return out

    # -- queues -----------------------------------------------------------
    def find_queue(self, name: str) -> Optional["Queue"]:
        """The queue C{name} (private queues first), or None."""
        q = self.private_queues.get(name)
        if q is not None:
            return q
        return self.interp.queues.get(name)

    def queue(self, name: str) -> "Queue":
        """The queue C{name}, created empty when it does not exist."""
        q = self.find_queue(name)
        if q is None:
            from pantasks.lang.queues import Queue

            q = self.interp.queues[name] = Queue(name)
        return q

    def child(self, sink: Optional[OutputSink] = None) -> "Context":
        """A fresh context on the same interpreter and sink (no frames),
        part of the same execution (its slices and cancellation) and for the
        same caller: same identity, policy and own variables."""
        return Context(self.interp, sink or self.sink, execution=self.execution,
                       private_vars=self.private_vars, sandboxed=self.sandboxed,
                       user=self.user, role=self.role, policy=self.policy)
