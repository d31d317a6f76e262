# -*- test-case-name: tests.lang.test_interp -*-
"""Shell commands run by the language (C{exec}, backticks, C{-x} options).

They run through the reactor's C{spawnProcess} so a command that takes a
minute delays nothing else.  Each runs in its own session (process
group), so a timeout or a shutdown can kill everything it started.
"""

from __future__ import annotations

import codecs
import itertools
import os
import signal
from typing import Any, Optional

from twisted.internet import error as ierror
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ProcessProtocol

#: What tags a command's process tree and kills it whole, found again
#: after it detached: the server installs its
#: L{pantasks.exec.contain.Containment} here (C{contain.install}; a layer
#: above this one).  None: the command's session only.
trees: Any = None


def _shell() -> str:
    return os.environ.get("SHELL") or "/bin/sh"


def _spawn(reactor: Any, proto: ProcessProtocol, command: str, shell: str = "/bin/sh") -> Any:
    argv = ["setsid", shell, "-c", command] if _SETSID else [shell, "-c", command]
    exe = _SETSID or shell
    # Tag the tree, so a kill reaches what the command detached too.
    proto.tree = f"cmd{next(_TREES)}"
    env = os.environ.copy() if trees is None else trees.tagged_env(None, proto.tree)
    return reactor.spawnProcess(proto, exe, argv, env=env, childFDs={0: "w", 1: "r", 2: "r"})


_TREES = itertools.count(1)


def _find_setsid() -> Optional[str]:
    for d in ("/usr/bin", "/bin"):
        p = os.path.join(d, "setsid")
        if os.access(p, os.X_OK):
            return p
    return None


_SETSID = _find_setsid()


def _kill_group(transport: Any) -> None:
    """SIGKILL the session a command runs in (all it started), or the
    command alone if its group is gone."""
    pid = getattr(transport, "pid", None)
    tree = getattr(getattr(transport, "proto", None), "tree", None)
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    if tree is not None and trees is not None:  # what left the session
        trees.kill_tree(tree, pid)


def _cancellable(proto: ProcessProtocol) -> Deferred:
    """A Deferred whose cancellation (the execution waiting on it was
    interrupted) kills the command's whole process group."""

    def cancel(d: Deferred) -> None:
        proto.cancelled = True
        _kill_group(proto.transport)

    return Deferred(cancel)


def _status_of(reason: Any) -> int:
    v = reason.value
    if isinstance(v, ierror.ProcessTerminated) and v.signal is not None:
        return -int(v.signal)
    code = getattr(v, "exitCode", 0)
    return int(code or 0)


class _Capture(ProcessProtocol):
    cancelled = False

    def __init__(self, err: Any = None) -> None:
        self.done = _cancellable(self)
        self.out: list[str] = []
        self.size = 0
        self.err = err
        self._out = _decoder()
        self._err = _decoder()

    def connectionMade(self) -> None:
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        if self.size < 16 * 1024 * 1024:
            # decoded as it arrives: decoding megabytes at the end would
            # hold the reactor
            self.out.append(self._out.decode(data))
            self.size += len(data)

    def errReceived(self, data: bytes) -> None:
        # The command's stderr reaches whoever ran it (as the original's
        # popen let it reach the terminal).
        if self.err is not None:
            text = self._err.decode(data)
            if text:
                self.err(text)

    def processEnded(self, reason: Any) -> None:
        if self.cancelled:
            return
        text = "".join(self.out) + self._out.decode(b"", final=True)
        self.done.callback((_status_of(reason), text))


def capture(reactor: Any, command: str, err: Any = None) -> Deferred:
    """Run C{/bin/sh -c command}; fire with (exit code, stdout text).

    @param err: called with the command's stderr text as it arrives.
    """
    proto = _Capture(err)
    d = proto.done
    try:
        _spawn(reactor, proto, command)
    except OSError as e:
        from twisted.logger import Logger

        Logger().warn("cannot run shell: {e}", e=e)
        d.callback((127, ""))
    return d


def _decoder() -> Any:
    # Incremental: a UTF-8 character split across two reads stays whole.
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


class _ToSink(ProcessProtocol):
    cancelled = False

    def __init__(self, ctx: Any) -> None:
        self.done = _cancellable(self)
        self.ctx = ctx
        self.timer: Any = None
        self.timed_out = False
        self._out = _decoder()
        self._err = _decoder()

    def connectionMade(self) -> None:
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        text = self._out.decode(data)
        if text:
            self.ctx.out(text)
            self._hold()

    def errReceived(self, data: bytes) -> None:
        text = self._err.decode(data)
        if text:
            self.ctx.err(text)
            self._hold()

    def _hold(self) -> None:
        """Stop reading the command's pipes while whoever reads our output
        does not (a client that does not read): the command then blocks
        on its own full pipe instead of filling the server's memory."""
        waiter = self.ctx.sink.waiter()
        if waiter is not None and not self.cancelled:
            self.transport.pauseProducing()
            waiter.addBoth(lambda _: self.transport.resumeProducing())

    def kill(self) -> None:
        self.timer = None
        self.timed_out = True
        # The command runs in its own session: kill all it started.
        _kill_group(self.transport)

    def processEnded(self, reason: Any) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.cancelled:
            return
        rest = self._out.decode(b"", final=True)
        if rest:
            self.ctx.out(rest)
        rest = self._err.decode(b"", final=True)
        if rest:
            self.ctx.err(rest)
        self.done.callback(_status_of(reason))


def run_to_sink(reactor: Any, command: str, ctx: Any, timeout: Optional[float]) -> Deferred:
    """Run C{$SHELL -c command} with its output written to C{ctx}.

    @return: a Deferred firing with the exit code, the negative signal
        number when it was killed, or C{None} after a timeout.
    """
    proto = _ToSink(ctx)
    d = proto.done
    try:
        _spawn(reactor, proto, command, _shell())
    except OSError as e:
        ctx.err(f"cannot run {command}: {e.strerror}\n")
        d.callback(127)
        return d
    if timeout:
        proto.timer = reactor.callLater(timeout, proto.kill)
    d.addCallback(lambda code: None if proto.timed_out else code)
    return d
