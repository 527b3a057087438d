"""`down`: stop and remove the stack's containers (whoever made them: nasrtc or Compose in
the stack folder) and the project network once no container uses it. Through the light
unix-socket client when it can (stopping needs no SDK), else through the Docker SDK,
which also explains any failure. The SDK's modules load only when the light client
cannot do it: `down` stays quick."""

from __future__ import annotations

import threading
from typing import Any

from nasrtc.engine.labels import ONEOFF, PROJECT, SERVICE, STOP_TIMEOUT
from nasrtc.engine.light import LightEngine, connect_light
from nasrtc.services import ALL_SERVICES


class DownResult:
    def __init__(self, removed: list[str], networks: list[str]) -> None:
        self.removed, self.networks = removed, networks


def down(project: str) -> DownResult:
    engine = connect_light()
    if engine is not None:
        try:
            return _down_light(engine, project)
        except (OSError, ValueError):
            pass  # the SDK path repeats what is left and explains what fails
    return sdk_down(project)


def _down_light(engine: LightEngine, project: str) -> DownResult:
    from nasrtc.engine.calls import LightCalls, remove_idle_networks

    calls = LightCalls(engine)
    # The stack's services only: a service someone added to the project by hand stays;
    # an old container an interrupted `up` set aside goes with its service.
    found = [c for c in engine.containers(project)
             if (c.get("Labels") or {}).get(SERVICE) in ALL_SERVICES]
    failures: list[BaseException] = []

    def stop_and_remove(container_id: str) -> None:
        try:
            calls.stop(container_id, timeout=STOP_TIMEOUT)
            calls.remove_container(container_id)
        except (OSError, ValueError) as exc:
            failures.append(exc)

    workers = [threading.Thread(target=stop_and_remove, args=(str(c["Id"]),)) for c in found]
    for worker in workers:  # all at once, like compose
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise OSError(str(failures[0]))
    removed = sorted(str((c.get("Names") or ["?"])[0]).lstrip("/") for c in found)
    return DownResult(removed, remove_idle_networks(calls, project))


def sdk_down(project: str) -> DownResult:
    """`down` through the Docker SDK: the fallback of `down`, which explains failures."""
    from nasrtc.engine.calls import SdkCalls, remove_idle_networks
    from nasrtc.engine.client import connect
    from nasrtc.engine.lifecycle import engine_errors

    client = connect()
    with engine_errors():
        from concurrent.futures import ThreadPoolExecutor

        from nasrtc.failpoint import step

        def stop_and_remove(container: Any) -> str:
            container.stop(timeout=STOP_TIMEOUT)
            step("engine")
            container.remove()
            step("engine")
            return str(container.name)

        # The stack's services only (with copies an interrupted `up` set aside).
        found = [container for container in client.containers.list(all=True, filters={
            "label": [f"{PROJECT}={project}", f"{ONEOFF}=False"]})
            if container.labels.get(SERVICE) in ALL_SERVICES]
        with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:  # like compose
            removed = list(pool.map(stop_and_remove, found))
        return DownResult(sorted(removed), remove_idle_networks(SdkCalls(client), project))
