#!/usr/bin/env python3
"""Real calls through nasrtc's stacks in the home-network lab, timed, and what a call in
progress lives through; writes the "Real calls" section of BENCHMARKS.md.

    sudo python benchmarks/calls.py [--runs 5] [--output BENCHMARKS.md]

Needs what the lab tests need (tests/run.sh installs it: root, iproute2, nftables,
dnsmasq, coturn, nginx, Docker, Synapse's and the WebRTC client's venvs); builds the real
LiveKit from the Go module proxy on first use. Per media path: one stack, then `--runs`
calls; each call's join (signalling, ICE and DTLS until the SDK's connect returns, per
participant) and its first audio (publish until the first frame reaches the other
caller). Then one longer call through a LiveKit restart and one through `nasrtc upgrade`,
with the frames received second by second."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from run import cpu_name, replace_section  # noqa: E402

from tests.lab import router  # noqa: E402
from tests.lab.home import Home, running_home  # noqa: E402
from tests.lab.topology import ADDRESSES  # noqa: E402

# The homeserver settings nasrtc writes limit messages (rc_message: 0.5/s, burst 30), and
# each call creates a room: a pause between paths lets the budget refill.
PAUSE = 40
HEADING = "## Real calls: time to connect, and a call through a restart"
TURN = {"turn": {"enabled": True, "udp_port": 3478, "relay_range": "30000-30009"}}
MODES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("UDP mux 7882 (defaults, STUN)", {}, {}),
    ("UDP mux, fixed public_ip", {"network": {"public_ip": ADDRESSES.router_wan}}, {}),
    ("TCP 7881 (UDP blocked at the router)", {"network": {"public_ip": ADDRESSES.router_wan}},
     {"switches": router.Switches(block_udp=True)}),
    ("UDP range 50000-50099", {"ports": {"rtc_udp": None, "rtc_udp_range": "50000-50099"}}, {}),
    ("bridge mode, UDP mux", {"network": {"livekit_mode": "bridge"}}, {}),
    ("TURN/UDP, relayed", TURN, {"relay_only": True}),
]


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def measure_modes(home: Home, runs: int) -> list[str]:
    rows = []
    for name, answers, how in MODES:
        relay = bool(how.get("relay_only"))
        home.stack(answers, switches=how.get("switches"))
        joins: list[float] = []
        audio: list[float] = []
        paths = set()
        for _ in range(runs):
            result = home.call(relay_only=relay, seconds=1.5)
            if not result.ok:
                print(f"  {name}: a call failed: {result.data.get('error')}", flush=True)
                continue
            joins += result.data["connect_seconds"]
            audio.append(result.data["first_audio_seconds"])
            remote = result.pair().get("remote") or {}
            paths.add(f"{remote.get('protocol')} :{remote.get('port')}")
        rows.append(f"| {name} | {', '.join(sorted(paths)) or 'none'} | {spread(joins)} | "
                    f"{spread(audio)} | {len(audio)}/{runs} |")
        print(rows[-1], flush=True)
        time.sleep(PAUSE)
    home.remove_stack()
    return rows


def through(home: Home, what: str, action: Any, seconds: float = 24, at: float = 6) -> str:
    """One call of `seconds`; `action` runs `at` seconds in; frames per second back."""
    results: list[Any] = []
    caller = threading.Thread(target=lambda: results.append(
        home.call(seconds=seconds, timeout=seconds + 60)))
    caller.start()
    time.sleep(at + 4)  # the join takes a moment before the timeline starts
    started = time.monotonic()
    action()
    took = time.monotonic() - started
    caller.join(seconds + 90)
    result = results[0] if results else None
    if result is not None and not result.data.get("timeline"):
        print(f"  {what}: {result.data.get('error')}", flush=True)
    timeline = (result.data.get("timeline") or []) if result else []
    per_second = [b - a for a, b in zip([0, *timeline], timeline)]
    silent = sum(1 for n in per_second[int(at):] if n < 50)
    resumed = bool(per_second) and per_second[-1] >= 50
    return (f"| {what} ({took:.1f} s) | {' '.join(str(n) for n in per_second)} | "
            f"{silent} s | {'yes' if resumed else 'no'} |")


def measure_disruptions(home: Home) -> list[str]:
    from nasrtc.versions import EARLIER, JWT_IMAGE

    rows = []
    home.stack({})
    rows.append(through(home, "docker restart of LiveKit", lambda: home.restart("livekit")))
    earlier = EARLIER[0]["jwt"]
    home.tag(JWT_IMAGE, earlier)
    stack = home.stack({"images": {"jwt": earlier}})
    time.sleep(PAUSE)
    rows.append(through(home, "`nasrtc upgrade` (auth service recreated)", lambda: home.nasrtc(
        "upgrade", "--yes", "--dir", str(stack.folder), timeout=600)))
    home.remove_stack()
    return rows


def section(modes: list[str], disruptions: list[str], runs: int, livekit: str) -> str:
    cpu = cpu_name()
    return "\n".join([
        HEADING, "",
        f"Written by `benchmarks/calls.py` ({runs} calls per path; {time.strftime('%Y-%m-%d')}; "
        f"{cpu}, {os.cpu_count()} cores; LiveKit {livekit} built from the Go module proxy; "
        "the WebRTC client is the LiveKit Python SDK 1.2.1). Two callers behind their "
        "carrier's symmetric NAT on the lab's internet, the NAS behind a home router that "
        "forwards what the checklist lists (tests/lab). Join: from the SDK's connect to a "
        "connected room, signalling and ICE included, per participant. First audio: from "
        "publishing the tone to the first frame at the other caller. Median (min-max).", "",
        "| media path | carried over | join | first audio | calls |",
        "|---|---|---|---|---|", *modes, "",
        "A call in progress (24 s, the tone all along) through a change on the NAS, 6 s in: "
        "frames the listener received in each second (100 = all of them), the seconds "
        "with less than half after the change, and whether the tone came back.", "",
        "| change (how long it took) | frames per second | silent | came back |",
        "|---|---|---|---|", *disruptions, "",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    args = parser.parse_args()
    import docker

    from nasrtc.versions import LIVEKIT_IMAGE
    from tests.integration import standin_images

    host = docker.from_env(timeout=300)
    standin_images.ensure_images(host)
    with tempfile.TemporaryDirectory(prefix="nasrtc-calls-") as tmp, \
            running_home(Path(tmp) / "home", host) as home:
        modes = measure_modes(home, args.runs)
        disruptions = measure_disruptions(home)
    text = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(replace_section(
        text, HEADING, section(modes, disruptions, args.runs, LIVEKIT_IMAGE.split(":")[1])))
    print(f"wrote the real-call section of {args.output} ({platform.node()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
