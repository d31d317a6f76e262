# -*- test-case-name: tests.net.test_access -*-
"""The C{VALID_IP} allow-list: which peer addresses may connect at all.

The original accepted C{a.b.c.d} (one host) and C{a.b.c.0} (the whole
/24) and refused any octet 0 among the first three.  We accept both forms,
CIDR (C{10.20.0.0/16}) and IPv6 too, and drop the octet rule (C{10.0.0.5}
is a fine address).  A peer outside the list is closed before the
greeting, so it learns nothing about the server.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable, Optional, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def parse_valid_ip(text: str) -> Network:
    """
    One C{VALID_IP} entry as a network.

    C{a.b.c.0} (no prefix length) means C{a.b.c.0/24}, as in the original;
    any other bare address is one host.

    @param text: the entry, e.g. C{192.168.1.7}, C{192.168.1.0},
        C{10.20.0.0/16}, C{::1}.
    @raise ValueError: the entry is not an address or network (one line).
    """
    word = text.strip()
    try:
        if "/" in word:
            return ipaddress.ip_network(word, strict=False)
        address = ipaddress.ip_address(word)
    except ValueError:
        raise ValueError(f"VALID_IP: {word!r} is not an IP address or network") from None
    if isinstance(address, ipaddress.IPv4Address) and word.split(".")[-1] == "0":
        return ipaddress.ip_network(f"{word}/24", strict=False)
    return ipaddress.ip_network(address)


def _address(host: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


#: IPv6 prefix length treated as one "address" by the lockout and the
#: per-address limits: a single host usually holds a whole /64, so
#: counting each of its addresses apart would count nothing.
IPV6_GROUP = 64


def address_key(host: str) -> str:
    """
    The key an address is counted under for lockouts and per-address
    limits: an IPv4 address itself (also when IPv4-mapped), an IPv6
    address's /64 network, anything else (a UNIX socket) as it is.
    """
    address = _address(host)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_GROUP}", strict=False))
    return str(address) if address is not None else host


class AccessList:
    """
    An allow-list of networks; empty means everyone may connect.

    @ivar networks: the allowed networks, in configuration order.
    """

    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = list(networks)

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> "AccessList":
        """
        Build the list from C{VALID_IP} values (each may hold several
        addresses separated by spaces or commas).

        @raise ValueError: an entry is bad (one line naming it).
        """
        networks = []
        for entry in entries:
            for word in entry.replace(",", " ").split():
                networks.append(parse_valid_ip(word))
        return cls(networks)

    def allows(self, host: str) -> bool:
        """
        Whether a peer at C{host} may connect.

        @param host: the peer's address as text (C{IPv4Address.host}).
        @return: True when the list is empty or C{host} is in a network of
            it; False for anything that is not an IP address (a UNIX
            socket peer, say) when the list is not empty.
        """
        if not self.networks:
            return True
        address = _address(host)
        if address is None:
            return False
        return any(address in net for net in self.networks if net.version == address.version)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __repr__(self) -> str:
        return f"<AccessList {', '.join(map(str, self.networks)) or 'everyone'}>"
