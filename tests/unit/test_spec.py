"""Stack -> container specs, without an engine: what each container holds on the
host, what it publishes, and when its config hash changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasrtc.answers import resolve
from nasrtc.engine.spec import CONFIG_HASH, OURS, specs
from nasrtc.secret_store import Secrets
from nasrtc.stack import Stack, build_stack
from tests.helpers import FIXED_KEY, FIXED_SECRET


def stack(**answers: Any) -> Stack:
    return build_stack(resolve({"domain": "example.org", **answers}),
                       Secrets(FIXED_KEY, FIXED_SECRET))


def by_service(built: Stack, folder: Path) -> dict[str, Any]:
    return {s.service: s for s in specs(built, folder, digest_of=lambda path: "same")}


def held(spec: Any) -> set[tuple[str, int]]:
    return {(rule.protocol, n) for rule in spec.host_ports for n in rule.numbers}


def test_host_mode_livekit_holds_its_own_ports_and_publishes_none(tmp_path: Path) -> None:
    found = by_service(stack(turn={"enabled": True}), tmp_path)
    livekit = found["livekit"]
    assert livekit.network_mode == "host" and livekit.ports == {}
    relay = {("udp", n) for n in range(30000, 30010)}
    assert held(livekit) == {("tcp", 7880), ("tcp", 7881), ("udp", 7882), ("udp", 3478)} | relay
    assert held(found["jwt"]) == {("tcp", 8080)}
    assert found["jwt"].ports == {"8080/tcp": [("127.0.0.1", 8080)]}


def test_bridge_mode_publishes_exactly_the_ports_it_holds(tmp_path: Path) -> None:
    livekit = by_service(stack(network={"livekit_mode": "bridge"}), tmp_path)["livekit"]
    published = {(spec.split("/")[1], port) for spec, binds in livekit.ports.items()
                 for _, port in binds}
    assert published == held(livekit)


def test_the_auth_service_gets_the_stacks_one_livekit_url(tmp_path: Path) -> None:
    built = stack(sfu_host="calls.example.org")
    jwt = by_service(built, tmp_path)["jwt"]
    assert f"LIVEKIT_URL={built.livekit_url}" in jwt.environment
    assert built.livekit_url == "wss://calls.example.org"


def test_config_hash_is_composes_stable_and_follows_settings_only(tmp_path: Path) -> None:
    """Compose's own hash: what compose.yaml says, not what the mounted files hold (a
    changed livekit.yaml restarts the container instead; tests/integration covers it)."""
    first = by_service(stack(), tmp_path)
    again = by_service(stack(), tmp_path)
    assert {s: v.labels[CONFIG_HASH] for s, v in first.items()} == \
        {s: v.labels[CONFIG_HASH] for s, v in again.items()}
    moved = by_service(stack(ports={"jwt_http": 8099}), tmp_path)
    assert moved["jwt"].labels[CONFIG_HASH] != first["jwt"].labels[CONFIG_HASH]
    assert moved["livekit"].labels[CONFIG_HASH] == first["livekit"].labels[CONFIG_HASH]
    edited = {s.service: s for s in specs(stack(), tmp_path, digest_of=lambda path: str(path))}
    assert edited["livekit"].labels[CONFIG_HASH] == first["livekit"].labels[CONFIG_HASH]
    assert (tmp_path / "livekit" / "livekit.yaml").resolve() in first["livekit"].mounted
    for spec in first.values():
        assert spec.labels[CONFIG_HASH] in spec.accepted  # a container it labels is "same"


def test_labels_make_one_compose_project(tmp_path: Path) -> None:
    for spec in by_service(stack(project="calls"), tmp_path).values():
        assert spec.labels["com.docker.compose.project"] == "calls"
        assert spec.labels[OURS] == "calls"
        assert spec.name == f"calls-{spec.service}-1"


class RecordingCalls:
    """Records the engine requests the undo makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def stop(self, container_id: str, timeout: int) -> None:
        self.calls.append(("stop", container_id))

    def rename(self, container_id: str, name: str) -> None:
        self.calls.append(("rename", container_id, name))

    def start(self, container_id: str) -> None:
        self.calls.append(("start", container_id))

    def remove_container(self, container_id: str) -> None:
        self.calls.append(("remove", container_id))


def test_a_failed_up_puts_the_replaced_container_back() -> None:
    from nasrtc.engine.lifecycle import _Undo

    calls = RecordingCalls()
    undo = _Undo(calls)  # type: ignore[arg-type]
    undo.set_aside({"Id": "old0000000001234", "State": "running"}, "calls-livekit-1")
    undo.created("new1")
    undo.roll_back()
    assert calls.calls == [
        ("stop", "old0000000001234"),
        ("rename", "old0000000001234", "calls-livekit-1-replaced-old000000000"),
        ("remove", "new1"),
        ("rename", "old0000000001234", "calls-livekit-1"),
        ("start", "old0000000001234")]


def test_held_ports_round_trip(tmp_path: Path) -> None:
    from nasrtc.engine.spec import held_ports

    livekit = by_service(stack(ports={"rtc_udp_range": "50000-50009", "rtc_udp": None}),
                         tmp_path)["livekit"]
    assert held_ports(livekit.labels) == held(livekit)
    assert held_ports({}) is None


def test_the_create_body_is_what_the_docker_sdk_would_send(tmp_path: Path) -> None:
    """The light client posts create_body() itself: it must carry every setting the Docker
    SDK's container config does for the same spec (bridge and host mode)."""
    import docker
    from docker.types import ContainerConfig

    from nasrtc.engine.labels import STOP_TIMEOUT

    api = docker.APIClient(version="1.41")  # builds requests only: no engine needed
    for spec in [*by_service(stack(), tmp_path).values(),
                 *by_service(stack(network={"livekit_mode": "bridge"}), tmp_path).values()]:
        host_config = api.create_host_config(
            binds=spec.binds, port_bindings=spec.ports or None, network_mode=spec.network_mode,
            restart_policy={"Name": spec.restart, "MaximumRetryCount": 0},
            extra_hosts=spec.extra_hosts or None)
        networking = None if spec.network_mode == "host" else api.create_networking_config(
            {spec.network_mode: api.create_endpoint_config(aliases=[spec.service])})
        sdk = ContainerConfig(
            "1.41", image=spec.image, command=spec.command, detach=True,
            environment=spec.environment, labels=spec.labels, host_config=host_config,
            networking_config=networking, healthcheck=spec.healthcheck,
            ports=[tuple(port.split("/")) for port in spec.ports] or None,
            stop_timeout=STOP_TIMEOUT)
        meaningful = {key: value for key, value in sdk.items()
                      if value not in (None, False) and key != "NetworkDisabled"}
        body = spec.create_body(spec.labels)
        assert {key: value for key, value in body.items() if value is not False} \
            == meaningful, spec.service
        assert body["HostConfig"]["NetworkMode"] == spec.network_mode


def test_stun_servers_and_the_candidate_filter_reach_livekit_yaml(tmp_path: Path) -> None:
    """network.stun_servers is written as LiveKit's rtc.stun_servers (an IPv4 literal, a
    name, a bracketed IPv6); in host mode rtc.ips offers only network.lan_ip, or keeps
    Docker's bridge pool out when it is unknown; bridge mode needs neither."""
    import yaml

    from nasrtc.cli import main

    cases = {
        "lan": ({"network": {"lan_ip": "192.168.1.10", "stun_servers": [
            "11.0.0.3:3478", "STUN.example.org:3478", "[2001:db8::1]:3478"]}},
            {"includes": ["192.168.1.10/32"]}),
        "unknown": ({}, {"excludes": ["172.16.0.0/12", "::/0"]}),
        "bridge": ({"network": {"livekit_mode": "bridge", "lan_ip": "192.168.1.10"}}, None),
    }
    for name, (extra, ips) in cases.items():
        answers = tmp_path / f"{name}.yaml"
        answers.write_text(yaml.safe_dump({"domain": "example.org", **extra}))
        assert main(["init", "--dir", str(tmp_path / name), "--answers", str(answers)]) == 0
        rtc = yaml.safe_load((tmp_path / name / "livekit" / "livekit.yaml").read_text())["rtc"]
        assert rtc.get("ips") == ips, name
        if name == "lan":
            assert rtc["stun_servers"] == ["11.0.0.3:3478", "stun.example.org:3478",
                                           "[2001:db8::1]:3478"]
        else:
            assert "stun_servers" not in rtc
