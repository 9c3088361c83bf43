"""For the localhost-only tests: addresses of this host other than 127.0.0.1, proven reachable.

Every host has one: 127.0.0.2 is the loopback interface too (on Linux all of 127.0.0.0/8), but a
server bound to 127.0.0.1 does not answer there, while one bound to all interfaces does. A listener
of our own on 0.0.0.0 proves each address reachable, so a check cannot pass for want of one to try.
"""

import socket

import psutil


def answers_on(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((address, port)) == 0


def other_reachable_addresses() -> list[str]:
    """127.0.0.2 and this host's non-loopback IPv4 addresses, those a listener on all interfaces answers on."""
    candidates = ["127.0.0.2"] + [
        a.address
        for addresses in psutil.net_if_addrs().values()
        for a in addresses
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]
    with socket.socket() as everywhere:
        everywhere.bind(("0.0.0.0", 0))
        everywhere.listen()
        control = everywhere.getsockname()[1]
        return [address for address in candidates if answers_on(address, control)]
