"""Rules that span several answers, and the host ports the answers ask for.

Each port rule names the service that listens on it and its protocol, so the
wizard, the engine and doctor never guess either from a key's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from nasrtc.errors import Problem
from nasrtc.i18n import N_, _
from nasrtc.profiles import Profile
from nasrtc.services import JWT_SERVICE, LIVEKIT_SERVICE

# The stack's two services (compose service names and container name parts).
PROXY = "reverse proxy"  # the user's own, not a container of ours

Values = Mapping[str, Any]


@dataclass(frozen=True)
class PortRule:
    """A port the stack holds on the host."""

    key: str  # the answers key that set it
    owner: str  # the service that listens: LIVEKIT_SERVICE or JWT_SERVICE
    purpose: str  # in words, for tables and messages
    protocol: str  # tcp | udp
    start: int
    end: int
    forward: bool  # the router must forward it from the internet

    @property
    def label(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"

    @property
    def numbers(self) -> range:
        return range(self.start, self.end + 1)

    def overlaps(self, other: PortRule) -> bool:
        return (self.protocol == other.protocol and self.start <= other.end
                and other.start <= self.end)


def _single(key: str, owner: str, purpose: str, protocol: str, number: int,
            forward: bool) -> PortRule:
    return PortRule(key, owner, purpose, protocol, number, number, forward)


def port_rules(values: Values) -> list[PortRule]:
    """Every host port the answers ask for, in a fixed order."""
    rules = [
        _single("ports.livekit_http", LIVEKIT_SERVICE, N_("LiveKit HTTP/WebSocket"), "tcp",
                values["ports.livekit_http"], False),
        _single("ports.rtc_tcp", LIVEKIT_SERVICE, N_("LiveKit media (TCP)"), "tcp",
                values["ports.rtc_tcp"], True),
    ]
    udp_range = values["ports.rtc_udp_range"]
    if udp_range is not None:
        rules.append(PortRule("ports.rtc_udp_range", LIVEKIT_SERVICE,
                              N_("LiveKit media (UDP range)"), "udp", udp_range[0],
                              udp_range[1], True))
    else:
        rules.append(_single("ports.rtc_udp", LIVEKIT_SERVICE, N_("LiveKit media (UDP)"), "udp",
                             values["ports.rtc_udp"], True))
    rules.append(_single("ports.jwt_http", JWT_SERVICE, N_("MatrixRTC auth service"), "tcp",
                         values["ports.jwt_http"], False))
    if values["turn.enabled"]:
        rules.append(_single("turn.udp_port", LIVEKIT_SERVICE, N_("LiveKit TURN (UDP)"), "udp",
                             values["turn.udp_port"], True))
        start, end = values["turn.relay_range"]
        rules.append(PortRule("turn.relay_range", LIVEKIT_SERVICE, N_("LiveKit TURN relay (UDP)"),
                              "udp", start, end, True))
        if values["turn.tls_port"] is not None:
            # Reached through the SNI step on 443, never forwarded itself.
            rules.append(_single("turn.tls_port", LIVEKIT_SERVICE,
                                 N_("LiveKit TURN over TLS (behind 443)"), "tcp",
                                 values["turn.tls_port"], False))
            rules.append(_single("proxy.https_backend_port", PROXY,
                                 N_("your HTTPS server blocks (behind 443)"), "tcp",
                                 values["proxy.https_backend_port"], False))
    return rules


def rule_for(key: str, values: Values) -> PortRule | None:
    """The port rule an answers key sets (None: the key is not a port in use)."""
    return next((rule for rule in port_rules(values) if rule.key == key), None)


def port_summary(rules: tuple[PortRule, ...] | list[PortRule],
                 protocol: str | None = None) -> str:
    """'UDP 7882, TCP 7881': the forwarded ports, as every text names them."""
    return ", ".join(f"{r.protocol.upper()} {r.label}" for r in rules
                     if r.forward and (protocol is None or r.protocol == protocol))


def check_rules(values: Values, profile: Profile) -> list[Problem]:
    """Every rule across keys. Empty list: the answers are usable together."""
    problems: list[Problem] = []
    rules = port_rules(values)
    for rule in rules:
        for number in rule.numbers:
            owner = profile.reserved_owner(rule.protocol, number)
            if owner:
                problems.append(Problem(rule.key, (
                    _("{protocol} port {number} is reserved on {title}: {owner} uses it; pick a "
                      "port that is not {reserved}")
                    .format(protocol=rule.protocol.upper(), number=number, title=profile.title,
                            owner=owner, reserved=_reserved_list(profile, rule.protocol)))))
                break
    for index, first in enumerate(rules):
        for second in rules[index + 1:]:
            if first.overlaps(second):
                proto = second.protocol.upper()
                problems.append(Problem(
                    second.key,
                    _("{proto} {label} overlaps {key} ({other_label}); every {proto} port must be "
                      "different")
                    .format(proto=proto, label=second.label, key=first.key,
                            other_label=first.label),
                    also=(first.key,),
                    mirror=_("{proto} {label} overlaps {key} ({other_label}); every {proto} port "
                             "must be different")
                           .format(proto=proto, label=first.label, key=second.key,
                                   other_label=second.label)))
    if values["jwt_host"] == values["sfu_host"]:
        problems.append(Problem("sfu_host", (
            _("{name!r} equals jwt_host; the reverse proxy maps one name to one service, so "
              "use two names (e.g. jwt.<domain> and sfu.<domain>)")
            .format(name=values['sfu_host'])),
            also=("jwt_host",)))
    if values["ports.rtc_udp_range"] is not None and values["network.livekit_mode"] == "bridge":
        problems.append(Problem("ports.rtc_udp_range", (
            _("needs network.livekit_mode: host; publishing a UDP range through Docker's bridge "
              "starts one docker-proxy process per port (a 200-port range: ~400 processes, "
              "~440 MB of RAM). Use host mode, or a single ports.rtc_udp")),
            also=("network.livekit_mode",)))
    if values["network.ipv6"] and values["network.livekit_mode"] == "bridge":
        problems.append(Problem("network.ipv6", (
            _("needs network.livekit_mode: host; in Docker's bridge LiveKit sees only its "
              "container's IPv4 address, never the NAS's global IPv6 one")),
            also=("network.livekit_mode",)))
    if values["turn.enabled"] and values["turn.tls_port"] is not None:
        if not profile.turn_tls.get("supported", False):
            problems.append(Problem("turn.tls_port", (
                _("TURN over TLS cannot work on {title}: {why}. Remove turn.tls_port; UDP "
                  "TURN (turn.udp_port) still helps callers behind strict NATs, and callers "
                  "who only get HTTPS out can use an existing TURN server with TLS on another "
                  "machine (external_turn, protocol: tls)")
                .format(title=profile.title,
                        why=profile.turn_tls.get('why') or _('the profile does not support it')))))
        for key in ("turn.cert_file", "turn.key_file"):
            if not values[key]:
                problems.append(Problem(key, (
                    _("is required with turn.tls_port: the host path of the PEM file for "
                      "{name}; or remove turn.tls_port").format(name=values['turn.domain']))))
        if values["turn.domain"] in (values["jwt_host"], values["sfu_host"]):
            problems.append(Problem("turn.domain", (
                _("{name!r} is already the name of another service; the SNI step hands each "
                  "name to one service, so TURN needs its own (turn.<domain>)")
                .format(name=values['turn.domain']))))
    if values["external_turn.host"]:
        if values["external_turn.auth"] == "password" and not values["external_turn.username"]:
            problems.append(Problem("external_turn.username", (
                _("is required with external_turn.auth: password (LiveKit hands clients this "
                  "username and its credential); or use auth: secret for coturn's "
                  "use-auth-secret")), also=("external_turn.auth",)))
        if values["external_turn.auth"] == "secret" and values["external_turn.username"]:
            problems.append(Problem("external_turn.username", (
                _("is not used with external_turn.auth: secret (LiveKit makes a username per "
                  "caller from the shared secret); remove it, or set auth: password")),
                also=("external_turn.auth",)))
    return problems


def _reserved_list(profile: Profile, protocol: str) -> str:
    return ", ".join(str(p) for p in sorted(profile.reserved_ports.get(protocol, {})))
