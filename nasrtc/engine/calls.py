"""The engine requests `up` makes, over one of two transports with the same answers:
the light client on a local unix socket (no Docker SDK to import: most of a first `up`'s
own time was that import), or the Docker SDK for TCP/TLS engines. Pulls always go
through the SDK (its streamed progress and registry auth), imported only when an image
is missing."""

from __future__ import annotations

import json

from nasrtc.engine.labels import ONEOFF, PROJECT
from nasrtc.engine.light import LightEngine, by_service, connect_light, quote, set_aside_copies
from nasrtc.failpoint import step

TYPE_CHECKING = False  # see pyproject's mypy always_true: `down` comes here, typing costs
if TYPE_CHECKING:
    from typing import Any, Callable, Union

    Calls = Union["LightCalls", "SdkCalls"]


class LightCalls:
    """The requests over the unix socket; failures raise OSError (EngineRefused with the
    engine's own reason) or ValueError, which engine/client.py's explain() words."""

    def __init__(self, engine: LightEngine) -> None:
        self.engine = engine

    def arch(self) -> str:
        found = self.engine.get("/version")
        return str(found.get("Arch", "")) if isinstance(found, dict) else ""

    def image(self, ref: str) -> dict[str, Any] | None:
        found = self.engine.get(f"/images/{quote(ref)}/json")
        return found if isinstance(found, dict) else None

    def containers(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.engine.get("/containers/json", all=1, filters=json.dumps(filters))
        return [item for item in found or [] if isinstance(item, dict)]

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        found = self.engine.get(f"/containers/{quote(container_id)}/json")
        if not isinstance(found, dict):
            raise OSError(f"container {container_id[:12]} is gone")
        return found

    def create_container(self, body: dict[str, Any], name: str) -> str:
        created = self.engine.call("POST", "/containers/create", body=body, name=name)
        return str(created["Id"])

    def start(self, container_id: str) -> None:
        self.engine.call("POST", f"/containers/{quote(container_id)}/start")

    def restart(self, container_id: str, timeout: int) -> None:
        self.engine.call("POST", f"/containers/{quote(container_id)}/restart", t=timeout)

    def stop(self, container_id: str, timeout: int) -> None:
        self.engine.call("POST", f"/containers/{quote(container_id)}/stop", t=timeout)

    def rename(self, container_id: str, name: str) -> None:
        self.engine.call("POST", f"/containers/{quote(container_id)}/rename", name=name)

    def remove_container(self, container_id: str) -> None:
        self.engine.call("DELETE", f"/containers/{quote(container_id)}", force=1)

    def logs(self, container_id: str, tail: int) -> str:
        status, answer = self.engine.raw("GET", f"/containers/{quote(container_id)}/logs",
                                         stdout=1, stderr=1, tail=tail)
        if status != 200:
            raise OSError(f"no log for container {container_id[:12]} ({status})")
        return demultiplex(answer).decode("utf-8", "replace")

    def run_check(self, container_id: str, command: list[str], timeout: float) -> int | None:
        """`command` run in the container (as its health check runs): its exit code, or
        None when it has not ended within `timeout`. Not counted as a change: it changes
        nothing of the stack."""
        created = self.engine.call("POST", f"/containers/{quote(container_id)}/exec",
                                   body={"Cmd": command, "AttachStdout": False,
                                         "AttachStderr": False})
        exec_id = quote(str(created["Id"]))
        self.engine.call("POST", f"/exec/{exec_id}/start", body={"Detach": True})
        return _exit_code(lambda: self.engine.get(f"/exec/{exec_id}/json"), timeout)

    def networks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.engine.get("/networks", filters=json.dumps(filters))
        return [item for item in found or [] if isinstance(item, dict)]

    def create_network(self, name: str, labels: dict[str, str]) -> str:
        created = self.engine.call("POST", "/networks/create", body={
            "Name": name, "Driver": "bridge", "Labels": labels, "CheckDuplicate": True})
        return str(created["Id"])

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        found = self.engine.get(f"/networks/{quote(network_id)}")
        if not isinstance(found, dict):
            raise OSError(f"network {network_id[:12]} is gone")
        return found

    def remove_network(self, network_id: str) -> None:
        self.engine.call("DELETE", f"/networks/{quote(network_id)}")


def demultiplex(stream: bytes) -> bytes:
    """A container's log as the engine sends it without a terminal: frames of an 8-byte
    header (stream, 0, 0, 0, length big-endian) and that many bytes; stdout and stderr
    joined in order. A log that is not framed (a container with a tty) is returned whole."""
    out: list[bytes] = []
    at = 0
    while at + 8 <= len(stream):
        if stream[at] not in (0, 1, 2) or stream[at + 1:at + 4] != b"\0\0\0":
            return stream if at == 0 else b"".join(out)
        size = int.from_bytes(stream[at + 4:at + 8], "big")
        out.append(stream[at + 8:at + 8 + size])
        at += 8 + size
    return b"".join(out) if out else stream


class SdkCalls:
    """The same requests through the Docker SDK's low-level client."""

    def __init__(self, client: Any) -> None:
        self.api = client.api

    def arch(self) -> str:
        return str(self.api.version().get("Arch", ""))

    def image(self, ref: str) -> dict[str, Any] | None:
        import docker

        try:
            return dict(self.api.inspect_image(ref))
        except docker.errors.ImageNotFound:
            return None

    def containers(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.api.containers(all=True, filters=filters))

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return dict(self.api.inspect_container(container_id))

    def create_container(self, body: dict[str, Any], name: str) -> str:
        created = str(self.api.create_container_from_config(body, name=name)["Id"])
        step("engine")  # a change made: where a test may kill, as on the light transport
        return created

    def start(self, container_id: str) -> None:
        self.api.start(container_id)
        step("engine")

    def restart(self, container_id: str, timeout: int) -> None:
        self.api.restart(container_id, timeout=timeout)
        step("engine")

    def stop(self, container_id: str, timeout: int) -> None:
        self.api.stop(container_id, timeout=timeout)
        step("engine")

    def rename(self, container_id: str, name: str) -> None:
        self.api.rename(container_id, name)
        step("engine")

    def remove_container(self, container_id: str) -> None:
        self.api.remove_container(container_id, force=True)
        step("engine")

    def logs(self, container_id: str, tail: int) -> str:
        return bytes(self.api.logs(container_id, tail=tail)).decode("utf-8", "replace")

    def run_check(self, container_id: str, command: list[str], timeout: float) -> int | None:
        created = self.api.exec_create(container_id, command, stdout=False, stderr=False)
        self.api.exec_start(created["Id"], detach=True)
        return _exit_code(lambda: self.api.exec_inspect(created["Id"]), timeout)

    def networks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.api.networks(filters=filters))

    def create_network(self, name: str, labels: dict[str, str]) -> str:
        created = str(self.api.create_network(name, driver="bridge", labels=labels)["Id"])
        step("engine")
        return created

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        return dict(self.api.inspect_network(network_id))

    def remove_network(self, network_id: str) -> None:
        self.api.remove_network(network_id)
        step("engine")


def _exit_code(inspect: Callable[[], Any], timeout: float) -> int | None:
    """The exit code of an exec once it has ended (polled: the engine has no wait for
    execs), or None at the deadline. A check such as LiveKit's ends within milliseconds:
    the first polls come soon, later ones less often."""
    import time

    deadline = time.monotonic() + timeout
    pause = 0.002
    while True:
        found = inspect()
        if isinstance(found, dict) and found.get("Running") is False \
                and isinstance(found.get("ExitCode"), int):
            return int(found["ExitCode"])
        if time.monotonic() > deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def inspected(calls: Calls, project: str,
              set_aside: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The project's containers by service (light.by_service: the current one while `up`
    recreates), each inspected: state, health, restarts, ports. `set_aside`, when given,
    gets the names of old containers an interrupted `up` left aside, from the same listing."""
    listed = calls.containers({"label": [f"{PROJECT}={project}", f"{ONEOFF}=False"]})
    if set_aside is not None:
        set_aside.extend(sorted(str((c.get("Names") or ["?"])[0]).lstrip("/")
                                for c in set_aside_copies(listed)))
    found = by_service(listed, project)
    return {service: calls.inspect_container(str(summary.get("Id")))
            for service, summary in found.items()}


def remove_idle_networks(calls: Calls, project: str) -> list[str]:
    """The project's networks (nasrtc's or Compose's) no container uses: removed, named."""
    removed = []
    for network in calls.networks({"label": [f"{PROJECT}={project}"]}):
        details = calls.inspect_network(str(network["Id"]))
        if not details.get("Containers"):
            calls.remove_network(str(network["Id"]))
            removed.append(str(network.get("Name")))
    return removed


def engine_calls(timeout: float) -> LightCalls | SdkCalls:
    """The light client for a local unix socket, else the SDK (which has answered a ping)."""
    light = connect_light(timeout)
    if light is not None:
        return LightCalls(light)
    from nasrtc.engine.client import connect

    return SdkCalls(connect(timeout))
