"""The setup checklist as structure: sections of steps and tables, built from
the Stack and the profile data. Text, Markdown and HTML only lay it out.

Live facts (current DNS answers, the detected LAN address) are optional, so
the checklist.md that `init` writes stays deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nasrtc.i18n import _
from nasrtc.services import REDIS_SERVICE
from nasrtc.stack import Stack

BLANK = "____________"


@dataclass(frozen=True)
class Facts:
    lan_ip: str | None = None
    dns: dict[str, list[str]] | None = None  # host -> addresses ([] = does not resolve)
    line: Any = None  # nasrtc.reach.line.Line: the internet line, when it was probed
    ipv6: tuple[str, ...] = ()  # this host's global IPv6 addresses


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    checkbox: bool = True  # first column is a box to tick


@dataclass(frozen=True)
class Section:
    title: str
    where: str = ""
    intro: str = ""
    table: Table | None = None
    steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    kind: str = ""  # "proxy": the reverse-proxy rows, which the web page also shows alone


@dataclass(frozen=True)
class Checklist:
    title: str
    subtitle: str
    summary: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)


def public_names(stack: Stack) -> tuple[str, ...]:
    """The names this stack adds to the user's DNS and certificates."""
    extra = (stack.livekit.turn_domain,) if stack.turn_tls else ()
    return (stack.jwt_host, stack.sfu_host, *extra)


def _router_for_line(router: Section, line: Any, stack: Stack) -> Section:
    """The router step as the probed line allows: where forwarding cannot work (CGNAT,
    DS-Lite), the verdict and what does instead of rules that cannot receive a packet."""
    from dataclasses import replace

    from nasrtc.reach.advice import advise

    advice = advise(line, stack.forwarded_summary())
    if line.forwarding_works is False:
        return Section(router.title, router.where, advice.headline + ".", steps=advice.steps)
    notes = advice.steps if line.verdict == "double-nat" else ()
    return replace(router, intro=advice.headline + ". " + router.intro, notes=notes)


def build_checklist(stack: Stack, facts: Facts | None = None) -> Checklist:
    facts = facts or Facts()
    profile = stack.profile
    nas = stack.lan_ip or facts.lan_ip or BLANK
    port = _("port {number}")
    summary = (
        (_("Matrix server"), _("`{domain}` (homeserver `{url}`)").format(
            domain=stack.domain, url=stack.homeserver_url)),
        (_("Auth service"),
         f"`{stack.jwt_url}` → {port.format(number=stack.jwt_route.upstream_port)}"),
        (_("LiveKit SFU"),
         f"`{stack.livekit_url}` → {port.format(number=stack.sfu_route.upstream_port)}"),
        (_("Router forwards"), stack.forwarded_summary()
         if facts.line is None or facts.line.forwarding_works is not False
         else _("nothing can work on this line's IPv4 (see the router section)")),
        (_("NAS LAN address"), nas),
        (_("Images"), f"`{stack.images['livekit']}`, `{stack.images['jwt']}`"),
    )

    def resolution(host: str) -> str:
        if facts.dns is None or host not in facts.dns:
            return ""
        found = facts.dns[host]
        return (_(" (now: {addresses})").format(addresses=", ".join(found)) if found
                else _(" (now: does not resolve yet)"))

    names = public_names(stack)
    ipv6 = list(facts.ipv6) or (facts.line.ipv6 if facts.line is not None else [])
    nas_ipv6 = ipv6[0] if ipv6 else BLANK
    aaaa = tuple(_("`{host}`: also an AAAA record to the NAS's global IPv6 address ({address}); "
                   "it changes when the provider changes the prefix").format(
                       host=host, address=nas_ipv6) for host in names) \
        if stack.livekit.ipv6 else ()
    dns = Section(
        "DNS", _("your DNS provider"),
        _("Create both names, pointing where your homeserver's name points.")
        if len(names) == 2 else
        _("Create these names, pointing where your homeserver's name points."),
        steps=tuple(_("`{host}`: CNAME to the NAS's public name, or an A record to your "
                      "public IP").format(host=host) + resolution(host) for host in names)
        + aaaa)

    turn_note = (" " + _("TURN's relay talks to the SFU through your public address, so the "
                         "router must also send traffic for that address back inside (NAT "
                         "loopback, also called hairpin NAT).")
                 if stack.livekit.turn_enabled else "")
    router = Section(
        _("Router: port forwarding"), _("your router's port forwarding page"),
        _("Forward each port to the same port on the NAS. LiveKit advertises the port it "
          "listens on, so the router must not translate port numbers (external port = "
          "internal port).") + turn_note,
        table=Table((_("Done"), _("Protocol"), _("External port"), _("To NAS (LAN IP)"),
                     _("NAS port"), _("For")),
                    tuple(("", r.protocol.upper(), r.ports, nas, r.ports,
                           _(r.purpose) + (" " + _("(probably there already)")
                                           if r.existing else ""))
                          for r in stack.router_rules)))

    if facts.line is not None:
        router = _router_for_line(router, facts.line, stack)
    router_sections: tuple[Section, ...] = (router,)
    if stack.livekit.ipv6:
        router_sections += (Section(
            _("Router: IPv6 firewall"), _("your router's IPv6 firewall (or 'port sharing') "
                                          "page"),
            _("IPv6 has no NAT: open each port for the NAS's own IPv6 address (a firewall "
              "rule, not a forward). Callers without IPv6 still need IPv4; where IPv4 cannot "
              "reach the NAS (carrier-grade NAT, DS-Lite) they need a TURN server elsewhere."),
            table=Table((_("Done"), _("Protocol"), _("Port"), _("To NAS (IPv6)"), _("For")),
                        tuple(("", r.protocol.upper(), r.ports, nas_ipv6, _(r.purpose))
                              for r in stack.router_rules))),)

    firewall = Section(
        _("Firewall on the NAS"), profile.firewall["where"], profile.firewall.get("note", ""),
        steps=tuple(f"{r.protocol.upper()} {r.ports}: " + step.format(
            protocol=r.protocol, PROTOCOL=r.protocol.upper(), port=r.ports,
            port_colon=r.ports.replace("-", ":"))
            for r in stack.router_rules for step in profile.firewall["steps"]))

    proxy_steps: list[str] = []
    rp = profile.reverse_proxy
    for route in stack.routes:
        values = dict(name=route.host, host=route.host, upstream_host=route.upstream_host,
                      port=route.upstream_port, timeout=stack.proxy_timeout)
        proxy_steps += [f"{route.host}: " + s.format(**values) for s in rp["create_steps"]]
        if route.websocket:
            proxy_steps += [f"{route.host}: " + s.format(**values) for s in rp["websocket_steps"]]
            proxy_steps += [f"{route.host}: " + s.format(**values) for s in rp["timeout_steps"]]
    proxy_steps += [step.format(host=host) for host in names
                    for step in profile.certificates["steps"]]
    if stack.turn_tls:
        proxy_steps += [
            _("Port 443 first goes through the SNI step (`reverse-proxy/nginx-stream.conf`): "
              "it hands `{turn}` to LiveKit and every other name to your HTTPS server blocks, "
              "which move to `{listen}` (reverse-proxy.md)").format(
                turn=stack.livekit.turn_domain, listen=stack.https_listen),
            _("LiveKit reads the certificate of `{turn}` (turn.cert_file) at start only: after "
              "each renewal, restart it (certbot deploy hook: `docker restart {container}`)"
              ).format(turn=stack.livekit.turn_domain, container=f"{stack.project}-livekit-1")]
    proxy = Section(
        _("Reverse proxy and certificates"), rp["where"],
        _("One row per public name (1:1). Details: reverse-proxy.md."),
        table=Table((_("Done"), _("Source (public)"), _("Destination (this host)"),
                     "WebSocket", _("Timeouts")),
                    tuple(("", f"https://{r.host}:443", r.upstream,
                           _("yes") if r.websocket else _("no"),
                           f"{stack.proxy_timeout} s" if r.websocket else _("default"))
                          for r in stack.routes)),
        steps=tuple(proxy_steps),
        notes=(_("Add no CORS headers on either row: the auth service sends its own."),
               _("Certificates: {where}.").format(where=profile.certificates["where"])
               + (f" {profile.certificates['note']}" if profile.certificates.get("note")
                  else "")),
        kind="proxy")

    hs = profile.homeserver
    homeserver = Section(
        _("Homeserver"), _("Synapse's homeserver.yaml and your web server"),
        steps=(
            hs.get("config", _("Add the settings in `matrix/homeserver.yaml` to Synapse's "
                               "homeserver.yaml")),
            *(step.format(domain=stack.domain) for step in hs.get("well_known", ())),
            _("The homeserver's federation API answers (the auth service checks callers "
              "through it): `https://{domain}/.well-known/matrix/server` names it, or port "
              "8448 reaches it").format(domain=stack.domain),
            hs.get("restart", _("Restart Synapse")),
        ))

    start = Section(
        _("Start and check"), _("a terminal on the NAS"),
        steps=(
            _("`{command}` (in this folder, or anywhere after `{nasrtc} init` wrote it; `--dir "
              "<this folder>` otherwise)").format(command=f"{profile.sudo}nasrtc up"),
            *((profile.start_alternative.format(project=stack.project),)
              if profile.start_alternative else ()),
            f"`{profile.sudo}nasrtc status`: "
            + (_("all three services (LiveKit, the auth service, Redis) running and healthy; "
                 "Redis keeps its data in `redis/` in this folder (include it in backups)")
               if stack.runs(REDIS_SERVICE)
               else _("both services running and healthy")),
            f"`{profile.sudo}nasrtc doctor`: "
            + _("every check passes (it prints a fix for each failure)"),
            _("`{url}` answers 200 in a browser").format(url=f"https://{stack.jwt_host}/healthz"),
            _("`{url}` answers `OK` in a browser").format(url=f"https://{stack.sfu_host}/"),
            _("A test call between two accounts, one phone on mobile data (not your Wi-Fi)"),
        ))

    return Checklist(
        _("Call setup checklist for {domain}").format(domain=stack.domain),
        _("{platform}. Work from top to bottom and tick each box.").format(
            platform=profile.title),
        summary, (dns, *router_sections, firewall, proxy, homeserver, start))
