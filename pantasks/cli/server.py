# -*- test-case-name: tests.net.test_server_process -*-
"""C{pantasks_server}: the daemon as operators start it.

It behaves as the original did from the outside: it reads ptolemy.rc
(C{-c FILE}, C{-D KEY VALUE}), runs C{--load} files, finds the first free
port of C{PANTASKS_SERVER_PORT} (default 2000..2010), prints
C{bound to port: N} and, when C{PANTASKS_SERVER_STDOUT}/C{_STDERR} name
files, sends everything after that (scheduler messages, task-macro
output, warnings) there and nothing more to the terminal.  It does not
fork into the background (run it under nohup, an init script or systemd,
or use C{twistd pantasks}).  The service itself is L{pantasks.tap}.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

from twisted.python import usage

from pantasks.tap import (
    EXIT_CONFIG,
    EXIT_LOG_FILE,
    Options,
    StartupError,
    build,
    log_file_error,
)

EXIT_STATUS_HELP = """\
Exit status:
  0   stopped by shutdown, server exit, SIGTERM or SIGINT
  1   a PANTASKS_SERVER_STDOUT/STDERR file cannot be opened or written (a full
      disk, say); "bound to port" is printed only after every start-up step
  2   bad option or configuration file, or PANTASKS_SERVER names another host
  6   no free port in the range
  18  bad VALID_IP entry
  20  bad PANTASKS_SERVER_PORT (or --port)
  0   also: --only, or a SCRIPT argument, and every file loaded
  40  --only: a --load file failed or does not exist (its error is
      printed on the terminal even when the log goes to a file)
  41  a SCRIPT argument failed or does not exist (printed likewise)
  N   'exit N' in a --load file or SCRIPT
Signals: SIGTERM/SIGINT stop gracefully (running jobs finish; a second
signal, or one during a shutdown already under way, kills them); SIGHUP
reopens the log files.
With no PASSWORD (ptolemy.rc) and no [users] (pantasks.conf), a password
for user 'pantasks' is generated once and kept in
$XDG_CONFIG_HOME/pantasks/password (default ~/.config/pantasks/password,
mode 0600)."""


class ServerOptions(Options):
    """L{pantasks.tap.Options} with the program's own usage text."""

    synopsis = "Usage: pantasks_server [options] [SCRIPT [ARG ...]]"

    def getUsage(self, width: Optional[int] = None) -> str:
        return super().getUsage(width) + "\n" + EXIT_STATUS_HELP + "\n"


def _error(message: str, code: int) -> None:
    sys.stderr.write(f"pantasks_server: {message}\n")
    sys.exit(code)


def _start_logging(server_log: Any) -> None:
    """Twisted's own warnings and errors go to the server log (stderr),
    escaped and cut; tracebacks never to watchers."""
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
    )

    from pantasks.net.logsink import LogObserver

    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(LogObserver(server_log), [predicate])], redirectStandardIO=False
    )


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of C{pantasks_server}; see L{EXIT_STATUS_HELP}."""
    options = ServerOptions()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:  # --help | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except StartupError as e:
        _error(str(e), e.exit_code)
    except usage.UsageError as e:
        _error(f"{e} (see pantasks_server --help)", EXIT_CONFIG)

    from pantasks.net.logsink import ServerLog

    settings = options.settings
    try:
        server_log = ServerLog(settings.stdout_path, settings.stderr_path)
    except OSError as e:
        sys.stderr.write(f"pantasks_server: {log_file_error(e)}\n")
        sys.exit(EXIT_LOG_FILE)

    from twisted.internet import reactor

    redirect = settings.stdout_path is not None or settings.stderr_path is not None
    holder: dict[str, Any] = {}

    def on_listening(port: int) -> None:
        # Start-up has fully succeeded (the log took this line already).
        sys.stdout.write(f"bound to port: {port}\n")
        sys.stdout.flush()
        if redirect:
            server_log.dup_onto_stdio()
            holder["server"].stdio_redirected = True

    def on_fatal(line: str) -> None:
        if redirect:  # else the log is this terminal and has the line
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def say(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    try:
        top, server = build(options, reactor, server_log=server_log,
                            on_listening=on_listening, say=say, on_fatal=on_fatal)
    except StartupError as e:
        _error(str(e), e.exit_code)
    holder["server"] = server
    _start_logging(server_log)
    # Handlers now (a SIGTERM may come as soon as the port is printed) and
    # again once the reactor has installed its own.
    server.install_signal_handlers()
    top.startService()
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.callWhenRunning(lambda: reactor.callLater(0, server.install_signal_handlers))
    reactor.run()
    sys.stdout.flush()
    server_log.close()
    sys.exit(server.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
