"""The wizard's questions, as data. No terminal here: prompt.py asks them.

A question owns no default of its own: it offers what the answers so far resolve
to (answers.resolve_partial), so a schema or profile default changes the wizard,
`--yes` and the answers file alike. Every typed answer is checked by resolve(),
which runs every rule; a problem about the key being asked (or a clash it is part
of) is shown at that question. One set of rules, one set of messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from nasrtc.answers import (
    ANSWERS_FILE,
    chosen_keys,
    flatten,
    nest,
    read_yaml_mapping,
    resolve,
    resolve_partial,
)
from nasrtc.answers.rules import rule_for
from nasrtc.errors import InputError
from nasrtc.i18n import N_, _

# Keys that are choices of the wizard, not answers-file keys.
UDP_MODE = "_udp_mode"
PUBLIC_IP_MODE = "_public_ip_mode"

PortOwner = Callable[[str, int], "str | None"]


@dataclass
class Context:
    """What the questions know: earlier answers and what the host told us."""

    base: dict[str, Any]  # flat keys the previous nasrtc.yaml set (kept unless asked again)
    platform_profile: str
    platform_text: str
    lan_ip: str | None = None
    public_ip: tuple[str, str] | None = None  # (address, where it came from)
    ipv6: tuple[str, ...] = ()  # this host's global IPv6 addresses
    port_check: PortOwner | None = None  # -> owner if busy
    answers: dict[str, Any] = field(default_factory=dict)  # flat, asked so far
    # Keys of base that were chosen, not defaults at the time: they seed the defaults.
    kept: dict[str, Any] = field(default_factory=dict)
    # The previous file's resolved values: ports this stack itself may hold now.
    previous: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, base: dict[str, Any], platform_profile: str, platform_text: str,
              **host: Any) -> Context:
        previous = resolve_partial(nest(base)) if base else {}
        kept = chosen_keys(base)
        if "profile" in base:  # a profile written down wins over the detected one
            kept["profile"] = base["profile"]
        return cls(dict(base), platform_profile, platform_text, kept=kept,
                   previous=previous, **host)

    def raw(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Nested answers to write: kept keys, then this run's answers."""
        return nest({**self.base, **self.answers, **(extra or {})})

    def suggested(self) -> dict[str, Any]:
        """Every key as the answers so far resolve it (the platform's profile first)."""
        return resolve_partial(nest({"profile": self.platform_profile, **self.kept,
                                     **self.answers}))

    def default(self, key: str) -> Any:
        return self.suggested().get(key)


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # text | select | confirm
    message: str
    help: str
    # Only the wizard's own choices (UDP_MODE, ...) and host facts compute a default;
    # an answers key offers ctx.default(key).
    offer: Callable[[Context], Any] | None = None
    choices: Callable[[Context], list[tuple[Any, str]]] = lambda ctx: []
    when: Callable[[Context], bool] = lambda ctx: True
    convert: Callable[[str], Any] = lambda text: text.strip()
    optional: bool = False  # an empty text answer means null

    def default(self, ctx: Context) -> Any:
        value = self.offer(ctx) if self.offer else ctx.default(self.key)
        if isinstance(value, tuple):  # a port range, typed as START-END
            return f"{value[0]}-{value[1]}"
        return value


def _port(text: str) -> Any:
    text = text.strip()
    return int(text) if text.isdigit() else text


def _public_ip_choices(ctx: Context) -> list[tuple[Any, str]]:
    choices: list[tuple[Any, str]] = [
        ("stun", _("Discover it at start with STUN (recommended; follows a changing address)"))]
    if ctx.public_ip:
        address, source = ctx.public_ip
        choices.append((address, _("Use {address} (found just now via {source})").format(
            address=address, source=source)))
    choices.append(("fixed", _("Type a fixed public address")))
    return choices


def _public_ip_mode(ctx: Context) -> Any:
    current = ctx.default("network.public_ip")
    if current and current != "stun":
        return current if ctx.public_ip and ctx.public_ip[0] == current else "fixed"
    return "stun"


def _fixed_public_ip(ctx: Context) -> Any:
    current = ctx.default("network.public_ip")
    if current not in (None, "stun"):
        return current
    return ctx.public_ip[0] if ctx.public_ip else ""


def _profile_choices(ctx: Context) -> list[tuple[Any, str]]:
    def detected(profile: str) -> str:
        return (_(", detected: {platform}").format(platform=ctx.platform_text)
                if ctx.platform_profile == profile else "")

    return [("synology", _("Synology DSM (Container Manager)") + detected("synology")),
            ("generic", _("Generic Linux with Docker") + detected("generic"))]


QUESTIONS: tuple[Question, ...] = (
    Question("profile", "select", N_("Platform"),
             N_("Decides the defaults and the instructions (DSM clicks or nginx/Caddy files)."),
             choices=_profile_choices),
    Question("domain", "text", N_("Matrix server name"),
             N_("The part after ':' in your user IDs, e.g. example.org for @you:example.org."),
             offer=lambda ctx: ctx.kept.get("domain", "")),
    Question("homeserver_url", "text", N_("Homeserver URL"),
             N_("Where clients reach your homeserver (https, no path).")),
    Question("jwt_host", "text", N_("Name for the auth service"),
             N_("A subdomain for the MatrixRTC auth service; it gets its own proxy row.")),
    Question("sfu_host", "text", N_("Name for the SFU"),
             N_("A subdomain for LiveKit (WebSocket); it gets its own proxy row.")),
    Question("network.domain_here", "confirm", N_("Is https://<your domain> served by this NAS"),
             N_("The auth service reads https://<domain>/.well-known/matrix/client to find your "
             "homeserver. Yes: it asks this NAS directly (no NAT loopback needed). No: it goes "
             "out through your router to wherever that website runs.")),
    Question("network.homeserver_here", "confirm", N_("Does the homeserver run on this NAS"),
             N_("The auth service checks each caller with the homeserver. Yes: it asks this NAS "
             "directly; no: through your router.")),
    Question(UDP_MODE, "select", N_("How should media use UDP"),
             N_("One UDP port needs one router rule; a range needs a rule for every port."),
             offer=lambda ctx: "range" if ctx.default("ports.rtc_udp_range") else "mux",
             choices=lambda ctx: [("mux", _("One UDP port for all calls (recommended)")),
                                  ("range", _("A range of UDP ports, one per media stream"))]),
    Question("ports.rtc_udp", "text", N_("UDP port for media"),
             N_("Forwarded by the router to the same port on the NAS."),
             when=lambda ctx: ctx.answers.get(UDP_MODE) == "mux", convert=_port),
    Question("ports.rtc_udp_range", "text", N_("UDP port range for media"),
             N_("START-END, at least 10 ports (each participant uses two); forwarded unchanged."),
             offer=lambda ctx: ctx.default("ports.rtc_udp_range") or "50000-50200",
             when=lambda ctx: ctx.answers.get(UDP_MODE) == "range"),
    Question("ports.rtc_tcp", "text", N_("TCP port for media"),
             N_("Used when UDP is blocked; forwarded by the router to the same port."),
             convert=_port),
    Question("ports.livekit_http", "text", N_("LiveKit's local HTTP port"),
             N_("The reverse proxy sends the SFU name here; not forwarded by the router."),
             convert=_port),
    Question("ports.jwt_http", "text", N_("Auth service's local HTTP port"),
             N_("The reverse proxy sends the auth service name here; not forwarded."),
             convert=_port),
    Question("turn.enabled", "confirm", N_("Enable LiveKit's TURN server"),
             N_("Usually not needed: the SFU already relays media. TURN helps only callers on "
             "networks that block UDP, and costs another forwarded port.")),
    Question("turn.udp_port", "text", N_("TURN UDP port"),
             N_("Forwarded by the router to the same port on the NAS."),
             when=lambda ctx: bool(ctx.answers.get("turn.enabled")), convert=_port),
    Question("redis.enabled", "confirm", N_("Add Redis for the auth service"),
             N_("A small third container: the auth service keeps its state there, so a restart "
             "(an update, a NAS reboot) leaves no call stuck. No port is published.")),
    Question(PUBLIC_IP_MODE, "select", N_("How should LiveKit learn your public IP address"),
             N_("LiveKit tells callers this address; behind a router it cannot see it itself."),
             offer=_public_ip_mode, choices=_public_ip_choices),
    Question("network.public_ip", "text", N_("Public IPv4 address"),
             N_("Your router's WAN address; it must not change."),
             offer=_fixed_public_ip,
             when=lambda ctx: ctx.answers.get(PUBLIC_IP_MODE) == "fixed"),
    Question("network.ipv6", "confirm", N_("Offer callers this NAS's IPv6 address too"),
             N_("This NAS has global IPv6. Callers with IPv6 then reach it without port "
                "forwarding (the router's IPv6 firewall opens the same ports instead): the "
                "way in where IPv4 cannot be reached (DS-Lite, carrier-grade NAT)."),
             when=lambda ctx: bool(ctx.ipv6)
             and ctx.suggested().get("network.livekit_mode", "host") == "host"),
    Question("network.lan_ip", "text", N_("The NAS's LAN address"),
             N_("Printed in the router checklist; leave empty to fill it in by hand."),
             offer=lambda ctx: ctx.default("network.lan_ip") or ctx.lan_ip or "",
             optional=True),
)


def applicable(ctx: Context) -> list[Question]:
    return [q for q in QUESTIONS if q.when(ctx)]


def in_order(ctx: Context) -> Iterator[Question]:
    """Applicable questions, re-evaluated after each answer (some depend on others)."""
    asked: set[str] = set()
    while True:
        pending = [q for q in applicable(ctx) if q.key not in asked]
        if not pending:
            return
        asked.add(pending[0].key)
        yield pending[0]


def usable_answers(stack_dir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """The flat keys an existing nasrtc.yaml sets, the defaults of a new run. Keys with
    problems are dropped (and said), so the wizard asks for them again."""
    path = stack_dir / ANSWERS_FILE
    if not path.is_file():
        return {}
    flat, _dropped = flatten(read_yaml_mapping(path))  # unknown keys dropped: asked again
    while True:
        try:
            resolve(nest(flat))
            return flat
        except InputError as exc:
            bad = {p.key for p in exc.problems}
            say(_("{path} has problems; asking again for: {keys}").format(
                path=path, keys=", ".join(sorted(bad))))
            if not bad & set(flat):
                return {}
            flat = {k: v for k, v in flat.items() if k not in bad}


def record(ctx: Context, question: Question, value: Any) -> None:
    """Store an answer; the wizard's own choices become answers-file keys."""
    ctx.answers[question.key] = value
    if question.key == UDP_MODE:
        other = "ports.rtc_udp" if value == "range" else "ports.rtc_udp_range"
        ctx.answers[other] = None
        ctx.base.pop(other, None)
        ctx.kept.pop(other, None)
    if question.key == PUBLIC_IP_MODE and value != "fixed":
        ctx.answers["network.public_ip"] = value
    if question.key == "turn.enabled" and not value:
        ctx.answers.pop("turn.udp_port", None)


def parse(question: Question, text: str) -> Any:
    if question.optional and not text.strip():
        return None
    return question.convert(text)


def check(ctx: Context, question: Question, value: Any) -> str | None:
    """The problem with this answer, as the answers file would report it, or None."""
    if question.kind != "text":
        return None
    if value is None and question.optional:
        return None
    trial = Context(dict(ctx.base), ctx.platform_profile, ctx.platform_text,
                    answers=dict(ctx.answers), kept=dict(ctx.kept))
    record(trial, question, value)
    try:
        answers = resolve(trial.raw())
    except InputError as exc:
        for problem in exc.problems:
            message = problem.message_for(question.key)
            if message is not None:
                return message
        return None
    return _busy(ctx, question, answers.values)


def _busy(ctx: Context, question: Question, values: dict[str, Any]) -> str | None:
    """A port already held on this host (not by an earlier run of this stack)."""
    from nasrtc.host.ports import busy

    rule = rule_for(question.key, values)
    if rule is None or ctx.port_check is None:
        return None
    if ctx.previous.get(question.key) == values[question.key]:
        return None  # this stack may be running and holding it
    found = busy([rule], ctx.port_check, first_only=True)
    return _("{problem}; pick another").format(problem=found[0].describe()) if found else None
