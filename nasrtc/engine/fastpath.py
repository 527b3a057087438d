"""`up` with nothing to do, answered in a few milliseconds: the inputs are those of the
last successful `up` (engine/state.py) and the engine shows the same containers running,
with the same config hash, image and health, started after their mounted files were
written. Anything else (or any doubt) returns None and `up` takes the full path."""

from __future__ import annotations

from nasrtc.engine.health_probe import run_of
from nasrtc.engine.labels import CONFIG_HASH
from nasrtc.engine.light import by_service, connect_light, set_aside_copies, written_since
from nasrtc.engine.state import current_state
from nasrtc.i18n import N_, _, columns, pad

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
    listed = engine.containers(state["project"])
    if set_aside_copies(listed):
        return None  # an interrupted `up` left a copy: the full path heals it
    running = by_service(listed, state["project"])
    image_ids: dict[str, str | None] = {}
    lines = [_("nasrtc: {project} is up to date: nothing was recreated.").format(
        project=state["project"])]
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
        if health == "starting" and record.get("passed") == run_of(details):
            health = "healthy"  # up saw its check pass; the engine's first is to come
        if health not in healthy:
            return None  # starting or unhealthy: the full path waits and explains
        if written_since([str(path) for path in record["mounted"]],
                         str(details["State"]["StartedAt"])):
            return None
        lines.append(service_line(service, "unchanged", ("running", health)))
    return lines + where_it_answers(state["addresses"])


# What `up` did to each service, in words (lifecycle's actions).
ACTIONS = {"created": N_("created"), "recreated": N_("recreated"), "started": N_("started"),
           "restarted": N_("restarted"), "unchanged": N_("unchanged")}


def service_line(service: str, action: str, states: tuple[str, ...] = ()) -> str:
    """'  livekit  unchanged (running, healthy)': one service's line in `up`'s report."""
    shown = ", ".join(part for part in states if part)
    return (f"  {pad(service, 8)} {pad(_(ACTIONS[action]) if action in ACTIONS else action, 9)}"
            + (f" ({shown})" if shown else "")).rstrip()


def addresses_of(stack: Any) -> dict[str, str]:
    """Where the stack answers: recorded by `up`, reported by every `up` after it."""
    return {"sfu_local": stack.sfu_route.upstream, "sfu_public": stack.livekit_url,
            "jwt_local": stack.jwt_route.upstream, "jwt_public": stack.jwt_url}


def where_it_answers(addresses: dict[str, str]) -> list[str]:
    """The end of `up`'s report, in the user's language."""
    rows = columns([
        (_("LiveKit SFU"), _("{local} on this host; public {public} through the reverse "
                             "proxy").format(local=addresses["sfu_local"],
                                             public=addresses["sfu_public"])),
        (_("Auth service"), _("{local}/healthz on this host; public {public}/healthz")
         .format(local=addresses["jwt_local"], public=addresses["jwt_public"]))])
    return ["\n" + _("Where it answers:"), *(f"  {line}" for line in rows),
            _("next: finish checklist.md if you have not, then make a test call (one phone on "
              "mobile data).")]


def record_up(stack_dir: Path, stack: Any, healthy: set[str] | frozenset[str] = frozenset(),
              ) -> None:
    """After a successful full `up`: what runs now, for the next one's quick answer; for
    each service in `healthy`, the container (and its start) whose health check passed."""
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
        details = engine.inspect(str(summary.get("Id"))) if service.name in healthy else None
        if details is not None:
            services[service.name]["passed"] = run_of(details)
    write_state(str(stack_dir), stack.project, services, addresses_of(stack))
