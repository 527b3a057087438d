"""`down`: stop and remove the stack's containers (whoever made them: nasrtc or Compose in
the stack folder) and the project network once no container uses it. Through the light
unix-socket client when it can (stopping needs no SDK), else through the Docker SDK,
which also explains any failure."""

from __future__ import annotations

import threading

from nasrtc.engine.labels import STOP_TIMEOUT
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
    from nasrtc.engine.lifecycle import sdk_down

    return sdk_down(project)


def _down_light(engine: LightEngine, project: str) -> DownResult:
    from nasrtc.engine.calls import LightCalls, remove_idle_networks

    calls = LightCalls(engine)
    # The stack's services only: a service someone added to the project by hand stays.
    found = [c for service, c in engine.services(project).items() if service in ALL_SERVICES]
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
