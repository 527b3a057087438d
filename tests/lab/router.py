"""The home router: masquerades the LAN, forwards exactly the ports it is given (the
rows of nasrtc's router checklist, parsed by the test), and has the switches a real one
has: NAT loopback (hairpin) on or off, UDP media blocked, only 443 open."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.lab.topology import ADDRESSES, Namespace


@dataclass(frozen=True)
class Forward:
    protocol: str  # tcp or udp
    start: int
    end: int

    @property
    def nft(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"

    def __str__(self) -> str:
        return f"{self.protocol.upper()} {self.nft}"


ROW = re.compile(r"^\s*\[ \]\s+(TCP|UDP)\s+(\d+)(?:-(\d+))?\s")
SECTION = re.compile(r"^\d+\. ")


def forwards_from_checklist(text: str, section: str = "ROUTER: PORT FORWARDING",
                            ) -> list[Forward]:
    """The rows of the router section of `nasrtc checklist` (English text): what a user
    types into the router, nothing more, nothing less."""
    found = []
    in_router = False
    for line in text.splitlines():
        if SECTION.match(line):
            in_router = section in line.upper()
            continue
        match = ROW.match(line)
        if in_router and match:
            start = int(match.group(2))
            found.append(Forward(match.group(1).lower(), start, int(match.group(3) or start)))
    return list(dict.fromkeys(found))


def pinholes_from_checklist(text: str) -> list[Forward]:
    """The rows of the checklist's IPv6 firewall table: the ports opened to the NAS."""
    return forwards_from_checklist(text, "ROUTER: IPV6 FIREWALL")


@dataclass(frozen=True)
class Switches:
    nat_loopback: bool = True
    block_udp: bool = False  # forwarded UDP media dropped (DNS and STUN still pass)
    only_443: bool = False   # whatever the checklist says, only TCP 443 is forwarded
    udp_loss: int = 0        # % of the UDP packets through the router dropped at random


def apply(router: Namespace, forwards: list[Forward], switches: Switches = Switches(),
          pinholes: list[Forward] | None = None) -> None:
    """(Re)write the router's whole rule set: IPv4 NAT and forwards, and the IPv6 firewall,
    which lets in only the `pinholes` (ports open to the NAS's IPv6 address)."""
    a = ADDRESSES
    if switches.only_443:
        forwards = [f for f in forwards if f.protocol == "tcp" and f.start <= 443 <= f.end]
        forwards = [Forward("tcp", 443, 443)] if forwards else []
    dnat = []
    for f in forwards:
        if switches.block_udp and f.protocol == "udp":
            continue
        dnat.append(f'iifname "wan" ip daddr {a.router_wan} {f.protocol} dport {f.nft} '
                    f"dnat to {a.nas}")
        if switches.nat_loopback:
            dnat.append(f'iifname "lan" ip daddr {a.router_wan} {f.protocol} dport {f.nft} '
                        f"dnat to {a.nas}")
    hairpin = (f'iifname "lan" oifname "lan" ip daddr {a.nas} ct status dnat masquerade'
               if switches.nat_loopback else "")
    holes = [f'iifname "wan" ip6 daddr {a.nas_ipv6} {f.protocol} dport {f.nft} accept'
             for f in pinholes or ()]
    udp_block = ('meta l4proto udp udp dport != { 53, 3478 } udp sport != { 53, 3478 } drop'
                 if switches.block_udp else "")
    udp_loss = (f"meta l4proto udp udp dport != {{ 53 }} udp sport != {{ 53 }} "
                f"numgen random mod 100 < {switches.udp_loss} drop"
                if switches.udp_loss else "")
    newline = "\n      "
    router.run("nft", "-f", "-", input=f"""
table ip home
delete table ip home
table ip home {{
  chain prerouting {{
    type nat hook prerouting priority dstnat;
      {newline.join(dnat)}
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat;
      oifname "wan" masquerade
      {hairpin}
  }}
  chain forward {{
    type filter hook forward priority filter; policy drop;
      {udp_block}
      {udp_loss}
      ct state established,related accept
      iifname "lan" oifname "wan" accept
      ct status dnat accept
  }}
  chain input {{
    type filter hook input priority filter; policy accept;
  }}
}}
table ip6 home6
delete table ip6 home6
table ip6 home6 {{
  chain forward {{
    type filter hook forward priority filter; policy drop;
      ct state established,related accept
      meta l4proto ipv6-icmp accept
      iifname "lan" oifname "wan" accept
      {newline.join(holes)}
  }}
}}
""")
    forget_connections(router)


# Deletes every connection the router tracks (ctnetlink IPCTNL_MSG_CT_DELETE, no
# attributes: the whole table), as a router reloading its firewall does; no conntrack tool
# needed. Kept connections keep the NAT decided under the old rules: a relay's packets
# to the public address, tracked while NAT loopback was off, were still not forwarded to
# the NAS once it was on (UDP entries live 30-120 s, and the relay reuses its few ports).
_FLUSH_CONNTRACK = """
import socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
s.settimeout(5)
for family in (socket.AF_INET, socket.AF_INET6):
    body = struct.pack("BBH", family, 0, 0)  # nfgenmsg
    s.send(struct.pack("=IHHII", 16 + len(body), (1 << 8) | 2, 0x1 | 0x4, 1, 0) + body)
    reply = s.recv(4096)
    error = struct.unpack_from("=i", reply, 16)[0]
    if error not in (0, -2):  # ENOENT: nothing was tracked
        raise SystemExit(f"conntrack flush: errno {-error}")
"""


def forget_connections(space: Namespace) -> None:
    space.run("python3", "-c", _FLUSH_CONNTRACK)


def restrict_callers(carrier: Namespace, only_443: bool, no_udp: bool = False) -> None:
    """The callers' network: open, a firewall that lets only HTTPS out (TCP 443, and
    DNS), as in hotels and offices: the case TURN over TLS is for; or one that lets no
    UDP out but DNS (`no_udp`), as some company networks do."""
    rules = ('meta l4proto tcp tcp dport 443 accept\n      udp dport 53 accept\n'
             '      ct state established,related accept\n      iifname "lan" drop'
             if only_443 else
             'udp dport 53 accept\n      iifname "lan" meta l4proto udp drop' if no_udp else "")
    carrier.run("nft", "-f", "-", input=f"""
table ip firewall
delete table ip firewall
table ip firewall {{
  chain forward {{
    type filter hook forward priority filter; policy accept;
      {rules}
  }}
}}
""")


def counters(router: Namespace) -> str:
    return router.run("nft", "list", "table", "ip", "home").stdout
