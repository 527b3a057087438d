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


class Calls:
    def __init__(self, code: int | None = None, error: Exception | None = None) -> None:
        self.code, self.error = code, error
        self.ran: list[tuple[str, list[str]]] = []

    def run_check(self, container_id: str, command: list[str], timeout: float) -> int | None:
        self.ran.append((container_id, command))
        if self.error:
            raise self.error
        return self.code


def test_only_a_passing_check_settles_a_starting_container() -> None:
    found = {"livekit": {**inspected(["CMD", "wget"]),
                         "State": {"Status": "running", "Health": {"Status": "starting"}}},
             "jwt": {**inspected(["CMD", "check"]),
                     "State": {"Status": "exited", "Health": {"Status": "starting"}}}}
    health_probe.settle_starting(Calls(1), found)  # type: ignore[arg-type]
    assert found["livekit"]["State"]["Health"]["Status"] == "starting"
    health_probe.settle_starting(Calls(error=OSError("gone")), found)  # type: ignore[arg-type]
    assert found["livekit"]["State"]["Health"]["Status"] == "starting"
    calls = Calls(0)
    health_probe.settle_starting(calls, found)  # type: ignore[arg-type]
    assert found["livekit"]["State"]["Health"]["Status"] == "healthy"
    assert found["jwt"]["State"]["Health"]["Status"] == "starting"  # not running: not run
    assert calls.ran == [("abc", ["wget"])]
