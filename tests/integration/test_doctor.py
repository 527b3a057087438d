"""nasrtc doctor and nasrtc token: the local checks against a real engine, and
token minting. The public side against real nginx and Synapse: test_doctor_public.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from nasrtc.tokens import decode, mint, parse_ttl
from tests.helpers import doctor_rows, free_port, free_ports, run_subprocess, write_answers
from tests.integration.doctor_env import StandInSFU


def test_tokens_are_signed_with_the_stack_secret() -> None:
    token = mint("APIkey", "s" * 48, "me", "room1", ttl=600, now=1_000)
    claims = decode(token, "s" * 48)
    assert claims["iss"] == "APIkey" and claims["sub"] == "me"
    assert claims["video"]["room"] == "room1" and claims["video"]["roomJoin"] is True
    assert claims["exp"] - claims["nbf"] == 600
    with pytest.raises(ValueError, match="signature does not match"):
        decode(token, "t" * 48)
    admin = decode(mint("APIkey", "s" * 48, "x", "r", admin=True), "s" * 48)
    assert admin["video"]["roomCreate"] is True


@pytest.mark.parametrize(("text", "seconds"), [("3600", 3600), ("10m", 600), ("6h", 21600),
                                               ("1d", 86400)])
def test_ttl_parsing(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


def test_token_creates_the_room_so_the_connection_tester_can_join(tmp_path: Path) -> None:
    """livekit.yaml has room.auto_create off: a token alone could join nothing."""
    from nasrtc.doctor.net import Net

    stack_dir = _init_stack(tmp_path, {"ports": dict(zip(("livekit_http", "rtc_tcp"),
                                                          free_ports(2)))})
    sfu = StandInSFU(stack_dir / "livekit" / "livekit.yaml").start()
    try:
        result = run_subprocess("token", "--dir", str(stack_dir), "--room", "test",
                                "--identity", "me", "--ttl", "10m")
        assert result.code == 0, result.err
        assert sfu.rooms == {"test"}
        assert "url:   wss://sfu.example.org" in result.out
        token = result.out.split("token: ", 1)[1].strip()
        secret = (stack_dir / "secrets" / "livekit_api_secret").read_text().strip()
        assert decode(token, secret)["video"]["room"] == "test"
        # What LiveKit's connection tester does with the URL and token: it joins.
        port = yaml.safe_load((stack_dir / "livekit" / "livekit.yaml").read_text())["port"]
        joined = Net().websocket(f"http://127.0.0.1:{port}/rtc?access_token={token}")
        assert joined.status == 101
    finally:
        sfu.stop()
    bad = run_subprocess("token", "--dir", str(stack_dir), "--room", "t", "--identity",
                         "me", "--ttl", "soon")
    assert bad.code == 2 and "--ttl" in bad.err


def test_token_without_a_running_livekit_says_why_and_how(tmp_path: Path) -> None:
    stack_dir = _init_stack(tmp_path, {"ports": {"livekit_http": free_port()}})
    result = run_subprocess("token", "--dir", str(stack_dir), "--room", "test",
                            "--identity", "me")
    assert result.code == 1 and "Traceback" not in result.err
    assert "could not create the room 'test'" in result.err
    assert "room.auto_create: false" in result.err and "nasrtc up --dir" in result.err
    assert "token:" not in result.out


def doctor(stack: Any, *args: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = stack.nasrtc("doctor", "--json", *args)
    return result.code, doctor_rows(result)


def test_local_checks_pass_on_a_healthy_stack(make_stack: Any, homeserver_on_443: Any) -> None:
    homeserver_on_443()
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    code, rows = doctor(stack, "--local")
    assert code == 0, [row for row in rows.values() if row["status"] == "fail"]
    for name in ("files", "secrets", "livekit.yaml", "containers", "LiveKit (local)",
                 "auth service (local)", "ports", "auth service reaches homeserver"):
        assert rows[name]["status"] == "pass", rows[name]
    assert "example.org/.well-known/matrix/client -> https://matrix.example.org" in \
        rows["auth service reaches homeserver"]["detail"]
    assert rows["public side"]["status"] == "skipped"


def test_the_auth_service_reaches_the_homeserver_only_through_its_mapping(
        make_stack: Any, homeserver_on_443: Any) -> None:
    """Without NAT loopback, the names the auth service fetches must be mapped to this host
    (compose.yaml's extra_hosts); doctor proves it from a container in the stack's network."""
    homeserver_on_443()
    elsewhere = make_stack(network={"domain_here": False, "homeserver_here": False})
    code, rows = doctor(elsewhere, "--local", "--timeout", "2")
    assert code == 1
    row = rows["auth service reaches homeserver"]
    assert row["status"] == "fail", row
    assert "could not be fetched (through DNS and your router)" in row["detail"]
    assert "set network.domain_here: true" in row["fix"]
    mapped = make_stack()
    compose = (mapped.dir / "compose.yaml").read_text()
    assert '"example.org:host-gateway"' in compose and '"matrix.example.org:host-gateway"' in compose
    _, rows = doctor(mapped, "--local", "--timeout", "2")
    assert rows["auth service reaches homeserver"]["status"] == "pass", rows


def test_before_the_first_up_the_reach_check_waits_for_the_image(make_stack: Any) -> None:
    """The reach check runs in a container of the LiveKit image; before the first `up`
    that image is not here: the row says it waits for the stack, not that it failed."""
    stack = make_stack(images={"livekit": "nasrtc-test/never-pulled:1"})
    code, rows = doctor(stack, "--local", "--timeout", "2")
    assert code == 1 and rows["containers"]["status"] == "fail"
    row = rows["auth service reaches homeserver"]
    assert row["status"] == "skipped", row
    assert "until the stack has been started" in row["detail"]
    assert row["fix"] == f"run `sudo nasrtc up --dir {stack.dir.resolve()}`"


def test_a_homeserver_without_federation_discovery_is_named(
        make_stack: Any, homeserver_on_443: Any) -> None:
    homeserver_on_443("--no-server-well-known")
    stack = make_stack()
    code, rows = doctor(stack, "--local", "--timeout", "2")
    assert code == 1
    row = rows["auth service reaches homeserver"]
    assert row["status"] == "fail" and "https://example.org:8448" in row["detail"]
    assert "/.well-known/matrix/server" in row["fix"]


def test_hand_edited_livekit_yaml_with_an_unknown_key(make_stack: Any) -> None:
    stack = make_stack()
    config = stack.dir / "livekit" / "livekit.yaml"
    config.write_text(config.read_text() + "level: debug\n")
    code, rows = doctor(stack, "--local")
    assert code == 1
    assert rows["livekit.yaml"]["status"] == "fail"
    assert "level" in rows["livekit.yaml"]["detail"]
    assert "nasrtc render --force" in rows["livekit.yaml"]["fix"]
    assert rows["files"]["status"] == "fail" and "livekit/livekit.yaml" in rows["files"]["detail"]


def test_auth_service_down_is_caught(make_stack: Any, client: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    client.containers.get(f"{stack.project}-jwt-1").stop(timeout=2)
    code, rows = doctor(stack, "--local")
    assert code == 1
    assert rows["containers"]["status"] == "fail" and "jwt: exited" in rows["containers"]["detail"]
    assert rows["auth service (local)"]["status"] == "fail"
    assert rows["auth service (local)"]["detail"].startswith("connection refused")
    # The container is the cause; the fix is to start it, in this very folder.
    up = f"nasrtc up --dir {stack.dir.resolve()}"
    assert up in rows["auth service (local)"]["fix"] and up in rows["containers"]["fix"]


def test_public_side_without_dns_says_what_to_do(make_stack: Any) -> None:
    stack = make_stack()
    code, rows = doctor(stack, "--timeout", "2")
    assert code == 1
    assert rows["DNS"]["status"] == "fail" and "do not resolve" in rows["DNS"]["detail"]
    # One cause, one failing row: what needs the names is skipped, and the router row does
    # not ask to forward a port of a name that does not exist.
    public = list(rows)[list(rows).index("DNS"):]  # this machine's rows come first
    assert [name for name in public if rows[name]["status"] == "fail"] == ["DNS"]
    for name in ("auth service CORS", "SFU WebSocket", "router: RTC TCP", "well-known"):
        assert rows[name]["status"] == "skipped" and "does not resolve" in rows[name]["detail"]
    assert "forward" not in rows["router: RTC TCP"]["fix"]
    assert rows["router: UDP"]["status"] == "skipped"
    assert "doctor --public --media" in rows["router: UDP"]["fix"]  # the test call proves it
    assert rows["RTC transports"]["status"] == "skipped"
    secret = (stack.dir / "secrets" / "livekit_api_secret").read_text().strip()
    assert secret not in json.dumps(rows)


def test_bad_connect_to_is_a_usage_error(make_stack: Any) -> None:
    stack = make_stack()
    result = stack.nasrtc("doctor", "--connect-to", "sfu.example.org:443")
    assert result.code == 2 and "HOST:PORT:ADDRESS:PORT" in result.err


def test_connect_to_like_curl() -> None:
    """HOST:PORT:ADDRESS:PORT; an empty port means every port / the same port."""
    from nasrtc.doctor.net import Net, parse_connect_to

    net = Net(parse_connect_to(["sfu.example.org:443:127.0.0.1:8443",
                                "SFU.example.org::10.0.0.5:", "jwt.example.org::10.0.0.6:9"]))
    assert net.address("sfu.example.org", 443) == ("127.0.0.1", 8443)  # exact port first
    assert net.address("sfu.example.org", 7881) == ("10.0.0.5", 7881)
    assert net.address("jwt.example.org", 443) == ("10.0.0.6", 9)
    assert net.address("other.example.org", 443) == ("other.example.org", 443)
    assert net.resolve("sfu.example.org") == ["10.0.0.5", "127.0.0.1"]
    for bad in ("sfu.example.org:443", ":443:127.0.0.1:443", "h:x:127.0.0.1:443"):
        with pytest.raises(ValueError, match="HOST:PORT:ADDRESS:PORT"):
            parse_connect_to([bad])


def _init_stack(tmp_path: Path, answers: dict[str, Any] | None = None) -> Path:
    source = write_answers(tmp_path, {"domain": "example.org", **(answers or {})})
    assert run_subprocess("init", "--dir", str(tmp_path / "s"), "--answers",
                          str(source)).code == 0
    return tmp_path / "s"


def _public_rows(stack_dir: Path, *args: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = run_subprocess("doctor", "--public", "--json", "--dir", str(stack_dir), *args)
    return result.code, doctor_rows(result)


def test_names_pointing_elsewhere_and_rtc_tcp_not_forwarded(tmp_path: Path) -> None:
    stack_dir = _init_stack(tmp_path)
    code, rows = _public_rows(
        stack_dir, "--timeout", "2",
        "--connect-to", "example.org::127.0.0.1:",
        "--connect-to", "matrix.example.org::127.0.0.1:",
        "--connect-to", "jwt.example.org::127.0.0.1:",
        "--connect-to", "sfu.example.org::127.0.0.3:")  # nothing listens there
    assert code == 1
    assert rows["DNS"]["status"] == "warn"
    assert rows["DNS"]["detail"].startswith("sfu.example.org points elsewhere than "
                                            "matrix.example.org")
    assert rows["router: RTC TCP"]["status"] == "fail"
    assert "forward TCP 7881 to the NAS, same port" in rows["router: RTC TCP"]["fix"]


def test_doctor_never_hangs_on_a_silent_server(tmp_path: Path) -> None:
    """A server that accepts connections and never answers: each call gives up after
    --timeout and says so; the whole run stays bounded."""
    import socket
    import time

    stack_dir = _init_stack(tmp_path)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # the kernel completes handshakes; nobody ever reads
        port = silent.getsockname()[1]
        mapping = [arg for host in ("example.org", "matrix.example.org", "jwt.example.org",
                                    "sfu.example.org")
                   for arg in ("--connect-to", f"{host}:443:127.0.0.1:{port}")]
        started = time.monotonic()
        code, rows = _public_rows(stack_dir, "--timeout", "1", *mapping)
        elapsed = time.monotonic() - started
    assert code == 1
    assert rows["auth service (public)"]["detail"] == "no answer within the timeout"
    assert "no answer within the timeout" in rows["certificates"]["detail"]
    assert elapsed < 40, f"doctor took {elapsed:.0f} s with --timeout 1"
