# -*- test-case-name: tests.web.test_auth -*-
"""Who may look at the web page: the line protocol's users, and tokens.

Two ways in, both read-only (any role may look, nothing can be changed):

  - HTTP Basic with a user and password of the line protocol (the same
    portal, so the same checks, roles and reloads), accepted only over
    TLS or from a loopback address (an ssh tunnel): a password never
    crosses a network in clear text;
  - a token printed by the client command C{web token}, given once as
    C{/login?token=...} (it becomes an HttpOnly, SameSite=Strict cookie)
    or as C{Authorization: Bearer ...} (a Prometheus scraper).  Tokens
    live in memory only, for C{[web] token_lifetime} seconds, and die
    with their user (a user removed from the configuration).

Failed attempts count in the line server's L{FailureTracker}, so a
password cannot be guessed faster over HTTP than over the line protocol.
Tokens are kept by their SHA-256, so a lookup reveals nothing through its
timing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any, Optional

from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer

from pantasks.net.auth import IPantasksAvatar

#: The cookie holding a token.
COOKIE = b"pantasks_web"

#: Tokens kept at most; the oldest goes first.
MAX_TOKENS = 1000


def is_loopback(host: str) -> bool:
    """Whether C{host} (a peer address as text) is this machine."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a user name and its role."""

    name: str
    role: str


class WebAuth:
    """
    Checks passwords through the line server's portal and keeps tokens.

    @ivar failures: the line server's L{pantasks.net.auth.FailureTracker}.
    """

    def __init__(self, portal: Any, users: Any, failures: Any, clock: Any,
                 token_lifetime: float) -> None:
        """
        @param portal: the line server's portal (L{pantasks.net.auth.make_portal}).
        @param users: the L{pantasks.net.auth.UserDB} (a token dies with its user).
        @param failures: a L{pantasks.net.auth.FailureTracker}.
        @param clock: C{IReactorTime}.
        @param token_lifetime: seconds a token is valid.
        """
        self.portal = portal
        self.users = users
        self.failures = failures
        self.clock = clock
        self.token_lifetime = token_lifetime
        self._tokens: dict[bytes, tuple[str, float]] = {}  # sha256 -> (user, expires)

    # -- tokens ------------------------------------------------------------
    def issue(self, user: str) -> str:
        """A new token for C{user}, valid for C{token_lifetime} seconds."""
        token = secrets.token_urlsafe(24)
        now = self.clock.seconds()
        for key in [k for k, (_u, t) in self._tokens.items() if t <= now]:
            del self._tokens[key]
        while len(self._tokens) >= MAX_TOKENS:
            del self._tokens[next(iter(self._tokens))]
        self._tokens[_digest(token)] = (user, now + self.token_lifetime)
        return token

    def token_viewer(self, token: str) -> Optional[Viewer]:
        """Who the token belongs to, or None (unknown, expired, or its
        user no longer exists)."""
        if not token or len(token) > 256:
            return None
        key = _digest(token)
        entry = self._tokens.get(key)
        if entry is None:
            return None
        user, expires = entry
        if self.clock.seconds() >= expires:
            del self._tokens[key]
            return None
        found = self.users.get(user)
        if found is None:
            del self._tokens[key]
            return None
        return Viewer(user, found.role)

    def expires(self, token: str) -> float:
        """Seconds the token has left (0 if it is not valid)."""
        entry = self._tokens.get(_digest(token))
        return max(0.0, entry[1] - self.clock.seconds()) if entry else 0.0

    def revoke(self, user: str) -> int:
        """Forget every token of C{user}; return how many."""
        keys = [k for k, (u, _t) in self._tokens.items() if u == user]
        for key in keys:
            del self._tokens[key]
        return len(keys)

    # -- passwords ---------------------------------------------------------
    def check_password(self, user: str, password: str) -> defer.Deferred:
        """
        @return: a Deferred firing with the L{Viewer}, or failing with
            C{UnauthorizedLogin}.
        """
        d = defer.maybeDeferred(self.portal.login, UsernamePassword(user, password), None,
                                IPantasksAvatar)
        d.addCallback(lambda result: Viewer(result[1].name, result[1].role))
        return d


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()
