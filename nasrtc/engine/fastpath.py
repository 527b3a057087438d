"""`up` with nothing to do, answered in a few milliseconds: the inputs are those of the
last successful `up` (engine/state.py) and the engine shows the same containers running,
with the same config hash, image and health, started after their mounted files were
written. Anything else (or any doubt) returns None and `up` takes the full path."""

from __future__ import annotations

from nasrtc.engine.labels import CONFIG_HASH
from nasrtc.engine.light import connect_light, written_since
from nasrtc.engine.state import current_state

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


def already_up(stack_dir: str, wait: bool = True) -> list[str] | None:
    """What `up` prints when the running stack already matches; else None. Without wait,
    a container whose health check has not answered yet counts (as `up --no-wait`)."""
    state = current_state(stack_dir)
    if state is None:
        return None
    engine = connect_light()
    if engine is None:
        return None
    try:
        return _check(engine, state, ("", "healthy") if wait else ("", "healthy", "starting"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # an answer of another shape than the engine's: not believed


def _check(engine: Any, state: dict[str, Any], healthy: tuple[str, ...]) -> list[str] | None:
    running = engine.services(state["project"])
    image_ids: dict[str, str | None] = {}
    lines = [f"nasrtc: {state['project']} is up to date: nothing was recreated."]
    for service, record in state["services"].items():
        summary = running.get(service)
        if summary is None or summary.get("State") != "running" \
                or (summary.get("Labels") or {}).get(CONFIG_HASH) \
                != record["hash"]:
            return None
        if record["image"] not in image_ids:
            image_ids[record["image"]] = engine.image_id(record["image"])
        if summary.get("ImageID") != image_ids[record["image"]]:
            return None
        details = engine.inspect(str(summary["Id"]))
        if details is None:
            return None
        health = ((details.get("State") or {}).get("Health") or {}).get("Status", "")
        if health not in healthy:
            return None  # starting or unhealthy: the full path waits and explains
        if written_since([str(path) for path in record["mounted"]],
                         str(details["State"]["StartedAt"])):
            return None
        state_words = ", ".join(part for part in ("running", health) if part)
        lines.append(f"  {service:<8} {'unchanged':<9} ({state_words})")
    return lines + [str(line) for line in state["report"]]


def record_up(stack_dir: Path, stack: Any, report: list[str]) -> None:
    """After a successful full `up`: what runs now, for the next one's quick answer."""
    from nasrtc.engine.spec import read_at_start
    from nasrtc.engine.state import write_state

    engine = connect_light()
    if engine is None:
        return
    try:
        running = engine.services(stack.project)
    except (OSError, ValueError):
        return
    folder = stack_dir.resolve()
    services = {}
    for service in stack.services:
        summary = running.get(service.name)
        if summary is None:
            return
        services[service.name] = {
            "container": str((summary.get("Names") or ["?"])[0]).lstrip("/"),
            "hash": str((summary.get("Labels") or {}).get(CONFIG_HASH)),
            "image": service.image,
            "mounted": [str(path) for path in read_at_start(folder, service)]}
    write_state(str(stack_dir), stack.project, services, report)
