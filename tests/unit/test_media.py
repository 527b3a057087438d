"""The test call's pieces that need no WebRTC: reading LiveKit's signalling (a hostile
server's bytes included), and turning what a call saw into the rows a user reads."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nasrtc.answers import resolve
from nasrtc.doctor.net import Net
from nasrtc.media.credentials import BY_AUTH_SERVICE, BY_STACK_KEY, Credentials
from nasrtc.media.diagnose import diagnose
from nasrtc.media.probe import MediaReport
from nasrtc.media.signal import Candidate, Offer, fields, parse_candidate, peek, read_response
from nasrtc.secret_store import Secrets
from nasrtc.stack import Stack, build_stack
from tests.helpers import FIXED_KEY, FIXED_SECRET, REPO

PUBLIC = "81.2.69.142"  # the home's address in these cases (sfu.<domain> leads there); a
# global one: documentation ranges (203.0.113.0/24) count as private


def stack(**answers: Any) -> Stack:
    return build_stack(resolve({"domain": "example.org", **answers}),
                       Secrets(FIXED_KEY, FIXED_SECRET))


def field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def trickle(candidate: str, final: bool = False) -> bytes:
    init = json.dumps({"candidate": candidate, "sdpMid": "0"}).encode()
    return field(4, field(1, init) + field(2, b"")[:0] + (b"\x18\x01" if final else b""))


# ---------------------------------------------------------------- signalling


def test_a_candidate_line_is_read_and_anything_else_is_not() -> None:
    assert parse_candidate("candidate:1 1 udp 2130706431 81.2.69.142 7882 typ host") == \
        Candidate("udp", PUBLIC, 7882, "host")
    assert parse_candidate("a=candidate:2 1 TCP 1 81.2.69.142 7881 typ host tcptype passive") \
        == Candidate("tcp", PUBLIC, 7881, "host")
    for bad in ("", "candidate:1 1 udp", "candidate:1 1 sctp 1 1.2.3.4 5 typ host",
                "candidate:1 1 udp 1 1.2.3.4 port typ host", "m=audio 9 UDP 0"):
        assert parse_candidate(bad) is None, bad


def test_the_join_its_turn_servers_and_the_trickled_candidates_are_read() -> None:
    ice = field(5, field(1, b"turn:81.2.69.142:3478?transport=udp"))
    offer = Offer()
    assert not read_response(field(1, field(4, b"1.13.5") + ice), offer)
    assert offer.joined and offer.server_version == "1.13.5"
    assert offer.ice_servers == ["turn:81.2.69.142:3478?transport=udp"]
    assert not read_response(trickle("candidate:1 1 udp 2130706431 81.2.69.142 7882 typ host"),
                             offer)
    assert read_response(trickle("candidate:2 1 tcp 1 172.17.0.1 7881 typ host", final=True),
                         offer)
    assert [str(c) for c in offer.candidates] == ["UDP 81.2.69.142:7882", "TCP 172.17.0.1:7881"]


@pytest.mark.parametrize("message", [b"\x0a\xff\x01", b"\x08" + b"\xff" * 11, b"\x0f",
                                     b"\x0a\x05ab"])
def test_broken_protobuf_is_refused_not_trusted(message: bytes) -> None:
    with pytest.raises(ValueError):
        fields(message)


class Server:
    """A one-shot server on loopback that answers the upgrade with `reply`, then waits."""

    def __init__(self, reply: bytes) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        self.socket.settimeout(10)
        try:
            connection, _ = self.socket.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(4096)
            connection.sendall(self.reply)
            try:
                while connection.recv(4096):
                    pass
            except OSError:
                pass


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    made = Server(request.param)
    yield made
    made.socket.close()


@pytest.mark.parametrize("server", [b"HTTP/1.1 101 Switching Protocols\r\n\r\n"],
                         indirect=True)
def test_a_websocket_that_says_nothing_ends_within_the_wait(server: Server) -> None:
    offer = peek(Net(timeout=2), f"ws://127.0.0.1:{server.port}", "tok", wait=1.5)
    assert offer.status == 101 and not offer.joined and offer.reason == "silent"
    assert offer.waited < 3


SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"


@pytest.mark.parametrize("server", [
    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 60\r\n\r\ninvalid token: "
    + SECRET_TOKEN.encode() + b", error: expired"], indirect=True)
def test_a_refused_upgrade_is_reported_without_the_token(server: Server) -> None:
    offer = peek(Net(timeout=2), f"ws://127.0.0.1:{server.port}", SECRET_TOKEN, wait=3)
    assert offer.status == 401
    assert SECRET_TOKEN not in offer.reason and "invalid token" in offer.reason


# ---------------------------------------------------------------- the rows


def report(candidates: list[Candidate], call: dict[str, Any], **more: Any) -> MediaReport:
    creds = Credentials(BY_STACK_KEY, "wss://sfu.example.org", [["a", "b"]], ["room"])
    return MediaReport(credentials=creds, offer=Offer(status=101, joined=True,
                                                      candidates=candidates),
                       call=call, sfu_addresses=[PUBLIC], **more)


def pair(protocol: str, address: str = PUBLIC, port: int = 7882) -> dict[str, Any]:
    return {"selected": {"remote": {"protocol": protocol, "address": address, "port": port},
                         "local": {}, "rtt": 0.02}, "pairs": [],
            "inbound": {"packets_received": 500, "packets_lost": 0, "jitter": 0.001}}


HEARD = {"frames_received": 400, "tone_strength": 0.9, "first_audio_seconds": 0.2,
         "connect_seconds": [0.1, 0.1]}
MUX = [Candidate("udp", PUBLIC, 7882, "host"), Candidate("tcp", PUBLIC, 7881, "host")]


def test_a_call_over_udp_passes_every_row() -> None:
    rows = diagnose(report(MUX, {**HEARD, "subscriber": pair("udp")}, tcp_answers=True),
                    stack())
    assert {name: row.status for name, row in rows.items()} == {
        "test call: tokens": "pass", "test call: SFU addresses": "pass",
        "test call: UDP": "pass", "test call: TCP fallback": "pass",
        "test call: TURN": "skipped", "test call: audio": "pass"}
    assert "--access-token" in rows["test call: tokens"].detail


def test_a_call_that_fell_back_to_tcp_warns_and_names_the_udp_forward() -> None:
    rows = diagnose(report(MUX, {**HEARD, "subscriber": pair("tcp", port=7881)}), stack())
    assert rows["test call: UDP"].status == "warn"
    assert "forward UDP 7882" in rows["test call: UDP"].fix
    assert rows["test call: TCP fallback"].status == "pass"


def test_only_docker_bridge_addresses_name_lan_ip() -> None:
    bridges = [Candidate("udp", "172.18.0.1", 7882, "host")]
    rows = diagnose(report(bridges, {"frames_received": 0, "stage": "connect:0"}), stack())
    assert rows["test call: SFU addresses"].status == "fail"
    assert "livekit #4437" in rows["test call: SFU addresses"].detail
    assert "network.lan_ip" in rows["test call: SFU addresses"].fix
    assert rows["test call: audio"].status == "fail"
    assert "Waiting for media..." in rows["test call: audio"].detail


def test_an_address_other_than_the_names_points_at_public_ip() -> None:
    elsewhere = [Candidate("udp", "81.2.69.200", 7882, "host")]
    rows = diagnose(report(elsewhere, {"frames_received": 0}), stack())
    assert "network.public_ip" in rows["test call: SFU addresses"].detail
    assert f"set network.public_ip to {PUBLIC}" in rows["test call: SFU addresses"].fix


def test_connected_ice_without_sound_names_what_blocks_media() -> None:
    rows = diagnose(report(MUX, {"frames_received": 0, "subscriber": pair("udp")}), stack())
    assert rows["test call: audio"].status == "fail"
    assert "ICE connected" in rows["test call: audio"].detail
    assert "DTLS/SRTP" in rows["test call: audio"].fix


def test_a_room_the_auth_service_never_made_names_full_access() -> None:
    creds = Credentials(BY_AUTH_SERVICE, "wss://sfu.example.org", [["a", "b"]], ["!r:example.org"],
                        user="@alice:example.org", service="https://jwt.example.org")
    made = MediaReport(credentials=creds, offer=Offer(
        status=404, reason="requested room does not exist"), sfu_addresses=[PUBLIC])
    rows = diagnose(made, stack(full_access_homeservers=["other.example"]))
    row = rows["test call: SFU addresses"]
    assert row.status == "fail" and "full_access_homeservers" in row.detail
    assert "add example.org to full_access_homeservers" in row.fix


# ---------------------------------------------------------------- the command line


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nasrtc", "doctor", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NASRTC_LANG": "en", "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("other, said", [
    ("--local", "leave out --local"),
    ("--connect-to=sfu.example.org::127.0.0.1:", "without --connect-to")])
def test_media_refuses_what_cannot_steer_a_call(other: str, said: str, tmp_path: Any) -> None:
    done = doctor("--media", other, "--dir", str(tmp_path))
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(importlib.util.find_spec("livekit") is not None,
                    reason="this Python has the LiveKit SDK")
def test_media_without_the_sdk_says_what_to_install(tmp_path: Any) -> None:
    done = doctor("--public", "--media", "--dir", str(tmp_path))
    assert done.returncode == 1, done.stderr
    assert 'pip install "nasrtc[media]"' in done.stderr and "Traceback" not in done.stderr


def test_another_address_is_fine_when_the_call_worked() -> None:
    """sfu.<domain> may lead to a proxy elsewhere while media goes to the home directly."""
    elsewhere = [Candidate("udp", "81.2.69.200", 7882, "host")]
    rows = diagnose(report(elsewhere, {**HEARD, "subscriber": pair("udp", "81.2.69.200")}),
                    stack())
    assert rows["test call: SFU addresses"].status == "pass"
    assert "the call worked" in rows["test call: SFU addresses"].detail


def test_an_answer_of_another_shape_is_one_row_and_asked_once(tmp_path: Any) -> None:
    """The homeserver answers its transports with a list: the tokens row says so, the
    other rows are skipped, and the way to the tokens is not walked again per row."""
    from nasrtc.doctor import run_doctor
    from tests.unit.fakes import FakeNet, context, reply

    net = FakeNet()
    hs = "https://matrix.example.org"
    net.on("GET", f"{hs}/_matrix/client/v3/account/whoami",
           reply(200, json.dumps({"user_id": "@a:example.org", "device_id": "D"})))
    net.on("GET", f"{hs}/_matrix/client/unstable/org.matrix.msc4143/rtc/transports",
           reply(200, "[1, 2]"))
    net.addresses["sfu.example.org"] = [PUBLIC]
    ctx = context(tmp_path, net, token="syt_x")
    rows = {r.name: r for r in run_doctor(ctx, public_only=True, media=True)
            if r.name.startswith("test call")}
    assert rows["test call: tokens"].status == "fail"
    assert "unexpected answer: AttributeError" in rows["test call: tokens"].detail
    assert all(r.status == "skipped" for n, r in rows.items() if n != "test call: tokens")
    asked = [url for method, url, *_ in net.sent if url.endswith("/account/whoami")]
    assert len(asked) == 1, asked


def test_the_relay_only_call_has_a_room_and_members_of_its_own(tmp_path: Any) -> None:
    """With TURN on two calls run at once: sharing a room, each would hear the other's
    tone (a relay that fails would pass); sharing a member, LiveKit throws the first out."""
    from nasrtc.media.credentials import credentials
    from tests.unit.fakes import FakeNet, context, reply

    net = FakeNet()
    hs, service = "https://matrix.example.org", "https://jwt.example.org"
    net.on("GET", f"{hs}/_matrix/client/v3/account/whoami",
           reply(200, {"user_id": "@a:example.org", "device_id": "D"}))
    net.on("GET", f"{hs}/_matrix/client/unstable/org.matrix.msc4143/rtc/transports",
           reply(200, {"rtc_transports": [{"type": "livekit",
                                           "livekit_service_url": service}]}))
    net.on("POST", f"{hs}/_matrix/client/v3/user/%40a%3Aexample.org/openid/request_token",
           reply(200, {"access_token": "o", "token_type": "Bearer",
                       "matrix_server_name": "example.org", "expires_in": 3600}))
    asked: list[dict[str, Any]] = []

    def get_token(_headers: dict[str, str], body: bytes | None) -> Any:
        asked.append(json.loads(body or b"{}"))
        return reply(200, {"url": "wss://sfu.example.org", "jwt": f"jwt-{len(asked)}"})

    net.on("POST", f"{service}/get_token", get_token)
    creds = credentials(context(tmp_path, net, token="syt_x"), calls=2)
    assert len(creds.rooms) == 2 and creds.rooms[0] != creds.rooms[1]
    assert [len(pair) for pair in creds.calls] == [2, 2]
    assert len({token for pair in creds.calls for token in pair}) == 4
    assert [a["room_id"] for a in asked] == [creds.rooms[0]] * 2 + [creds.rooms[1]] * 2
    assert len({a["member"]["id"] for a in asked}) == 4


def test_a_tcp_port_that_answers_is_no_pass_when_the_call_found_no_path() -> None:
    rows = diagnose(report(MUX, {"frames_received": 0, "stage": "media"}, tcp_answers=True),
                    stack())
    assert rows["test call: TCP fallback"].status == "warn"
    assert "did not need it" not in rows["test call: TCP fallback"].detail
    assert rows["test call: audio"].status == "fail"


def test_a_tone_broken_up_by_loss_names_the_loss_not_dtls() -> None:
    lossy = pair("udp")
    lossy["inbound"] = {"packets_received": 300, "packets_lost": 150, "jitter": 0.02}
    rows = diagnose(report(MUX, {"frames_received": 400, "tone_strength": 0.2,
                                 "subscriber": lossy}), stack())
    audio = rows["test call: audio"]
    assert audio.status == "fail"
    assert "33.3% of the packets" in audio.detail and "stutter" in audio.fix
    assert "DTLS" not in audio.fix


def test_the_listeners_statistics_come_from_the_transport_that_receives() -> None:
    from nasrtc.media.call import side_stats

    publisher, subscriber = ["pub"], ["sub"]
    assert side_stats("subscriber", publisher, subscriber) == subscriber
    assert side_stats("publisher", publisher, subscriber) == publisher
    # one peer connection both ways: the subscriber's list is empty, all is the publisher's
    assert side_stats("subscriber", publisher, []) == publisher
