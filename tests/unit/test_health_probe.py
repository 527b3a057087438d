"""The health check `up` runs itself: the command Docker would run, from the container's
inspection, and nothing for a check Docker would not run."""

from __future__ import annotations

from typing import Any

from nasrtc.engine import health_probe


def inspected(test: Any, timeout: Any = None) -> dict[str, Any]:
    check: dict[str, Any] = {"Test": test}
    if timeout is not None:
        check["Timeout"] = timeout
    return {"Id": "abc", "Config": {"Healthcheck": check}}


def test_the_command_is_dockers() -> None:
    assert health_probe.check_command(inspected(["CMD", "wget", "-q", "http://x/"])) == [
        "wget", "-q", "http://x/"]
    assert health_probe.check_command(inspected(["CMD-SHELL", "redis-cli ping"])) == [
        "/bin/sh", "-c", "redis-cli ping"]
    for none in (["NONE"], [], ["CMD"], "wget", ["CMD", 1], None):
        assert health_probe.check_command(inspected(none)) is None, none
    assert health_probe.check_command({"Id": "abc", "Config": {}}) is None


def test_its_timeout_is_bounded() -> None:
    assert health_probe.check_timeout(inspected(["CMD", "x"], 5_000_000_000)) == 5.0
    assert health_probe.check_timeout(inspected(["CMD", "x"], 600_000_000_000)) == \
        health_probe.LONGEST
    assert health_probe.check_timeout(inspected(["CMD", "x"], True)) == health_probe.LONGEST


def test_a_starting_container_is_healthy_only_for_the_run_up_saw_pass() -> None:
    def found() -> dict[str, Any]:
        return {"livekit": {**inspected(["CMD", "wget"]), "State": {
            "Status": "running", "StartedAt": "2026-12-03T10:00:00Z",
            "Health": {"Status": "starting"}}}}
    seen = found()
    this_run = health_probe.run_of(seen["livekit"])
    health_probe.vouch_for_starting(seen, {"livekit": this_run})
    assert seen["livekit"]["State"]["Health"]["Status"] == "healthy"
    restarted = found()
    restarted["livekit"]["State"]["StartedAt"] = "2026-12-03T10:05:00Z"  # another run
    for record in ({"livekit": this_run}, {}, {"jwt": this_run}):
        again = restarted if record else found()
        health_probe.vouch_for_starting(again, record)
        assert again["livekit"]["State"]["Health"]["Status"] == "starting", record
    unhealthy = found()
    unhealthy["livekit"]["State"]["Health"]["Status"] = "unhealthy"  # the engine's word wins
    health_probe.vouch_for_starting(unhealthy, {"livekit": this_run})
    assert unhealthy["livekit"]["State"]["Health"]["Status"] == "unhealthy"
