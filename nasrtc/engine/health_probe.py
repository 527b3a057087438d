"""A container's own health check, run by `up` as soon as the container runs, instead of
waiting for the engine's first scheduled one: Docker runs that one an `interval` after the
start (10 s for LiveKit, 30 s in the auth service's image), while the services answer
within a second or two. A check passing here is the same command in the same container,
so `up` need not wait longer; a check failing here proves nothing (the service may still be
starting), so only the engine's own "unhealthy" makes `up` fail. Engines from 25 on could
do this themselves (`start_interval`), but DSM's and Debian 12's are older."""

from __future__ import annotations

TYPE_CHECKING = False  # see pyproject's mypy always_true
if TYPE_CHECKING:
    from typing import Any

    from nasrtc.engine.calls import Calls

LONGEST = 10.0  # seconds one run may take here, whatever the check's own timeout says
EVERY = 1.0  # seconds between two runs for the same container: a NAS CPU is small


def check_command(details: dict[str, Any]) -> list[str] | None:
    """The command Docker runs for the container's health check (from its inspection:
    the check of the compose file, else the image's), or None when it has none."""
    check = (details.get("Config") or {}).get("Healthcheck") or {}
    test = check.get("Test") if isinstance(check, dict) else None
    if not isinstance(test, list) or not all(isinstance(part, str) for part in test):
        return None
    if len(test) > 1 and test[0] == "CMD":
        return list(test[1:])
    if len(test) == 2 and test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", test[1]]
    return None  # NONE, or nothing Docker would run


def check_timeout(details: dict[str, Any]) -> float:
    check = (details.get("Config") or {}).get("Healthcheck") or {}
    nanoseconds = check.get("Timeout") if isinstance(check, dict) else None
    if isinstance(nanoseconds, int) and not isinstance(nanoseconds, bool) and nanoseconds > 0:
        return min(nanoseconds / 1e9, LONGEST)
    return LONGEST  # Docker's default is 30 s


def passes(calls: Calls, details: dict[str, Any]) -> bool:
    """Whether the container's health check passes now, run once in it."""
    command = check_command(details)
    if command is None:
        return False
    try:
        return calls.run_check(str(details["Id"]), command, check_timeout(details)) == 0
    except Exception:  # any failure proves nothing: the engine's own check decides
        return False


def run_of(details: dict[str, Any]) -> list[str]:
    """One run of a container: its id and when it started (a restart is another run)."""
    return [str(details.get("Id")), str((details.get("State") or {}).get("StartedAt"))]


def _starting(found: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any],
                                                             dict[str, Any]]]:
    """(service, inspection, its health) of each running container the engine still calls
    "starting"."""
    out = []
    for service, details in found.items():
        state = details.get("State") if isinstance(details, dict) else None
        health = state.get("Health") if isinstance(state, dict) else None
        if isinstance(state, dict) and isinstance(health, dict) \
                and state.get("Status") == "running" and health.get("Status") == "starting":
            out.append((service, details, health))
    return out


def vouch_for_starting(found: dict[str, dict[str, Any]], passed: dict[str, Any]) -> None:
    """Inspections (by service) of running containers the engine still calls "starting":
    "healthy" where the record of the last `up` says it saw this very run's check pass
    (`passed`: service -> run_of), so that `status` says what `up` said a moment before
    (the engine's own first check may be 30 s away). Nothing is run: `status` only reads."""
    for service, details, health in _starting(found):
        if passed.get(service) == run_of(details):
            health["Status"] = "healthy"


def passed_at(stack_dir: str) -> dict[str, Any]:
    """The checks the last `up` in this folder saw pass (service -> run_of), from its
    record; none when there is no record."""
    from nasrtc.engine.state import read_state

    return passed_in(read_state(stack_dir) or {})


def passed_in(state: dict[str, Any]) -> dict[str, Any]:
    """The same from a record already read (a forged one's word is checked against the
    engine's: the container's id and start must match)."""
    services = state.get("services")
    if not isinstance(services, dict):
        return {}
    return {name: record.get("passed") for name, record in services.items()
            if isinstance(record, dict)}


def check_starting(calls: Calls, found: dict[str, dict[str, Any]]) -> None:
    """Running containers the engine still calls "starting": their checks run here, all at
    once (each exec costs the engine tens of milliseconds), "healthy" where one passes."""
    import threading

    def settle(details: dict[str, Any], health: dict[str, Any]) -> None:
        if passes(calls, details):
            health["Status"] = "healthy"

    threads = [threading.Thread(target=settle, args=(details, health), daemon=True)
               for _service, details, health in _starting(found)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LONGEST + 1)
