"""The drawing of the user's setup: their own values, as text (selectable, searchable),
every forwarded port and every name, for each layout the answers allow."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from nasrtc.answers import resolve
from nasrtc.output.checklist import public_names
from nasrtc.output.diagram import WIDTH, setup_svg
from nasrtc.secret_store import Secrets
from nasrtc.stack import Stack, build_stack
from tests.helpers import FIXED_KEY, FIXED_SECRET

SVG = "{http://www.w3.org/2000/svg}"
CASES: dict[str, dict[str, Any]] = {
    "synology-mux": {"profile": "synology"},
    "generic-range": {"ports": {"rtc_udp_range": "50000-50200"}},
    "bridge-turn": {"network": {"livekit_mode": "bridge"}, "turn": {"enabled": True}},
    "turn-tls": {"turn": {"enabled": True, "tls_port": 5349, "cert_file": "/c",
                          "key_file": "/k"}},
    "homeserver-elsewhere": {"network": {"homeserver_here": False, "lan_ip": "10.0.0.5"}},
}


def stack(answers: dict[str, Any]) -> Stack:
    return build_stack(resolve({"domain": "example.org", **answers}),
                       Secrets(FIXED_KEY, FIXED_SECRET))


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_name_and_forwarded_port_is_drawn_as_text(case: str) -> None:
    built = stack(CASES[case])
    svg = setup_svg(built)
    words = "\n".join(texts(svg))
    for host in (built.domain, built.homeserver_host, *public_names(built)):
        assert host in words, host
    for rule in built.router_rules:
        assert re.search(rf"\b{rule.protocol.upper()} {re.escape(rule.ports)}\b", words), rule
    for route in built.routes:
        assert f"{route.upstream_host}:{route.upstream_port}" in words


def test_what_the_answers_say_shows() -> None:
    mux = "\n".join(texts(setup_svg(stack(CASES["synology-mux"]))))
    assert "DSM reverse proxy" in mux and "host network: listens itself" in mux
    bridge = "\n".join(texts(setup_svg(stack(CASES["bridge-turn"]))))
    assert "bridge: Docker publishes" in bridge and "Reverse proxy (nginx / Caddy)" in bridge
    tls = "\n".join(texts(setup_svg(stack(CASES["turn-tls"]))))
    assert "443 → turn.example.org (SNI step)" in tls and "127.0.0.1:8443" in tls
    elsewhere = setup_svg(stack(CASES["homeserver-elsewhere"]))
    assert "(elsewhere)" in "\n".join(texts(elsewhere)) and "LAN 10.0.0.5" in elsewhere
    assert 'stroke-dasharray="5 3"' in elsewhere  # drawn dashed: not on this NAS


def test_the_drawing_stays_inside_its_width_and_has_a_legend() -> None:
    root = ET.fromstring(setup_svg(stack(CASES["turn-tls"])))
    assert root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    for element in root.iter(f"{SVG}rect"):
        assert int(element.get("x", 0)) + int(element.get("width", 0)) <= WIDTH
    words = "\n".join(texts(ET.tostring(root, encoding="unicode")))
    for kind in ("HTTPS / WebSocket", "UDP: call media", "TCP: media fallback"):
        assert kind in words
    dashes = {line.get("stroke-dasharray") for line in root.iter(f"{SVG}line")}
    assert {None, "7 4", "2 3"} <= dashes, "three kinds of line, told apart without colour"
