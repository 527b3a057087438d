"""answers (with their profile) + secrets -> one frozen Stack.

Every port, host name and container setting is decided here, once. Templates,
the engine and doctor only read the Stack, so compose.yaml, livekit.yaml, the
proxy table and the checklist cannot disagree. `build_stack` is pure;
`stack_for`/`load_stack` are the one place that assembles a Stack from a folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nasrtc.answers import Answers
from nasrtc.answers.rules import PortRule, port_rules, port_summary
from nasrtc.i18n import N_
from nasrtc.profiles import Profile
from nasrtc.secret_store import Secrets
from nasrtc.services import DATA_FOLDERS, JWT_SERVICE, LIVEKIT_SERVICE, REDIS_SERVICE

__all__ = ["JWT_SERVICE", "LIVEKIT_SERVICE", "REDIS_SERVICE", "PortRule", "Stack",
           "build_stack", "load_stack", "stack_for"]

JWT_CONTAINER_PORT = 8080  # the auth service's default bind (:8080); we never change it
LIVEKIT_CONFIG_PATH = "/etc/livekit.yaml"
SECRETS_MOUNT = "/run/secrets"
TURN_CERT_PATH = "/etc/livekit-turn/cert.pem"
TURN_KEY_PATH = "/etc/livekit-turn/key.pem"
PROXY_TIMEOUT_SECONDS = 3600  # long-lived WebSocket signalling; 60 s cuts idle calls
RESTART_POLICY = "unless-stopped"
REDIS_DATA = "/data"
REDIS_PORT = 6379  # Redis's own default, inside the container
REDIS_URL = f"redis://{REDIS_SERVICE}:{REDIS_PORT}"  # over the project network


@dataclass(frozen=True)
class RouterRule:
    protocol: str
    ports: str
    purpose: str
    existing: bool = False  # usually already there for the homeserver


@dataclass(frozen=True)
class ProxyRoute:
    host: str
    upstream_host: str
    upstream_port: int
    service: str
    websocket: bool
    purpose: str

    @property
    def upstream(self) -> str:
        return f"http://{self.upstream_host}:{self.upstream_port}"


@dataclass(frozen=True)
class Mount:
    source: str  # relative to the stack dir (./...) or an absolute host path
    target: str
    read_only: bool = True
    key: str = ""  # the answer that names the source, where the user chose it
    folder: bool = False  # a data folder the container writes (made by `up`), not a file


@dataclass(frozen=True)
class PublishedPort:
    host_ip: str
    host_port: int
    container_port: int
    protocol: str


@dataclass(frozen=True)
class HealthCheck:
    test: tuple[str, ...]
    interval: str = "10s"  # the first probe runs one interval after start
    timeout: str = "5s"
    retries: int = 3
    start_period: str = "15s"


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    comment: str
    command: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    volumes: tuple[Mount, ...] = ()
    ports: tuple[PublishedPort, ...] = ()
    network_mode: str | None = None  # None: the project's default network
    extra_hosts: tuple[tuple[str, str], ...] = ()
    restart: str = RESTART_POLICY
    healthcheck: HealthCheck | None = None
    health_note: str = ""
    depends_on: tuple[str, ...] = ()  # services that must be healthy before this one starts


@dataclass(frozen=True)
class LiveKitConfig:
    """Values for livekit.yaml; the template only lays them out."""

    port: int
    bind_addresses: tuple[str, ...]  # where the HTTP port listens (host mode); () = everywhere
    rtc_tcp: int
    rtc_udp: int | None
    rtc_udp_range: tuple[int, int] | None
    use_external_ip: bool
    node_ip: str | None
    stun_servers: tuple[str, ...]  # () = LiveKit's defaults
    webhook_url: str
    turn_enabled: bool
    turn_domain: str  # the name in turns:<domain>:443, with its own certificate
    turn_udp_port: int | None
    turn_tls_port: int | None  # local, behind the SNI step on 443
    turn_relay_range: tuple[int, int] | None
    # Which local addresses LiveKit offers callers (rtc.ips): host mode only
    ips_includes: tuple[str, ...] = ()
    ips_excludes: tuple[str, ...] = ()
    ipv6: bool = False  # the NAS's global IPv6 addresses are offered too (network.ipv6)
    turn_cert_file: str = TURN_CERT_PATH  # paths inside the container
    turn_key_file: str = TURN_KEY_PATH
    external_turn: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Stack:
    profile: Profile
    project: str
    domain: str
    homeserver_url: str
    jwt_host: str
    sfu_host: str
    jwt_url: str  # what the homeserver and well-known advertise
    livekit_url: str  # wss:// URL the auth service hands to clients
    full_access_homeservers: tuple[str, ...]
    lan_ip: str | None
    homeserver_here: bool  # behind this host's reverse proxy (network.homeserver_here)
    livekit_mode: str
    ports: tuple[PortRule, ...]
    router_rules: tuple[RouterRule, ...]
    routes: tuple[ProxyRoute, ...]
    services: tuple[Service, ...]
    livekit: LiveKitConfig
    cert_dir: str
    https_backend_port: int
    proxy_timeout: int
    images: dict[str, str]
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    language: str = "en"  # of the pages for people (answers' language); configs stay English

    @property
    def turn_tls(self) -> bool:
        """TURN over TLS is on: an SNI step owns 443 and the HTTPS blocks move behind it."""
        return self.livekit.turn_tls_port is not None

    @property
    def https_listen(self) -> str:
        """Where the generated HTTPS server blocks listen: 443, or behind the SNI step."""
        return f"127.0.0.1:{self.https_backend_port}" if self.turn_tls else "443"

    @property
    def homeserver_host(self) -> str:
        """The name in homeserver_url (a checked https URL, so it has one)."""
        from urllib.parse import urlsplit

        return urlsplit(self.homeserver_url).hostname or self.domain

    @property
    def forwarded_ports(self) -> tuple[PortRule, ...]:
        return tuple(p for p in self.ports if p.forward)

    def forwarded_summary(self, protocol: str | None = None) -> str:
        """'TCP 7881, UDP 7882': what the router forwards, as every text says it."""
        return port_summary(self.ports, protocol)

    def ports_of(self, service: str) -> tuple[PortRule, ...]:
        """The host ports a service holds (host mode: it listens on them itself)."""
        return tuple(rule for rule in self.ports if rule.owner == service)

    @property
    def jwt_route(self) -> ProxyRoute:
        return next(r for r in self.routes if r.host == self.jwt_host)

    @property
    def sfu_route(self) -> ProxyRoute:
        return next(r for r in self.routes if r.host == self.sfu_host)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def runs(self, name: str) -> bool:
        """Whether the stack has this service (Redis is optional)."""
        return any(s.name == name for s in self.services)


# ---------------------------------------------------------------- build


def build_stack(answers: Answers, secrets: Secrets) -> Stack:
    """The Stack for checked answers (resolve() has run every rule). Pure."""
    profile = answers.profile
    mode = answers["network.livekit_mode"]
    bind = answers["network.bind_address"]
    local = "127.0.0.1" if bind in ("127.0.0.1", "0.0.0.0") else bind
    jwt_port = answers["ports.jwt_http"]
    livekit_port = answers["ports.livekit_http"]
    rules = tuple(port_rules(answers.values))
    livekit_url = f"wss://{answers['sfu_host']}"

    livekit = LiveKitConfig(
        port=livekit_port,
        # LiveKit listens on every interface unless told (pkg/service/server.go); the
        # setting covers its HTTP port only. In bridge mode Docker's publishing binds.
        bind_addresses=(bind,) if mode == "host" and bind != "0.0.0.0" else (),
        rtc_tcp=answers["ports.rtc_tcp"],
        rtc_udp=answers["ports.rtc_udp"],
        rtc_udp_range=answers["ports.rtc_udp_range"],
        use_external_ip=answers["network.public_ip"] == "stun",
        node_ip=None if answers["network.public_ip"] == "stun" else answers["network.public_ip"],
        stun_servers=tuple(answers["network.stun_servers"]),
        ips_includes=_offered_addresses(mode, answers["network.lan_ip"],
                                        answers["network.ipv6"])[0],
        ips_excludes=_offered_addresses(mode, answers["network.lan_ip"],
                                        answers["network.ipv6"])[1],
        ipv6=answers["network.ipv6"],
        # LiveKit calls the auth service back when a participant leaves.
        webhook_url=(f"http://{local}:{jwt_port}/sfu_webhook" if mode == "host"
                     else f"http://{JWT_SERVICE}:{JWT_CONTAINER_PORT}/sfu_webhook"),
        turn_enabled=answers["turn.enabled"],
        turn_domain=answers["turn.domain"],
        turn_udp_port=answers["turn.udp_port"] if answers["turn.enabled"] else None,
        turn_tls_port=answers["turn.tls_port"] if answers["turn.enabled"] else None,
        turn_relay_range=answers["turn.relay_range"] if answers["turn.enabled"] else None,
        external_turn=_external_turn(answers, secrets),
    )
    return Stack(
        profile=profile,
        project=answers["project"],
        domain=answers["domain"],
        homeserver_url=answers["homeserver_url"],
        jwt_host=answers["jwt_host"],
        sfu_host=answers["sfu_host"],
        jwt_url=f"https://{answers['jwt_host']}",
        livekit_url=livekit_url,
        full_access_homeservers=tuple(answers["full_access_homeservers"]),
        lan_ip=answers["network.lan_ip"],
        homeserver_here=answers["network.homeserver_here"],
        livekit_mode=mode,
        ports=rules,
        router_rules=_router_rules(rules, livekit.turn_tls_port is not None),
        routes=(
            ProxyRoute(answers["jwt_host"], local, jwt_port, N_("MatrixRTC auth service"), False,
                       N_("Clients exchange their Matrix OpenID token for a LiveKit token")),
            ProxyRoute(answers["sfu_host"], local, livekit_port, N_("LiveKit SFU"), True,
                       N_("Call signalling over WebSocket (wss://)")),
        ),
        services=(_livekit_service(answers, livekit, bind, local),
                  _jwt_service(answers, bind, livekit_url))
        + ((_redis_service(answers),) if answers["redis.enabled"] else ()),
        livekit=livekit,
        cert_dir=answers["proxy.cert_dir"].rstrip("/"),
        https_backend_port=answers["proxy.https_backend_port"],
        proxy_timeout=PROXY_TIMEOUT_SECONDS,
        images={"livekit": answers["images.livekit"], "jwt": answers["images.jwt"],
                "redis": answers["images.redis"]},
        api_key=secrets.api_key,
        api_secret=secrets.api_secret,
        language=answers["language"],
    )


# Docker's default bridge pools (172.17.0.0/16 ... 172.31.0.0/16), also Container Manager's.
DOCKER_BRIDGE_POOL = "172.16.0.0/12"
GLOBAL_IPV6 = "2000::/3"  # global unicast
UNIQUE_LOCAL_IPV6 = "fc00::/7"  # ULAs: Docker's IPv6 networks, LAN-only addresses
LINK_LOCAL_IPV6 = "fe80::/10"
ANY_IPV6 = "::/0"  # network.ipv6 off: no IPv6 address at all (Go's filter skips IPv4 here)


def _offered_addresses(mode: str, lan_ip: str | None, ipv6: bool = False,
                       ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """With host networking LiveKit sees every Docker bridge of the NAS and offers callers
    their addresses; with a fixed public address it even answers from a bridge's socket,
    and UDP fails (seen in the lab: the call fell back to TCP). Offer only the LAN address
    the router forwards to, or, not knowing it, nothing on Docker's pool.
    (rtc.ips includes, excludes)"""
    if mode != "host":
        return (), ()  # in its own container LiveKit sees only that container's address
    # IPv6 needs no NAT: the NAS's own global addresses (2000::/3, whatever prefix the
    # provider hands out today) are what callers reach; never Docker's or a LAN's ULAs.
    if lan_ip:
        return (f"{lan_ip}/32", *((GLOBAL_IPV6,) if ipv6 else ())), ()
    # Link-local IPv6 (every bridge has one) must not back the one UDP mux candidate
    # either: seen in the lab, a fixed public address and other bridges sent media to TCP.
    return (), (DOCKER_BRIDGE_POOL, *((UNIQUE_LOCAL_IPV6, LINK_LOCAL_IPV6) if ipv6
                                      else (ANY_IPV6,)))


def _external_turn(answers: Answers, secrets: Secrets) -> dict[str, Any] | None:
    if not answers["external_turn.host"]:
        return None
    server = {
        "host": answers["external_turn.host"],
        "port": answers["external_turn.port"],
        "protocol": answers["external_turn.protocol"],
    }
    if answers["external_turn.auth"] == "secret":
        # LiveKit makes a short-lived username and password per caller from it (HMAC-SHA1,
        # coturn's use-auth-secret scheme).
        return {**server, "secret": secrets.turn_credential or ""}
    return {**server, "username": answers["external_turn.username"],
            "credential": secrets.turn_credential or ""}


def _router_rules(rules: tuple[PortRule, ...], turn_tls: bool) -> tuple[RouterRule, ...]:
    https = (N_("HTTPS to the reverse proxy: homeserver, jwt, sfu and turn names") if turn_tls
             else N_("HTTPS to the reverse proxy: homeserver, jwt and sfu names"))
    out = [
        RouterRule("tcp", "443", https, existing=True),
        RouterRule("tcp", "80", N_("HTTP for Let's Encrypt certificates"), existing=True),
    ]
    out += [RouterRule(r.protocol, r.label, r.purpose) for r in rules if r.forward]
    return tuple(out)


def _livekit_service(answers: Answers, livekit: LiveKitConfig, bind: str,
                     local: str) -> Service:
    volumes = [Mount("./livekit/livekit.yaml", LIVEKIT_CONFIG_PATH)]
    if livekit.turn_tls_port is not None:
        volumes += [Mount(answers["turn.cert_file"], TURN_CERT_PATH, key="turn.cert_file"),
                    Mount(answers["turn.key_file"], TURN_KEY_PATH, key="turn.key_file")]
    ports: list[PublishedPort] = []
    if answers["network.livekit_mode"] == "bridge":
        ports.append(PublishedPort(bind, livekit.port, livekit.port, "tcp"))
        ports.append(PublishedPort("", livekit.rtc_tcp, livekit.rtc_tcp, "tcp"))
        if livekit.rtc_udp is not None:
            ports.append(PublishedPort("", livekit.rtc_udp, livekit.rtc_udp, "udp"))
        if livekit.turn_udp_port is not None:
            ports.append(PublishedPort("", livekit.turn_udp_port, livekit.turn_udp_port, "udp"))
        if livekit.turn_relay_range is not None:
            start, end = livekit.turn_relay_range
            ports += [PublishedPort("", n, n, "udp") for n in range(start, end + 1)]
        if livekit.turn_tls_port is not None:  # for the SNI step on this host only
            ports.append(PublishedPort(bind, livekit.turn_tls_port, livekit.turn_tls_port,
                                       "tcp"))
    return Service(
        name=LIVEKIT_SERVICE,
        image=answers["images.livekit"],
        comment=("LiveKit SFU: relays the call's audio and video. "
                 + ("Host networking: no docker-proxy per media port, and the advertised "
                    "ports are the NAS's own." if answers["network.livekit_mode"] == "host"
                    else "Bridge networking: each port below is published by Docker.")),
        command=("--config", LIVEKIT_CONFIG_PATH),
        volumes=tuple(volumes),
        ports=tuple(ports),
        network_mode="host" if answers["network.livekit_mode"] == "host" else None,
        # In host mode LiveKit answers where bind_addresses says; in a container, everywhere.
        healthcheck=HealthCheck(
            ("CMD", "wget", "-q", "-O", "/dev/null",
             f"http://{local if livekit.bind_addresses else '127.0.0.1'}:{livekit.port}/")),
        health_note="LiveKit answers 'OK' on its HTTP port once it has started.",
    )


def auth_service_hosts(answers: Answers) -> list[str]:
    """Names the auth service reaches through this host, not through the router: the SFU
    (LIVEKIT_URL), and, where they run here, the domain (it reads
    https://<domain>/.well-known/matrix/client to find the homeserver, and the
    federation discovery of the OpenID check starts there) and the homeserver."""
    from urllib.parse import urlsplit

    names = [answers["sfu_host"]]
    if answers["network.domain_here"]:
        names.append(answers["domain"])
    if answers["network.homeserver_here"]:
        names.append(urlsplit(answers["homeserver_url"]).hostname or answers["domain"])
    return list(dict.fromkeys(names + list(answers["network.local_hosts"])))


def _jwt_service(answers: Answers, bind: str, livekit_url: str) -> Service:
    mount = SECRETS_MOUNT
    hosts = auth_service_hosts(answers)
    return Service(
        name=JWT_SERVICE,
        image=answers["images.jwt"],
        comment=("MatrixRTC auth service (lk-jwt-service): checks the caller's Matrix "
                 "identity and hands out LiveKit tokens."),
        environment=(
            # Public URL: returned to clients and used by the service itself.
            ("LIVEKIT_URL", livekit_url),
            ("LIVEKIT_KEY_FROM_FILE", f"{mount}/livekit_api_key"),
            ("LIVEKIT_SECRET_FROM_FILE", f"{mount}/livekit_api_secret"),
            ("LIVEKIT_FULL_ACCESS_HOMESERVERS", ",".join(answers["full_access_homeservers"])),
        ) + ((("LIVEKIT_REDIS_URL", REDIS_URL),) if answers["redis.enabled"] else ()),
        volumes=(
            Mount("./secrets/livekit_api_key", f"{mount}/livekit_api_key"),
            Mount("./secrets/livekit_api_secret", f"{mount}/livekit_api_secret"),
        ),
        ports=(PublishedPort(bind, answers["ports.jwt_http"], JWT_CONTAINER_PORT, "tcp"),),
        # Reach wss://<sfu_host> through this host even without NAT loopback.
        extra_hosts=tuple((host, "host-gateway") for host in hosts),
        health_note=("No healthcheck here: the image (FROM scratch) brings its own; "
                     "LIVEKIT_JWT_BIND stays unset so that check works."),
        # It pings Redis at start and exits when Redis does not answer yet.
        depends_on=(REDIS_SERVICE,) if answers["redis.enabled"] else (),
    )


def _redis_service(answers: Answers) -> Service:
    return Service(
        name=REDIS_SERVICE,
        image=answers["images.redis"],
        comment=("Redis: the auth service keeps its state here (which participants to take "
                 "out of which call), so its restart leaves no call stuck. Only this "
                 "stack's network reaches it: no published port, no password needed."),
        # The data folder is /data in the official image; snapshots every minute there is
        # a change. Protected mode (for Redis reachable from anywhere) is off: only the
        # project network reaches it. The official image builds it off too.
        command=("redis-server", "--dir", REDIS_DATA, "--save", "60", "1",
                 "--appendonly", "no", "--protected-mode", "no"),
        volumes=(Mount(f"./{DATA_FOLDERS[REDIS_SERVICE]}", REDIS_DATA, read_only=False,
                       folder=True),),
        healthcheck=HealthCheck(("CMD", "redis-cli", "ping"), interval="2s", timeout="2s",
                                retries=10, start_period="10s"),
        health_note="Redis answers PONG to redis-cli once it has loaded its data.",
    )


# ---------------------------------------------------------------- from a folder

SecretsFrom = Literal["stored", "new", "none"]


def stack_for(stack_dir: Path, answers: Answers, secrets: SecretsFrom = "stored",
              rotate: bool = False) -> tuple[Stack, dict[str, str]]:
    """The one assembler: answers + the folder's secrets -> (Stack, secrets to store).

    secrets: "stored" needs them in secrets/ already (render, up, doctor, token);
    "new" creates what is missing (init); "none" uses placeholders, for texts that
    never show a secret (the checklist)."""
    from nasrtc.secret_store import plan_secrets, require_secrets

    if secrets == "none":
        return build_stack(answers, Secrets("unused", "unused", "unused")), {}
    if secrets == "stored":
        require_secrets(stack_dir)
    turn_auth = answers["external_turn.auth"] if answers["external_turn.host"] else None
    values, pending = plan_secrets(stack_dir, rotate=rotate, turn_auth=turn_auth)
    return build_stack(answers, values), pending


def load_stack(stack_dir: Path, secrets: SecretsFrom = "stored") -> tuple[Answers, Stack]:
    """DIR/nasrtc.yaml and DIR/secrets -> (answers, Stack)."""
    from nasrtc.answers import load_stack_answers

    answers = load_stack_answers(stack_dir)
    return answers, stack_for(stack_dir, answers, secrets)[0]
