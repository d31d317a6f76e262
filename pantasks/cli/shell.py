# -*- test-case-name: tests.cli.test_shell -*-
"""The standalone C{pantasks} shell: the interpreter (and, with the
scheduler, every task) in one process, driven from a readline prompt.

The reactor owns the main thread; the prompt runs in a helper thread and
hands each complete command (a whole block, for C{macro}/C{task}/C{for}...)
to the reactor, then waits for it to finish.  So jobs keep being
launched and harvested while the prompt waits for the user or a command
sleeps.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any, Optional

USAGE = """\
usage: pantasks [options] [SCRIPT [ARG ...]]

Without SCRIPT, an interactive shell (prompt 'pantasks: ').  With SCRIPT,
run the script with $argv:0.. set to ARG ... and exit.

options:
  -c FILE          ptolemy.rc configuration file
  -D KEY VALUE     set a configuration key (repeatable)
  --load FILE      run FILE before anything else (repeatable)
  --norc           do not read ~/.pantasksrc
  -h, --help       show this help
  --version        print the version

exit status: 0 on success; 1 when SCRIPT failed; 2 for a usage or
configuration error; N after 'exit N'.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"pantasks: {message} (try pantasks --help)\n")
        sys.exit(2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="pantasks", add_help=False)
    p.add_argument("-c", dest="config")
    p.add_argument("-D", dest="defines", nargs=2, action="append", default=[])
    p.add_argument("--load", action="append", default=[])
    p.add_argument("--norc", "--no-rc", "-norc", "-no-rc", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("--version", action="store_true")
    p.add_argument("script", nargs="?")
    p.add_argument("args", nargs=argparse.REMAINDER)
    return p.parse_args(argv)


class Shell:
    """Reads commands, runs them on the reactor, reports their status."""

    def __init__(self, reactor: Any, interp: Any, stdin: Any = None) -> None:
        self.reactor = reactor
        self.interp = interp
        self.stdin = stdin or sys.stdin
        self.exit_code: Optional[int] = None
        self.busy = False
        from pantasks.lang.context import OutputSink

        self.ctx = interp.new_context(OutputSink(sys.stdout, sys.stderr))

    # -- running on the reactor ------------------------------------------
    def run_lines(self, lines: list[str]) -> Any:
        from pantasks.lang.context import Origin

        items = [(ln.strip(), Origin(None, n)) for n, ln in enumerate(lines, 1) if ln.strip()]
        return self.interp.execute(self.ctx, items)

    def quit(self, ctx: Any, code: int) -> None:
        self.exit_code = code
        self.reactor.callLater(0, self.stop_reactor)

    def stop_reactor(self) -> None:
        if self.reactor.running and not getattr(self, "_stopping", False):
            self._stopping = True
            self.reactor.stop()

    def scheduler(self) -> Any:
        """The scheduler of the interpreter (None without one)."""
        services = getattr(self.interp, "services", None)
        return getattr(services, "scheduler", None) or getattr(self.interp, "scheduler", None)

    def kill_jobs(self) -> Any:
        """Before the reactor stops (quit, end of script, Control-C,
        SIGTERM): kill the jobs still running, whole process trees, so
        leaving the shell leaves nothing behind."""
        sched = self.scheduler()
        if sched is not None and sched.jobs:
            return sched.shutdown(now=True)
        return None

    # -- the prompt thread ------------------------------------------------
    def _read(self, prompt: str) -> Optional[str]:
        if self.interactive:
            self.terminal.reading(prompt)
            try:
                return input(prompt)
            except EOFError:
                return None
            finally:
                self.terminal.idle()
        line = self.stdin.readline()
        return line if line else None

    def prompt_loop(self) -> None:
        from twisted.internet.threads import blockingCallFromThread

        from pantasks.cli.prompt import read_command

        try:
            while self.exit_code is None:
                prompt = self.interp.variables.get("PROMPT", "pantasks: ")
                lines = read_command(self._read, prompt)
                if lines is None:
                    if self.interactive and not self._may_leave():
                        continue
                    break
                if not lines[0].strip():
                    continue
                try:
                    self.busy = True
                    blockingCallFromThread(self.reactor, self.run_lines, lines)
                except Exception as e:  # never a traceback at the prompt
                    sys.stderr.write(f"error: {e}\n")
                finally:
                    self.busy = False
        finally:
            if self.exit_code is None:
                self.exit_code = 0
            self.reactor.callFromThread(self.stop_reactor)

    def interrupt(self) -> None:
        """Control-C at a terminal (reactor thread): interrupt the running
        command, or clear the half-typed line; never leave with running
        jobs (use quit or Ctrl-D)."""
        if self.busy:
            execution = getattr(self.ctx, "execution", None)
            if execution is not None:
                execution.cancel("Ctrl-C")
            return
        self.terminal.interrupt_line("(type quit or press Ctrl-D to leave pantasks)")

    def _may_leave(self) -> bool:
        """Ctrl-D at the prompt (prompt thread): with jobs running, ask
        first, since leaving kills them."""
        from twisted.internet.threads import blockingCallFromThread

        sched = self.scheduler()
        count = blockingCallFromThread(
            self.reactor, lambda: len(sched.jobs) if sched is not None else 0)
        if not count:
            return True
        sys.stdout.write("\n")
        try:
            answer = input(f"{count} job{'' if count == 1 else 's'} running; leave pantasks "
                           "and kill them? [y/N] ")
        except EOFError:
            answer = ""
        return answer.strip().lower() in ("y", "yes")

    def start_prompt(self) -> None:
        self.interactive = self.stdin.isatty()
        if self.interactive:
            import signal

            from pantasks.cli.prompt import Terminal, setup_readline

            self.terminal = Terminal(sys.stdout)
            signal.signal(signal.SIGINT,
                          lambda *_: self.reactor.callFromThread(self.interrupt))
            setup_readline(self.interp)
        t = threading.Thread(target=self.prompt_loop, name="prompt", daemon=True)
        t.start()


def open_log_sink(config: Any) -> Any:
    """Where task macros and scheduler messages write: the terminal, or the
    files named by PANTASKS_SERVER_STDOUT/STDERR (appended), as the original
    did in standalone mode too.  The server's log sink does exactly this."""
    from pantasks.net.logsink import ServerLog, log_path

    out = log_path(config.get("PANTASKS_SERVER_STDOUT"))
    err = log_path(config.get("PANTASKS_SERVER_STDERR"))
    try:
        return ServerLog(out, err)
    except OSError as e:
        key = "PANTASKS_SERVER_STDOUT" if e.filename == out else "PANTASKS_SERVER_STDERR"
        raise config.error(key, f"cannot open {e.filename}: {e.strerror}") from None


def build_interpreter(reactor: Any, log_sink: Any = None) -> Any:
    """The interpreter, with the scheduler and a local job runner."""
    from pantasks.engine import make_engine
    from pantasks.exec.local import raise_nofile_limit
    from pantasks.lang.driver import Slicer

    raise_nofile_limit()
    return make_engine(reactor, log_sink=log_sink, slicer=Slicer(reactor)).interp


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of C{pantasks}."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.help:
        sys.stdout.write(USAGE)
        sys.exit(0)
    if args.version:
        from pantasks import __version__

        sys.stdout.write(f"pantasks {__version__}\n")
        sys.exit(0)
    from pantasks.config import ConfigError, load_ptolemy_config

    try:
        defines = [(k, v) for k, v in args.defines]
        config = load_ptolemy_config(explicit=args.config, defines=defines)
        log_sink = open_log_sink(config)
    except ConfigError as e:
        sys.stderr.write(f"pantasks: {e}\n")
        sys.exit(2)
    from twisted.internet import reactor

    interp = build_interpreter(reactor, log_sink)
    shell = Shell(reactor, interp)
    interp.quit_handler = shell.quit
    state = {"status": 1}

    def startup() -> Any:
        from twisted.internet.defer import inlineCallbacks

        @inlineCallbacks
        def go() -> Any:
            ctx = shell.ctx
            rc = os.path.join(interp.variables.get("HOME", "/"), ".pantasksrc")
            if not args.norc and not args.script and os.path.isfile(rc):
                yield interp.execute_text(ctx, f"input {rc}")
            for path in args.load:
                yield interp.execute_text(ctx, f'input "{path}"')
            if shell.exit_code is not None:
                return
            if args.script:
                interp.variables["SCRIPT_NAME"] = args.script
                ctx.set_list("argv", list(args.args))
                if not os.path.isfile(args.script):
                    sys.stderr.write(f"pantasks: no file {args.script}\n")
                    shell.exit_code = 2
                else:
                    status = yield interp.execute_text(ctx, f'input "{args.script}"')
                    state["status"] = status
                    if shell.exit_code is None:
                        shell.exit_code = 0 if status else 1
                shell.stop_reactor()
                return
            shell.start_prompt()

        d = go()
        d.addErrback(lambda f: (sys.stderr.write(f"pantasks: {f.getErrorMessage()}\n"),
                                shell.quit(None, 1)))

    reactor.addSystemEventTrigger("before", "shutdown", shell.kill_jobs)
    reactor.callWhenRunning(startup)
    reactor.run()
    sys.stdout.flush()
    sys.exit(shell.exit_code or 0)
