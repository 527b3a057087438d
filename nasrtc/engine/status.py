"""Each service's container as `status` (and doctor, and upgrade) show it. Read through
the light unix-socket client when it can answer (a `status` then costs a few
milliseconds of engine work), else through the Docker SDK; both give the engine's own
inspect documents, which one function turns into rows."""

from __future__ import annotations

import time

from nasrtc.engine.labels import PORTS_LABEL

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from typing import Any


class ServiceStatus:
    """One row. (A plain class: dataclasses would cost every `status` milliseconds.)"""

    def __init__(self, service: str, container: str, state: str, health: str, image: str,
                 ports: list[str], started_at: str, uptime_seconds: int | None) -> None:
        self.service, self.container, self.state, self.health = service, container, state, health
        self.image, self.ports, self.started_at = image, ports, started_at
        self.uptime_seconds = uptime_seconds

    def as_dict(self) -> dict[str, Any]:
        """The words the text table shows ('-' for nothing), for --json."""
        words: dict[str, Any] = {key: ("-" if value in ("", None) else value)
                                 for key, value in vars(self).items()}
        words["ports"] = self.ports or ["-"]
        return words


def row(service: str, details: dict[str, Any] | None) -> ServiceStatus:
    """A row from the engine's inspect document of the service's container (or None)."""
    from nasrtc.engine.light import started_ns

    if details is None:
        return ServiceStatus(service, "", "not created", "", "", [], "", None)
    state = details.get("State") or {}
    started = str(state.get("StartedAt", ""))
    uptime = None
    if state.get("Status") == "running" and started:
        try:
            uptime = max(0, (time.time_ns() - started_ns(started)) // 1_000_000_000)
        except ValueError:
            uptime = None
    ports = []
    if (details.get("HostConfig") or {}).get("NetworkMode") == "host":
        held = ((details.get("Config") or {}).get("Labels") or {}).get(PORTS_LABEL, "")
        ports += [f"{item.split('/')[1]}/{item.split('/')[0]} (host network)"
                  for item in held.split()] or ["host network"]
    for spec, bindings in ((details.get("NetworkSettings") or {}).get("Ports") or {}).items():
        for binding in bindings or []:
            ports.append(f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}"
                         f"->{spec}")
    return ServiceStatus(
        service, str(details.get("Name", "")).lstrip("/"), str(state.get("Status", "")),
        str((state.get("Health") or {}).get("Status", "")),
        str((details.get("Config") or {}).get("Image", "")), ports, started, uptime)


def inspected_light(project: str, timeout: float, set_aside: list[str] | None = None,
                    passed: dict[str, Any] | None = None) -> dict[str, dict[str, Any]] | None:
    """`passed`: the checks the last `up` saw pass (health_probe.vouch_for_starting)."""
    from nasrtc.engine.health_probe import vouch_for_starting

    got = _light(project, timeout, set_aside)
    if got is None:
        return None
    vouch_for_starting(got[1], passed or {})
    return got[1]


def _light(project: str, timeout: float, set_aside: list[str] | None,
           ) -> tuple[Any, dict[str, dict[str, Any]]] | None:
    from nasrtc.engine.calls import LightCalls, inspected
    from nasrtc.engine.light import connect_light

    engine = connect_light(timeout)
    if engine is None:
        return None
    calls = LightCalls(engine)
    try:
        return calls, inspected(calls, project, set_aside)
    except (OSError, ValueError):
        return None  # the SDK path gives the failure its explanation


def _sdk(project: str, timeout: float, set_aside: list[str] | None = None,
         ) -> tuple[Any, dict[str, dict[str, Any]]]:
    from nasrtc.engine.calls import SdkCalls, inspected
    from nasrtc.engine.client import connect, explain
    from nasrtc.errors import NasrtcError

    calls = SdkCalls(connect(timeout))
    try:
        return calls, inspected(calls, project, set_aside)
    except NasrtcError:
        raise
    except Exception as exc:
        raise explain(exc) from None


def shown_services(found: dict[str, Any]) -> list[str]:
    """The stack's services, and an optional one (Redis) where it has a container."""
    from nasrtc.services import OPTIONAL_SERVICES, STACK_SERVICES

    return [*STACK_SERVICES, *(name for name in OPTIONAL_SERVICES if name in found)]


def rows(found: dict[str, dict[str, Any]],
         services: tuple[str, ...] | None = None) -> list[ServiceStatus]:
    """A row per service: those named, or the stack's (shown_services)."""
    return [row(service, found.get(service)) for service in services or shown_services(found)]


def status(project: str, services: tuple[str, ...] | None = None,
           timeout: float = 60, set_aside: list[str] | None = None,
           stack_dir: str | None = None) -> list[ServiceStatus]:
    """The rows; `set_aside` gets what an interrupted `up` left (inspected). With the
    stack's folder, a container the engine still calls "starting" (its first check may be
    30 s away) is "healthy" where the last `up` saw this run's check pass, or where its
    check passes when run now (health_probe), as `up` would say."""
    got = _light(project, timeout, set_aside)
    if got is None:
        if set_aside is not None:
            del set_aside[:]  # the SDK's listing says it again
        got = _sdk(project, timeout, set_aside)
    calls, found = got
    if stack_dir is not None:
        from nasrtc.engine import health_probe

        health_probe.vouch_for_starting(found, health_probe.passed_at(stack_dir))
        health_probe.check_starting(calls, found)
    return rows(found, services)


def print_rows(rows: list[ServiceStatus], as_json: bool) -> None:
    """The table (or JSON) `nasrtc status` prints, with a note per outdated pin."""
    from nasrtc.versions import VERSION_SET

    older = _older_than_tested(rows)
    if as_json:
        import json

        print(json.dumps([{**row.as_dict(), "tested_image": VERSION_SET.get(row.service),
                           "older_than_tested": row.service in older} for row in rows],
                         indent=2))
        return
    from nasrtc.i18n import _, pad, width

    # The headings in the user's language; each column at least as wide as before.
    headings = [_("SERVICE"), _("STATE"), _("HEALTH"), _("UPTIME"), _("IMAGE"), _("PORTS")]
    widths = [max(least, width(heading)) for least, heading in
              zip((8, 11, 9, 8, 42), headings)]
    print("  ".join(pad(heading, size) for heading, size in zip(headings, widths))
          + "  " + headings[-1])
    for item in rows:
        uptime = duration(item.uptime_seconds) if item.uptime_seconds is not None else "-"
        cells = (item.service, item.state, item.health or "-", uptime, item.image or "-")
        print("  ".join(pad(cell, size) for cell, size in zip(cells, widths))
              + "  " + (", ".join(item.ports) or "-"))
    for service in older:
        print(_("note: {service} runs an image older than the set this nasrtc was tested "
                "with ({image}): `{nasrtc} upgrade` moves it").format(
            service=service, image=VERSION_SET[service]))


def _older_than_tested(rows: list[ServiceStatus]) -> list[str]:
    """Services running an earlier nasrtc's pin (not the user's own, not the current)."""
    from nasrtc.versions import VERSION_SET, nasrtc_pin

    # Only the services `upgrade` moves.
    return [item.service for item in rows if item.image and item.service in VERSION_SET
            and item.image != VERSION_SET[item.service] and nasrtc_pin(item.service, item.image)]


def duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
