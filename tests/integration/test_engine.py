"""nasrtc up / down / status against a real Docker engine, with local stand-in
images (tests/standin_images.py). Skipped without an engine, except in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REQUIRE_TOOLS, engine_says_healthy, free_port
from tests.integration import standin_images as images

pytestmark = pytest.mark.engine


def http_get(port: int, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return str(answer.read().decode().strip())


def test_up_from_nothing_then_status_then_down(make_stack: Any) -> None:
    stack = make_stack()
    result = stack.nasrtc("up")
    assert result.code == 0, result.err
    p = stack.answers["ports"]
    assert f"http://127.0.0.1:{p['livekit_http']}" in result.out
    names = set(stack.containers())
    assert names == {f"{stack.project}-livekit-1", f"{stack.project}-jwt-1"}
    for container in stack.containers().values():
        labels = container.labels
        assert labels["com.docker.compose.project"] == stack.project
        assert labels["com.docker.compose.service"] in ("livekit", "jwt")
        assert labels["com.docker.compose.container-number"] == "1"
        assert labels["com.docker.compose.config-hash"]
        assert labels["com.docker.compose.project.working_dir"] == str(stack.dir.resolve())
        assert labels["com.docker.compose.project.config_files"] == \
            str(stack.dir.resolve() / "compose.yaml")
        assert engine_says_healthy(container), container.name
    # The services really answer where up says they do.
    assert http_get(p["livekit_http"]) == "OK"
    assert http_get(p["jwt_http"], "/healthz") == "ok"

    status = stack.nasrtc("status", "--json")
    assert status.code == 0, status.err
    rows = {row["service"]: row for row in yaml.safe_load(status.out)}
    assert rows["livekit"]["state"] == "running" and rows["jwt"]["health"] == "healthy"
    assert rows["livekit"]["ports"] == [  # the NAS ports it listens on, not just "host"
        f"{p['livekit_http']}/tcp (host network)", f"{p['rtc_tcp']}/tcp (host network)",
        f"{p['rtc_udp']}/udp (host network)"]
    assert rows["jwt"]["ports"] == [f"127.0.0.1:{p['jwt_http']}->8080/tcp"]
    assert rows["jwt"]["image"] == images.JWT and rows["jwt"]["uptime_seconds"] >= 0
    table = stack.nasrtc("status")
    assert "SERVICE" in table.out and "healthy" in table.out

    down = stack.nasrtc("down")
    assert down.code == 0, down.err
    assert stack.containers() == {}
    assert not stack.client.networks.list(filters={"name": f"{stack.project}_default"})
    assert (stack.dir / "secrets" / "livekit_api_secret").exists()
    assert (stack.dir / "nasrtc.yaml").exists()
    again = stack.nasrtc("down")
    assert again.code == 0 and "not running; nothing to stop" in again.out


def test_second_up_changes_nothing(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    before = stack.ids()
    again = stack.nasrtc("up")
    assert again.code == 0, again.err
    assert "up to date: nothing was recreated" in again.out
    assert stack.ids() == before


def test_a_port_change_recreates_only_that_service(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    before = stack.ids()
    new_port = free_port()
    stack.set_answer("ports", "rtc_tcp", new_port)
    result = stack.nasrtc("up")
    assert result.code == 0, result.err
    assert "rendered livekit/livekit.yaml from nasrtc.yaml first" in result.out
    after = stack.ids()
    livekit, jwt = f"{stack.project}-livekit-1", f"{stack.project}-jwt-1"
    assert after[jwt] == before[jwt], "the auth service did not change"
    assert after[livekit] != before[livekit], "LiveKit's config changed"
    assert f"tcp_port: {new_port}" in (stack.dir / "livekit/livekit.yaml").read_text()


def test_bridge_mode_jwt_port_change_recreates_only_jwt(make_stack: Any) -> None:
    stack = make_stack(network={"livekit_mode": "bridge"})
    assert stack.nasrtc("up").code == 0
    before = stack.ids()
    stack.set_answer("ports", "jwt_http", free_port())
    assert stack.nasrtc("up").code == 0
    after = stack.ids()
    assert after[f"{stack.project}-livekit-1"] == before[f"{stack.project}-livekit-1"]
    assert after[f"{stack.project}-jwt-1"] != before[f"{stack.project}-jwt-1"]


def test_down_leaves_foreign_containers_and_up_refuses_their_names(
        make_stack: Any, client: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    assert stack.nasrtc("down").code == 0
    clash = client.containers.create(images.JWT, name=f"{stack.project}-jwt-1")
    # A service the user added to the project by hand: not the stack's to remove.
    bystander = client.containers.create(images.JWT, name=f"{stack.project}-notes", labels={
        "com.docker.compose.project": stack.project, "com.docker.compose.service": "notes",
        "com.docker.compose.oneoff": "False"})
    try:
        assert stack.nasrtc("down").code == 0
        refused = stack.nasrtc("up")
        assert refused.code == 4
        assert f"a container named {stack.project}-jwt-1 exists and is not part of this " \
               "stack (made by something other than Compose)" in refused.err
        assert "docker rm -f" in refused.err
        names = {c.name for c in client.containers.list(all=True)}
        assert {clash.name, bystander.name} <= names, "foreign containers must survive"
    finally:
        clash.remove(force=True)
        bystander.remove(force=True)


def test_hand_edited_compose_stops_up_unless_forced(make_stack: Any) -> None:
    stack = make_stack()
    compose = stack.dir / "compose.yaml"
    compose.write_text(compose.read_text().replace("restart: unless-stopped", "restart: always"))
    refused = stack.nasrtc("up")
    assert refused.code == 3
    assert "compose.yaml" in refused.err and "--force" in refused.err
    assert stack.containers() == {}
    forced = stack.nasrtc("up", "--force")
    assert forced.code == 0, forced.err
    assert (stack.dir / "compose.yaml.bak").exists()
    assert "restart: always" not in compose.read_text()


@pytest.mark.skipif(not shutil.which("docker-compose") and not REQUIRE_TOOLS,
                    reason="docker-compose not installed (tests/run.sh installs it)")
def test_containers_match_what_docker_compose_creates(make_stack: Any, client: Any) -> None:
    """Same compose.yaml, two creators: compare what a user's setup depends on."""
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    ours = {c.labels["com.docker.compose.service"]: normalise(c.attrs)
            for c in stack.containers().values()}
    assert stack.nasrtc("down").code == 0
    compose = subprocess.run(["docker-compose", "up", "-d"], cwd=stack.dir,
                             capture_output=True, text=True)
    try:
        assert compose.returncode == 0, compose.stderr
        theirs = {c.labels["com.docker.compose.service"]: normalise(c.attrs)
                  for c in stack.containers().values()}
    finally:
        subprocess.run(["docker-compose", "down"], cwd=stack.dir, capture_output=True)
    assert sorted(ours) == sorted(theirs) == ["jwt", "livekit"]
    for service in ours:
        for field_name in ours[service]:
            assert ours[service][field_name] == theirs[service][field_name], \
                f"{service}: {field_name} differs"
    # `docker-compose down` in the folder found the project through .env.
    assert stack.containers() == {}


def normalise(attrs: dict[str, Any]) -> dict[str, Any]:
    config, host = attrs["Config"], attrs["HostConfig"]
    ports = {spec: sorted((b.get("HostIp") or "0.0.0.0", b["HostPort"]) for b in bindings or [])
             for spec, bindings in (host.get("PortBindings") or {}).items()}
    return {
        "image": config["Image"],
        "command": config["Cmd"],
        "entrypoint": config["Entrypoint"],
        "environment": sorted(config["Env"] or []),
        "mounts": sorted((m["Source"], m["Destination"], m["RW"]) for m in attrs["Mounts"]),
        "ports": ports,
        "network_mode": host["NetworkMode"],
        "restart": host["RestartPolicy"]["Name"],
        "healthcheck": config.get("Healthcheck"),
        "extra_hosts": sorted(host.get("ExtraHosts") or []),
    }


def test_engine_not_running(make_stack: Any, tmp_path: Path) -> None:
    stack = make_stack()
    env = {"DOCKER_HOST": f"unix://{tmp_path}/nobody-serves-this.sock"}
    for command in ("up", "down", "status"):
        result = stack.nasrtc(command, env=env)
        assert result.code == 4, (command, result.err)
        assert "cannot reach the Docker engine at unix://" in result.err
        assert "Container Manager" in result.err and "Traceback" not in result.err


def test_socket_the_user_cannot_open(make_stack: Any, tmp_path: Path) -> None:
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop root's file override")
    stack = make_stack()
    path = tmp_path / "locked.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        os.chmod(path, 0)
        # Root without CAP_DAC_OVERRIDE obeys file modes, like an ordinary user.
        drop = "-dac_override,-dac_read_search"
        result = subprocess.run(
            ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", sys.executable,
             "-m", "nasrtc", "status", "--dir", str(stack.dir)],
            env={**os.environ, "DOCKER_HOST": f"unix://{path}"}, capture_output=True, text=True,
            timeout=60)
    assert result.returncode == 4, result.stderr
    assert "permission denied on the Docker socket" in result.stderr
    assert "sudo" in result.stderr


def test_occupied_port_is_named_with_its_owner(make_stack: Any) -> None:
    stack = make_stack()
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("0.0.0.0", stack.answers["ports"]["jwt_http"]))
        holder.listen()
        result = stack.nasrtc("up")
    port = stack.answers["ports"]["jwt_http"]
    assert result.code == 4
    # The holder is this test process: the message names it and its pid.
    assert f"TCP port {port} is already in use on this host (" in result.err
    assert f"(pid {os.getpid()}))" in result.err
    assert "choose another port in nasrtc.yaml" in result.err
    # Checked before anything was created: LiveKit (first in line) was not started either.
    assert "nothing was changed" in result.err
    assert stack.containers() == {}


def test_missing_image_that_cannot_be_pulled(make_stack: Any) -> None:
    stack = make_stack(images={"jwt": "nasrtc-test/never-built:1"})
    result = stack.nasrtc("up")
    assert result.code == 4
    assert "image nasrtc-test/never-built:1 is not on this host and could not be pulled" \
        in result.err
    assert "docker load" in result.err and "images.livekit / images.jwt" in result.err
    assert stack.containers() == {}


def test_architecture_mismatch(make_stack: Any, client: Any) -> None:
    image = images.ensure_foreign_arch_image(client)
    stack = make_stack(images={"jwt": image})
    result = stack.nasrtc("up")
    assert result.code == 4
    assert f"image {image} is built for {images.foreign_arch(client)}" in result.err
    assert stack.containers() == {}


def test_a_tcp_engine_address_makes_the_same_stack(make_stack: Any, tcp_engine: str) -> None:
    """Through the SDK (tcp://) and through the light client (the socket): the same
    containers, so either finds nothing to change after the other."""
    stack = make_stack()
    through_sdk = {"DOCKER_HOST": tcp_engine}
    result = stack.nasrtc("up", env=through_sdk)
    assert result.code == 0, result.err
    ids = stack.ids()
    assert len(ids) == 2
    again = stack.nasrtc("up", "--force")  # the socket, and the full path (no quick lane)
    assert again.code == 0, again.err
    assert "is up to date: nothing was recreated" in again.out
    assert stack.ids() == ids
    status = stack.nasrtc("status", env=through_sdk)
    assert status.code == 0 and "healthy" in status.out, status.err
    assert stack.nasrtc("down", env=through_sdk).code == 0
    assert stack.containers() == {}


@pytest.mark.parametrize("transport", ["socket", "tcp"])
def test_crash_loop_shows_the_log_and_a_hint(make_stack: Any, transport: str,
                                             request: pytest.FixtureRequest) -> None:
    env = {"DOCKER_HOST": request.getfixturevalue("tcp_engine")} if transport == "tcp" \
        else None
    stack = make_stack(images={"livekit": images.CRASH})
    result = stack.nasrtc("up", "--timeout", "60", env=env)
    assert result.code == 4
    assert "the livekit container" in result.err and "stopped or keeps restarting" in result.err
    assert "| stand-in: config error, stopping" in result.err
    assert "STUN" in result.err  # the LiveKit hint


@pytest.mark.skipif(not shutil.which("docker-compose") and not REQUIRE_TOOLS,
                    reason="docker-compose not installed (tests/run.sh installs it)")
def test_docker_compose_sees_and_removes_what_nasrtc_created(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    listed = subprocess.run(["docker-compose", "ps", "--services"], cwd=stack.dir,
                            capture_output=True, text=True)
    assert sorted(listed.stdout.split()) == ["jwt", "livekit"], listed.stderr
    removed = subprocess.run(["docker-compose", "down"], cwd=stack.dir, capture_output=True,
                             text=True)
    assert removed.returncode == 0, removed.stderr
    assert stack.containers() == {}


def test_no_wait_returns_once_started(make_stack: Any) -> None:
    stack = make_stack()
    result = stack.nasrtc("up", "--no-wait")
    assert result.code == 0, result.err
    assert "waiting for the containers" not in result.out
    states = {c.labels["com.docker.compose.service"]: c.status
              for c in stack.containers().values()}
    assert states == {"livekit": "running", "jwt": "running"}


def test_livekit_http_listens_only_where_bind_address_says(make_stack: Any, client: Any) -> None:
    """Host mode: LiveKit's HTTP port is for the reverse proxy on this host, not the LAN."""
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    port = stack.answers["ports"]["livekit_http"]
    assert http_get(port) == "OK"
    # This host's address on Docker's bridge: one of its own, not loopback.
    subnet = client.networks.get("bridge").attrs["IPAM"]["Config"][0]["Subnet"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((subnet.split("/")[0].rsplit(".", 1)[0] + ".2", 9))
        other = probe.getsockname()[0]
    assert not other.startswith("127.")
    with pytest.raises(OSError):
        socket.create_connection((other, port), timeout=2).close()
    rtc_tcp = stack.answers["ports"]["rtc_tcp"]
    assert f"tcp_port: {rtc_tcp}" in (stack.dir / "livekit" / "livekit.yaml").read_text()


def test_up_heals_a_network_created_twice(make_stack: Any, client: Any) -> None:
    """Two runs at once (before the lock existed) could create the project network twice;
    every later up then failed on the ambiguous name."""
    stack = make_stack()
    name = f"{stack.project}_default"
    labels = {"com.docker.compose.project": stack.project,
              "com.docker.compose.network": "default", "io.nasrtc.project": stack.project}
    for _ in range(2):
        client.api.create_network(name, driver="bridge", labels=labels, check_duplicate=False)
    assert len(client.networks.list(names=[name])) == 2
    result = stack.nasrtc("up", "--no-wait")
    assert result.code == 0, result.err
    assert len(client.networks.list(names=[name])) == 1
