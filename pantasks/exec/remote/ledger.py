# -*- test-case-name: tests.exec.test_agent -*-
"""The agent's ledger of running jobs, so orphans do not outlive a dead agent.

An agent that exits normally kills its jobs.  One killed outright
(C{kill -9}, the OOM killer) cannot, and its jobs (each in a session of its
own) run on while the controller has already run them again elsewhere.
Each agent therefore keeps, in a per-user directory, one small file naming
the process groups its jobs lead; every agent that starts on the host reads
the files of agents that are gone and kills those groups: the orphans are
gone once the host is back in use.

Process ids are reused, so each pid is recorded with its start time
(C{/proc/PID/stat}); a group is killed only while its leader is the very
process recorded, or the leader is gone but the group lives on (a group id
is not reused while the group has members).
"""

from __future__ import annotations

import os
import signal
import stat

#: The default directory, under the agent's home directory.
DEFAULT_DIR = "~/.pantasks_agent"


def start_time(pid: int) -> int | None:
    """@return: the start time of process C{pid} (clock ticks after boot),
    or C{None} if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class Ledger:
    """
    This agent's file in the ledger directory.

    @ivar directory: the directory, or C{None} if it is unusable (then the
        ledger does nothing).
    """

    def __init__(self, directory: str | None = DEFAULT_DIR) -> None:
        self.directory = self._usable(directory)
        self.pid = os.getpid()
        self.started = start_time(self.pid)
        self.path = (
            None if self.directory is None else os.path.join(self.directory, f"{self.pid}.jobs")
        )

    @staticmethod
    def _usable(directory: str | None) -> str | None:
        """Create the directory (mode 0700); refuse one that is not ours."""
        if directory is None:
            return None
        directory = os.path.expanduser(directory)
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            st = os.lstat(directory)
        except OSError:
            return None
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return None
        return directory

    def record(self, jobs: list[int]) -> None:
        """Write the pids (= process group ids) of the running jobs."""
        if self.path is None:
            return
        lines = [f"agent {self.pid} {self.started}\n"]
        for pid in jobs:
            lines.append(f"job {pid} {start_time(pid)}\n")
        tmp = f"{self.path}.tmp"
        try:
            with open(tmp, "w") as f:
                f.writelines(lines)
            os.replace(tmp, self.path)
        except OSError:
            pass

    def remove(self) -> None:
        """Forget this agent's file (its jobs are gone)."""
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def reap_orphans(self) -> list[int]:
        """
        Kill (SIGKILL) the job groups of agents that are gone, and drop
        their files.

        @return: the process group ids signalled.
        """
        if self.directory is None:
            return []
        killed = []
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        for name in names:
            if not name.endswith(".jobs") or name == f"{self.pid}.jobs":
                continue
            path = os.path.join(self.directory, name)
            try:
                with open(path) as f:
                    records = [line.split() for line in f.read(1 << 20).splitlines()]
            except OSError:
                continue
            if not records or len(records[0]) != 3 or records[0][0] != "agent":
                continue
            try:
                agent_pid = int(records[0][1])
            except ValueError:
                continue
            if str(start_time(agent_pid)) == records[0][2]:
                continue  # that agent is alive
            for record in records[1:]:
                if len(record) != 3 or record[0] != "job" or not record[1].isdigit():
                    continue
                pgid = int(record[1])
                if pgid <= 1 or pgid == os.getpgrp():
                    continue  # killpg(0) or (1) would hit far more than a job
                now = start_time(pgid)
                if now is not None and str(now) != record[2]:
                    continue  # the pid was reused by another process
                try:
                    os.killpg(pgid, signal.SIGKILL)
                    killed.append(pgid)
                except OSError:
                    pass
            try:
                os.unlink(path)
            except OSError:
                pass
        return killed
