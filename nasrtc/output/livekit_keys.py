"""The livekit.yaml keys LiveKit's strict parser accepts (v1.13.x).

LiveKit stops at start on an unknown key, so nasrtc checks its own output (in
the tests) and a hand-edited file (in `doctor`) against this tree. A value of
ANY means free-form below that point (maps of names, or sections nasrtc does
not write and therefore does not itemise).
"""

from __future__ import annotations

from typing import Any

ANY: Any = None

# Top-level keys: pkg/config/config.go (KnownFields).
KNOWN: dict[str, Any] = {
    "port": ANY,
    "bind_addresses": ANY,
    "prometheus": ANY,
    "rtc": {
        # mediatransportutil pkg/rtcconfig
        "tcp_port": ANY,
        "udp_port": ANY,
        "port_range_start": ANY,
        "port_range_end": ANY,
        "use_external_ip": ANY,
        "node_ip": ANY,
        "enable_loopback_candidate": ANY,
        "stun_servers": ANY,
        "use_ice_lite": ANY,
        "use_mdns": ANY,
        "interfaces": ANY,
        "ips": ANY,
        "batch_io": ANY,
        # livekit pkg/config RTCConfig
        "turn_servers": [{"host": ANY, "port": ANY, "protocol": ANY, "username": ANY,
                          "credential": ANY, "secret": ANY, "secret_file": ANY, "ttl": ANY}],
        "strict_acks": ANY,
        "packet_buffer_size": ANY,
        "pli_throttle": ANY,
        "congestion_control": ANY,
        "allow_tcp_fallback": ANY,
        "reconnect_on_publication_error": ANY,
        "reconnect_on_subscription_error": ANY,
        "reconnect_on_data_channel_error": ANY,
    },
    "redis": ANY,
    "audio": ANY,
    "video": ANY,
    "room": {
        "auto_create": ANY,
        "enabled_codecs": ANY,
        "max_participants": ANY,
        "empty_timeout": ANY,
        "departure_timeout": ANY,
        "enable_remote_unmute": ANY,
        "max_metadata_size": ANY,
        "playout_delay": ANY,
        "sync_streams": ANY,
        "participant_disconnect_timeout": ANY,
    },
    "turn": {
        "enabled": ANY,
        "domain": ANY,
        "cert_file": ANY,
        "key_file": ANY,
        "tls_port": ANY,
        "udp_port": ANY,
        "relay_range_start": ANY,
        "relay_range_end": ANY,
        "external_tls": ANY,
    },
    "ingress": ANY,
    "webhook": {"urls": ANY, "api_key": ANY},
    "node_selector": ANY,
    "key_file": ANY,
    "keys": ANY,
    "region": ANY,
    "signal_relay": ANY,
    "psrpc": ANY,
    "logging": {"level": ANY, "json": ANY, "sample": ANY, "pion_level": ANY,
                "component_levels": ANY},
    "limit": ANY,
    "agents": ANY,
    "development": ANY,
    "metric": ANY,
    "trace": ANY,
    "node_stats": ANY,
    "api": ANY,
}


def unknown_keys(config: Any, known: Any = KNOWN, path: str = "") -> list[str]:
    """Dotted paths in `config` that LiveKit would reject."""
    if known is ANY:
        return []
    if isinstance(known, list):
        if not isinstance(config, list):
            return []
        found: list[str] = []
        for index, item in enumerate(config):
            found += unknown_keys(item, known[0], f"{path}[{index}]")
        return found
    if not isinstance(config, dict):
        return []
    found = []
    for key, value in config.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in known:
            found.append(where)
        else:
            found += unknown_keys(value, known[key], where)
    return found
