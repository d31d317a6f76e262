# -*- test-case-name: tests.lang.test_policy -*-
"""Who may do what: the policy an execution carries, and the value limits.

Every command declares what a call may change (L{pantasks.lang.registry}
effects: C{READS}, C{VARIABLES}, C{SESSION}, C{WRITES}, C{RUNS},
C{FILES}), as a constant or as a function of its argv.  An execution's
L{pantasks.lang.context.Context} carries the caller's identity and a
policy; the interpreter asks the policy once per command call and once
per variable write.  A context without a policy (the server's own
scripts and task macros, C{control} users, the standalone shell) may do
everything and costs nothing: the interpreter only tests C{ctx.policy is
not None}.

The C{watch} role (L{WatchPolicy}) may run commands that only read
(C{READS}), that change only variables (C{VARIABLES}) and that change only
its own connection (C{SESSION}).  Everything else is refused with one
line, and so is a command that declares nothing (default deny): a new
command is closed to watch users until its author says what it does.
Macros may be called: every command inside is checked the same way.

Variables of a watch user: a name that exists as a server variable may
not be changed (C{$LABEL = x}, C{$X ++}, loop variables, C{set},
C{sprintf}... are refused with C{$LABEL: permission denied ...}); any
other name is the session's own, kept between the connection's requests
and seen only by it, and so are its C{local} variables.  Together they
may hold at most C{watch_session_lines} variables (list elements count
one each) and C{watch_session_size} characters (names and values), and
all watch sessions of the server together C{watch_total_size} characters
(L{WatchUsage}); going over is one error line and nothing is stored.

For every caller, no variable, list element, queue line or book word may
hold more than C{max_value} characters (L{check_value}).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Optional

from pantasks.lang.errors import ScriptError
from pantasks.lang.registry import FILES, READS, RUNS, SESSION, VARIABLES, Command

if TYPE_CHECKING:  # pragma: no cover
    from pantasks.lang.context import Context

#: The roles (the same words as pantasks.conf's C{[users]}).
CONTROL = "control"
WATCH = "watch"

#: Default of C{[limits] max_value}: the longest value, in characters.
DEFAULT_MAX_VALUE = 16 * 2**20
#: Default of C{[limits] watch_session_lines}.
DEFAULT_WATCH_SESSION_LINES = 10000
#: Default of C{[limits] watch_session_size}, in characters.
DEFAULT_WATCH_SESSION_SIZE = 32 * 2**20
#: Default of C{[limits] watch_total_size}, in characters.
DEFAULT_WATCH_TOTAL_SIZE = 128 * 2**20
#: How much longer than C{max_value} an expanded command line may be: room
#: for the command around a value (C{$x = $x$x} builds twice a value).
LINE_ROOM = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """The interpreter's memory limits (pantasks.conf C{[limits]}).

    @ivar max_value: longest variable value, list element, queue line or
        book word, in characters; for every role.
    @ivar watch_session_lines: most variables a watch session keeps.
    @ivar watch_session_size: most characters (names and values) a watch
        session keeps.
    @ivar watch_total_size: most characters all watch sessions keep
        together (many connections may not add up to much).
    """

    max_value: int = DEFAULT_MAX_VALUE
    watch_session_lines: int = DEFAULT_WATCH_SESSION_LINES
    watch_session_size: int = DEFAULT_WATCH_SESSION_SIZE
    watch_total_size: int = DEFAULT_WATCH_TOTAL_SIZE

    @property
    def max_line(self) -> int:
        """The longest line variable expansion may build."""
        return 2 * self.max_value + LINE_ROOM


def value_too_long(what: str, length: int, limit: int) -> ScriptError:
    """The one-line error for a value over C{max_value}."""
    return ScriptError(f"{what}: value too long ({length} characters; at most {limit} "
                       f"may be stored, [limits] max_value)")


def check_value(interp: Any, what: str, value: str) -> None:
    """Refuse C{value} when it is longer than the interpreter's C{max_value}.

    @param what: names the destination in the message (C{queue q}...).
    @raise ScriptError: the value is too long.
    """
    if len(value) > interp.max_value:
        raise value_too_long(what, len(value), interp.max_value)


def check_values(interp: Any, what: str, values: Iterable[str]) -> None:
    """L{check_value} for several values at once, before any is stored,
    so that nothing is half-stored."""
    limit = interp.max_value
    for value in values:
        if len(value) > limit:
            raise value_too_long(what, len(value), limit)


class WatchUsage:
    """What all the watch sessions of one interpreter hold together.

    @ivar chars: characters held (names and values).
    """

    def __init__(self) -> None:
        self.chars = 0


#: The effects a watch user may cause.
WATCH_ALLOWED = frozenset((READS, VARIABLES, SESSION))

_WHY = {
    RUNS: ": it would start a program on the server host",
    FILES: ": it would read a file on the server host",
    None: ": the command declares no permission",
}


class WatchPolicy:
    """The C{watch} role: look, never change; see the module docstring.

    One per connection: it holds the session's own variables
    (L{variables}, which the connection's contexts use as their
    C{private_vars}) and what they cost, also counted in the shared
    L{WatchUsage}; L{close} gives it back when the connection ends.

    @ivar user: the user name (in messages).
    @ivar limits: the L{Limits}.
    @ivar variables: the session's own variables.
    @ivar chars: characters held in L{variables} (names and values).
    @ivar local_chars: characters held in the running execution's C{local}
        variables (reset by L{begin}).
    """

    role = WATCH

    def __init__(self, user: str, limits: Limits, usage: Optional[WatchUsage] = None) -> None:
        self.user = user
        self.limits = limits
        self.usage = usage if usage is not None else WatchUsage()
        self.variables: dict[str, str] = {}
        self.chars = 0
        self.local_chars = 0

    def begin(self, ctx: "Context") -> None:
        """A new execution of this session starts in C{ctx} (the locals of
        the one before are gone)."""
        self.usage.chars -= self.local_chars
        self.local_chars = 0

    def close(self) -> None:
        """The connection ended: its variables are forgotten."""
        self.usage.chars -= self.chars + self.local_chars
        self.chars = self.local_chars = 0
        self.variables.clear()

    # -- commands -------------------------------------------------------------
    def refuse_call(self, ctx: "Context", target: Any, argv: list[str]) -> Optional[str]:
        """Why C{argv} may not run (one line), or None when it may.

        @param target: the L{Command} or macro C{argv[0]} names.
        """
        if target.__class__ is not Command:
            return None  # a macro: each command in it is checked in its turn
        effect = target.effect_of(argv)
        if effect in WATCH_ALLOWED:
            return None
        return self.denied(target.name, _WHY.get(effect, ""))

    def denied(self, what: str, why: str = "") -> str:
        """The refusal line for C{what} (a command name, a backquoted command)."""
        return f"{what}: permission denied (user {self.user} has the watch role{why})"

    def refuse_program(self, ctx: "Context", command: str) -> Optional[str]:
        """Why C{$X = `command`} may not run: it starts a program."""
        words = command.split()
        return self.denied(f"`{words[0] if words else ''}`", _WHY[RUNS])

    # -- variables ------------------------------------------------------------
    def set_var(self, ctx: "Context", name: str, value: str) -> None:
        """Store C{name} for a watch execution: a local, else the session's.

        @raise ScriptError: C{name} is a server variable, or the session
            is full.
        """
        if ctx.locals:
            key = ctx.local_key(name)
            if key in ctx.locals:
                self.store_local(ctx, key, value)
                return
        old = self.variables.get(name)
        if old is None:
            if name in ctx.interp.variables:
                raise ScriptError(f"${name}: permission denied "
                                  f"(watch role may not change server variables)")
            grow = len(name) + len(value)
            self._charge(ctx, name, 1, grow)
        else:
            grow = len(value) - len(old)
            self._charge(ctx, name, 0, grow)
        self.chars += grow
        self.usage.chars += grow
        self.variables[name] = value

    def check_many(self, ctx: "Context", items: list[tuple[str, str]]) -> None:
        """Refuse storing every (name, value) of C{items} (a list) unless
        all of them may be stored, so that a list is never half-stored.

        @raise ScriptError: as L{set_var} would for one of them.
        """
        entries = chars = 0
        for name, value in items:
            key = ctx.local_key(name) if ctx.locals else None
            if key is not None and key in ctx.locals:
                chars += len(value) - len(ctx.locals[key])
                continue
            old = self.variables.get(name)
            if old is not None:
                chars += len(value) - len(old)
            elif name in ctx.interp.variables:
                raise ScriptError(f"${name}: permission denied "
                                  f"(watch role may not change server variables)")
            else:
                entries += 1
                chars += len(name) + len(value)
        if items:
            self._charge(ctx, items[0][0], entries, chars)

    def store_local(self, ctx: "Context", key: str, value: str) -> None:
        """Set the local variable C{key} (a L{Context.local_key}) of C{ctx}."""
        old = ctx.locals.get(key)
        grow = len(key) + len(value) if old is None else len(value) - len(old)
        self._charge(ctx, key.rsplit(".", 1)[-1], 1 if old is None else 0, grow)
        self.local_chars += grow
        self.usage.chars += grow
        ctx.locals[key] = value

    def del_var(self, ctx: "Context", name: str) -> bool:
        """Delete C{name} for a watch execution; False when it does not exist.

        @raise ScriptError: C{name} is a server variable.
        """
        if ctx.locals:
            key = ctx.local_key(name)
            old = ctx.locals.pop(key, None)
            if old is not None:
                self.local_chars -= len(key) + len(old)
                self.usage.chars -= len(key) + len(old)
                return True
        old = self.variables.pop(name, None)
        if old is not None:
            self.chars -= len(name) + len(old)
            self.usage.chars -= len(name) + len(old)
            return True
        if name in ctx.interp.variables:
            raise ScriptError(f"${name}: permission denied "
                              f"(watch role may not change server variables)")
        return False

    def set_status(self, ctx: "Context", value: str) -> None:
        """C{STATUS} after a watch user's command: the session's own."""
        if "STATUS" not in self.variables:
            self.chars += len("STATUS") + 1
            self.usage.chars += len("STATUS") + 1
        self.variables["STATUS"] = value

    def _charge(self, ctx: "Context", name: str, entries: int, chars: int) -> None:
        limits = self.limits
        if entries and len(self.variables) + len(ctx.locals) + entries > \
                limits.watch_session_lines:
            raise ScriptError(
                f"${name}: session full (a watch session keeps at most "
                f"{limits.watch_session_lines} variables, [limits] watch_session_lines)")
        if chars > 0 and self.chars + self.local_chars + chars > limits.watch_session_size:
            raise ScriptError(
                f"${name}: session full (a watch session keeps at most "
                f"{limits.watch_session_size} characters, [limits] watch_session_size)")
        if chars > 0 and self.usage.chars + chars > limits.watch_total_size:
            raise ScriptError(
                f"${name}: session full (all watch sessions together keep at most "
                f"{limits.watch_total_size} characters, [limits] watch_total_size)")


def policy_for(role: str, user: str, interp: Any) -> Optional[WatchPolicy]:
    """The policy for a user of C{role} on C{interp}: None (no restriction)
    for C{control}, a new L{WatchPolicy} (one per connection, within the
    interpreter's limits and shared watch usage) for C{watch} and for any
    role this program does not know (default deny).
    """
    if role == CONTROL:
        return None
    return WatchPolicy(user, interp.limits, interp.watch_usage)
