# -*- test-case-name: tests.net.test_readiness -*-
"""Telling whoever started the server that it is ready (or stopping).

systemd's C{Type=notify} protocol, without a dependency: one datagram
(C{READY=1}, C{STOPPING=1}, C{STATUS=...}) to the UNIX socket named by
C{$NOTIFY_SOCKET} (a leading C{@} means the abstract namespace).  Without
that variable nothing happens, so the same code runs under any other
supervisor.  The server sends C{READY=1} at the moment it prints
C{bound to port: N}, i.e. only once start-up has fully succeeded.
"""

from __future__ import annotations

import os
import socket
from typing import Mapping, Optional


def sd_notify(state: str, env: Optional[Mapping[str, str]] = None) -> bool:
    """
    Send C{state} (e.g. C{"READY=1\\nSTATUS=listening on port 2000"}) to
    the service manager.

    @return: True when it was sent; False when there is no manager or the
        socket cannot be reached (never raises: readiness is a courtesy).
    """
    if env is None:
        env = os.environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        return False
    return True
