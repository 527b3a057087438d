#!/usr/bin/env python3
"""What a call costs on a NAS: the real LiveKit of nasrtc's stack under growing calls, on
three setups in one run; writes the "Call cost" section of BENCHMARKS.md.

    sudo python benchmarks/load.py [--window 20] [--output BENCHMARKS.md]

Needs what the lab tests need (tests/run.sh installs it) and builds the real LiveKit from
the Go module proxy on first use. The home-network lab (tests/lab) carries the calls: the
participants (tests/lab/load.py, the LiveKit Python SDK) sit behind their carrier's NAT on
the lab's internet, the NAS behind a home router that forwards what the checklist lists.

The SFU runs pinned to CPU 0, the participants to CPU 1, so the SFU's figures are one
core's and the clients' encoding and decoding do not take from it. Per setup, profile and
size: everyone joins (one after another), 12 s of warm-up, then a window of per-second
samples: the SFU's CPU (/proc/PID/stat of livekit-server, % of one core), the machine's
softirq time (the kernel's packet work: NAT, bridge, veth), what the NAS sends
(its uplink's counters: the forwarded bitrate), LiveKit's memory, the docker-proxy
processes in the NAS's namespace; the subscribers' packets lost in the window. A size
stops growing once the SFU's core is nearly full or packets are lost."""

from __future__ import annotations

import argparse
import json
import os
import platform
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from run import cpu_name, replace_section  # noqa: E402

from nasrtc.capacity import LIMIT, people  # noqa: E402
from tests.lab import router  # noqa: E402
from tests.lab.home import Home, running_home  # noqa: E402

HEADING = "## 6. Call cost: what a call costs the NAS"
SFU_CPU, LOAD_CPU = 0, 1
GUIDE_RANGE = "50000-50200"


def nasrtc_default(home: Home) -> None:
    home.stack({})


def bridge_mux(home: Home) -> None:
    home.stack({"network": {"livekit_mode": "bridge"}})


def guide_style(home: Home) -> None:
    """The Synology guide's setup, which nasrtc refuses to write (ports.rtc_udp_range
    needs host mode): nasrtc's bridge stack with its UDP port swapped for the guide's
    range in compose.yaml and livekit.yaml, the router forwarding the range, started with
    Compose v2 as the guide does."""
    from tests.integration.test_compose_v2 import NEWEST, compose_binary

    made = home.stack({"network": {"livekit_mode": "bridge"}}, start=False)
    start, end = GUIDE_RANGE.split("-")
    compose, config = made.folder / "compose.yaml", made.folder / "livekit" / "livekit.yaml"
    compose.write_text(compose.read_text().replace(
        '"7882:7882/udp"', f'"{GUIDE_RANGE}:{GUIDE_RANGE}/udp"'))
    config.write_text(config.read_text().replace(
        "  udp_port: 7882\n", f"  port_range_start: {start}\n  port_range_end: {end}\n"))
    home.route([f for f in made.forwards if f.protocol != "udp"]
               + [router.Forward("udp", int(start), int(end))])
    subprocess.run([*home.nas.exec_prefix(), str(compose_binary(NEWEST)), "-p", made.project,
                    "-f", str(compose), "up", "-d", "--wait"], check=True, timeout=600,
                   capture_output=True, env={**os.environ, "DOCKER_HOST": home.engine.host})


SETUPS: list[tuple[str, Callable[[Home], None]]] = [
    ("nasrtc default: host networking, UDP mux 7882", nasrtc_default),
    (f"guide style: bridge network, published {GUIDE_RANGE}/udp", guide_style),
    ("bridge network, UDP mux 7882", bridge_mux),
]
SETUP_KEYS = {"default": 0, "guide": 1, "bridge": 2}
PROFILES: dict[str, tuple[int, ...]] = {"audio": (2, 4, 8, 12, 14), "video": (2, 4, 6, 8)}
SATURATED = 90.0  # % of a core: the SFU's, or the participants' (then the load is the limit)
LOSS_LIMIT = 2.0  # % of the packets the subscribers expected
TICKS = os.sysconf("SC_CLK_TCK")
WARMUP = 12.0  # seconds: video's bandwidth estimate climbs to its cap in about ten


@dataclass
class Step:
    setup: str
    profile: str
    size: int
    ok: bool = False
    error: str = ""
    sfu_cpu: list[float] = field(default_factory=list)  # % of one core, per second
    softirq: list[float] = field(default_factory=list)  # % of the machine's two cores
    load_cpu: list[float] = field(default_factory=list)
    sent_mbit: list[float] = field(default_factory=list)
    joins: list[float] = field(default_factory=list)
    loss: float = 0.0
    sfu_rss_mib: float = 0.0
    proxies: int = 0
    proxy_pss_mib: float = 0.0
    window: float = 0.0  # seconds sampled

    @property
    def tracks(self) -> int:
        """Forwarded tracks: each of `size` publishers to each of the others."""
        return self.size * (self.size - 1) * (2 if self.profile == "video" else 1)

    @property
    def saturated(self) -> bool:
        return not self.ok or median(self.sfu_cpu) >= SATURATED or self.loss >= LOSS_LIMIT \
            or median(self.load_cpu) >= SATURATED


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


# ------------------------------------------------------------------ what /proc says


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def softirq_ticks() -> int:
    return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[7])


def kib(pid: int, file: str, key: str) -> int:
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def in_namespace(pid: int, netns: Path) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(netns).st_ino
    except OSError:
        return False


def processes(name: str, netns: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name \
                        and in_namespace(int(entry), netns):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def sfu_pid(home: Home) -> int:
    for container in home.containers():
        if container.labels.get("com.docker.compose.service") == "livekit":
            return int(container.attrs["State"]["Pid"])
    raise RuntimeError("no LiveKit container on the NAS")


def pin(pid: int, cpu: int) -> None:
    """Every thread of the process to one CPU (threads made later inherit it)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(task), {cpu})


def uplink_bytes(home: Home) -> int:
    """What the NAS has sent on its uplink (eth0 in its namespace)."""
    done = home.nas.run("cat", "/sys/class/net/eth0/statistics/tx_bytes", timeout=5)
    return int(done.stdout.strip())


# ------------------------------------------------------------------ one step


def measure(home: Home, step: Step, window: float) -> Step:
    step.window = window
    sfu = sfu_pid(home)
    pin(sfu, SFU_CPU)
    process = home.start_load(step.size, video=step.profile == "video", seconds=window,
                              warmup=WARMUP, cpu=LOAD_CPU)
    assert process.stdout is not None
    watch = selectors.DefaultSelector()
    watch.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 40 * step.size + window + 90
    report: dict[str, Any] = {}
    sampling = False
    last: tuple[float, int, int, int, int] | None = None
    try:
        while time.monotonic() < deadline and not report:
            if watch.select(timeout=1.0):
                line = process.stdout.readline()
                if not line:
                    break
                said = json.loads(line)
                if said.get("event") == "measuring":
                    sampling = True
                elif said.get("event") == "stopped":
                    sampling = False
                elif said.get("event") == "report":
                    report = said
            if sampling:
                now = (time.monotonic(), cpu_ticks(sfu), softirq_ticks(),
                       cpu_ticks(process.pid), uplink_bytes(home))
                if last is not None and now[0] - last[0] >= 0.9:
                    seconds = now[0] - last[0]
                    step.sfu_cpu.append(100 * (now[1] - last[1]) / TICKS / seconds)
                    step.softirq.append(100 * (now[2] - last[2]) / TICKS / seconds
                                        / (os.cpu_count() or 1))
                    step.load_cpu.append(100 * (now[3] - last[3]) / TICKS / seconds)
                    step.sent_mbit.append(8 * (now[4] - last[4]) / seconds / 1e6)
                    last = now
                elif last is None:
                    last = now
        step.sfu_rss_mib = kib(sfu, "status", "VmRSS:") / 1024
        proxies = processes("docker-proxy", Path(home.nas.path))
        step.proxies = len(proxies)
        step.proxy_pss_mib = sum(kib(p, "smaps_rollup", "Pss:") for p in proxies) / 1024
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
    step.ok = bool(report.get("ok"))
    step.error = str(report.get("error") or ("" if report else "the load gave no report"))
    step.joins = [float(s) for s in report.get("join_seconds", [])]
    if not step.ok and len(step.joins) < step.size:
        step.error = f"{len(step.joins)} of {step.size} joined in time ({step.error})"
    got = report.get("window") or {}
    received = got.get("audio_received", 0) + got.get("video_received", 0)
    lost = got.get("audio_lost", 0) + got.get("video_lost", 0)
    step.loss = 100 * lost / (received + lost) if received + lost else 100.0
    if report.get("subscribed_tracks", 0) < report.get("expected_tracks", 0):
        step.error = step.error or (f"{report.get('subscribed_tracks')} of "
                                    f"{report.get('expected_tracks')} tracks subscribed")
    return step


# ------------------------------------------------------------------ the section


def spread(values: list[float], digits: int = 1) -> str:
    if not values:
        return "-"
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def fit(steps: list[Step]) -> tuple[float, float]:
    """(slope, intercept) of a least-squares line through the completed steps: the SFU's
    CPU (% of one core) per forwarded track, and what it spends with none."""
    points = [(s.tracks, median(s.sfu_cpu)) for s in steps if s.ok and s.sfu_cpu]
    if len(points) < 2:
        return 0.0, 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread_x = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread_x if spread_x else 0.0
    return slope, mean_y - slope * mean_x


def table(steps: list[Step]) -> list[str]:
    rows = ["| setup | call | people | forwarded tracks | SFU CPU, % of a core | softirq, % "
            "of the box | NAS sends, Mbit/s | SFU CPU per Mbit/s | packets lost | join, s "
            "| LiveKit memory | docker-proxy | participants' CPU, % of a core |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in steps:
        if not s.ok:
            rows.append(f"| {s.setup} | {s.profile} | {s.size} | {s.tracks} | failed: "
                        f"{s.error} | | | | | | | | |")
            continue
        mbit = median(s.sent_mbit)
        cost = f"{median(s.sfu_cpu) / mbit:.2f}" if mbit > 0.05 else "-"
        joins = f"{median(s.joins):.2f} (max {max(s.joins):.2f})" if s.joins else "-"
        rows.append(
            f"| {s.setup} | {s.profile} | {s.size} | {s.tracks} | {spread(s.sfu_cpu)} | "
            f"{spread(s.softirq)} | {spread(s.sent_mbit)} | {cost} | {s.loss:.2f} % | "
            f"{joins} | {s.sfu_rss_mib:.0f} MiB | {s.proxies} ({s.proxy_pss_mib:.1f} MiB) | "
            f"{spread(s.load_cpu, 0)} |")
    return rows


def cost_per_mbit(s: Step) -> float:
    """The SFU's core plus the kernel's packet work (in one core's terms) per forwarded
    Mbit/s; 0 when nothing was sent."""
    mbit = median(s.sent_mbit)
    return (median(s.sfu_cpu) + 2 * median(s.softirq)) / mbit if s.ok and mbit > 0.05 else 0.0


def compare(steps: list[Step]) -> str:
    """The setups against nasrtc's default at the largest size each profile reached on
    all of them: the sentence the README quotes."""
    said = []
    for profile in PROFILES:
        sizes = [size for size in PROFILES[profile]
                 if all(any(s.ok and (s.setup, s.profile, s.size) == (name, profile, size)
                            for s in steps) for name, _ in SETUPS)]
        if not sizes:
            continue
        at = {name: next(s for s in steps if (s.setup, s.profile, s.size)
                         == (name, profile, sizes[-1])) for name, _ in SETUPS}
        base = cost_per_mbit(at[SETUPS[0][0]])
        if base <= 0:
            continue
        others = ", ".join(f"{name} {100 * (cost_per_mbit(at[name]) / base - 1):+.0f} %"
                           for name, _ in SETUPS[1:])
        said.append(f"{profile} call of {sizes[-1]}: {others}")
    guide = [s for s in steps if s.setup == SETUPS[1][0] and s.ok]
    default = [s for s in steps if s.setup == SETUPS[0][0] and s.ok]
    memory = (f" The guide's setup also runs {guide[-1].proxies} docker-proxy processes "
              f"holding {guide[-1].proxy_pss_mib:.0f} MiB (PSS); nasrtc's default "
              f"{default[-1].proxies} ({default[-1].proxy_pss_mib:.1f} MiB)."
              if guide and default else "")
    return ("CPU per forwarded Mbit/s against nasrtc's default, at the largest size all "
            "three carried (one run: the per-second spread is in the table): "
            + "; ".join(said) + "." + memory)


def ratios(steps: list[Step]) -> list[str]:
    """The setups side by side at the sizes each carried: CPU per forwarded Mbit/s."""
    lines = ["| call | people | " + " | ".join(name for name, _ in SETUPS) + " |",
             "|---|---|" + "---|" * len(SETUPS)]
    for profile, sizes in PROFILES.items():
        for size in sizes:
            cells = []
            for name, _ in SETUPS:
                found = [s for s in steps if (s.setup, s.profile, s.size) == (name, profile,
                                                                               size)]
                cost = cost_per_mbit(found[0]) if found else 0.0
                cells.append(f"{cost:.2f}" if cost else "-")
            if any(c != "-" for c in cells):
                lines.append(f"| {profile} | {size} | " + " | ".join(cells) + " |")
    return lines


def stopped(steps: list[Step], profile: str) -> str:
    """Why the sizes of a profile stopped growing, from its last step."""
    done = [s for s in steps if s.profile == profile]
    if not done:
        return f"{profile}: not measured"
    last = done[-1]
    if not last.ok:
        return f"{profile} at {last.size}: {last.error}"
    if median(last.load_cpu) >= SATURATED:
        return (f"{profile} stopped at {last.size}: the participants' core (the load, not "
                "the SFU) was full")
    if median(last.sfu_cpu) >= SATURATED:
        return f"{profile} stopped at {last.size}: the SFU's core was full"
    if last.loss >= LOSS_LIMIT:
        return f"{profile} stopped at {last.size}: {last.loss:.1f} % of the packets lost"
    return f"{profile}: every size tried carried"


def section(steps: list[Step], window: float, livekit: str) -> str:
    cpu = cpu_name()
    default = [s for s in steps if s.setup == SETUPS[0][0]]
    audio = fit([s for s in default if s.profile == "audio"])
    video = fit([s for s in default if s.profile == "video"])
    carried = {p: max((s.size for s in default if s.profile == p and s.ok
                       and s.loss < LOSS_LIMIT and median(s.sfu_cpu) < SATURATED),
                      default=0) for p in PROFILES}
    return "\n".join([
        HEADING, "",
        f"Written by `benchmarks/load.py` ({time.strftime('%Y-%m-%d')}; {cpu}, "
        f"{os.cpu_count()} cores, kernel {platform.release()}; LiveKit {livekit} built from "
        "the Go module proxy). One room, everyone publishing and subscribing to everyone "
        "else (auto-subscribe), joining one after another: audio is a 48 kHz Opus tone per "
        "person; video adds a 640x360 15 fps camera of moving noise capped at 600 kbit/s "
        "(one layer, no simulcast). The participants are the LiveKit Python SDK "
        "(tests/lab/load.py) across the lab's carrier NAT and home router; LiveKit's own "
        "`lk load-test` is not used because the Go module proxy refuses "
        "github.com/livekit/livekit-cli (403). LiveKit is pinned to CPU 0, the "
        "participants to CPU 1: the SFU figures are one core's. Each figure is the median "
        f"of per-second samples over a {window:.0f} s window (min-max). Softirq is the "
        "kernel's packet work (NAT, bridge, veth) of the whole box, the lab's router "
        "included, as % of both cores; packets lost are the subscribers' count over the "
        "window; join is connect to a connected room per participant. When the "
        "participants' core is full (near 100 %), the figures of that row say more about "
        "the load than about the SFU.", "",
        *table(steps), "",
        "Side by side: CPU per forwarded Mbit/s, the SFU's core plus the kernel's packet "
        "work (softirq, in one core's terms): lower is cheaper.", "",
        *ratios(steps), "", compare(steps), "",
        "From the default setup's steps, by a least-squares line: each forwarded track of "
        f"an audio call costs {audio[0]:.3f} % of this core (idle: {audio[1]:.1f} %); each "
        f"forwarded track of a video call (audio and camera counted apart) {video[0]:.3f} %. "
        "A call of n people forwards n x (n - 1) tracks of each kind. Measured without "
        f"loss: {carried['audio']} people in an audio call, {carried['video']} in a video "
        f"call ({stopped(default, 'audio')}; {stopped(default, 'video')}). By the line, "
        "one core of this box would carry "
        f"about {people(1, *audio, kinds=1)} people in an audio call and "
        f"{people(1, *video, kinds=2)} in a video call at {LIMIT:.0f} % "
        "(extrapolated, not measured).", "",
    ])


CALL_COST = REPO / "nasrtc" / "call_cost.py"


def mbit_per_pair(steps: list[Step]) -> float:
    """What the NAS sends for one person to one other (their microphone, and camera in a
    video call), from the largest completed step: Mbit/s / (n x (n - 1))."""
    done = [s for s in steps if s.ok and s.sent_mbit]
    if not done:
        return 0.0
    largest = max(done, key=lambda s: s.size)
    return median(largest.sent_mbit) / (largest.size * (largest.size - 1))


def call_cost_module(audio: tuple[float, float], video: tuple[float, float],
                     pair_mbit: tuple[float, float], cpu: str, livekit: str) -> str:
    """nasrtc/call_cost.py: the fitted costs nasrtc's estimate reads (nasrtc/capacity.py)."""
    return "\n".join([
        '"""The SFU\'s CPU cost per forwarded track, in % of one core: written by',
        f"benchmarks/load.py on {time.strftime('%Y-%m-%d')} ({cpu}, LiveKit {livekit}; "
        "BENCHMARKS.md,",
        'section 6). Rerun the benchmark to change these; do not edit by hand."""', "",
        f"REFERENCE = {cpu!r}",
        f"AUDIO_PER_TRACK = {audio[0]:.4f}  # an audio call's forwarded track",
        f"AUDIO_IDLE = {max(0.0, audio[1]):.2f}  # the line's intercept: LiveKit with none",
        f"VIDEO_PER_TRACK = {video[0]:.4f}  # a video call's (audio and camera counted apart)",
        f"VIDEO_IDLE = {max(0.0, video[1]):.2f}",
        "# Mbit/s the NAS sends for one person to one other",
        f"AUDIO_PAIR_MBIT = {pair_mbit[0]:.3f}",
        f"VIDEO_PAIR_MBIT = {pair_mbit[1]:.3f}  # microphone and camera", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per step")
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also write every sample here")
    parser.add_argument("--from-json", type=Path, metavar="PATH",
                        help="measure nothing: write the section from an earlier --json")
    parser.add_argument("--setups", default=",".join(SETUP_KEYS),
                        help="which setups (default,guide,bridge); the section needs all")
    parser.add_argument("--profiles", default=",".join(PROFILES),
                        help="audio, video or both (audio,video)")
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        print("benchmarks/load.py: needs two CPUs (the SFU on one, the load on the other)",
              file=sys.stderr)
        return 1
    import docker

    from tests.integration import standin_images

    wanted = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PROFILES]
    if unknown:
        parser.error(f"--profiles: {', '.join(unknown)} unknown; choose from audio, video")
    setups = [p.strip() for p in args.setups.split(",") if p.strip()]
    if not setups or any(p not in SETUP_KEYS for p in setups):
        parser.error(f"--setups: choose from {', '.join(SETUP_KEYS)}")
    if args.from_json:
        steps = [Step(**{k: v for k, v in saved.items() if k != "tracks"})
                 for saved in json.loads(args.from_json.read_text())]
        return write(steps, args)
    host = docker.from_env(timeout=300)
    standin_images.ensure_images(host)
    steps = []
    with tempfile.TemporaryDirectory(prefix="nasrtc-load-") as tmp, \
            running_home(Path(tmp) / "home", host) as home:
        for name, make in (SETUPS[SETUP_KEYS[key]] for key in setups):
            make(home)
            for profile in wanted:
                for size in PROFILES[profile]:
                    step = measure(home, Step(name, profile, size), args.window)
                    steps.append(step)
                    print(table([step])[-1], flush=True)
                    if step.saturated:
                        break
        home.remove_stack()
    return write(steps, args)


def write(steps: list[Step], args: argparse.Namespace) -> int:
    from nasrtc.versions import LIVEKIT_IMAGE

    text = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(replace_section(
        text, HEADING, section(steps, next((s.window for s in steps if s.window), args.window),
                               LIVEKIT_IMAGE.split(":")[1])))
    default = [s for s in steps if s.setup == SETUPS[0][0]]
    audio = fit([s for s in default if s.profile == "audio"])
    video = fit([s for s in default if s.profile == "video"])
    if audio[0] > 0 and video[0] > 0:  # both profiles measured on the default setup
        pair_mbit = (mbit_per_pair([s for s in default if s.profile == "audio"]),
                     mbit_per_pair([s for s in default if s.profile == "video"]))
        CALL_COST.write_text(call_cost_module(audio, video, pair_mbit, f"{cpu_name()}, "
                                              f"{os.cpu_count()} cores",
                                              LIVEKIT_IMAGE.split(":")[1]))
        print(f"wrote {CALL_COST.relative_to(REPO)}")
    if args.json:
        args.json.write_text(json.dumps([{**vars(s), "tracks": s.tracks} for s in steps],
                                        indent=1))
    print(f"wrote the call-cost section of {args.output} ({platform.node()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
