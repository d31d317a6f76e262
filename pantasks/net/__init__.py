# -*- test-case-name: tests.net -*-
"""The network face of pantasks: the line protocol server of
C{protocol.md}, its authentication, its allow-list and its log.

One module per concern: L{pantasks.net.protocol} (a connection),
L{pantasks.net.auth} (twisted.cred pieces, lockout), L{pantasks.net.access}
(C{VALID_IP}), L{pantasks.net.logsink} (the server log and C{L} lines),
L{pantasks.net.commands} (commands only a server has).

L{FAULTS} is the one table of the errors the server sends about the
protocol itself (not about a command's own work), so the server, the
client and the manual pages use the same words.
"""

from __future__ import annotations

from typing import NamedTuple


class Fault(NamedTuple):
    """
    One protocol error.

    @ivar kind: the line's first word: C{ERR} (a protocol error),
        C{NO} (authentication refused) or C{E} (inside a reply, followed by
        C{STATUS 0}).
    @ivar text: the message; C{{name}} fields are filled in.
    @ivar closes: whether the server closes the connection after it.
    """

    kind: str
    text: str
    closes: bool


#: Stable name -> L{Fault}.  Names and texts are part of the protocol:
#: change them only with the client and the manual pages.
FAULTS: dict[str, Fault] = {
    "LINE_TOO_LONG": Fault("ERR", "line too long", True),
    "NOT_AUTHENTICATED": Fault("ERR", "expected PASS, AUTH or QUIT", False),
    "PASS_DISABLED": Fault("ERR", "plain PASS is disabled on this server; use AUTH", False),
    "AUTH_FAILED": Fault("NO", "authentication failed", True),
    "AUTH_TIMEOUT": Fault("ERR", "authentication timeout", True),
    "IDLE_TIMEOUT": Fault("ERR", "idle timeout", True),
    "TOO_MANY_CONNECTIONS": Fault("ERR", "too many connections", True),
    "SHUTTING_DOWN": Fault(
        "ERR", "server is shutting down ({by}); running jobs are finishing", True
    ),
    "BAD_UTF8": Fault("E", "request is not valid UTF-8{discarded}", False),
    "BLOCK_TOO_LONG": Fault("E", "block too long (over {limit} lines or bytes); discarded", False),
    "INTERNAL": Fault("E", "internal error (see server log)", False),
}


def fault_line(name: str, **fields: object) -> str:
    """The wire line (without newline) for fault C{name}."""
    fault = FAULTS[name]
    return f"{fault.kind} {fault.text.format(**fields)}"
