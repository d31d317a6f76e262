# -*- test-case-name: tests.net.test_limits -*-
"""How many connections the line server keeps, and which it lets go.

Two pools, so that strangers and watchers can never keep an operator out:

 - I{pending}: connected, not logged in yet.  At most C{max_pending}, at
   most C{max_pending_per_address} from one address.  A newcomer is never
   refused for want of a pending slot: the oldest pending connection of
   its own address (when that address is at its cap), or else of the
   address holding the most pending slots, is closed to make room.  So a
   flood of silent connections only pushes out its own kind, and the
   login timeout ends the rest.
 - I{sessions}: logged in.  At most C{max_sessions}; the last
   C{control_reserve} of them only for C{control} users, and at most
   C{max_per_address} watch sessions from one address (control sessions
   are not counted there).

Addresses are counted by L{pantasks.net.access.address_key} (an IPv6
address by its /64).  Pure bookkeeping (connections are opaque keys), so
it is tested alone;
L{pantasks.net.protocol.LineServerFactory} closes what it is told to.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

from pantasks.net.access import address_key
from pantasks.net.auth import CONTROL


class ConnectionLimits:
    """
    The two pools; see the module docstring.

    @ivar max_sessions: logged-in connections, all roles.
    @ivar control_reserve: of those, how many only control users may take.
    @ivar max_per_address: watch sessions from one address.
    @ivar max_pending: connections not logged in yet.
    @ivar max_pending_per_address: of those, from one address.
    """

    def __init__(self, max_sessions: int = 200, control_reserve: int = 10,
                 max_per_address: int = 32, max_pending: int = 128,
                 max_pending_per_address: int = 64) -> None:
        self.max_sessions = max_sessions
        self.control_reserve = min(control_reserve, max_sessions)
        self.max_per_address = max_per_address
        self.max_pending = max(1, max_pending)
        self.max_pending_per_address = max(1, max_pending_per_address)
        self._pending: dict[Any, str] = {}  # connection -> address, oldest first
        self._pending_by_address: Counter[str] = Counter()
        self._sessions: dict[Any, tuple[str, str]] = {}  # connection -> (address, role)
        self._watch_by_address: Counter[str] = Counter()

    @property
    def pending(self) -> int:
        """Connections not logged in yet."""
        return len(self._pending)

    @property
    def sessions(self) -> int:
        """Logged-in connections."""
        return len(self._sessions)

    @property
    def capacity(self) -> int:
        """Connections the server holds at most (both pools)."""
        return self.max_sessions + self.max_pending

    def admit(self, conn: Any, address: str) -> list[Any]:
        """
        Take C{conn} from C{address} into the pending pool.

        @return: the pending connections to close to make room (already
            out of the pool), oldest first.
        """
        address = address_key(address)
        victims = []
        while self._pending_by_address[address] >= self.max_pending_per_address:
            victims.append(self._evict(address))
        while len(self._pending) >= self.max_pending:
            busiest = max(self._pending_by_address.items(), key=lambda kv: kv[1])[0]
            victims.append(self._evict(busiest))
        self._pending[conn] = address
        self._pending_by_address[address] += 1
        return victims

    def _evict(self, address: str) -> Any:
        victim = next(c for c, a in self._pending.items() if a == address)
        self._forget_pending(victim)
        return victim

    def _forget_pending(self, conn: Any) -> Optional[str]:
        address = self._pending.pop(conn, None)
        if address is not None:
            self._pending_by_address[address] -= 1
            if self._pending_by_address[address] <= 0:
                del self._pending_by_address[address]
        return address

    def login(self, conn: Any, address: str, role: str) -> Optional[str]:
        """
        C{conn} logged in with C{role}: move it to the sessions.

        @return: None when it may stay, else why not (it is then out of
            both pools and should be closed).
        """
        self._forget_pending(conn)
        address = address_key(address)
        if role == CONTROL:
            if len(self._sessions) >= self.max_sessions:
                return f"all {self.max_sessions} sessions are taken"
        else:
            if len(self._sessions) >= self.max_sessions - self.control_reserve:
                return (f"all {self.max_sessions - self.control_reserve} sessions open "
                        f"to {role} users are taken")
            if self._watch_by_address[address] >= self.max_per_address:
                return f"{self.max_per_address} {role} sessions from this address already"
            self._watch_by_address[address] += 1
        self._sessions[conn] = (address, role)
        return None

    def remove(self, conn: Any) -> None:
        """C{conn} is gone (or going): out of whichever pool held it."""
        self._forget_pending(conn)
        entry = self._sessions.pop(conn, None)
        if entry is not None and entry[1] != CONTROL:
            address = entry[0]
            self._watch_by_address[address] -= 1
            if self._watch_by_address[address] <= 0:
                del self._watch_by_address[address]
