"""The wizard's questions, as data. No terminal here: wizard.py asks them.

Every answer is checked the way the answers file is: the candidate answers go
through answers.resolve() and model.check_answers(), and the problems for the
key being asked are shown. One set of rules, one set of messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from nasrtc.answers import nest, resolve
from nasrtc.errors import InputError
from nasrtc.model import check_answers
from nasrtc.profiles import Profile, load_profile

# Keys that are choices of the wizard, not answers-file keys.
UDP_MODE = "_udp_mode"
PUBLIC_IP_MODE = "_public_ip_mode"
PORT_KEYS = ("ports.livekit_http", "ports.rtc_tcp", "ports.rtc_udp", "ports.rtc_udp_range",
             "ports.jwt_http", "turn.udp_port")


@dataclass
class Context:
    """What the questions know: earlier answers and what the host told us."""

    base: dict[str, Any]  # flat answers kept from a previous nasrtc.yaml (not asked again)
    previous: dict[str, Any]  # flat resolved values of that file, used as defaults
    platform_profile: str
    platform_text: str
    lan_ip: str | None = None
    public_ip: tuple[str, str] | None = None  # (address, where it came from)
    port_check: Callable[[str, int], str | None] | None = None  # -> owner if busy
    answers: dict[str, Any] = field(default_factory=dict)  # flat, asked so far

    def value(self, key: str) -> Any:
        return self.answers.get(key, self.previous.get(key))

    def raw(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Nested answers: kept keys, then this run's answers."""
        return nest({**self.base, **self.answers, **(extra or {})})

    @property
    def profile(self) -> Profile:
        return load_profile(self.value("profile") or self.platform_profile)


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # text | select | confirm
    message: str
    help: str
    default: Callable[[Context], Any]
    choices: Callable[[Context], list[tuple[Any, str]]] = lambda ctx: []
    when: Callable[[Context], bool] = lambda ctx: True
    convert: Callable[[str], Any] = lambda text: text.strip()
    optional: bool = False  # an empty text answer means null


def _port(text: str) -> Any:
    text = text.strip()
    return int(text) if text.isdigit() else text


def _default_from(key: str, compute: Callable[[Context], Any]) -> Callable[[Context], Any]:
    return lambda ctx: ctx.previous.get(key) if key in ctx.previous else compute(ctx)


def _domain_default(prefix: str, key: str) -> Callable[[Context], Any]:
    def compute(ctx: Context) -> Any:
        previous, domain = ctx.previous.get(key), ctx.answers.get("domain")
        old_domain = ctx.previous.get("domain")
        # Follow a changed domain unless the user had chosen a name of their own.
        if previous and old_domain and previous != prefix.format(old_domain):
            return previous
        return prefix.format(domain)
    return compute


def _public_ip_choices(ctx: Context) -> list[tuple[Any, str]]:
    choices: list[tuple[Any, str]] = [
        ("stun", "Discover it at start with STUN (recommended; follows a changing address)")]
    if ctx.public_ip:
        address, source = ctx.public_ip
        choices.append((address, f"Use {address} (found just now via {source})"))
    choices.append(("fixed", "Type a fixed public address"))
    return choices


def _public_ip_default(ctx: Context) -> Any:
    previous = ctx.previous.get("network.public_ip")
    if previous and previous != "stun":
        return previous if ctx.public_ip and ctx.public_ip[0] == previous else "fixed"
    return "stun"


QUESTIONS: tuple[Question, ...] = (
    Question("profile", "select", "Platform",
             "Decides the defaults and the instructions (DSM clicks or nginx/Caddy files).",
             lambda ctx: ctx.previous.get("profile", ctx.platform_profile),
             choices=lambda ctx: [
                 ("synology", "Synology DSM (Container Manager)"
                  + (f", detected: {ctx.platform_text}" if ctx.platform_profile == "synology"
                     else "")),
                 ("generic", "Generic Linux with Docker"
                  + (f", detected: {ctx.platform_text}" if ctx.platform_profile == "generic"
                     else ""))]),
    Question("domain", "text", "Matrix server name",
             "The part after ':' in your user IDs, e.g. example.org for @you:example.org.",
             lambda ctx: ctx.previous.get("domain", "")),
    Question("homeserver_url", "text", "Homeserver URL",
             "Where clients reach your homeserver (https, no path).",
             _domain_default("https://matrix.{}", "homeserver_url")),
    Question("jwt_host", "text", "Name for the auth service",
             "A subdomain for the MatrixRTC auth service; it gets its own proxy row.",
             _domain_default("jwt.{}", "jwt_host")),
    Question("sfu_host", "text", "Name for the SFU",
             "A subdomain for LiveKit (WebSocket); it gets its own proxy row.",
             _domain_default("sfu.{}", "sfu_host")),
    Question(UDP_MODE, "select", "How should media use UDP",
             "One UDP port needs one router rule; a range needs a rule for every port.",
             lambda ctx: "range" if ctx.previous.get("ports.rtc_udp_range") else "mux",
             choices=lambda ctx: [("mux", "One UDP port for all calls (recommended)"),
                                  ("range", "A range of UDP ports, one per media stream")]),
    Question("ports.rtc_udp", "text", "UDP port for media",
             "Forwarded by the router to the same port on the NAS.",
             _default_from("ports.rtc_udp", lambda ctx: 7882),
             when=lambda ctx: ctx.answers.get(UDP_MODE) == "mux", convert=_port),
    Question("ports.rtc_udp_range", "text", "UDP port range for media",
             "START-END, at least 10 ports (each participant uses two); forwarded unchanged.",
             lambda ctx: (f"{ctx.previous['ports.rtc_udp_range'][0]}-"
                          f"{ctx.previous['ports.rtc_udp_range'][1]}"
                          if ctx.previous.get("ports.rtc_udp_range") else "50000-50200"),
             when=lambda ctx: ctx.answers.get(UDP_MODE) == "range"),
    Question("ports.rtc_tcp", "text", "TCP port for media",
             "Used when UDP is blocked; forwarded by the router to the same port.",
             _default_from("ports.rtc_tcp", lambda ctx: 7881), convert=_port),
    Question("ports.livekit_http", "text", "LiveKit's local HTTP port",
             "The reverse proxy sends the SFU name here; not forwarded by the router.",
             _default_from("ports.livekit_http", lambda ctx: 7880), convert=_port),
    Question("ports.jwt_http", "text", "Auth service's local HTTP port",
             "The reverse proxy sends the auth service name here; not forwarded.",
             _default_from("ports.jwt_http", lambda ctx: 8080), convert=_port),
    Question("turn.enabled", "confirm", "Enable LiveKit's TURN server",
             "Usually not needed: the SFU already relays media. TURN helps only callers on "
             "networks that block UDP, and costs another forwarded port.",
             _default_from("turn.enabled", lambda ctx: False)),
    Question("turn.udp_port", "text", "TURN UDP port",
             "Forwarded by the router to the same port on the NAS.",
             _default_from("turn.udp_port", lambda ctx: 3478),
             when=lambda ctx: bool(ctx.answers.get("turn.enabled")), convert=_port),
    Question(PUBLIC_IP_MODE, "select", "How should LiveKit learn your public IP address",
             "LiveKit tells callers this address; behind a router it cannot see it itself.",
             _public_ip_default, choices=_public_ip_choices),
    Question("network.public_ip", "text", "Public IPv4 address",
             "Your router's WAN address; it must not change.",
             lambda ctx: (ctx.previous.get("network.public_ip")
                          if ctx.previous.get("network.public_ip") not in (None, "stun")
                          else (ctx.public_ip[0] if ctx.public_ip else "")),
             when=lambda ctx: ctx.answers.get(PUBLIC_IP_MODE) == "fixed"),
    Question("network.lan_ip", "text", "The NAS's LAN address",
             "Printed in the router checklist; leave empty to fill it in by hand.",
             lambda ctx: ctx.previous.get("network.lan_ip") or ctx.lan_ip or "",
             optional=True),
)


def applicable(ctx: Context) -> list[Question]:
    return [q for q in QUESTIONS if q.when(ctx)]


def record(ctx: Context, question: Question, value: Any) -> None:
    """Store an answer; the wizard's own choices become answers-file keys."""
    ctx.answers[question.key] = value
    if question.key == UDP_MODE:
        other = "ports.rtc_udp" if value == "range" else "ports.rtc_udp_range"
        ctx.answers[other] = None
        ctx.base.pop(other, None)
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
    trial = Context(dict(ctx.base), ctx.previous, ctx.platform_profile, ctx.platform_text,
                    answers=dict(ctx.answers))
    record(trial, question, value)
    try:
        answers = resolve(trial.raw())
    except InputError as exc:
        mine = [p.message for p in exc.problems if p.key == question.key]
        return mine[0] if mine else None
    problems = [p.message for p in check_answers(answers, load_profile(answers["profile"]))
                if p.key == question.key]
    if problems:
        return problems[0]
    return _busy(ctx, question, answers[question.key])


def _busy(ctx: Context, question: Question, value: Any) -> str | None:
    """A port already held on this host (not by an earlier run of this stack)."""
    if question.key not in PORT_KEYS or ctx.port_check is None or value is None:
        return None
    if ctx.previous.get(question.key) == value:
        return None  # this stack may be running and holding it
    protocol = "tcp" if question.key in ("ports.livekit_http", "ports.rtc_tcp",
                                         "ports.jwt_http") else "udp"
    start, end = value if isinstance(value, tuple) else (value, value)
    for port in range(start, end + 1):
        owner = ctx.port_check(protocol, port)
        if owner:
            return (f"{protocol.upper()} port {port} is already in use on this host"
                    f" ({owner}); pick another")
    return None
