# -*- test-case-name: tests.net.test_auth -*-
"""Tests of L{pantasks.net.auth}: credentials, checker, realm, lockout,
user reloading and the generated password."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import time

from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from pantasks.net.auth import (
    Avatar,
    FailureTracker,
    HMACCredentials,
    IPantasksAvatar,
    PasswordChecker,
    UserDB,
    UserEntry,
    default_password_file,
    generated_password,
    hmac_response,
    make_portal,
)
from twisted.cred.credentials import IUsernameHashedPassword

NONCE = "0123456789abcdef0123456789abcdef"


def users() -> UserDB:
    return UserDB({"pantasks": UserEntry("pantasks", "secret", "control"),
                   "bob": UserEntry("bob", "b0b", "watch"),
                   "empty": UserEntry("empty", "", "control")})


class CredentialTests(SynchronousTestCase):
    def test_hmac_response(self) -> None:
        expected = hmac.new(b"secret", NONCE.encode(), hashlib.sha256).hexdigest()
        self.assertEqual(hmac_response("secret", NONCE), expected)

    def test_hmac_credentials(self) -> None:
        creds = HMACCredentials("bob", NONCE, hmac_response("b0b", NONCE).upper())
        verifyObject(IUsernameHashedPassword, creds)
        self.assertTrue(creds.checkPassword("b0b"))
        self.assertFalse(creds.checkPassword("b0c"))
        self.assertFalse(HMACCredentials("bob", NONCE, "\u00e9" * 64).checkPassword("b0b"))


class CheckerTests(SynchronousTestCase):
    def check(self, creds):  # type: ignore[no-untyped-def]
        return self.successResultOf(PasswordChecker(users()).requestAvatarId(creds))

    def refused(self, creds) -> None:  # type: ignore[no-untyped-def]
        self.failureResultOf(PasswordChecker(users()).requestAvatarId(creds), UnauthorizedLogin)

    def test_plain(self) -> None:
        self.assertEqual(self.check(UsernamePassword("pantasks", "secret")), "pantasks")
        self.assertEqual(self.check(UsernamePassword(b"pantasks", b"secret")), "pantasks")
        self.refused(UsernamePassword("pantasks", "secre"))
        self.refused(UsernamePassword("pantasks", "secret2"))
        self.refused(UsernamePassword("nobody", "secret"))

    def test_hashed(self) -> None:
        self.assertEqual(self.check(HMACCredentials("bob", NONCE, hmac_response("b0b", NONCE))),
                         "bob")
        self.refused(HMACCredentials("bob", NONCE, hmac_response("b0b", "f" * 32)))

    def test_empty_password_never_matches(self) -> None:
        self.refused(UsernamePassword("empty", ""))
        self.refused(HMACCredentials("empty", NONCE, hmac_response("", NONCE)))

    def test_portal_gives_role(self) -> None:
        portal = make_portal(users())
        iface, avatar, logout = self.successResultOf(
            portal.login(UsernamePassword("pantasks", "secret"), None, IPantasksAvatar))
        self.assertIs(iface, IPantasksAvatar)
        verifyObject(IPantasksAvatar, avatar)
        self.assertEqual((avatar.name, avatar.role, avatar.may_control),
                         ("pantasks", "control", True))
        logout()
        _i, bob, _l = self.successResultOf(portal.login(
            HMACCredentials("bob", NONCE, hmac_response("b0b", NONCE)), None, IPantasksAvatar))
        self.assertFalse(bob.may_control)
        self.assertIsInstance(bob, Avatar)


class FailureTrackerTests(SynchronousTestCase):
    def test_window_and_lockout(self) -> None:
        clock = Clock()
        tracker = FailureTracker(clock, limit=3, window=10, lockout=100)
        self.assertFalse(tracker.failed("a"))
        clock.advance(11)
        self.assertFalse(tracker.failed("a"))
        self.assertFalse(tracker.failed("a"), "the first failure left the window")
        self.assertTrue(tracker.failed("a"))
        self.assertTrue(tracker.blocked("a"))
        self.assertFalse(tracker.blocked("b"))
        clock.advance(100)
        self.assertFalse(tracker.blocked("a"))

    def test_success_forgets_only_its_own_user(self) -> None:
        """The bypass: wrong control passwords between good watch logins
        from the same address still block the address."""
        tracker = FailureTracker(Clock(), limit=5)
        for round_ in range(2):
            for _ in range(4 if round_ == 0 else 1):
                self.assertIsNone(tracker.refused("a", "pantasks"))
                blocked = tracker.failed("a", "pantasks")
            tracker.succeeded("a", "bob")
        self.assertTrue(blocked)
        self.assertEqual(tracker.refused("a", "bob"), "address blocked")

    def test_user_failures_over_many_addresses(self) -> None:
        reports: list[str] = []
        clock = Clock()
        tracker = FailureTracker(clock, limit=5, user_limit=3, lockout=100,
                                 report=reports.append)
        for i in range(3):
            self.assertIsNone(tracker.refused(f"10.0.0.{i}", "pantasks"))
            tracker.failed(f"10.0.0.{i}", "pantasks")
        self.assertEqual(reports, ["user 'pantasks' blocked for 100 s after 3 failed logins "
                                   "within 60 s; refused from addresses that failed recently"])
        self.assertEqual(tracker.refused("10.0.0.1", "pantasks"),
                         "user blocked")
        self.assertIsNone(tracker.refused("10.0.0.1", "bob"), "other users unaffected")
        self.assertIsNone(tracker.refused("10.9.9.9", "pantasks"), "a clean address gets in")
        tracker.succeeded("10.9.9.9", "pantasks")
        clock.advance(100)
        self.assertEqual(reports[-1], "user 'pantasks' no longer blocked "
                                      "(1 attempts refused meanwhile)")
        self.assertIsNone(tracker.refused("10.0.0.1", "pantasks"))

    def test_ipv6_neighbours_count_together(self) -> None:
        reports: list[str] = []
        tracker = FailureTracker(Clock(), limit=3, report=reports.append)
        for i in range(3):
            tracker.failed(f"2001:db8::{i + 1:x}", "pantasks")
        self.assertEqual(tracker.refused("2001:db8::ffff", "pantasks"), "address blocked")
        self.assertIsNone(tracker.refused("2001:db8:0:1::1", "pantasks"), "another /64")
        self.assertTrue(reports[0].startswith("address 2001:db8::/64 blocked"), reports)

    def test_block_reported_once(self) -> None:
        reports: list[str] = []
        clock = Clock()
        tracker = FailureTracker(clock, limit=2, lockout=50, report=reports.append)
        tracker.failed("a")
        tracker.failed("a")
        for _ in range(1000):
            self.assertEqual(tracker.refused("a", "x"), "address blocked")
        self.assertEqual(len(reports), 1)
        clock.advance(50)
        self.assertEqual(reports[1], "address a no longer blocked "
                                     "(1000 attempts refused meanwhile)")

    def test_delay_doubles(self) -> None:
        clock = Clock()
        tracker = FailureTracker(clock, limit=10, delay=1.0, max_delay=5.0)
        delays = []
        for _ in range(5):
            tracker.failed("a")
            delays.append(tracker.answer_delay("a"))
        self.assertEqual(delays, [1.0, 2.0, 4.0, 5.0, 5.0])
        self.assertEqual(tracker.answer_delay("b"), 1.0)

    def test_memory_bounded(self) -> None:
        tracker = FailureTracker(Clock(), limit=5)
        for i in range(FailureTracker.MAX_ENTRIES + 500):
            tracker.failed(f"a{i}", "u" * 100000 + str(i))
        self.assertLessEqual(len(tracker._failures), FailureTracker.MAX_ENTRIES + 1)
        self.assertTrue(all(len(k[1]) <= FailureTracker.MAX_KEY for k in tracker._failures))

    def test_zero_limit_never_blocks(self) -> None:
        tracker = FailureTracker(Clock(), limit=0)
        for _ in range(100):
            self.assertFalse(tracker.failed("a"))
        self.assertFalse(tracker.blocked("a"))


class UserDBTests(SynchronousTestCase):
    def test_reload_on_change(self) -> None:
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("one")

        def load():  # type: ignore[no-untyped-def]
            with open(path) as f:
                text = f.read()
            if text == "bad":
                raise ValueError("bad file")
            return {text: UserEntry(text, "pw", "watch")}

        db = UserDB(load(), load, [path])
        self.assertIsNotNone(db.get("one"))
        with open(path, "w") as f:
            f.write("two")
        os.utime(path, (time.time() + 5, time.time() + 5))
        self.assertIsNone(db.get("one"))
        self.assertIsNotNone(db.get("two"))
        with open(path, "w") as f:
            f.write("bad")
        os.utime(path, (time.time() + 10, time.time() + 10))
        self.assertIsNotNone(db.get("two"), "a bad reload keeps the old users")


class PasswordFileTests(SynchronousTestCase):
    def test_location(self) -> None:
        self.assertEqual(default_password_file({"HOME": "/h"}), "/h/.config/pantasks/password")
        self.assertEqual(default_password_file({"HOME": "/h", "XDG_CONFIG_HOME": "/x"}),
                         "/x/pantasks/password")

    def test_generated_once_private(self) -> None:
        path = os.path.join(self.mktemp(), "pantasks", "password")
        password, created = generated_password(path)
        self.assertTrue(created)
        self.assertGreaterEqual(len(password), 20)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        self.assertEqual(generated_password(path), (password, False))
