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


DASHES = {"7 4": "UDP", "2 3": "TCP"}  # the media arrows' patterns (diagram.STYLES)


def text_rows(svg: str) -> list[tuple[float, float, str]]:
    """(x, y of the line's middle, words) of every text: y is the baseline less 4 px."""
    return [(float(t.get("x", 0)), float(t.get("y", 0)) - 4, t.text or "")
            for t in ET.fromstring(svg).iter(f"{SVG}text")]


def nearest(rows: list[tuple[float, float, str]], x: float, y: float,
            side: str) -> str:
    """The text row an arrow end touches: on that side of x, the closest in height."""
    candidates = [(abs(ty - y), words) for tx, ty, words in rows
                  if (tx > x if side == "right" else tx < x) and abs(tx - x) < 260]
    return min(candidates)[1] if candidates else ""


@pytest.mark.parametrize("case", [*sorted(CASES), "defaults"])
def test_each_media_arrow_runs_from_its_port_at_the_router_to_the_same_at_livekit(
        case: str) -> None:
    svg = setup_svg(stack(CASES.get(case, {})))
    rows = text_rows(svg)
    drawn = 0
    for line in ET.fromstring(svg).iter(f"{SVG}line"):
        kind = DASHES.get(line.get("stroke-dasharray", ""))
        x1, y1, x2, y2 = (float(line.get(k, 0)) for k in ("x1", "y1", "x2", "y2"))
        if kind is None or not line.get("marker-end") or x2 - x1 < 40 or x1 < 300:
            continue  # the caller's short arrows and the legend
        start, end = nearest(rows, x1, y1, "left"), nearest(rows, x2, y2, "right")
        assert start.startswith(kind) and end.startswith(kind), (kind, start, end)
        assert start.split("(")[0].strip() == end.strip(), (start, end)
        drawn += 1
    assert drawn >= 2, "a UDP and a TCP arrow from the router to LiveKit"


def test_a_slanted_arrows_label_stays_by_its_line() -> None:
    svg = setup_svg(stack({}))
    root = ET.fromstring(svg)
    label = next(t for t in root.iter(f"{SVG}text") if t.text == "looks up")
    lx, ly = float(label.get("x", 0)), float(label.get("y", 0))
    distances = []
    for line in root.iter(f"{SVG}line"):
        x1, y1, x2, y2 = (float(line.get(k, 0)) for k in ("x1", "y1", "x2", "y2"))
        if y1 == y2 or x1 == x2:
            continue
        t = max(0.0, min(1.0, ((lx - x1) * (x2 - x1) + (ly - y1) * (y2 - y1))
                         / ((x2 - x1) ** 2 + (y2 - y1) ** 2)))
        distances.append(((lx - x1 - t * (x2 - x1)) ** 2 + (ly - y1 - t * (y2 - y1)) ** 2)
                         ** 0.5)
    assert min(distances) < 16, f"'looks up' is {min(distances):.0f} px from its line"
