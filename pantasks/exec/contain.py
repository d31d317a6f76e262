# -*- test-case-name: tests.exec.test_contain -*-
"""Keep every process a job starts within reach, and reap what it leaves.

A job runs in its own session and process group, so C{killpg} reaches
what it forks -- but not a child that calls C{setsid} or C{setpgid}, nor
a daemon that double-forks (C{setsid sleep 3101 &}).  Such processes used
to outlive C{kill}, timeouts and C{shutdown now}, re-parented to PID 1.
Two mechanisms close that gap:

 - The server makes itself a I{child subreaper}
   (C{prctl(PR_SET_CHILD_SUBREAPER)}, Linux 3.4+): an orphaned
   descendant is re-parented to the server instead of PID 1, so every
   process a job ever started stays a descendant of the server.  The
   server must then reap those orphans (L{Containment.reap_orphans}),
   without touching the children Twisted manages: their exit status
   belongs to Twisted's own SIGCHLD handling.
 - Each process tree is I{tagged} with an environment variable
   (L{TAG_VARIABLE}, C{<server pid>:<key>}) that every descendant
   inherits, so a tree is found even after its root exited and its
   members re-parented: L{Containment.kill_tree} signals the live
   descendants of the root plus every descendant of the server (or,
   without a subreaper, every process of ours) carrying the tag.

A cgroup would be exact, but creating one needs a delegated cgroup v2
tree and moving a child into it after the spawn races with its first
fork; the tag is inherited at C{exec}, with no race.  A job that clears
its environment I{and} detaches is still found while its parent lives
(the tree walk) and is ended by C{shutdown now}, which kills every
descendant of the server (L{Containment.kill_all}).

Everything here is synchronous and cheap (a scan of C{/proc} takes a
few milliseconds), so it runs in the reactor thread, only on kills, and
on a one-second reaping tick.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import signal
import sys
from typing import Any, Callable, Iterable, Optional

from twisted.logger import Logger

#: The environment variable that tags a process tree.
TAG_VARIABLE = "PANTASKS_TREE"

#: prctl(2) option number (linux/prctl.h).
PR_SET_CHILD_SUBREAPER = 36

#: How often orphans are looked for, in seconds.
REAP_INTERVAL = 1.0

#: Rounds of stop-and-scan before the final SIGKILL (a tree forking as
#: fast as it can still cannot add members once stopped).
_FREEZE_ROUNDS = 8

log = Logger()


def become_subreaper() -> bool:
    """Make this process a child subreaper (Linux).

    @return: True when it now is one; False where the system has no such
        thing (the tag still finds escaped processes, but orphans then go
        to PID 1 until they are killed).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def process_table(proc: str = "/proc") -> dict[int, tuple[int, str]]:
    """Every process now: pid -> (parent pid, state letter).

    @param proc: where procfs is mounted (a parameter for tests).
    """
    table: dict[int, tuple[int, str]] = {}
    try:
        names = os.listdir(proc)
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        data = _read(f"{proc}/{name}/stat")
        if not data:
            continue
        # "pid (comm) S ppid ...": comm may hold spaces and parentheses.
        rest = data[data.rfind(b")") + 2 :].split()
        if len(rest) >= 2:
            table[int(name)] = (int(rest[1]), rest[0].decode("ascii", "replace"))
    return table


def descendants(table: dict[int, tuple[int, str]], root: int) -> set[int]:
    """The pids below C{root} in C{table} (not C{root} itself)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _state) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, ()))
    return found


def tree_tag(pid: int, proc: str = "/proc") -> Optional[str]:
    """The value of L{TAG_VARIABLE} in C{pid}'s environment, if any."""
    data = _read(f"{proc}/{pid}/environ")
    if not data:
        return None
    prefix = TAG_VARIABLE.encode() + b"="
    for item in data.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :].decode("ascii", "replace")
    return None


class Containment:
    """
    Tags process trees, finds and kills them whole, and reaps orphans.

    One per server (the runner and the language's processes share it).

    @ivar subreaper: True when this process is a child subreaper.
    @ivar pid: this process's pid (the tags' prefix).
    """

    def __init__(
        self,
        reactor: Any = None,
        proc: str = "/proc",
        subreaper: Optional[bool] = None,
        managed: Optional[Callable[[], Iterable[int]]] = None,
        kill: Callable[[int, int], None] = os.kill,
    ) -> None:
        """
        @param reactor: for the reaping tick (IReactorTime); None: no tick
            (call L{reap_orphans} yourself).
        @param proc: procfs mount point.
        @param subreaper: whether to make this process a subreaper; None:
            yes (what the server wants), False in tests that must not.
        @param managed: the pids whose exit status belongs to someone else
            (default: the children Twisted's process support tracks).
        @param kill: how to signal a process (a parameter for tests).
        """
        self.pid = os.getpid()
        self._proc = proc
        self._kill = kill
        self._managed = managed or _twisted_children
        self.subreaper = become_subreaper() if subreaper is None or subreaper else False
        self._reactor = reactor
        self._tick: Any = None
        if reactor is not None and self.subreaper:
            self._schedule()

    # -- tagging ---------------------------------------------------------------
    def tag(self, key: str) -> str:
        """The tag value for tree C{key} (unique per server)."""
        return f"{self.pid}:{key}"

    def tagged_env(self, env: Optional[dict], key: str) -> dict:
        """A copy of C{env} (None: this process's environment) carrying the
        tag of tree C{key}; give it to the process that roots the tree."""
        out = dict(os.environ if env is None else env)
        out[TAG_VARIABLE] = self.tag(key)
        return out

    # -- finding -----------------------------------------------------------------
    def members(self, key: Optional[str], root: Optional[int] = None) -> set[int]:
        """The live processes of tree C{key}: descendants of C{root} (pass
        it only while the root is unreaped, so its pid cannot have been
        reused) and every process tagged C{key}.  With C{key} None, every
        descendant of this server.  Never this process nor C{root}."""
        table = process_table(self._proc)
        mine = descendants(table, self.pid)
        if root is not None and table.get(root, (0, ""))[0] != self.pid:
            root = None  # not our child (any more): its pid means nothing
        if key is None:
            found = mine
        else:
            found = descendants(table, root) if root is not None else set()
            tag = self.tag(key)
            # Without a subreaper an escaped process is no longer ours by
            # parentage: look at every process we may read.
            candidates = mine if self.subreaper else set(table)
            for pid in candidates - found:
                if tree_tag(pid, self._proc) == tag:
                    found.add(pid)
        found.discard(self.pid)
        if root is not None:
            found.discard(root)
        return {pid for pid in found if table.get(pid, (0, "Z"))[1] not in ("Z", "X")}

    # -- killing -----------------------------------------------------------------
    def signal_tree(self, key: Optional[str], sig: int, root: Optional[int] = None) -> int:
        """Send C{sig} to every member of tree C{key} (see L{members}).

        @return: how many processes were signalled.
        """
        pids = self.members(key, root)
        for pid in pids:
            self._send(pid, sig)
        return len(pids)

    def kill_tree(self, key: Optional[str], root: Optional[int] = None) -> int:
        """SIGKILL tree C{key} completely: members are stopped (so they
        cannot fork any more) and looked for again until no new one
        appears, then all are killed.  The root itself is left to its
        owner.

        @return: how many processes were killed.
        """
        stopped: set[int] = set()
        for _ in range(_FREEZE_ROUNDS):
            new = self.members(key, root) - stopped
            if not new:
                break
            for pid in new:
                self._send(pid, signal.SIGSTOP)
            stopped |= new
        for pid in stopped:
            self._send(pid, signal.SIGKILL)
        self.reap_orphans()
        return len(stopped)

    def kill_all(self) -> int:
        """SIGKILL every descendant of this server (C{shutdown now})."""
        return self.kill_tree(None)

    def _send(self, pid: int, sig: int) -> None:
        try:
            self._kill(pid, sig)
        except ProcessLookupError:
            pass
        except OSError as e:
            log.warn("cannot signal process {pid}: {why}", pid=pid, why=e.strerror)

    # -- reaping -------------------------------------------------------------------
    def reap_orphans(self) -> int:
        """Reap every exited child of this process that nobody else waits
        for (the orphans re-parented here).  Children in L{managed} are
        left alone: Twisted reaps them and reports their status.

        @return: how many were reaped (always 0 when this process is not a
            subreaper: then orphans go to PID 1, and a child found here may
            be someone's C{subprocess} waiting for its status).
        """
        if not self.subreaper:
            return 0
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return 0
        except OSError as e:
            if e.errno == errno.EINTR:
                return 0
            raise
        if info is None:
            return 0  # no child has exited: nothing to look at
        managed = set(self._managed())
        if info.si_pid not in managed:
            candidates = {info.si_pid}
        else:
            table = process_table(self._proc)
            candidates = {pid for pid, (ppid, state) in table.items()
                          if ppid == self.pid and state in ("Z", "X")}
        reaped = 0
        for pid in candidates - managed:
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if done:
                reaped += 1
        return reaped

    def _schedule(self) -> None:
        self._tick = self._reactor.callLater(REAP_INTERVAL, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        try:
            while self.reap_orphans():
                pass
        except Exception:
            log.failure("reaping orphaned processes")
        self._schedule()

    def stop(self) -> None:
        """Stop the reaping tick (at shutdown, and in tests)."""
        if self._tick is not None and self._tick.active():
            self._tick.cancel()
        self._tick = None


def _twisted_children() -> Iterable[int]:
    """The pids Twisted's process support will reap itself."""
    try:
        from twisted.internet import process
    except ImportError:  # pragma: no cover - not POSIX
        return ()
    return list(process.reapProcessHandlers)



def install(containment: Optional[Containment]) -> None:
    """Let the language's shell commands (C{exec}, C{!}, backticks,
    C{-x} options) tag their trees with C{containment} and kill them
    whole (None: undo)."""
    from pantasks.lang import process

    process.trees = containment
