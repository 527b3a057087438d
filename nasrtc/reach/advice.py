"""A verdict in words: a headline and the steps that work for that line, for `reach`,
doctor, the wizard and the checklist (one text everywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasrtc.i18n import _
from nasrtc.reach.line import CGNAT, DOUBLE_NAT, DS_LITE, PUBLIC, Line


@dataclass(frozen=True)
class Advice:
    headline: str
    steps: tuple[str, ...]


def facts(line: Line) -> list[tuple[str, str]]:
    """(label, value) rows: what each address is and how it was learnt."""
    none = _("not known")
    rows = [
        (_("Router's internet side"),
         f"{line.wan_address} ({line.wan_source})" if line.wan_address
         else _("withheld by the router") if line.withheld else none),
        (_("Seen from the internet"),
         f"{line.seen_address} ({line.seen_source})" if line.seen_address else none),
        (_("NAS LAN address"), line.lan_address or none),
        (_("NAS global IPv6"), ", ".join(line.ipv6) or _("none")),
        (_("Router answers"), ", ".join(line.router) or _("none (UPnP, NAT-PMP and PCP "
                                                           "are off or absent)")),
    ]
    return rows


def _ipv6_step(line: Line) -> str:
    if line.ipv6:
        return _("Use IPv6: this NAS has {addresses}. Add AAAA records for the call names and "
                 "open the same ports for IPv6 in the router's firewall (a pinhole, not a "
                 "forward); callers without IPv6 then still need a TURN server elsewhere"
                 ).format(addresses=", ".join(line.ipv6))
    return _("IPv6 would work if the line had it: this NAS has no global IPv6 address (ask "
             "your provider, and switch IPv6 on in the router)")


def advise(line: Line, ports: str) -> Advice:
    """`ports`: what the checklist forwards ('TCP 443, TCP 7881, UDP 7882')."""
    if not line.discovery:
        return Advice(_("Not checked: discovery is off (NASRTC_DISCOVERY=off)"),
                      (_("Unset NASRTC_DISCOVERY to let nasrtc ask the router and a STUN "
                         "server"), *_by_hand(line)))
    if line.verdict == PUBLIC:
        return Advice(_("Public IPv4 on the router ({address}): port forwarding works")
                      .format(address=line.wan_address),
                      (_("Forward {ports} to the NAS ({nas}): by hand (checklist) or with "
                         "`{nasrtc} router open`").format(ports=ports,
                                                        nas=line.lan_address or "?"),))
    if line.verdict == CGNAT:
        if not line.wan_address:
            headline = _("The router has no public IPv4 address (it says so itself): port "
                         "forwarding cannot work on IPv4")
        elif _public_looking(line):
            headline = _("Carrier-grade NAT: the internet sees {seen}, not the router's {wan}; "
                         "port forwarding cannot work on IPv4").format(seen=line.seen_address,
                                                                       wan=line.wan_address)
        else:
            headline = _("Carrier-grade NAT: the router's internet side is {wan}, an address "
                         "your provider shares; port forwarding cannot work on IPv4").format(
                             wan=line.wan_address)
        steps = [_("Ask your provider for a public IPv4 address (often free, sometimes paid; "
                   "ask to leave carrier-grade NAT)"),
                 _ipv6_step(line),
                 _("Or run the SFU, or a TURN server, on a machine with a public address "
                   "elsewhere (a small rented server)")]
        if not line.wan_address:
            steps.append(_("If a second router of yours stands in front of this one, that is "
                           "double NAT instead: forward on both routers, or put one into "
                           "bridge mode"))
        return Advice(headline, tuple(steps))
    if line.verdict == DS_LITE:
        return Advice(_("DS-Lite: IPv4 leaves only through your provider's gateway, so nothing "
                        "from the internet reaches the NAS on IPv4; IPv6 is the way in"),
                      (_ipv6_step(line),
                       _("Or ask your provider for a public IPv4 address (\"dual stack\" "
                         "instead of DS-Lite; often free, sometimes paid)"),
                       _("Or run the SFU, or a TURN server, on a machine with a public "
                         "address elsewhere (a small rented server)")))
    if line.verdict == DOUBLE_NAT:
        return Advice(_("Double NAT: the router's internet side is {wan}, a private address: "
                        "another router stands in front of it").format(wan=line.wan_address),
                      (_("Forward {ports} on both: on the front router to this router's "
                         "address {wan}, and on this router to the NAS ({nas})").format(
                             ports=ports, wan=line.wan_address, nas=line.lan_address or "?"),
                       _("Or put one of the two into bridge (modem) or access-point mode, so "
                         "only one router does NAT"),
                       _("Or make this router the exposed host (DMZ) of the front one, then "
                         "forward here only")))
    return Advice(_("Not known: the router did not answer (UPnP, NAT-PMP and PCP are off, or "
                    "it has none of them)"), tuple(_by_hand(line)))


def _public_looking(line: Line) -> bool:
    import ipaddress

    return bool(line.wan_address) and ipaddress.IPv4Address(line.wan_address).is_global


def _by_hand(line: Line) -> list[str]:
    seen = line.seen_address or _("the address a what-is-my-IP page shows")
    return [_("Check by hand: the router's status page shows its internet (WAN) address. "
              "The same as {seen}: forwarding works. 100.64.x.x to 100.127.x.x, or another "
              "address than {seen}: carrier-grade NAT. 192.168.x.x, 10.x.x.x or 172.16.x.x to "
              "172.31.x.x: a second router in front (double NAT). No IPv4 address, or "
              "192.0.0.x, with IPv6: DS-Lite").format(seen=seen)]


def show_line(stack: Any, say_when_off: bool = False) -> Line | None:
    """Before init writes: probe the line for this stack and say the verdict and its steps.
    Nothing is sent when discovery is off; the wizard (say_when_off) says so."""
    line, headline, steps = line_verdict(stack)
    if line is None and not say_when_off:
        return None
    print(headline)
    for step in steps:
        print(f"  - {step}")
    return line


def line_verdict(stack: Any) -> tuple[Line | None, str, list[str]]:
    """The line for this stack (None when discovery is off), the sentence saying what it
    is, and the steps that follow from it: one text for the terminal and the web page."""
    from nasrtc.reach import local
    from nasrtc.reach.line import probe_stack

    if not local.discovery_enabled():
        return None, _("nasrtc: your internet line: not checked (NASRTC_DISCOVERY=off); "
                       "`{nasrtc} reach` checks it later"), []
    line = probe_stack(stack)
    advice = advise(line, stack.forwarded_summary())
    return line, _("nasrtc: your internet line: {headline}").format(
        headline=advice.headline), list(advice.steps)
