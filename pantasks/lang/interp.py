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
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass
from types import GeneratorType
from typing import Any, Iterable, Optional, Union

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from pantasks.lang import expr as _expr
from pantasks.lang.context import Context, Origin, OutputSink
from pantasks.lang.driver import drive
from pantasks.lang.errors import ExprError, RecursionTooDeep, ScriptError
from pantasks.lang.expand import expand
from pantasks.lang.registry import LANGUAGE, Command, CommandTable
from pantasks.lang.source import Cursor, Line, is_end, read_script
from pantasks.lang.words import split_pieces, split_words

log = Logger()

Result = Union[int, GeneratorType]

#: Deepest macro nesting before C{macro recursion too deep}.
MAX_MACRO_DEPTH = 100


@dataclass
class Macro:
    """A user-defined command: raw body lines, run on each call."""

    name: str
    body: list[Line]
    help: str = ""


def format_number(value: float) -> str:
    """C's C{%.12g}, used by C{++}, C{+=} and friends."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "%.12g" % value


def atof(text: Optional[str]) -> float:
    """C's C{atof}: the longest numeric prefix, 0 when there is none."""
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        pass
    s = text.strip()
    best = 0.0
    for end in range(len(s), 0, -1):
        try:
            best = float(s[:end])
            break
        except ValueError:
            continue
    return best


class Interpreter:
    """Shared state plus the execution machinery.

    @ivar reactor: provides C{callLater} and C{spawnProcess}; only commands
        that wait use it.
    @ivar auto_break: a failing command stops its list (pantasks default).
    @ivar quit_handler: called with the exit code by C{quit}/C{exit}.
    """

    def __init__(
        self,
        reactor: Any = None,
        tables: Iterable[CommandTable] = (),
        log_sink: Optional[OutputSink] = None,
    ) -> None:
        # Importing the command modules registers them into LANGUAGE.
        import pantasks.lang.commands  # noqa: F401

        self.reactor = reactor
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
        self.log_sink = log_sink or OutputSink()
        self._prefix_cache: dict[str, Any] = {}
        self._names: Optional[list[str]] = None
        self._piece_cache: dict[str, Any] = {}
        self._plans: dict[str, Any] = {}
        #: Commands given their line unexpanded: name -> f(ctx, rest_of_line)
        #: (the client's C{server ...} forwards text the server expands).
        self.raw_commands: dict[str, Any] = {}
        #: Called as f(ctx, argv) for an unknown command instead of the
        #: C{Command not found.} error (the client forwards it to the server).
        self.fallback: Any = None
        self._startup_variables()

    # -- setup ------------------------------------------------------------
    def _startup_variables(self) -> None:
        v = self.variables
        v["HOME"] = os.environ.get("HOME", "/")
        v["PID"] = str(os.getpid())
        v["M_PI"] = repr(math.pi)
        v["M_E"] = repr(math.e)
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

    def new_context(self, sink: Optional[OutputSink] = None) -> Context:
        """A fresh execution context writing to C{sink} (default: the log)."""
        return Context(self, sink or self.log_sink)

    # -- command lookup ---------------------------------------------------
    def names(self) -> list[str]:
        """Every command and macro name, sorted (for completion and prefixes)."""
        if self._names is None:
            self._names = sorted(set(self.commands) | set(self.macros))
        return self._names

    def macros_changed(self) -> None:
        self._prefix_cache.clear()
        self._names = None

    def resolve(self, name: str) -> Any:
        """The command or macro C{name} names, exactly or by unique prefix.

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
        matches = [n for n in self.names() if n.startswith(name)]
        if not matches:
            return None
        if len(matches) > 1:
            raise ScriptError(f"ambiguous command: {name} ( {' '.join(matches)} )")
        found = self.commands.get(matches[0]) or self.macros.get(matches[0])
        self._prefix_cache[name] = found
        return found

    # -- execution entry points --------------------------------------------
    def execute(self, ctx: Context, lines: list[Line]) -> Deferred:
        """Run C{lines} as a top-level list; the Deferred fires with 1 or 0."""
        return drive(self._top(ctx, lines))

    def execute_text(self, ctx: Context, text: str, filename: Optional[str] = None) -> Deferred:
        """Run script text (one or more lines) as a top-level list."""
        return self.execute(ctx, read_script(text, filename))

    def _top(self, ctx: Context, lines: list[Line]) -> Any:
        try:
            status = yield from self.run_list(ctx, Cursor(lines))
        finally:
            ctx.loop_break = ctx.loop_next = ctx.loop_last = False
        return status

    def run_list(self, ctx: Context, cursor: Cursor) -> Any:
        """Run every line of C{cursor}; stop on failure or a loop flag."""
        saved = getattr(ctx, "cursor", None)
        ctx.cursor = cursor
        status = 1
        try:
            while True:
                item = cursor.next()
                if item is None:
                    break
                ctx.origin = item[1]
                r = self.run_line(ctx, item[0])
                if r.__class__ is not int:
                    r = yield from r
                status = 1 if r > 0 else 0
                if ctx.loop_break or ctx.loop_next or ctx.loop_last:
                    break
                if not status and self.auto_break:
                    break
        finally:
            ctx.cursor = saved
        return status

    def run_line(self, ctx: Context, line: str) -> Result:
        """Run one raw line: its C{;} pieces in order."""
        pieces = self._piece_cache.get(line)
        if pieces is None:
            pieces = split_pieces(line)
            if len(self._piece_cache) > 20000:
                self._piece_cache.clear()
            self._piece_cache[line] = pieces
        if len(pieces) == 1:
            return self.run_piece(ctx, pieces[0], line)
        if not pieces:
            return 1
        return self._run_pieces(ctx, pieces, line)

    def _run_pieces(self, ctx: Context, pieces: list[str], raw: str) -> Any:
        status = 1
        for piece in pieces:
            r = self.run_piece(ctx, piece, raw)
            if r.__class__ is not int:
                r = yield from r
            status = 1 if r > 0 else 0
            if ctx.loop_break or ctx.loop_next or ctx.loop_last:
                break
            if not status and self.auto_break:
                break
        return status

    def run_piece(self, ctx: Context, piece: str, raw: str = "") -> Result:
        """Run one command; returns a status or a generator to drive."""
        plan = self._plans.get(piece)
        if plan is None:
            plan = self._plans[piece] = _make_plan(piece)
            if len(self._plans) > 20000:
                self._plans.clear()
        if plan is not _SLOW and self.verbose == "off":
            done = _run_fast_assign(ctx, plan)
            if done:
                self.variables["STATUS"] = "1"
                return 1
        try:
            if self.verbose == "on":
                ctx.err(f"opihi: {piece}\n")
            if piece[0] == "!" and piece[1:2] not in ("", " "):
                piece = "! " + piece[1:]
            if self.raw_commands:
                head, _sep, rest = piece.partition(" ")
                raw_cmd = self.raw_commands.get(head)
                if raw_cmd is not None:
                    r = raw_cmd(ctx, rest.strip())
                    if r.__class__ is not int:
                        return self._guard(ctx, r, raw or piece)
                    return self._finish(ctx, r, raw or piece)
            if not _is_while(piece):
                piece = expand(ctx, piece)
            if piece[:1] == "$":
                r = self.assign(ctx, piece)
            else:
                if "{" in piece:
                    piece = substitute_braces(piece)
                if "\\" in piece:
                    piece = remove_backslashes(piece)
                argv = split_words(piece)
                if not argv:
                    return 1
                r = self.call(ctx, argv)
        except ScriptError as e:
            ctx.error(str(e))
            r = 0
        except RecursionError:
            ctx.error("expression or call nesting too deep")
            r = 0
        except Exception as e:  # a bug: one line for the user, details in the log
            log.failure("internal error running {piece!r}", piece=piece)
            ctx.error(f"internal error: {e.__class__.__name__}: {e}")
            r = 0
        if r.__class__ is not int:
            return self._guard(ctx, r, raw or piece)
        return self._finish(ctx, r, raw or piece)

    def _finish(self, ctx: Context, r: int, raw: str) -> int:
        if r is True or r is False:
            r = int(r)
        self.variables["STATUS"] = str(r)
        if r <= 0:
            msg = ctx.get_var("ERRORMSG")
            if msg:
                ctx.err(msg + "\n")
            if self.verbose in ("on", "error"):
                ctx.err(f"error on line: {raw}\n")
        return r

    def _guard(self, ctx: Context, gen: Any, raw: str) -> Any:
        try:
            r = yield from gen
        except ScriptError as e:
            ctx.error(str(e))
            r = 0
        except RecursionError:
            ctx.error("expression or call nesting too deep")
            r = 0
        except Exception as e:
            log.failure("internal error running {raw!r}", raw=raw)
            ctx.error(f"internal error: {e.__class__.__name__}: {e}")
            r = 0
        if r is None:
            r = 0
        return self._finish(ctx, int(r), raw)

    def call(self, ctx: Context, argv: list[str]) -> Result:
        """Look up C{argv[0]} and run it with C{argv}."""
        target = self.resolve(argv[0])
        if target is None:
            if self.fallback is not None:
                return self.fallback(ctx, argv)
            ctx.err(f"{argv[0]}: Command not found.\n")
            return -1
        if target.__class__ is Macro:
            argv[0] = target.name
            return self.call_macro(ctx, target, argv)
        argv[0] = target.name
        r = target.func(ctx, argv)
        if r is None:
            return 0
        return r

    def call_macro(self, ctx: Context, macro: Macro, argv: list[str]) -> Any:
        from pantasks.lang.context import Frame

        if len(ctx.frames) >= MAX_MACRO_DEPTH:
            raise RecursionTooDeep(f"macro recursion too deep ({macro.name})")
        ctx.frames.append(Frame(macro.name, argv))
        saved_origin = ctx.origin
        try:
            status = yield from self.run_list(ctx, Cursor(macro.body))
        finally:
            ctx.frames.pop()
            ctx.origin = saved_origin
        ctx.loop_next = ctx.loop_last = False
        return status

    # -- assignment --------------------------------------------------------
    def assign(self, ctx: Context, line: str) -> Result:
        """C{$X = rhs}, C{$X ++}, C{$X --}, C{$X += e}, C{$X -= e}."""
        j = 1
        n = len(line)
        while j < n and (line[j].isalnum() or line[j] in "_:"):
            j += 1
        name = line[1:j]
        rest = line[j:].lstrip(" \t")
        if not name:
            raise ScriptError("syntax error")
        if rest.startswith("++") or rest.startswith("--"):
            if rest[2:].strip():
                raise ScriptError("syntax error")
            delta = 1.0 if rest[0] == "+" else -1.0
            ctx.set_var(name, format_number(atof(ctx.get_var(name)) + delta))
            return 1
        if rest.startswith("+=") or rest.startswith("-="):
            text = _prepare_rhs(rest[2:])
            try:
                value = float(_expr.evaluate(text))
            except (ExprError, ValueError):
                raise ScriptError("syntax error") from None
            old = atof(ctx.get_var(name))
            ctx.set_var(name, format_number(old + value if rest[0] == "+" else old - value))
            return 1
        if not rest.startswith("="):
            raise ScriptError("syntax error")
        rhs = rest[1:].lstrip(" \t")
        if rhs.startswith("`"):
            end = rhs.find("`", 1)
            if end < 0 or rhs[end + 1 :].strip():
                raise ScriptError("syntax error")
            return self._assign_backtick(ctx, name, rhs[1:end])
        if "\\" in rhs:
            rhs = remove_backslashes(rhs)
        if rhs:
            try:
                rhs = _expr.evaluate(rhs)
            except ExprError:
                pass
        ctx.set_var(name, rhs)
        return 1

    def _assign_backtick(self, ctx: Context, name: str, command: str) -> Any:
        code, text = yield self.shell_capture(command)
        text = text[:1023]
        if text.endswith("\n"):
            text = text[:-1]
        ctx.set_var(name, text.replace("\n", " "))
        self.variables["EXECSTATUS"] = str(code * 256 if code >= 0 else -code)
        if code:
            ctx.err(f"warning: exit status of command {code * 256}\n")
        return 1

    # -- services for commands ---------------------------------------------
    def _need_reactor(self) -> Any:
        if self.reactor is None:
            raise ScriptError("this command needs the event loop, which is not running")
        return self.reactor

    def shell_capture(self, command: str) -> Deferred:
        """Run C{/bin/sh -c command}; fire with (exit code, stdout text)."""
        from pantasks.lang.process import capture

        return capture(self._need_reactor(), command)

    def shell_run(self, ctx: Context, command: str, timeout: Optional[float] = None) -> Deferred:
        """Run C{$SHELL -c command}, its output going to C{ctx}; fire with
        the exit code (negative signal number when killed)."""
        from pantasks.lang.process import run_to_sink

        return run_to_sink(self._need_reactor(), command, ctx, timeout)

    def sleep(self, seconds: float) -> Deferred:
        """A Deferred firing after C{seconds} on the interpreter's clock."""
        from twisted.internet.task import deferLater

        return deferLater(self._need_reactor(), max(0.0, seconds), lambda: None)

    def read_list_block(self, ctx: Context, argv: list[str]) -> int:
        """C{list NAME} followed by lines and C{end}: raw lines become items."""
        if len(argv) != 2:
            raise ScriptError("USAGE: list NAME (then one item per line, then end)")
        items = []
        cursor = getattr(ctx, "cursor", None)
        while cursor is not None:
            item = cursor.next()
            if item is None:
                break
            line = item[0]
            if is_end(line):
                break
            if line and line[0] != "#":
                items.append(line)
        ctx.set_list(argv[1], items)
        return 1

    def load_file(self, ctx: Context, path: str) -> Any:
        """Read C{path} and run it as a list (C{input}, C{module})."""
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
        # A top-level break ends the file, not the caller.
        ctx.loop_break = ctx.loop_next = ctx.loop_last = False
        return status


_SLOW = object()
_VAR_RE = re.compile(r"\$([A-Za-z0-9_:]+)")
_ASSIGN_RE = re.compile(r"^\$([A-Za-z0-9_:]+)[ \t]*=[ \t]*(.*)$")


def _make_plan(piece: str) -> Any:
    """A fast plan for C{$X = expression-of-simple-variables}, or C{_SLOW}.

    Loop bodies run the same line many times; this plan parses the
    expression once with its C{$name} operands as slots.  It is used only
    when the result is certain to equal the general path's (see
    L{_run_fast_assign}); anything unusual takes the general path.
    """
    m = _ASSIGN_RE.match(piece)
    if m is None:
        return _SLOW
    target, rhs = m.group(1), m.group(2)
    if not rhs or any(c in rhs for c in '"{\\`\'') or rhs[0] in "+-=":
        return _SLOW
    names = _VAR_RE.findall(rhs)
    if rhs.count("$") != len(names):
        return _SLOW
    compiled = _expr.compile_expr(rhs)
    slots = []
    for name in names:
        token = "$" + name
        if token not in compiled.operands or name.isdigit():
            return _SLOW
        slots.append((token, name))
    return (target, compiled, tuple(dict.fromkeys(slots)))


def _run_fast_assign(ctx: Context, plan: Any) -> bool:
    """Run a fast plan; False when the general path must run instead."""
    target, compiled, slots = plan
    subst = {}
    single = _expr.is_single_token
    for token, name in slots:
        value = ctx.get_var(name)
        if value is None or "$" in value or not single(value):
            return False
        subst[token] = value
    try:
        result = compiled.run(subst)
    except ExprError:
        return False
    ctx.set_var(target, result)
    return True


def _is_while(piece: str) -> bool:
    word = piece.split(None, 1)[0] if piece else ""
    return bool(word) and "while".startswith(word) and word[0] == "w"


def _prepare_rhs(text: str) -> str:
    text = text.strip()
    return remove_backslashes(text) if "\\" in text else text


def remove_backslashes(text: str) -> str:
    """Every C{\\x} becomes C{x}."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        else:
            if c != "\\":
                out.append(c)
            i += 1
    return "".join(out)


def substitute_braces(line: str) -> str:
    """Replace each C{{expr}} by its value; C{\\{} is a literal brace."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n:
            out.append(line[i : i + 2])
            i += 2
            continue
        if c != "{":
            out.append(c)
            i += 1
            continue
        j = i + 1
        while j < n and line[j] != "}":
            if line[j] == "{":
                raise ScriptError("can't nest brackets!")
            j += 1
        if j >= n:
            raise ScriptError("no close brackets!")
        inner = line[i + 1 : j]
        try:
            out.append(_expr.evaluate(inner))
        except ExprError:
            raise ScriptError(f"cannot evaluate expression in brackets: {inner}") from None
        i = j + 1
    return "".join(out)


def stdio_sink() -> OutputSink:
    return OutputSink(sys.stdout, sys.stderr)
