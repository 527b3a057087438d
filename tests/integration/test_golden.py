"""Rendered files compared byte for byte with reviewed reference copies.

To change a reference on purpose: NASRTC_UPDATE_GOLDEN=1 pytest tests/integration/test_golden.py,
then read the diff (`git diff tests/integration/golden`) before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import seed_secrets, snapshot, write_answers

GOLDEN = Path(__file__).parent / "golden"

CASES: dict[str, dict[str, Any]] = {
    # The DSM default: host networking, one UDP mux port, no TURN.
    "synology-mux": {"profile": "synology", "domain": "example.org",
                     "network": {"lan_ip": "192.168.1.10"}},
    # Generic Linux default, with nginx/Caddy files.
    "generic-mux": {"profile": "generic", "domain": "example.org"},
    # A UDP range (host networking) and a fixed public address instead of STUN.
    "generic-range": {"profile": "generic", "domain": "example.net",
                      "homeserver_url": "https://example.net:8448",
                      "ports": {"rtc_udp_range": "50000-50200"},
                      "network": {"public_ip": "93.184.216.34"}},
    # Embedded TURN over UDP and an existing coturn with TLS (shared secret), on DSM,
    # where TURN over TLS of its own cannot be reached (DSM owns 443).
    "synology-turn": {"profile": "synology", "domain": "example.org",
                      "turn": {"enabled": True},
                      "external_turn": {"host": "turn.example.net", "port": 5349,
                                        "protocol": "tls"}},
    # TURN over TLS on its own name behind an nginx SNI step on 443, and a coturn with a
    # fixed login.
    "generic-turn-tls": {"profile": "generic", "domain": "example.org",
                         "turn": {"enabled": True, "tls_port": 5349,
                                  "cert_file": "/etc/letsencrypt/live/turn.example.org/fullchain.pem",
                                  "key_file": "/etc/letsencrypt/live/turn.example.org/privkey.pem"},
                         "external_turn": {"host": "turn.example.net", "username": "calls"}},
    # Bridge networking: ports published by Docker, webhook over the compose network.
    "generic-bridge": {"profile": "generic", "domain": "example.com",
                       "jwt_host": "rtc-auth.example.com", "sfu_host": "rtc.example.com",
                       "network": {"livekit_mode": "bridge", "local_hosts": ["matrix.example.com"]},
                       "full_access_homeservers": ["example.com", "friends.example"]},
    # Redis as a third container: the auth service keeps its state there and waits for it.
    "generic-redis": {"profile": "generic", "domain": "example.org", "redis": {"enabled": True}},
}

IGNORED = {".nasrtc-manifest.json"}


def render_case(cli: Any, tmp_path: Path, name: str) -> dict[str, bytes]:
    stack = tmp_path / name
    seed_secrets(stack, turn_credential="coturnCredential42", turn_secret="coturnSharedSecret7")
    source = write_answers(tmp_path, CASES[name], f"{name}.yaml")
    result = cli("init", "--dir", str(stack), "--answers", str(source))
    assert result.code == 0, result.err
    return {rel: data for rel, data in snapshot(stack).items()
            if rel not in IGNORED and not rel.startswith("secrets/")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reviewed_reference(cli: Any, tmp_path: Path, name: str) -> None:
    produced = render_case(cli, tmp_path, name)
    reference_dir = GOLDEN / name
    if os.environ.get("NASRTC_UPDATE_GOLDEN"):
        for rel, data in produced.items():
            target = reference_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for stale in set(snapshot(reference_dir)) - set(produced):
            (reference_dir / stale).unlink()
    reference = snapshot(reference_dir)
    assert sorted(produced) == sorted(reference), "a different set of files was generated"
    for rel in reference:
        assert produced[rel].decode() == reference[rel].decode(), f"{name}/{rel} differs"
