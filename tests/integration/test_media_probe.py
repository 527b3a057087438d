"""`nasrtc doctor --public --media` from outside the home: a real test call through the
stack nasrtc made (the real LiveKit, the auth service's stand-in, Synapse and nginx in
the home-network lab), run as a user runs it on a laptop on mobile data (the callers'
namespace, the LiveKit Python SDK of nasrtc[media]).

Each test breaks one thing a user gets wrong and asserts the row a user reads: its
status, that it names the cause, and that the fix names what to change."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_real_call import LAB_TOOLS, MISSING, WAN, pytestmark  # noqa: F401
from tests.lab import router
from tests.lab.home import Home, running_home

HOSTILE_SFU = Path(__file__).parents[1] / "lab" / "hostile_sfu.py"
HOSTILE_PORT = 7990


@pytest.fixture(scope="module")
def home(client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with running_home(tmp_path_factory.mktemp("home"), client) as made:
        yield made


@pytest.fixture(scope="module")
def token(home: Home) -> str:
    home.stack(start=False)  # Synapse answers once nginx serves the homeserver's name
    return home.access_token()


def rows_of(home: Home, token: str = "", *args: str) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    status, rows, stderr = home.doctor_media(*args, access_token=token)
    assert "Traceback" not in stderr, stderr
    return status, rows, time.monotonic() - started


def show(rows: dict[str, Any]) -> str:
    return "\n".join(f"{r['status']:7} {name}: {r['detail']} | fix: {r['fix']}"
                     for name, r in rows.items() if name.startswith("test call"))


def test_a_good_stack_passes_with_a_real_call(home: Home, token: str) -> None:
    home.stack()
    status, rows, _took = rows_of(home, token)
    assert status == 0, show(rows)
    for name in ("test call: tokens", "test call: SFU addresses", "test call: UDP",
                 "test call: TCP fallback", "test call: audio"):
        assert rows[name]["status"] == "pass", show(rows)
    assert "/get_token for @alice:example.org" in rows["test call: tokens"]["detail"]
    assert f"UDP {WAN}:7882" in rows["test call: SFU addresses"]["detail"], show(rows)
    assert f"UDP {WAN}:7882" in rows["test call: UDP"]["detail"], show(rows)
    assert "frames of the tone" in rows["test call: audio"]["detail"]
    assert "round trip" in rows["test call: audio"]["detail"]
    assert rows["test call: TURN"]["status"] == "skipped"
    # without an access token: the stack's key, and the row says what was left out
    status, rows, _took = rows_of(home)
    assert status == 0, show(rows)
    assert "stack's key" in rows["test call: tokens"]["detail"], show(rows)
    assert rows["test call: audio"]["status"] == "pass", show(rows)


def test_a_missing_udp_forward_is_a_warning_that_names_it(home: Home, token: str) -> None:
    """(a) The router lacks the UDP mux port: the call limps over TCP."""
    stack = home.stack(start=False)
    home.route([f for f in stack.forwards if f.protocol != "udp"])
    home.nasrtc("up", "--dir", str(stack.folder))
    status, rows, _took = rows_of(home, token)
    udp = rows["test call: UDP"]
    assert udp["status"] == "warn", show(rows)
    assert "fell back to TCP" in udp["detail"] and "forward UDP 7882" in udp["fix"], show(rows)
    assert rows["test call: TCP fallback"]["status"] == "pass", show(rows)
    assert rows["test call: audio"]["status"] == "pass", show(rows)
    assert status == 0, show(rows)


def test_no_media_port_forwarded_fails_and_names_the_router(home: Home, token: str) -> None:
    stack = home.stack(start=False)
    home.route([f for f in stack.forwards if f.start in (80, 443)])
    home.nasrtc("up", "--dir", str(stack.folder))
    status, rows, took = rows_of(home, token)
    assert status == 1, show(rows)
    audio = rows["test call: audio"]
    assert audio["status"] == "fail" and "Waiting for media" in audio["detail"], show(rows)
    assert "does not forward" in audio["detail"], show(rows)
    assert "forward UDP 7882, TCP 7881" in audio["fix"] or \
        "forward TCP 7881, UDP 7882" in audio["fix"], show(rows)
    assert rows["test call: SFU addresses"]["status"] == "pass", show(rows)
    assert took < 150, f"doctor took {took:.0f} s"


def test_a_wrong_public_ip_is_named_with_the_right_one(home: Home, token: str) -> None:
    """(b) network.public_ip is an address that is not the home's."""
    home.stack({"network": {"public_ip": "11.0.0.99"}})
    status, rows, _took = rows_of(home, token)
    assert status == 1, show(rows)
    offer = rows["test call: SFU addresses"]
    assert offer["status"] == "fail", show(rows)
    assert "11.0.0.99" in offer["detail"] and "network.public_ip" in offer["detail"]
    assert f"set network.public_ip to {WAN}" in offer["fix"], show(rows)
    assert rows["test call: audio"]["status"] == "fail", show(rows)
    assert "SFU addresses" in rows["test call: audio"]["detail"], show(rows)


def test_a_network_without_udp_is_a_warning_not_a_failure(home: Home, token: str) -> None:
    """(c) UDP blocked on the way (the callers' network lets no UDP out but DNS), TCP
    works: the call falls back, doctor warns and still exits 0."""
    home.stack(callers_no_udp=True)
    try:
        status, rows, _took = rows_of(home, token)
    finally:
        router.restrict_callers(home.lab.spaces["carrier"], False)
    assert rows["test call: UDP"]["status"] == "warn", show(rows)
    assert "network you test from" in rows["test call: UDP"]["fix"], show(rows)
    assert rows["test call: TCP fallback"]["status"] == "pass", show(rows)
    assert rows["test call: audio"]["status"] == "pass", show(rows)
    assert status == 0, show(rows)


def test_a_lossy_line_is_named_with_the_loss(home: Home, token: str) -> None:
    """A tenth of the UDP packets lost on the way, each way: the audio row says how much
    was lost and that calls will stutter (a warning when the tone still came through, a
    failure when it came in pieces), not a firewall or DTLS problem."""
    home.stack(switches=router.Switches(udp_loss=10))
    status, rows, _took = rows_of(home, token)
    audio = rows["test call: audio"]
    assert audio["status"] in ("warn", "fail"), show(rows)
    loss = float(re.findall(r"(\d+(?:\.\d+)?)%", audio["detail"])[-1])
    assert 5 <= loss <= 40, show(rows)
    assert "stutter" in audio["fix"] and "DTLS" not in audio["fix"], show(rows)
    assert status == (0 if audio["status"] == "warn" else 1), show(rows)


TURN = {"turn": {"enabled": True, "udp_port": 3478, "relay_range": "30000-30009"}}


def test_turn_without_its_forward_fails_the_turn_row_only(home: Home, token: str) -> None:
    """(d) TURN on, its UDP port not forwarded: the relay-only call fails, the rest works."""
    stack = home.stack(TURN, start=False)
    home.route([f for f in stack.forwards if f.start != 3478])
    home.nasrtc("up", "--dir", str(stack.folder))
    status, rows, _took = rows_of(home, token)
    turn = rows["test call: TURN"]
    assert turn["status"] == "fail", show(rows)
    assert "UDP 3478" in turn["fix"], show(rows)
    assert rows["test call: audio"]["status"] == "pass", show(rows)
    assert status == 1
    # and with the forward in place (a fresh stack: the router's connection tracking
    # still holds the refused attempts) the same row passes
    home.stack(TURN)
    status, rows, _took = rows_of(home, token)
    assert rows["test call: TURN"]["status"] == "pass", show(rows)


def test_an_auth_service_that_refuses_the_homeserver_is_named(home: Home, token: str) -> None:
    """(e) The caller's homeserver is not among the auth service's full-access servers:
    it hands out a token for a room it never made (lk-jwt-service #238)."""
    home.stack({"full_access_homeservers": ["elsewhere.example"]})
    status, rows, _took = rows_of(home, token)
    assert status == 1, show(rows)
    failing = [r for r in rows.values() if r["status"] == "fail"]
    assert failing and "full_access_homeservers" in failing[0]["detail"], show(rows)
    assert "add example.org to full_access_homeservers" in failing[0]["fix"], show(rows)


def hostile_sites(folder: Path) -> str:
    """The generated nginx.conf, with the SFU's /rtc sent to the hostile server."""
    text = (folder / "reverse-proxy" / "nginx.conf").read_text()
    block = ("    location /rtc {\n"
             f"        proxy_pass http://127.0.0.1:{HOSTILE_PORT};\n"
             "        proxy_http_version 1.1;\n"
             "        proxy_set_header Upgrade $http_upgrade;\n"
             "        proxy_set_header Connection $nasrtc_connection_upgrade;\n"
             "    }\n")
    marker = "    server_name sfu.example.org;\n"
    assert marker in text
    return text.replace(marker, marker + block)


@pytest.mark.parametrize("mode", ["silent", "no-answer"])
def test_a_hostile_sfu_ends_in_bounded_time_with_a_row(home: Home, token: str,
                                                      mode: str) -> None:
    """A proxy that accepts the WebSocket and then says nothing; a 'LiveKit' that sends a
    join and never answers the caller's offer: doctor ends in time, with rows."""
    server = subprocess.Popen([*home.nas.exec_prefix(), sys.executable, str(HOSTILE_SFU),
                               mode, str(HOSTILE_PORT)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "hostile sfu" in server.stdout.readline()
        home.stack(proxy=hostile_sites)
        status, rows, took = rows_of(home, token)
    finally:
        server.kill()
        server.wait(10)
    assert status == 1, show(rows)
    assert took < 150, f"doctor took {took:.0f} s"
    assert rows["test call: audio"]["status"] == "fail", show(rows)
    offer = rows["test call: SFU addresses"]
    if mode == "silent":
        assert offer["status"] == "fail" and "sent nothing" in offer["detail"], show(rows)
    else:
        assert offer["status"] == "warn" and "no ICE candidates" in offer["detail"], show(rows)
