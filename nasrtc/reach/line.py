"""The line: what the router says its WAN address is, what the internet sees, the NAS's
own addresses; and the verdict with its fix. `probe` asks; `classify` only decides."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from nasrtc.reach import local

PUBLIC, CGNAT, DS_LITE, DOUBLE_NAT, UNKNOWN = "public", "cgnat", "ds-lite", "double-nat", \
    "unknown"
VERDICTS = (PUBLIC, CGNAT, DS_LITE, DOUBLE_NAT, UNKNOWN)
SHARED = ipaddress.IPv4Network("100.64.0.0/10")    # RFC 6598, carrier-grade NAT
DS_LITE_B4 = ipaddress.IPv4Network("192.0.0.0/29")  # RFC 6333, the B4's own address


@dataclass
class Line:
    verdict: str
    wan_address: str | None = None   # the router's internet side, as it says
    wan_source: str | None = None    # upnp, nat-pmp or pcp
    seen_address: str | None = None  # as the internet sees this NAS
    seen_source: str | None = None   # stun host:port, or the what-is-my-IP service
    lan_address: str | None = None
    gateway: str | None = None
    ipv6: list[str] = field(default_factory=list)
    router: list[str] = field(default_factory=list)  # the protocols that answered
    router_name: str = ""
    withheld: bool = False           # the router answered but named no WAN address
    discovery: bool = True
    problems: list[str] = field(default_factory=list)  # replies that were refused

    @property
    def forwarding_works(self) -> bool | None:
        """Whether IPv4 port forwarding can carry calls on this line (None: not known)."""
        if not self.discovery:
            return None
        return {PUBLIC: True, CGNAT: False, DS_LITE: False}.get(self.verdict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "forwarding_works": self.forwarding_works}


def classify(line: Line) -> str:
    wan = ipaddress.IPv4Address(line.wan_address) if line.wan_address else None
    if wan is None:
        if line.withheld:
            # The router answers but names no public address: it has none (miniupnpd does
            # this for every reserved one). With global IPv6 that is DS-Lite's shape.
            return DS_LITE if line.ipv6 else CGNAT
        return UNKNOWN
    if wan in DS_LITE_B4:
        return DS_LITE
    if wan in SHARED:
        return CGNAT
    if wan.is_private:
        return DOUBLE_NAT
    if not wan.is_global:
        return UNKNOWN
    if line.seen_address and line.seen_address != line.wan_address:
        return CGNAT  # a public-looking WAN, but the internet sees another address
    return PUBLIC


def probe(lan_address: str | None, stun_servers: tuple[str, ...] = (),
          public_lookup: bool = True) -> Line:
    """Ask the router (UPnP, NAT-PMP, PCP, in parallel) and the internet (STUN, then the
    what-is-my-IP service); each bounded to a few seconds."""
    from nasrtc.reach import natpmp, pcp, stun, upnp

    line = Line(UNKNOWN, lan_address=lan_address, ipv6=local.global_ipv6())
    if not local.discovery_enabled():
        line.discovery = False
        return line
    line.gateway = local.default_gateway()
    source = lan_address or ""

    def ask_upnp() -> tuple[str | None, bool, str]:
        if not lan_address:
            return None, False, ""
        gateway, problems = upnp.discover(lan_address)
        line.problems += problems
        if gateway is None:
            return None, False, ""
        try:
            return upnp.external_address(gateway), True, gateway.name
        except (upnp.UpnpError, upnp.BadReply) as error:
            line.problems.append(f"UPnP: {error}")
            return None, True, gateway.name

    def ask_natpmp() -> tuple[str | None, bool]:
        if not line.gateway:
            return None, False
        try:
            answer = natpmp.ask_address(line.gateway, source)
            return (answer[0], True) if answer else (None, False)
        except natpmp.NatPmpError:
            return None, True  # it answered: it has no public address to give
        except OSError:
            return None, False

    def ask_pcp() -> tuple[str | None, bool]:
        if not line.gateway or not lan_address:
            return None, False
        try:
            if pcp.announce(line.gateway, lan_address) is None:
                return None, False
            return pcp.external_address(line.gateway, lan_address), True
        except OSError:
            return None, False

    def ask_internet() -> tuple[str | None, str | None]:
        for server in stun_servers or stun.DEFAULT_SERVERS:
            seen = stun.seen_address(server, source)
            if seen:
                return seen, f"stun {server}"
        if public_lookup:
            from nasrtc.host import network

            found = network.public_address()
            if found:
                return found
        return None, None

    with ThreadPoolExecutor(max_workers=4) as pool:
        upnp_job, natpmp_job = pool.submit(ask_upnp), pool.submit(ask_natpmp)
        pcp_job, internet_job = pool.submit(ask_pcp), pool.submit(ask_internet)
        answers = [("upnp", *upnp_job.result()[:2]), ("nat-pmp", *natpmp_job.result()),
                   ("pcp", *pcp_job.result())]
        line.router_name = upnp_job.result()[2]
        line.seen_address, line.seen_source = internet_job.result()
    for name, address, answered in answers:
        if answered:
            line.router.append(name)
        if address and not line.wan_address:
            line.wan_address, line.wan_source = address, name
    line.withheld = bool(line.router) and not line.wan_address
    line.verdict = classify(line)
    return line


def probe_stack(stack: Any | None) -> Line:
    """The line as this stack sees it: its LAN address (else this host's) and its STUN
    servers (else LiveKit's defaults)."""
    return probe(lan_address_of(stack), tuple(stack.livekit.stun_servers) if stack else ())


def lan_address_of(stack: Any | None) -> str | None:
    """The stack's network.lan_ip, else this host's LAN address."""
    from nasrtc.host import network

    return (stack.lan_ip if stack else None) or network.lan_address()
