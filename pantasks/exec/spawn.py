# -*- test-case-name: tests.exec.test_local -*-
"""Start a job in a session of its own at the cost of a plain spawn.

Each job must lead its own process group so a timeout or kill reaches
everything it started.  Twisted's C{spawnProcess} uses C{posix_spawnp}
when it can, but offers no way to ask for C{POSIX_SPAWN_SETSID}; going
through util-linux C{setsid(1)} works but costs a second exec per job.
L{spawn_in_session} asks C{posix_spawnp} for the new session directly,
which is what keeps the dispatch rate near a bare spawn.  It relies on
Twisted's process internals, so it checks that they are there and
returns None when it cannot help; the caller then uses the C{setsid(1)}
path.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
from typing import Any, Optional

try:
    from twisted.internet import process as _process
    from twisted.internet.posixbase import PosixReactorBase

    _HELPERS = all(
        hasattr(_process, name)
        for name in ("Process", "_listOpenFDs", "_getFileActions", "_PS_CLOSE", "_PS_DUP2")
    ) and hasattr(os, "posix_spawnp")
except ImportError:  # pragma: no cover - not a POSIX Twisted
    _HELPERS = False


if _HELPERS:

    class _SessionProcess(_process.Process):
        """A Twisted process whose posix_spawnp also calls setsid()."""

        def _trySpawnInsteadOfFork(
            self, path: Any, uid: Any, gid: Any, executable: Any, args: Any,
            environment: Any, kwargs: Any,
        ) -> bool:
            if uid is not None or gid is not None or path is not None:
                return False
            state = []
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            for fd in _process._listOpenFDs():
                try:
                    flags = fcntl.fcntl(fd, fcntl.F_GETFD)
                except OSError:
                    continue
                if fd >= limit and not flags & fcntl.FD_CLOEXEC:
                    # posix_spawn refuses to name a descriptor at or above
                    # the soft limit (EBADF for every job), so one inherited
                    # there is closed by exec instead.
                    fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)
                    flags |= fcntl.FD_CLOEXEC
                state.append((fd, flags & fcntl.FD_CLOEXEC))
            ignored = [s for s in range(1, signal.NSIG) if signal.getsignal(s) == signal.SIG_IGN]
            self.pid = os.posix_spawnp(
                executable,
                args,
                os.environ if environment is None else environment,
                file_actions=_process._getFileActions(
                    state, kwargs.get("fdmap"), doClose=_process._PS_CLOSE,
                    doDup2=_process._PS_DUP2,
                ),
                setsigdef=ignored,
                setsid=True,
            )
            self.status = -1
            return True


def spawn_in_session(
    reactor: Any, proto: Any, executable: str, args: list[str], env: dict, childFDs: dict
) -> Optional[Any]:
    """Spawn C{args} as the leader of a new session, or return None when
    this reactor or Twisted version does not allow it (the caller falls
    back to C{setsid(1)})."""
    if not _HELPERS or not isinstance(reactor, PosixReactorBase):
        return None
    if getattr(reactor, "_neverUseSpawn", False):
        return None
    return _SessionProcess(reactor, executable, args, env, None, proto, None, None, childFDs)
