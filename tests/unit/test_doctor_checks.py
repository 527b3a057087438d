"""Each doctor check against a fake network: a healthy setup passes every public
row, and each fault fails its own row with the fix a user needs. Milliseconds;
the same checks against real nginx, Synapse and a test CA: tests/integration."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from nasrtc.doctor import PUBLIC, REGISTRY, run_doctor
from nasrtc.doctor.clients import TRANSPORTS
from nasrtc.tokens import decode, mint
from tests.helpers import FIXED_KEY, FIXED_SECRET
from tests.unit.fakes import FakeNet, cert_error, context, reply

HS = "https://matrix.example.org"
JWT = "https://jwt.example.org"
SFU = "https://sfu.example.org"
TOKEN = "syt_secret_token"


def _get_token(headers: dict[str, str], body: bytes | None) -> object:
    request = json.loads(body or b"{}")
    member = request["member"]["id"]
    jwt = mint(FIXED_KEY, FIXED_SECRET, member, request["room_id"], ttl=60)
    return reply(200, {"url": "wss://sfu.example.org", "jwt": jwt})


def healthy() -> FakeNet:
    net = FakeNet()
    for host in ("example.org", "matrix.example.org", "jwt.example.org", "sfu.example.org"):
        net.addresses[host] = ["203.0.113.7"]
        net.certificates[host] = {"notAfter": time.strftime(
            "%b %d %H:%M:%S %Y GMT", time.gmtime(time.time() + 60 * 86400))}
    cors = {"Access_Control_Allow_Origin": "*"}
    net.on("GET", f"{JWT}/healthz", reply(200))
    net.on("GET", f"{JWT}/get_token", reply(405, **cors))
    net.on("OPTIONS", f"{JWT}/get_token", reply(200, **cors))
    net.on("POST", f"{JWT}/get_token", _get_token)  # type: ignore[arg-type]
    net.on("GET", f"{SFU}/", reply(200, "OK"))
    net.on("POST", f"{SFU}/twirp/livekit.RoomService/CreateRoom", reply(200, {}))
    net.on("POST", f"{SFU}/twirp/livekit.RoomService/DeleteRoom", reply(200, {}))
    net.on("UPGRADE", f"{SFU}/rtc", reply(101))
    net.open_ports.add(("sfu.example.org", 7881))
    net.on("GET", "https://example.org/.well-known/matrix/client", reply(200, {
        "m.homeserver": {"base_url": HS},
        "org.matrix.msc4143.rtc_foci": [{"type": "livekit", "livekit_service_url": JWT}]},
        **cors))
    net.on("GET", f"{HS}/_matrix/client/versions", reply(200, {"unstable_features": {
        "org.matrix.msc4140": True, "org.matrix.msc4143": True}}))
    net.on("GET", f"{HS}{TRANSPORTS}", reply(200, {"rtc_transports": [
        {"type": "livekit", "livekit_service_url": JWT}]}))
    net.on("GET", f"{HS}/_matrix/client/v3/account/whoami", reply(200, {
        "user_id": "@me:example.org"}))
    net.on("POST", f"{HS}/_matrix/client/v3/user/%40me%3Aexample.org/openid/request_token",
           reply(200, {"access_token": "openid", "matrix_server_name": "example.org"}))
    return net


def rows(tmp_path: Path, net: FakeNet, token: str | None = TOKEN) -> dict[str, dict[str, str]]:
    ctx = context(tmp_path, net, token)
    return {r.name: r.as_dict() for r in run_doctor(ctx, public_only=True)}


def only_failure(found: dict[str, dict[str, str]], name: str) -> dict[str, str]:
    bad = {n for n, r in found.items() if r["status"] == "fail"}
    assert bad == {name}, found
    return found[name]


def test_every_check_is_registered_once_with_a_scope() -> None:
    names = [entry.name for entry in REGISTRY]
    assert len(names) == len(set(names))
    assert names[:3] == ["files", "secrets", "livekit.yaml"], "this machine's rows come first"
    assert [e.name for e in REGISTRY if e.scope == PUBLIC][-1] == "token round trip"


def test_a_healthy_setup_passes_every_public_row(tmp_path: Path) -> None:
    net = healthy()
    found = rows(tmp_path, net)
    assert {n: r["status"] for n, r in found.items()} == {
        "this machine": "skipped", "DNS": "pass", "IPv6 (AAAA)": "skipped",
        "certificates": "pass",
        "auth service (public)": "pass", "auth service CORS": "pass", "SFU (public)": "pass",
        "SFU WebSocket": "pass", "router: RTC TCP": "pass", "router: UDP": "skipped",
        "well-known": "pass", "homeserver features": "pass", "RTC transports": "pass",
        "token round trip": "pass"}
    deleted = [s for s in net.sent if s[1].endswith("/DeleteRoom")]
    assert deleted, "the test room is removed again"
    assert TOKEN not in json.dumps(found), "the access token is never shown"


def test_a_second_cors_header_fails_its_row(tmp_path: Path) -> None:
    net = healthy().on("OPTIONS", f"{JWT}/get_token",
                       reply(200, Access_Control_Allow_Origin=["*", "*"]))
    row = only_failure(rows(tmp_path, net), "auth service CORS")
    assert "sent 2 times" in row["detail"] and "remove the CORS header" in row["fix"]


def test_well_known_without_cors(tmp_path: Path) -> None:
    net = healthy().on("GET", "https://example.org/.well-known/matrix/client", reply(200, {
        "m.homeserver": {"base_url": HS},
        "org.matrix.msc4143.rtc_foci": [{"type": "livekit", "livekit_service_url": JWT}]}))
    row = only_failure(rows(tmp_path, net), "well-known")
    assert "Access-Control-Allow-Origin: * is missing" in row["detail"]


def test_transports_empty_object(tmp_path: Path) -> None:
    net = healthy().on("GET", f"{HS}{TRANSPORTS}", reply(200, {}))
    row = only_failure(rows(tmp_path, net), "RTC transports")
    assert "answers {}" in row["detail"] and "matrix_rtc" in row["fix"]


def test_websocket_headers_not_passed(tmp_path: Path) -> None:
    net = healthy().on("UPGRADE", f"{SFU}/rtc", reply(400))
    row = only_failure(rows(tmp_path, net), "SFU WebSocket")
    assert "Upgrade/Connection" in row["detail"]
    assert any(s[1].endswith("/DeleteRoom") for s in net.sent)


def test_expired_certificate_names_the_host(tmp_path: Path) -> None:
    net = healthy()
    net.certificates["sfu.example.org"] = cert_error("certificate has expired")
    found = rows(tmp_path, net)
    assert found["certificates"]["status"] == "fail"
    assert "sfu.example.org: the certificate has expired" in found["certificates"]["detail"]
    assert "renew" in found["certificates"]["fix"]


def test_certificate_close_to_expiry_warns(tmp_path: Path) -> None:
    net = healthy()
    net.certificates["jwt.example.org"] = {"notAfter": time.strftime(
        "%b %d %H:%M:%S %Y GMT", time.gmtime(time.time() + 5 * 86400))}
    found = rows(tmp_path, net)
    assert found["certificates"]["status"] == "warn"


def test_a_missing_name_is_one_failure_and_its_dependants_are_skipped(tmp_path: Path) -> None:
    net = healthy()
    del net.addresses["sfu.example.org"]
    found = rows(tmp_path, net)
    assert only_failure(found, "DNS")["detail"].startswith("does not resolve: sfu.example.org")
    for name in ("SFU (public)", "SFU WebSocket", "router: RTC TCP"):
        assert found[name]["status"] == "skipped", found[name]
    assert found["auth service CORS"]["status"] == "pass"
    assert "sfu.example.org" not in found["certificates"]["detail"]


def test_the_domain_itself_missing_skips_the_well_known_row(tmp_path: Path) -> None:
    net = healthy()
    del net.addresses["example.org"]
    found = rows(tmp_path, net)
    only_failure(found, "DNS")
    assert found["well-known"]["status"] == "skipped"
    assert found["token round trip"]["status"] == "pass"


def test_names_pointing_elsewhere_warn(tmp_path: Path) -> None:
    net = healthy()
    net.addresses["jwt.example.org"] = ["198.51.100.9"]
    assert rows(tmp_path, net)["DNS"]["status"] == "warn"


def test_rtc_tcp_not_forwarded(tmp_path: Path) -> None:
    net = healthy()
    net.open_ports.clear()
    row = only_failure(rows(tmp_path, net), "router: RTC TCP")
    assert "forward TCP 7881" in row["fix"]


def test_auth_service_refusing_the_openid_token(tmp_path: Path) -> None:
    net = healthy().on("POST", f"{JWT}/get_token", reply(401, "unauthorised"))
    row = only_failure(rows(tmp_path, net), "token round trip")
    assert "could not confirm the OpenID token" in row["detail"]


def test_a_token_signed_with_another_secret(tmp_path: Path) -> None:
    other = mint(FIXED_KEY, "x" * 48, "m", "!r:example.org")
    net = healthy().on("POST", f"{JWT}/get_token",
                       reply(200, {"url": "wss://sfu.example.org", "jwt": other}))
    row = only_failure(rows(tmp_path, net), "token round trip")
    assert "does not verify" in row["detail"]
    with pytest.raises(ValueError):
        decode(other, FIXED_SECRET)


def test_without_a_token_the_homeserver_rows_say_how_to_run_them(tmp_path: Path) -> None:
    found = rows(tmp_path, healthy(), token=None)
    for name in ("RTC transports", "token round trip"):
        assert found[name]["status"] == "skipped" and "--access-token" in found[name]["fix"]


def test_a_silent_server_is_a_row_not_a_crash(tmp_path: Path) -> None:
    net = healthy().on("GET", f"{JWT}/healthz", socket.timeout("timed out"))
    row = only_failure(rows(tmp_path, net), "auth service (public)")
    assert "no answer within the timeout" in row["detail"]


@pytest.mark.parametrize(("answers", "here", "status", "words"), [
    ({}, "192.168.1.10", "pass", "none on Docker's bridges"),
    ({}, "172.20.1.5", "fail", "set network.lan_ip: 172.20.1.5"),
    ({"network": {"lan_ip": "192.168.1.10"}}, "192.168.1.10", "pass", "192.168.1.10"),
    ({"network": {"lan_ip": "192.168.1.10"}}, "192.168.1.77", "warn",
     "set network.lan_ip: 192.168.1.77"),
    ({"network": {"livekit_mode": "bridge"}}, "172.20.1.5", "skipped", "bridge networking"),
    ({}, None, "skipped", "unknown"),
])
def test_media_addresses_row_finds_a_filter_that_leaves_no_candidate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: dict[str, object],
        here: str | None, status: str, words: str) -> None:
    """rtc.ips keeps Docker's bridges out of what LiveKit offers callers; on a LAN inside
    Docker's pool, or with network.lan_ip no longer this host's, it would keep out the one
    address that works: the row says so and how to fix it."""
    from nasrtc.doctor.local import check_media_addresses
    from nasrtc.host import network

    monkeypatch.setattr(network, "lan_address", lambda: here)
    outcome = check_media_addresses(context(tmp_path, FakeNet(), None, **answers))
    assert outcome.status == status, outcome
    assert words in outcome.detail + outcome.fix, outcome
