"""A one-shot container in the stack's network, to see what a service sees: the same
network, the same extra_hosts. doctor uses it to fetch what the auth service must
fetch. The image is the stack's LiveKit image (Alpine: it has sh and wget)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from nasrtc.engine.client import connect, explain
from nasrtc.engine.spec import network_name
from nasrtc.errors import EngineError, NasrtcError
from nasrtc.i18n import _
from nasrtc.stack import Stack

PROBE_LABEL = "io.nasrtc.probe"  # value: the project it checks


class ImageMissing(NasrtcError):
    """The image to run the probe in is not on this host: the stack was never started."""


@dataclass(frozen=True)
class ProbeRun:
    exit_code: int
    output: str


def run_in_stack_network(stack: Stack, image: str, script: str,
                         extra_hosts: tuple[tuple[str, str], ...],
                         timeout: float) -> ProbeRun:
    """Run `sh -c script` once; the container is removed whatever happens."""
    import docker

    client = connect(timeout)
    try:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            raise ImageMissing(_("the image {image} is not on this host yet").format(image=image),
                               _("run `{nasrtc} up` first (it pulls it)")) from None
        network = network_name(stack)
        try:
            client.networks.get(network)
        except docker.errors.NotFound:
            network = "bridge"  # the stack is down; the mapping works the same there
        container = client.api.create_container(
            image=image, entrypoint=["sh", "-c"], command=[script], detach=True,
            labels={PROBE_LABEL: stack.project},
            host_config=client.api.create_host_config(
                network_mode=network, auto_remove=False,
                extra_hosts=[f"{host}:{address}" for host, address in extra_hosts] or None))
        try:
            client.api.start(container["Id"])
            code = _wait(client, container["Id"], timeout)
            output = client.api.logs(container["Id"], stdout=True, stderr=True)
            return ProbeRun(code, output.decode("utf-8", "replace"))
        finally:
            client.api.remove_container(container["Id"], force=True)
    except NasrtcError:
        raise
    except Exception as exc:
        raise explain(exc) from None


def _wait(client: Any, container_id: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.api.inspect_container(container_id)["State"]
        if state.get("Status") in ("exited", "dead"):
            return int(state.get("ExitCode", 1))
        time.sleep(0.2)
    raise EngineError(_("the check inside the stack's network did not finish within "
                        "{seconds} s").format(seconds=int(timeout)),
                      _("see `docker ps`; a hung name lookup or firewall"))
