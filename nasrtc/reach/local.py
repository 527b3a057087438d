"""What this host knows of its own network without sending anything: whether discovery
may run, the IPv4 default gateway, the global IPv6 addresses."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct

DISCOVERY_ENV = "NASRTC_DISCOVERY"  # "off": no UPnP, NAT-PMP, PCP or STUN packet is sent
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
IFA_F_TEMPORARY, IFA_F_DEPRECATED, IFA_F_TENTATIVE = 0x01, 0x20, 0x40
MAX_LINES = 4096  # of /proc files: a host has a few dozen


def discovery_enabled() -> bool:
    return os.environ.get(DISCOVERY_ENV, "").strip().lower() not in ("off", "0", "no", "false")


def default_gateway(proc: str = "/proc/net/route") -> str | None:
    """The IPv4 default route's gateway (the home router), or None."""
    try:
        with open(proc) as table:
            lines = table.readlines()[1:MAX_LINES]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or fields[1] != "00000000":
            continue
        try:
            flags, gateway = int(fields[3], 16), int(fields[2], 16)
        except ValueError:
            continue
        if flags & 0x2 and gateway:  # RTF_GATEWAY
            return socket.inet_ntoa(struct.pack("<I", gateway))
    return None


def global_ipv6(proc: str = "/proc/net/if_inet6") -> list[str]:
    """This host's stable global IPv6 addresses (2000::/3, not temporary, deprecated or
    tentative): what callers could reach it on."""
    found = []
    try:
        with open(proc) as table:
            lines = table.readlines()[:MAX_LINES]
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) != 6 or len(fields[0]) != 32:
            continue
        try:
            address = ipaddress.IPv6Address(int(fields[0], 16))
            flags = int(fields[4], 16)
        except ValueError:
            continue
        if fields[5] == "lo" or address not in GLOBAL_UNICAST:
            continue
        if flags & (IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE):
            continue
        found.append(str(address))
    return sorted(set(found))
