# -*- test-case-name: tests.lang.test_interp -*-
"""The opihi interpreter: globals, command lookup, and line execution.

One L{Interpreter} holds what scripts share (variables, macros, queues,
books, the command table); each execution brings its own
L{pantasks.lang.context.Context}.  A line goes through the original's
pipeline: split at C{;}, expand C{$variables}, assignment or
C{{expr}} substitution and backslash removal, word splitting, command
lookup by exact name or unique prefix, then the call.  Lists of lines
(files, macro and loop bodies) stop at the first failure (C{auto_break},
always on in pantasks) or when a loop flag is raised.

Loops run the same lines many times, so each distinct line is prepared
once: its C{;} pieces, and for an assignment such as
C{$n = $n + $i % 7} a compiled plan that reads the variables and
computes the result without rebuilding and re-parsing the text.  A plan
is used only when its result is certain to equal the general path's;
anything unusual takes the general path.
"""

from __future__ import annotations

import math
import os
import sys
from types import GeneratorType
from typing import Any, Callable, Iterable, Optional, Union

from twisted.internet.defer import Deferred
from twisted.logger import Logger

import pantasks.lang.commands  # noqa: F401  (registers the built-ins into LANGUAGE)
from pantasks.lang import expr as _expr
from pantasks.lang import internal
from pantasks.lang.context import Context, Frame, OutputSink
from pantasks.lang.driver import Interrupted, Slicer, drive
from pantasks.lang.errors import ExprError, RecursionTooDeep, ScriptError
from pantasks.lang.expand import expand
from pantasks.lang.plans import CACHE_MAX, make_plan
from pantasks.lang.policy import Limits, WatchUsage, value_too_long
from pantasks.lang.registry import LANGUAGE, Command, CommandTable, Macro
from pantasks.lang.services import Services
from pantasks.lang.source import Cursor, Line, is_end, opens_block, read_script
from pantasks.lang.text import atof, format_number, quote, remove_backslashes, substitute_braces
from pantasks.lang.words import WHITESPACE, split_pieces, split_words

log = Logger()

#: What running a line gives: a status, or a generator to drive.
Result = Union[int, GeneratorType]

#: Deepest macro nesting before C{macro recursion too deep}.
MAX_MACRO_DEPTH = 100


#: Commands that end the program or the server: they run only when typed in
#: full, so that a prefix (C{sh}, C{qu}) can never reach them by accident.
#: A prefix still counts them when deciding whether it is ambiguous.
UNABBREVIATED = frozenset(("shutdown", "exit", "quit"))



class Interpreter:
    """Shared state plus the execution machinery.

    @ivar reactor: provides C{callLater} and C{spawnProcess}; only commands
        that wait use it.
    @ivar commands: built-in commands by name (first registration wins).
    @ivar macros: user macros by name.
    @ivar variables: the global variables (all values are text).
    @ivar statics: values of C{local -static} variables, kept between
        executions.
    @ivar queues: global queues by name.
    @ivar books: the book store.
    @ivar auto_break: a failing command stops its list (pantasks default).
    @ivar verbose: C{opihi verbose} mode: C{off}, C{on} or C{error}.
    @ivar quit_handler: called with (context, exit code) by C{quit}/C{exit}.
    @ivar max_macro_depth: deepest macro nesting allowed.
    @ivar limits: the memory L{Limits} (set with L{set_limits}).
    @ivar max_value: C{limits.max_value}, kept at hand for L{Context.set_var}.
    @ivar max_line: the longest line variable expansion may build.
    """

    def __init__(
        self,
        reactor: Any = None,
        tables: Iterable[CommandTable] = (),
        log_sink: Optional[OutputSink] = None,
        slicer: Optional[Slicer] = None,
        services: Optional[Services] = None,
    ) -> None:
        self.reactor = reactor
        #: Gives executions their time slices (None: run each to its end,
        #: as unit tests on a fake clock want).
        self.slicer = slicer
        #: The scheduler and server hooks its commands serve (see L{Services}).
        self.services = services if services is not None else Services()
        self.commands: dict[str, Command] = {}
        for table in (LANGUAGE, *tables):
            for cmd in table.commands.values():
                self.commands.setdefault(cmd.name, cmd)
        self.macros: dict[str, Macro] = {}
        self.variables: dict[str, str] = {}
        self.statics: dict[str, str] = {}
        from pantasks.lang.books import BookStore

        self.queues: dict[str, Any] = {}
        self.books = BookStore()
        self.auto_break = True
        self.verbose = "off"
        self.quit_handler: Any = None
        self.max_macro_depth = MAX_MACRO_DEPTH
        self.set_limits(Limits())
        #: What all watch sessions hold together (L{pantasks.lang.policy}).
        self.watch_usage = WatchUsage()
        self.log_sink = log_sink or OutputSink()
        self._prefix_cache: dict[str, Any] = {}
        self._names: Optional[list[str]] = None
        self._runners: dict[str, Callable[[Context], Result]] = {}
        self._plans: dict[str, Any] = {}
        self._seen: set[str] = set()
        #: Commands given their line unexpanded: name -> f(ctx, rest_of_line)
        #: (the client's C{server ...} forwards text the server expands).
        self.raw_commands: dict[str, Any] = {}
        #: Called as f(ctx, argv) for an unknown or ambiguous command instead
        #: of the error (the client forwards such lines to the server).
        self.fallback: Any = None
        self._startup_variables()

    # -- setup ------------------------------------------------------------
    def _startup_variables(self) -> None:
        v = self.variables
        v["HOME"] = os.environ.get("HOME", "/")
        v["PID"] = str(os.getpid())
        v["M_PI"] = "%.12g" % math.pi
        v["M_E"] = "%.12g" % math.e
        v["M_c"] = "299792458"
        v["M_c_cgs"] = "29979245800"
        v["M_h"] = "6.62607015e-34"
        v["M_h_cgs"] = "6.62607015e-27"
        v["M_kB"] = "1.380649e-23"
        v["M_kB_cgs"] = "1.380649e-16"
        v["HISTORY"] = ".pantasks"
        v["PROMPT"] = "pantasks: "
        v["RCFILE"] = ".pantasksrc"
        modules = os.path.join(os.path.dirname(os.path.dirname(__file__)), "modules")
        v["MODULES:0"] = modules
        v["MODULES:n"] = "1"

    def set_limits(self, limits: Limits) -> None:
        """Use C{limits} (pantasks.conf C{[limits]}) from now on."""
        self.limits = limits
        self.max_value = limits.max_value
        self.max_line = limits.max_line

    def new_context(
        self,
        sink: Optional[OutputSink] = None,
        user: str = "",
        role: str = "",
        policy: Any = None,
    ) -> Context:
        """A fresh execution context writing to C{sink} (default: the log).

        @param sink: where the execution's output goes.
        @param user: who runs it (a network user), for messages.
        @param role: the user's role.
        @param policy: what the caller may do (L{pantasks.lang.policy});
            None: anything.  A policy's own variables become the context's
            private variables.
        """
        if policy is None:
            return Context(self, sink or self.log_sink, user=user, role=role)
        ctx = Context(self, sink or self.log_sink, private_vars=policy.variables,
                      sandboxed=True, user=user, role=role, policy=policy)
        policy.begin(ctx)
        return ctx

    # -- command lookup ---------------------------------------------------
    def names(self) -> list[str]:
        """Every command and macro name, sorted (for completion and prefixes)."""
        if self._names is None:
            self._names = sorted(set(self.commands) | set(self.macros))
        return self._names

    def macros_changed(self) -> None:
        """Forget cached name lookups (a macro was defined or deleted)."""
        self._prefix_cache.clear()
        self._names = None

    def resolve(self, name: str) -> Any:
        """The command or macro C{name} names, exactly or by unique prefix.

        @param name: the first word of a command line.
        @return: a L{Command}, a L{Macro}, or None when nothing matches.
        @raise ScriptError: the prefix is ambiguous.
        """
        cmd = self.commands.get(name)
        if cmd is not None:
            return cmd
        m = self.macros.get(name)
        if m is not None:
            return m
        hit = self._prefix_cache.get(name)
        if hit is not None:
            return hit
        if not name:
            return None
        matches = [n for n in self.names() if n.startswith(name)]
        if not matches:
            return None
        if len(matches) > 1:
            shown = " ".join(matches[:10])
            raise ScriptError(f"ambiguous command: {quote(name)} ( {shown} )")
        if matches[0] in UNABBREVIATED:
            raise ScriptError(f"{quote(name)}: type {matches[0]} in full "
                              "(it is never abbreviated)")
        found = self.commands.get(matches[0]) or self.macros.get(matches[0])
        self._prefix_cache[name] = found
        return found

    # -- execution entry points --------------------------------------------
    def execute(self, ctx: Context, lines: list[Line], budget: Optional[float] = None) -> Deferred:
        """Run C{lines} as a top-level list, in time slices.

        @param ctx: the execution context; C{ctx.execution} is its
            L{pantasks.lang.driver.Execution} while it runs (to cancel it).
        @param lines: (text, origin) pairs.
        @param budget: CPU seconds it may use (None: no limit).
        @return: a Deferred firing with 1 (success) or 0 (failure, or
            cancelled: then C{interrupted: ...} was written to its
            stderr); it never fails.
        """
        label = quote(lines[0][0]) if lines else ""
        return drive(self._top(ctx, lines), ctx, label, budget)

    def execute_text(self, ctx: Context, text: str, filename: Optional[str] = None) -> Deferred:
        """Run script text (one or more lines) as a top-level list.

        @param ctx: the execution context.
        @param text: the script text, split into lines as C{input} does.
        @param filename: named in error messages (None: none).
        @return: as L{execute}.
        """
        return self.execute(ctx, read_script(text, filename))

    def _top(self, ctx: Context, lines: list[Line]) -> Any:
        try:
            status = yield from self.run_list(ctx, Cursor(lines))
        except Interrupted as e:
            ctx.sink.err(e.message + "\n")
            status = 0
        except Exception as e:  # a bug: one line for the user, details in the log
            internal.report("running a request")
            ctx.error(internal.message(ctx, e))
            status = 0
        finally:
            ctx.loop_break = ctx.loop_next = ctx.loop_last = ctx.quitting = False
        return status

    def run_list(self, ctx: Context, cursor: Cursor) -> Any:
        """Run every line of C{cursor}; stop on failure or a loop flag.

        A generator: drive it with C{yield from}.

        @return: 0 when the list was broken off (a failure under
            C{auto_break}, or C{break}), else 1.
        """
        saved = ctx.cursor
        ctx.cursor = cursor
        ok = 1
        runners = self._runners
        try:
            while True:
                item = cursor.next()
                if item is None:
                    break
                line = item[0]
                ctx.origin = item[1]
                ctx.ticks -= 1
                if ctx.ticks < 0:
                    yield from ctx.checkpoint()
                run = runners.get(line)
                if run is None:
                    run = self.runner(line)
                r = run(ctx)
                if r.__class__ is not int:
                    r = yield from r
                if r <= 0 and self.auto_break:
                    ok = 0
                    break
                if ctx.loop_break or ctx.loop_next or ctx.loop_last:
                    if ctx.loop_break and not ctx.quitting:
                        ok = 0
                    break
        finally:
            ctx.cursor = saved
        return ok

    def run_line(self, ctx: Context, line: str) -> Result:
        """Run one raw line: its C{;} pieces in order.

        @return: the status of the last piece run, or a generator to drive
            (with C{yield from}) that returns it.
        """
        run = self._runners.get(line)
        if run is None:
            run = self.runner(line)
        return run(ctx)

    def runner(self, line: str) -> Callable[[Context], Result]:
        """A function running C{line} in a context, prepared once per line.

        @param line: one raw (stripped) script line.
        @return: C{f(ctx)} giving what L{run_line} gives.
        """
        run = self._runners.get(line)
        if run is not None:
            return run
        pieces = split_pieces(line)
        if not pieces:
            def run(ctx: Context) -> Result:
                return 1
        elif len(pieces) > 1:
            def run(ctx: Context) -> Result:
                return self._run_pieces(ctx, pieces, line)
        else:
            piece = pieces[0]
            plans = self._plans

            def run(ctx: Context) -> Result:
                if self.verbose == "off" and not ctx.sandboxed:
                    plan = plans.get(piece)
                    if plan is None:
                        plan = self._plan(piece)
                    if plan and plan(ctx):
                        self.variables["STATUS"] = "1"
                        return 1
                return self._run_general(ctx, piece, line)
        if len(self._runners) >= CACHE_MAX:
            self._runners.clear()
        self._runners[line] = run
        return run

    def plan_for(self, line: str) -> Optional[Callable[[Context], bool]]:
        """The fast plan of a one-piece assignment line, or None.

        Loops call it directly: C{plan(ctx)} assigns and returns True, or
        returns False (nothing done) when L{run_line} must run the line.
        The caller must set C{STATUS} to C{1} after a True and use plans
        only while C{verbose} is C{off}.
        """
        pieces = split_pieces(line)
        if len(pieces) != 1:
            return None
        return self._plan(pieces[0], now=True)

    def _run_pieces(self, ctx: Context, pieces: list[str], raw: str) -> Any:
        status = 1
        for piece in pieces:
            r = self.run_piece(ctx, piece, raw)
            if r.__class__ is not int:
                r = yield from r
            status = r
            if r <= 0 and self.auto_break:
                break
            if ctx.loop_break or ctx.loop_next or ctx.loop_last:
                break
        return status

    def run_piece(self, ctx: Context, piece: str, raw: str = "") -> Result:
        """Run one command (no C{;} left in it).

        @param piece: the stripped command text.
        @param raw: the whole line it came from (for C{opihi verbose}).
        @return: a status (1 ok, 0 failed, -1 unknown command) or a
            generator to drive that returns one.
        """
        if self.verbose == "off" and not ctx.sandboxed:
            plan = self._plans.get(piece)
            if plan is None:
                plan = self._plan(piece)
            if plan and plan(ctx):
                self.variables["STATUS"] = "1"
                return 1
        return self._run_general(ctx, piece, raw)

    def _run_general(self, ctx: Context, piece: str, raw: str) -> Result:
        """L{run_piece} without the fast plan."""
        try:
            if piece[0] == "!":
                piece = "! " + piece[1:]
            if self.raw_commands:
                head, _sep, rest = piece.partition(" ")
                raw_cmd = self.raw_commands.get(head)
                if raw_cmd is not None:
                    r = raw_cmd(ctx, rest.strip())
                    if r.__class__ is not int:
                        return self._guard(ctx, r, raw or piece)
                    return self._finish(ctx, r, raw or piece)
            if "$" in piece and not _is_while(piece):
                piece = expand(ctx, piece)
            if self.verbose == "on":
                ctx.err(f"opihi: {piece}\n")
            if piece[:1] == "$":
                r = self.assign(ctx, piece)
            else:
                if "{" in piece:
                    piece = substitute_braces(piece)
                if "\\" in piece:
                    piece = remove_backslashes(piece)
                argv = split_words(piece)
                if not argv:
                    return self._finish(ctx, 1, raw or piece)
                r = self.call(ctx, argv)
        except ScriptError as e:
            ctx.error(str(e))
            return self._escape(ctx, raw or piece)
        except RecursionError:
            ctx.error(_too_deep(ctx))
            return self._escape(ctx, raw or piece)
        except Exception as e:  # a bug: one line for the user, details in the log
            internal.report(f"running {piece!r}")
            ctx.error(internal.message(ctx, e))
            return self._escape(ctx, raw or piece)
        if r.__class__ is not int:
            if r.__class__ is bool or r is None:
                return self._finish(ctx, int(bool(r)), raw or piece)
            return self._guard(ctx, r, raw or piece)
        return self._finish(ctx, r, raw or piece)

    def _escape(self, ctx: Context, raw: str) -> int:
        """A line that failed before or inside its command: STATUS 0."""
        if ctx.policy is None:
            self.variables["STATUS"] = "0"
        else:
            ctx.policy.set_status(ctx, "0")
        if self.verbose != "off":
            ctx.err(f"error on line: {raw}\n")
        return 0

    def _finish(self, ctx: Context, r: int, raw: str) -> int:
        if ctx.policy is None:
            self.variables["STATUS"] = "1" if r == 1 else str(r)
        else:
            ctx.policy.set_status(ctx, "1" if r == 1 else str(r))
        if r == 0:
            msg = ctx.get_var("ERRORMSG")
            if msg:
                ctx.err(msg + "\n")
            if self.verbose != "off":
                ctx.err(f"error on line: {raw}\n")
        return r

    def _guard(self, ctx: Context, gen: Any, raw: str) -> Any:
        try:
            r = yield from gen
        except ScriptError as e:
            ctx.error(str(e))
            return self._escape(ctx, raw)
        except RecursionError:
            ctx.error(_too_deep(ctx))
            return self._escape(ctx, raw)
        except Exception as e:
            internal.report(f"running {raw!r}")
            ctx.error(internal.message(ctx, e))
            return self._escape(ctx, raw)
        if r is None:
            r = 0
        return self._finish(ctx, int(r), raw)

    def call(self, ctx: Context, argv: list[str]) -> Result:
        """Look up C{argv[0]} and run it with C{argv}.

        @return: the command's status (-1: no such command) or a generator.
        @raise ScriptError: the command failed with a message.
        """
        try:
            target = self.resolve(argv[0])
        except ScriptError:
            if self.fallback is None:
                raise
            return self.fallback(ctx, argv)
        if target is None:
            if self.fallback is not None:
                return self.fallback(ctx, argv)
            ctx.error(f"{quote(argv[0])}: Command not found.")
            return -1
        argv[0] = target.name
        if ctx.policy is not None:
            why = ctx.policy.refuse_call(ctx, target, argv)
            if why is not None:
                return self._refuse(ctx, argv, why)
        if target.__class__ is Macro:
            return self.call_macro(ctx, target, argv)
        r = target.func(ctx, argv)
        if r is None:
            return 0
        return r

    def _refuse(self, ctx: Context, argv: list[str], why: str) -> int:
        """Report a call the policy refused (one line); a block it would
        have read (C{macro NAME}, C{task NAME}) is skipped, not run."""
        ctx.error(why)
        if ctx.cursor is not None and opens_block(" ".join(argv)):
            ctx.cursor.collect_body()
        return 0

    def call_macro(self, ctx: Context, macro: Macro, argv: list[str]) -> Any:
        """Run C{macro} with arguments C{argv} (C{argv[0]} is its name).

        A generator: drive it with C{yield from}.
        @raise RecursionTooDeep: macros are nested too deep.
        """
        if len(ctx.frames) >= self.max_macro_depth:
            raise RecursionTooDeep(
                f"macro recursion too deep ({macro.name} called at depth "
                f"{self.max_macro_depth})")
        ctx.ticks -= 1
        if ctx.ticks < 0:
            yield from ctx.checkpoint()
        ctx.frames.append(Frame(macro.name, argv))
        saved_origin = ctx.origin
        try:
            status = yield from self.run_list(ctx, Cursor(macro.body))
        finally:
            ctx.frames.pop()
            ctx.origin = saved_origin
        # next/last/return end the macro normally; break goes on up.
        ctx.loop_next = ctx.loop_last = False
        return status

    # -- assignment --------------------------------------------------------
    def assign(self, ctx: Context, line: str) -> Result:
        """C{$X = rhs}, C{$X ++}, C{$X --}, C{$X += e}, C{$X -= e}.

        @param line: the expanded piece, starting with C{$}.
        @raise ScriptError: C{syntax error}.
        """
        if "\\" in line:
            line = remove_backslashes(line)
        j = 1
        n = len(line)
        while j < n and (line[j].isalnum() or line[j] in "_:") and line[j].isascii():
            j += 1
        name = line[1:j]
        rest = line[j:].lstrip(WHITESPACE)
        if not name:
            raise ScriptError("syntax error")
        if rest == "++" or rest == "--":
            delta = 1.0 if rest[0] == "+" else -1.0
            ctx.set_var(name, format_number(atof(ctx.get_var(name)) + delta))
            return 1
        if rest[:2] in ("+=", "-="):
            text = rest[2:]
            try:
                value = atof(_expr.evaluate(text)) if text else None
            except ExprError as e:
                raise ScriptError(f"syntax error ({e})") from None
            if value is None:
                raise ScriptError("syntax error")
            old = atof(ctx.get_var(name))
            ctx.set_var(name, format_number(old + value if rest[0] == "+" else old - value))
            return 1
        if rest[:1] != "=":
            raise ScriptError("syntax error")
        rhs = rest[1:].lstrip(WHITESPACE)
        if rhs[:1] == "`":
            if len(rhs) < 2 or rhs[-1] != "`":
                raise ScriptError("syntax error")
            if ctx.policy is not None:
                why = ctx.policy.refuse_program(ctx, rhs[1:-1])
                if why is not None:
                    raise ScriptError(why)
            return self._assign_backtick(ctx, name, rhs[1:-1])
        if len(rhs) > self.max_value:
            # Refused before evaluating: no expression is that long.
            raise value_too_long(f"${name}", len(rhs), self.max_value)
        if rhs:
            try:
                rhs = _expr.evaluate(rhs)
            except ExprError as e:
                if str(e) == _expr.MSG_DIV0:
                    raise ScriptError(f"division by zero in: {quote(rhs)}") from None
            except RecursionError:
                # Too long to evaluate here; such text is in practice a long
                # command line (many "-option" words), which is text anyway.
                pass
        ctx.set_var(name, rhs)
        return 1

    def _assign_backtick(self, ctx: Context, name: str, command: str) -> Any:
        code, text = yield self.shell_capture(command, ctx.err)
        text = text[:1023]
        if text.endswith("\n"):
            text = text[:-1]
        ctx.set_var(name, text.replace("\n", " "))
        status = code * 256 if code >= 0 else -code
        self.variables["EXECSTATUS"] = str(status)
        if status:
            ctx.err(f"warning: exit status of command {status}\n")
        return 1

    # -- fast plans --------------------------------------------------------
    def _plan(self, piece: str, now: bool = False) -> Any:
        """The fast plan for C{piece}, or None.

        A plan is made the second time a piece runs (or at once when
        C{now}): making one costs more than running a line once, so lines
        run only once (typed commands, most of a script) never pay for it.
        """
        plan = self._plans.get(piece)
        if plan is None:
            if not now and piece not in self._seen:
                if len(self._seen) >= CACHE_MAX:
                    self._seen.clear()
                self._seen.add(piece)
                return None
            self._seen.discard(piece)
            plan = make_plan(piece)
            if len(self._plans) >= CACHE_MAX:
                self._plans.clear()
            self._plans[piece] = plan
        return plan or None

    # -- services for commands ---------------------------------------------
    def _need_reactor(self) -> Any:
        if self.reactor is None:
            raise ScriptError("this command needs the event loop, which is not running")
        return self.reactor

    def shell_capture(self, command: str, err: Any = None) -> Deferred:
        """Run C{/bin/sh -c command}.

        @param err: called with the command's stderr text (pass C{ctx.err}
            so it reaches whoever ran the command).
        @return: a Deferred firing with (exit code, stdout text); the code
            is the negative signal number when the command was killed.
        """
        from pantasks.lang.process import capture

        return capture(self._need_reactor(), command, err)

    def shell_run(self, ctx: Context, command: str, timeout: Optional[float] = None) -> Deferred:
        """Run C{$SHELL -c command}, its output going to C{ctx}.

        @return: a Deferred firing with the exit code (negative signal
            number when killed, None after C{timeout} seconds).
        """
        from pantasks.lang.process import run_to_sink

        return run_to_sink(self._need_reactor(), command, ctx, timeout)

    def sleep(self, seconds: float) -> Deferred:
        """A Deferred firing after C{seconds} on the interpreter's clock."""
        from twisted.internet.task import deferLater

        return deferLater(self._need_reactor(), max(0.0, seconds), lambda: None)

    def read_list_block(self, ctx: Context, argv: list[str]) -> int:
        """C{list NAME} followed by lines and C{end}: raw lines become items.

        The body does not nest: its first C{end...} line closes it.  Lines
        starting with C{#} are comments.

        @param argv: C{["list", NAME]}.
        @return: 1, or 0 when the C{end} is missing (the items read are
            kept, as in the original).
        """
        if len(argv) != 2:
            raise ScriptError("USAGE: list NAME (then one item per line, then end)")
        items = []
        cursor = ctx.cursor
        start = ctx.origin
        closed = False
        while cursor is not None:
            item = cursor.next()
            if item is None:
                break
            line = item[0]
            if is_end(line):
                closed = True
                break
            if line and line[0] != "#":
                items.append(line)
        ctx.set_list(argv[1], items)
        if not closed:
            ctx.origin = start
            raise ScriptError(f"missing 'END' in list {argv[1]}")
        return 1

    def load_file(self, ctx: Context, path: str) -> Any:
        """Read C{path} and run it as a list (C{input}, C{module}).

        A generator: drive it with C{yield from}.  Bytes that are not
        UTF-8 become U+FFFD; a top-level C{break} ends the file (and, as
        in the original, the file's status is then failure).

        @raise ScriptError: the file cannot be read.
        """
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ScriptError(f"no file {path} ({e.strerror})") from None
        text = data.decode("utf-8", errors="replace")
        lines = read_script(text, path)
        if not lines:
            ctx.err(f"WARNING: input file ({path}) was empty\n")
            return 1
        saved = ctx.origin
        try:
            status = yield from self.run_list(ctx, Cursor(lines))
        finally:
            ctx.origin = saved
        if ctx.quitting:
            return status  # keep the flag: the caller stops too
        ctx.loop_break = ctx.loop_next = ctx.loop_last = False
        return status


def _too_deep(ctx: Context) -> str:
    """The message for Python's recursion limit, hit by nesting."""
    if ctx.frames:
        return (f"macro recursion too deep ({ctx.frames[-1].name} called at depth "
                f"{len(ctx.frames)}, with blocks nested inside)")
    return "blocks or expressions nested too deep"


def _is_while(piece: str) -> bool:
    word = piece.split(None, 1)[0] if piece else ""
    return word[:1] == "w" and "while".startswith(word)


def stdio_sink() -> OutputSink:
    """A sink writing to this process's standard output and error."""
    return OutputSink(sys.stdout, sys.stderr)
