# -*- test-case-name: tests.net.test_auth -*-
"""Who may talk to the server, and with what role: twisted.cred pieces.

C{PASS <password>} becomes a C{UsernamePassword} for the legacy user
C{pantasks}; C{AUTH <user> <hex>} becomes an L{HMACCredentials}, whose
digest is HMAC-SHA256 of the connection's nonce keyed by the password, so
the password never crosses the network.  One checker handles both (every
comparison is constant-time); the realm hands back an L{Avatar} carrying
the user's role, C{control} or C{watch}.

Failed attempts are slowed and counted per peer address and per user
name by L{FailureTracker} (time comes from an injected clock), which
blocks an address, or a user name, that fails too often.

Users come from two places: the legacy default user C{pantasks}, whose
password is C{PASSWORD} in ptolemy.rc, and the C{[users]} section of
pantasks.conf (which wins for a user named in both).  L{UserDB} reloads
them when one of its files changes (an mtime check per lookup), so a
password can change without a restart; a reload that fails keeps the old
users.

With no password configured at all, the server generates one and keeps it
in L{default_password_file}, readable only by its owner.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections import deque
from typing import Any, Callable, Iterable, Mapping, Optional

from twisted.cred import credentials, error, portal
from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import Attribute, Interface, implementer

from pantasks.net.access import address_key

log = Logger()

#: The user C{PASS <password>} authenticates, and the one ptolemy.rc's
#: C{PASSWORD} belongs to.
DEFAULT_USER = "pantasks"

#: The role that may change things, and the read-only one.
CONTROL = "control"
WATCH = "watch"


def hmac_response(password: str, nonce: str) -> str:
    """
    The C{AUTH} response: hex HMAC-SHA256 of C{nonce} keyed by C{password}.

    Clients call this too, so both ends agree on the encoding (UTF-8).

    @param password: the user's password.
    @param nonce: the 32 hex digits of the server's greeting.
    @return: 64 lower-case hex digits.
    """
    return hmac.new(password.encode("utf-8"), nonce.encode("ascii"), hashlib.sha256).hexdigest()


@implementer(credentials.IUsernameHashedPassword)
class HMACCredentials:
    """
    The credentials of an C{AUTH} line: a challenge-response, like
    Twisted's C{CramMD5Credentials} but with HMAC-SHA256.

    @ivar username: the user named in the C{AUTH} line.
    @ivar nonce: the challenge this connection was greeted with.
    @ivar response: the hex digest the client sent.
    """

    def __init__(self, username: str, nonce: str, response: str) -> None:
        self.username = username
        self.nonce = nonce
        self.response = response.lower()

    def checkPassword(self, password: str) -> bool:
        """
        Whether the response was made with C{password}; constant-time.
        """
        expected = hmac_response(password, self.nonce)
        given = self.response.encode("ascii", "replace")
        return hmac.compare_digest(expected.encode("ascii"), given)


class IPantasksAvatar(Interface):
    """A logged-in user of the line protocol."""

    name = Attribute("the user name")
    role = Attribute("'control' (may change things) or 'watch' (read-only)")


@implementer(IPantasksAvatar)
class Avatar:
    """
    What a successful login yields.

    @ivar name: the user name.
    @ivar role: L{CONTROL} or L{WATCH}.
    """

    def __init__(self, name: str, role: str) -> None:
        self.name = name
        self.role = role

    @property
    def may_control(self) -> bool:
        """True when the user may run commands that change things."""
        return self.role == CONTROL

    def __repr__(self) -> str:
        return f"<Avatar {self.name} ({self.role})>"


class UserEntry:
    """One user: name, password and role (L{pantasks.config.User} works too)."""

    def __init__(self, name: str, password: str, role: str) -> None:
        self.name = name
        self.password = password
        self.role = role


class UserDB:
    """
    The users, reloaded when a file they came from changes.

    @ivar users: name to an object with C{password} and C{role}.
    """

    def __init__(
        self,
        users: Mapping[str, Any],
        load: Optional[Callable[[], Mapping[str, Any]]] = None,
        paths: Iterable[str] = (),
    ) -> None:
        """
        @param users: the users now.
        @param load: rebuilds the users from the files (raises on a bad
            file); None means the users never change.
        @param paths: the files whose modification time is watched.
        """
        self.users = dict(users)
        self._load = load
        self._paths = [p for p in paths if p]
        self._stamps = self._stat()

    def _stat(self) -> list[Optional[float]]:
        stamps: list[Optional[float]] = []
        for path in self._paths:
            try:
                stamps.append(os.stat(path).st_mtime)
            except OSError:
                stamps.append(None)
        return stamps

    def refresh(self) -> None:
        """Reload the users if a watched file changed (keep them on error)."""
        if self._load is None or not self._paths:
            return
        stamps = self._stat()
        if stamps == self._stamps:
            return
        self._stamps = stamps
        try:
            self.users = dict(self._load())
        except Exception as e:
            log.warn("users not reloaded, keeping the old ones: {error}", error=str(e))

    def get(self, name: str) -> Any:
        """The user C{name} (after a reload check), or None."""
        self.refresh()
        return self.users.get(name)


@implementer(ICredentialsChecker)
class PasswordChecker:
    """
    Checks C{PASS} (C{IUsernamePassword}) and C{AUTH}
    (C{IUsernameHashedPassword}) credentials against a L{UserDB}.

    Security notes: plain passwords are compared with
    C{hmac.compare_digest}; an unknown user costs the same work as a known
    one (a comparison against a random password), so timing does not tell
    which user names exist; an empty password never matches.
    """

    credentialInterfaces = (credentials.IUsernamePassword, credentials.IUsernameHashedPassword)

    def __init__(self, db: UserDB) -> None:
        self.db = db

    def requestAvatarId(self, creds: Any) -> defer.Deferred:
        """
        @return: a Deferred firing with the user name, or failing with
            C{UnauthorizedLogin}.
        """
        name = creds.username
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        user = self.db.get(name)
        password = user.password if user is not None else secrets.token_hex(16)
        if credentials.IUsernameHashedPassword.providedBy(creds):
            ok = bool(creds.checkPassword(password))
        else:
            given = creds.password
            if isinstance(given, str):
                given = given.encode("utf-8")
            ok = hmac.compare_digest(password.encode("utf-8"), given)
        if ok and user is not None and password:
            return defer.succeed(name)
        return defer.fail(error.UnauthorizedLogin("authentication failed"))


@implementer(portal.IRealm)
class PantasksRealm:
    """Gives each authenticated user an L{Avatar} with its role."""

    def __init__(self, db: UserDB) -> None:
        self.db = db

    def requestAvatar(self, avatarId: str, mind: Any, *interfaces: Any) -> tuple:
        """
        @return: (L{IPantasksAvatar}, the avatar, a no-op logout).
        @raise NotImplementedError: L{IPantasksAvatar} was not asked for.
        """
        if IPantasksAvatar not in interfaces:
            raise NotImplementedError("pantasks offers only IPantasksAvatar")
        user = self.db.users.get(avatarId)
        role = user.role if user is not None else WATCH
        return IPantasksAvatar, Avatar(avatarId, role), lambda: None


def make_portal(db: UserDB) -> portal.Portal:
    """The portal of the line server: L{PantasksRealm} + L{PasswordChecker}."""
    return portal.Portal(PantasksRealm(db), [PasswordChecker(db)])


class FailureTracker:
    """
    Counts failed logins per peer address and per user name, and decides
    who is refused without a check.

    Why both: counting per address alone let one address alternate wrong
    control passwords with a good watch login (which used to clear the
    count) and try thousands of passwords; counting per user name stops
    the same guesses spread over many addresses.  So:

     - C{limit} failures from one address within C{window} seconds block
       the address for C{lockout} seconds.  A success never clears an
       address's failures (they leave the window with time).
     - C{user_limit} failures for one user name within C{window} block
       that name for C{lockout} seconds, but only for addresses that
       failed a login within the last C{lockout} seconds: a clean address
       still gets in, so an attacker cannot lock the operators out.  A
       success clears only that user's own count.
     - The answer to a failure waits C{delay} seconds, doubled for each
       earlier failure of the address in the window, at most C{max_delay}.
     - A block and its lifting are reported once (through C{report}); the
       attempts refused meanwhile are only counted, and the count is in
       the lifting line.

    Addresses are counted by L{address_key} (an IPv6 address by its /64).
    Memory is bounded: keys are cut to L{MAX_KEY} characters and old
    entries pruned beyond L{MAX_ENTRIES}.

    @ivar clock: an C{IReactorTime} (C{seconds}, C{callLater}).
    @ivar report: called with one line per block and per lifting; the
        line server sets it to its log.
    """

    MAX_KEY = 128
    MAX_ENTRIES = 10000

    def __init__(self, clock: Any, limit: int = 5, window: float = 60.0,
                 lockout: float = 300.0, user_limit: int = 10, delay: float = 1.0,
                 max_delay: float = 30.0,
                 report: Optional[Callable[[str], None]] = None) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.user_limit = user_limit
        self.delay = delay
        self.max_delay = max_delay
        self.report = report
        self._failures: dict[tuple[str, str], deque] = {}
        self._blocked: dict[tuple[str, str], list] = {}  # key -> [until, refused]
        self._suspect: dict[str, float] = {}  # address -> time of its last failure

    # -- queries -----------------------------------------------------------
    def blocked(self, address: str) -> bool:
        """Whether C{address} is blocked now."""
        return self._is_blocked(("address", address_key(address)))

    def user_blocked(self, user: str, address: str) -> bool:
        """Whether C{user} is blocked for C{address} now (see the class)."""
        if not self._is_blocked(("user", user[: self.MAX_KEY])):
            return False
        last = self._suspect.get(address_key(address))
        return last is not None and self.clock.seconds() - last < self.lockout

    def refused(self, address: str, user: str) -> Optional[str]:
        """
        Why a login of C{user} from C{address} is refused without a
        check, or None.  A refused attempt is counted, not reported.
        """
        address = address_key(address)
        if self.blocked(address):
            self._blocked[("address", address)][1] += 1
            return "address blocked"
        if user and self.user_blocked(user, address):
            self._blocked[("user", user[: self.MAX_KEY])][1] += 1
            return "user blocked"
        return None

    def answer_delay(self, address: str) -> float:
        """Seconds to wait before telling C{address} its login failed."""
        address = address_key(address)
        times = self._failures.get(("address", address))
        n = len(times) if times else 1
        if self._is_blocked(("address", address)):
            n = max(n, self.limit)
        return min(self.max_delay, self.delay * 2 ** min(max(n - 1, 0), 30))

    # -- events ------------------------------------------------------------
    def failed(self, address: str, user: Optional[str] = None) -> bool:
        """
        Record a failed login of C{user} (None: no user, e.g. a garbled
        line) from C{address}.

        @return: True when this failure blocked the address.
        """
        address = address_key(address)
        now = self.clock.seconds()
        self._suspect[address] = now
        blocked_now = False
        if self.limit > 0 and self._count(("address", address), now) >= self.limit:
            self._failures.pop(("address", address), None)
            self._block(("address", address), f"address {address}",
                        f"{self.limit} failed logins within {self.window:g} s")
            blocked_now = True
        if user and self.user_limit > 0:
            key = ("user", user[: self.MAX_KEY])
            if self._count(key, now) >= self.user_limit:
                self._failures.pop(key, None)
                self._block(key, f"user {user[: self.MAX_KEY]!r}",
                            f"{self.user_limit} failed logins within {self.window:g} s; "
                            "refused from addresses that failed recently")
        if len(self._failures) > self.MAX_ENTRIES or len(self._suspect) > self.MAX_ENTRIES:
            self._prune(now)
        return blocked_now

    def succeeded(self, address: str, user: Optional[str] = None) -> None:
        """
        A good login of C{user}: forget that user's own failures, and
        nothing else (not the address's, not another user's).
        """
        if user:
            self._failures.pop(("user", user[: self.MAX_KEY]), None)

    # -- inside ------------------------------------------------------------
    def _count(self, key: tuple[str, str], now: float) -> int:
        times = self._failures.get(key)
        if times is None:
            times = self._failures[key] = deque()
        times.append(now)
        while times and now - times[0] > self.window:
            times.popleft()
        return len(times)

    def _is_blocked(self, key: tuple[str, str]) -> bool:
        entry = self._blocked.get(key)
        if entry is None:
            return False
        if self.clock.seconds() >= entry[0]:
            self._lift(key)
            return False
        return True

    def _block(self, key: tuple[str, str], what: str, why: str) -> None:
        if key in self._blocked:
            return
        self._blocked[key] = [self.clock.seconds() + self.lockout, 0]
        self._say(f"{what} blocked for {self.lockout:g} s after {why}")
        self.clock.callLater(self.lockout, self._lift, key)

    def _lift(self, key: tuple[str, str]) -> None:
        entry = self._blocked.pop(key, None)
        if entry is None:
            return
        what = f"address {key[1]}" if key[0] == "address" else f"user {key[1]!r}"
        self._say(f"{what} no longer blocked ({entry[1]} attempts refused meanwhile)")

    def _say(self, text: str) -> None:
        if self.report is not None:
            self.report(text)
        else:
            log.info("{text}", text=text)

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if not t or now - t[-1] > self.window]:
            del self._failures[key]
        for address in [a for a, t in self._suspect.items() if now - t >= self.lockout]:
            del self._suspect[address]
        # Still too many (a flood of distinct names): forget the oldest.
        for table in (self._failures, self._suspect):
            excess = len(table) - self.MAX_ENTRIES
            for key in list(table)[: max(excess, 0)]:
                del table[key]


def default_password_file(env: Optional[Mapping[str, str]] = None) -> str:
    """
    Where the generated password lives:
    C{$XDG_CONFIG_HOME/pantasks/password}, by default
    C{~/.config/pantasks/password}.  (Not C{~/.pantasks}: that is the
    client's history file when it runs in the home directory.)
    """
    if env is None:
        env = os.environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"),
                                                      ".config")
    return os.path.join(base, "pantasks", "password")


def generated_password(path: str) -> tuple[str, bool]:
    """
    The password kept in C{path}, made (random, 0600 in a 0700 directory)
    when the file does not exist yet.

    @return: (the password, True when it was just created).
    @raise OSError: the file cannot be read or created.
    """
    try:
        with open(path, encoding="utf-8") as f:
            password = f.read().strip()
        if password:
            return password, False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (password + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return password, True
