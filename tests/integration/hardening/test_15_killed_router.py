"""Class 15: `router open` and `router close` killed (SIGKILL) at each change they make on
the lab's home router (each mapping made or deleted: NASRTC_FAILPOINT=router:N) and at each
file step of their record (file:N), with each protocol the router speaks (Debian's
miniupnpd: UPnP IGD, NAT-PMP, PCP). A mapping left on a router is a hole in someone's
firewall: after every kill, the next `router close` leaves none of nasrtc's on the router
and no record, and the next `router open` finishes the job, recorded so that `close`
deletes everything it made. `router status` names what an interrupted open left."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_reach import line_lab
from tests.integration.test_reach import pytestmark as reach_marks
from tests.lab import upnp_router
from tests.lab.topology import ADDRESSES

pytestmark = [*reach_marks, pytest.mark.slow, pytest.mark.once]
MOST_STEPS = 30
RECORD = "router-mappings.json"


def forwarded(line: Any) -> set[str]:
    """The ports the router forwards to the NAS (miniupnpd's DNAT rules), whoever asked."""
    rules = upnp_router.dnat_rules(line.lab)
    return set(re.findall(rf"dport (\d+) .*dnat ip to {re.escape(ADDRESSES.nas)}:\d+", rules))


def killed(line: Any, action: str, via: str, point: str) -> bool:
    done = line.router_cmd(action, "--via", via, check=False,
                           env={"NASRTC_FAILPOINT": point})
    if done.returncode == -9:
        return True
    assert done.returncode == 0, (action, via, point, done.stdout, done.stderr)
    return False


def closed_clean(line: Any, via: str, point: str) -> None:
    """`router close` heals: none of nasrtc's mappings on the router, no record."""
    done = line.router_cmd("close", "--via", via, check=False)
    assert done.returncode == 0, (via, point, done.stdout, done.stderr)
    assert forwarded(line) == set(), (via, point, forwarded(line))
    assert not (line.folder / RECORD).exists(), (via, point)


def opened_whole(line: Any, via: str, point: str, ports: set[str]) -> None:
    """`router open` heals: every port forwarded, recorded, nothing left pending."""
    done = line.router_cmd("open", "--via", via, check=False)
    assert done.returncode == 0, (via, point, done.stdout, done.stderr)
    assert forwarded(line) == ports, (via, point, forwarded(line))
    record = json.loads((line.folder / RECORD).read_text())
    assert {str(m["port"]) for m in record} == ports and not any(
        m["pending"] for m in record), (via, point, record)


def pending(line: Any) -> bool:
    path = line.folder / RECORD
    return path.exists() and any(m["pending"] for m in json.loads(path.read_text()))


def enumerate_open(line: Any, via: str, kind: str, ports: set[str]) -> int:
    """Each point healed by the next `open` (odd points; `close` after it must then delete
    everything) or by `close` (even ones): both ways out of every kind of point."""
    for n in range(1, MOST_STEPS + 1):
        point = f"{kind}:{n}"
        if not killed(line, "open", via, point):
            assert forwarded(line) == ports, (via, point)
            closed_clean(line, via, point)
            return n - 1
        if pending(line):
            said = line.router_cmd("status", "--via", via, check=False)
            assert said.returncode == 1 and "interrupted" in said.stdout, said.stdout
            assert "router close" in said.stdout, said.stdout
        if n % 2:
            opened_whole(line, via, point, ports)  # the next open finishes the job
        closed_clean(line, via, point)
    raise AssertionError("the enumeration did not end")


def enumerate_close(line: Any, via: str, kind: str, ports: set[str]) -> int:
    for n in range(1, MOST_STEPS + 1):
        point = f"{kind}:{n}"
        opened_whole(line, via, point, ports)
        if not killed(line, "close", via, point):
            assert forwarded(line) == set(), (via, point)
            return n - 1
        closed_clean(line, via, point)
    raise AssertionError("the enumeration did not end")


# The record's file steps are the same code whichever protocol made the mappings: enumerated
# with UPnP; the router's steps with each protocol.
CASES = [("upnp", ("router", "file")), ("nat-pmp", ("router",)), ("pcp", ("router",))]


def test_router_open_and_close_killed_at_every_step(tmp_path: Path) -> None:
    with line_lab(tmp_path) as line:
        found: dict[str, int] = {}
        first = line.router_cmd("open", "--via", "upnp")
        assert first.returncode == 0, first.stdout + first.stderr
        ports = forwarded(line)
        assert {"7881", "7882"} <= ports, ports
        closed_clean(line, "upnp", "before")
        for via, kinds in CASES:
            for kind in kinds:
                found[f"open {via} {kind}"] = enumerate_open(line, via, kind, ports)
                found[f"close {via} {kind}"] = enumerate_close(line, via, kind, ports)
        assert all(found[f"open {via} router"] >= len(ports) for via, _kinds in CASES), found
        assert found["open upnp file"] >= 4 and found["close upnp router"] >= 2, found
        print("router: kill points", found)
