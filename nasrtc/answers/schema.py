"""Every answer key: its check, its default and one line of documentation.

This is the only list of keys. The answers file loader, the written
nasrtc.yaml, the README table test and the wizard all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict

import nasrtc.answers.validators as v
from nasrtc.i18n import N_
from nasrtc.versions import JWT_IMAGE, LIVEKIT_IMAGE, REDIS_IMAGE

ANSWERS_VERSION = 1


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

# A default may be computed from answers already resolved (e.g. jwt.<domain>).
Default = Any
Resolved = Dict[str, Any]


@dataclass(frozen=True)
class Field:
    key: str  # dotted path in the YAML file
    check: Callable[[Any], Any]
    default: Default
    doc: str
    example: str = ""  # shown in docs when the default is computed or empty

    def default_for(self, resolved: Resolved) -> Any:
        if callable(self.default):
            return self.default(resolved)
        return self.default


def _from_domain(prefix: str) -> Callable[[Resolved], Any]:
    def compute(resolved: Resolved) -> Any:
        domain = resolved.get("domain")
        return f"{prefix}.{domain}" if domain else None

    return compute


def _homeserver_url(resolved: Resolved) -> Any:
    domain = resolved.get("domain")
    return f"https://matrix.{domain}" if domain else None


def _full_access(resolved: Resolved) -> Any:
    domain = resolved.get("domain")
    return [domain] if domain else None


def _turn_auth(resolved: Resolved) -> Any:
    # A username means a fixed password (as before this key existed); else coturn's
    # shared secret, which is how the guides set coturn up.
    return "password" if resolved.get("external_turn.username") else "secret"


FIELDS: tuple[Field, ...] = (
    Field("version", v.answers_version, ANSWERS_VERSION,
          "format of this file; nasrtc refuses a version it does not know"),
    Field("profile", v.profile_name, "generic",
          "platform profile: synology (DSM 7, Container Manager) or generic (Linux + Docker)"),
    Field("language", v.language, "en",
          "the language of the pages nasrtc writes for people (checklist.md, "
          "reverse-proxy.md, setup.svg): en, de, ru or zh_CN; init sets the one it runs in, "
          "the terminal follows --lang and the locale"),
    Field("domain", v.hostname, REQUIRED,  # the one without a default: its doc is in messages
          N_("Matrix server name: the part after ':' in user IDs"), "example.org"),
    Field("homeserver_url", v.https_url, _homeserver_url,
          "where clients reach the homeserver (m.homeserver base_url)",
          "https://matrix.<domain>"),
    Field("jwt_host", v.hostname, _from_domain("jwt"),
          "public name of the MatrixRTC auth service (lk-jwt-service)", "jwt.<domain>"),
    Field("sfu_host", v.hostname, _from_domain("sfu"),
          "public name of the LiveKit SFU (WebSocket signalling)", "sfu.<domain>"),
    Field("project", v.project_name, "matrixrtc",
          "Compose project name: containers are <project>-livekit-1 and <project>-jwt-1"),
    Field("ports.livekit_http", v.port, 7880,
          "LiveKit HTTP/WebSocket, reached through the reverse proxy (not forwarded)"),
    Field("ports.rtc_tcp", v.port, 7881,
          "LiveKit media over TCP (fallback), forwarded by the router"),
    Field("ports.rtc_udp", v.optional(v.port), 7882,
          "LiveKit media over one UDP port (mux), forwarded by the router"),
    Field("ports.rtc_udp_range", v.optional(v.port_range), None,
          "instead of rtc_udp: a UDP range START-END, one port per media stream "
          "(needs network.livekit_mode: host)", "50000-50200"),
    Field("ports.jwt_http", v.port, 8080,
          "auth service HTTP, reached through the reverse proxy (not forwarded)"),
    Field("turn.enabled", v.boolean, False,
          "LiveKit's embedded TURN server; off: the SFU already relays media, most homes "
          "need no TURN"),
    Field("turn.udp_port", v.port, 3478,
          "TURN/UDP port when turn.enabled, forwarded by the router"),
    Field("turn.tls_port", v.optional(v.port), None,
          "TURN over TLS, for callers whose network allows only HTTPS: the local port LiveKit "
          "listens on behind the reverse proxy's SNI step (clients always use "
          "<turn.domain>:443, as LiveKit tells them); needs cert_file and key_file; not on "
          "Synology (DSM owns 443)", "5349"),
    Field("turn.domain", v.hostname, _from_domain("turn"),
          "public name for TURN over TLS, with its own certificate", "turn.<domain>"),
    Field("turn.cert_file", v.optional(v.host_path), None,
          "host path of the certificate (PEM, full chain) for turn.domain", ""),
    Field("turn.key_file", v.optional(v.host_path), None,
          "host path of the private key (PEM) for turn.domain", ""),
    Field("turn.relay_range", v.port_range, "30000-30009",
          "UDP ports TURN relays media through, one per relayed caller: forwarded by the "
          "router, and the router needs NAT loopback (the relay talks to the SFU through "
          "your public address)"),
    Field("external_turn.host", v.optional(v.hostname), None,
          "an existing TURN server (e.g. coturn) to offer to clients; null for none",
          "turn.example.org"),
    Field("external_turn.port", v.port, 3478, "port of the existing TURN server"),
    Field("external_turn.protocol", v.choice("udp", "tcp", "tls"), "udp",
          "protocol of the existing TURN server: udp, tcp or tls"),
    Field("external_turn.username", v.optional(v.text), None,
          "username for the existing TURN server (auth: password); its credential goes in "
          "secrets/external_turn_credential, never here", ""),
    Field("external_turn.auth", v.choice("secret", "password"), _turn_auth,
          "how the existing TURN server checks callers: secret (coturn's use-auth-secret; "
          "the shared secret goes in secrets/external_turn_secret) or password "
          "(a fixed username and credential)", "secret, or password with a username"),
    Field("images.livekit", v.image, LIVEKIT_IMAGE,
          "LiveKit SFU image (pinned; override for a mirror or a `docker load`ed copy)"),
    Field("images.jwt", v.image, JWT_IMAGE,
          "MatrixRTC auth service image (pinned; override for a mirror)"),
    Field("images.redis", v.image, REDIS_IMAGE,
          "Redis image, used when redis.enabled (pinned; override for a mirror)"),
    Field("redis.enabled", v.boolean, False,
          "a third container, Redis, keeps the auth service's state across its restarts "
          "(no stuck calls after an update or a NAS reboot); no published port, data in "
          "redis/ in the stack folder"),
    Field("network.livekit_mode", v.choice("host", "bridge"), "host",
          "host: LiveKit uses the NAS's network directly (no docker-proxy per port, "
          "recommended); bridge: publish its ports through Docker"),
    Field("network.public_ip", v.public_ip, "stun",
          "how LiveKit learns the public address it advertises: 'stun' (discover it) or a "
          "fixed public IPv4 address"),
    Field("network.ipv6", v.boolean, False,
          "also offer callers the NAS's global IPv6 addresses (host mode): the way in where "
          "IPv4 cannot be reached (DS-Lite, carrier-grade NAT); needs AAAA records and the "
          "router's IPv6 firewall opened for the same ports (checklist)"),
    Field("network.stun_servers", v.stun_servers, [],
          "STUN servers LiveKit asks for the public address (network.public_ip: stun), as "
          "host:port; [] uses LiveKit's own (Twilio's and Google's)",
          "['stun.example.org:3478']"),
    Field("network.lan_ip", v.optional(v.lan_ip), None,
          "the NAS's LAN address, printed in the router checklist; null leaves a blank to fill in",
          "192.168.1.10"),
    Field("network.bind_address", v.ipv4, "127.0.0.1",
          "address the published HTTP ports listen on: 127.0.0.1 when the reverse proxy runs "
          "on this host, else the LAN address"),
    Field("network.domain_here", v.boolean, True,
          "https://<domain> (its .well-known files) is served through this host's reverse "
          "proxy: the auth service then reaches it through this host, with or without NAT "
          "loopback on the router"),
    Field("network.homeserver_here", v.boolean, True,
          "the homeserver (homeserver_url's name) runs behind this host's reverse proxy: the "
          "auth service then reaches it through this host"),
    Field("network.local_hosts", v.host_list, [],
          "more names the auth service must reach through this host (sfu_host always is, and "
          "the domain and homeserver when domain_here and homeserver_here say so)"),
    Field("full_access_homeservers", v.server_names, _full_access,
          "homeservers whose users may start calls on this SFU (LIVEKIT_FULL_ACCESS_HOMESERVERS); "
          "['*'] for any", "[<domain>]"),
    Field("proxy.https_backend_port", v.port, 8443,
          "generic profile with turn.tls_port: the local port your HTTPS server blocks move to, "
          "behind the SNI step that owns 443"),
    Field("proxy.cert_dir", v.host_path, "/etc/letsencrypt/live",
          "generic profile: folder holding <host>/fullchain.pem and <host>/privkey.pem for the "
          "nginx config"),
)

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
GROUPS: frozenset[str] = frozenset(f.key.split(".")[0] for f in FIELDS if "." in f.key)


def describe_default(field: Field) -> str:
    """The default as a person reads it (for docs and the written file)."""
    if field.default is REQUIRED:
        return "required"
    if callable(field.default):
        return field.example
    if field.default is None:
        return "null"
    if isinstance(field.default, bool):
        return "true" if field.default else "false"
    if isinstance(field.default, list):
        return "[]" if not field.default else str(field.default)
    return str(field.default)
