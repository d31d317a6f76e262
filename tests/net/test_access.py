# -*- test-case-name: tests.net.test_access -*-
"""Tests of L{pantasks.net.access}: the C{VALID_IP} forms."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from pantasks.net.access import AccessList, parse_valid_ip


class AccessTests(SynchronousTestCase):
    def test_forms(self) -> None:
        self.assertEqual(str(parse_valid_ip("192.168.1.7")), "192.168.1.7/32")
        self.assertEqual(str(parse_valid_ip("192.168.1.0")), "192.168.1.0/24")
        self.assertEqual(str(parse_valid_ip("10.20.0.0/16")), "10.20.0.0/16")
        self.assertEqual(str(parse_valid_ip("10.20.3.4/16")), "10.20.0.0/16")
        self.assertEqual(str(parse_valid_ip("10.0.0.5")), "10.0.0.5/32")
        self.assertEqual(str(parse_valid_ip("::1")), "::1/128")

    def test_bad_entry_one_line(self) -> None:
        with self.assertRaises(ValueError) as cm:
            parse_valid_ip("10.0.0.300")
        self.assertEqual(str(cm.exception),
                         "VALID_IP: '10.0.0.300' is not an IP address or network")

    def test_allows(self) -> None:
        acl = AccessList.from_entries(["127.0.0.2", "192.168.1.0", "10.20.0.0/16, ::1"])
        self.assertTrue(acl.allows("127.0.0.2"))
        self.assertFalse(acl.allows("127.0.0.1"))
        self.assertTrue(acl.allows("192.168.1.200"))
        self.assertFalse(acl.allows("192.168.2.1"))
        self.assertTrue(acl.allows("10.20.255.1"))
        self.assertTrue(acl.allows("::1"))
        self.assertTrue(acl.allows("::ffff:127.0.0.2"), "IPv4-mapped peers")
        self.assertFalse(acl.allows("not-an-address"))

    def test_empty_allows_everyone(self) -> None:
        acl = AccessList.from_entries([])
        self.assertTrue(acl.allows("8.8.8.8"))
        self.assertTrue(acl.allows("/tmp/socket"))
        self.assertFalse(acl)


def test_address_key_groups_ipv6_by_64() -> None:
    from pantasks.net.access import address_key

    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8::5") == address_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert address_key("2001:db8:0:1::5") == "2001:db8:0:1::/64"
    assert address_key("unix-socket") == "unix-socket"
