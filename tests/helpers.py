"""Plain helpers for every test: write answers, seed secrets, run the real CLI in a
process, list what a folder holds. Fixtures live in conftest.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# In CI a test that needs a missing tool must fail, not skip (see .ci/run).
REQUIRE_TOOLS = bool(os.environ.get("NASRTC_REQUIRE_TOOLS"))


def needs(tool: str, package: str) -> pytest.MarkDecorator:
    """Skip without `tool`, with the install hint; never skip when CI requires tools."""
    import shutil

    return pytest.mark.skipif(
        not shutil.which(tool) and not REQUIRE_TOOLS,
        reason=f"{tool} is not installed (apt-get install {package}; tests/run.sh does)")


FIXED_KEY = "APIgoldenKey0001"
FIXED_SECRET = "GoldenSecret" + "0123456789" * 3 + "abcdef"  # 48 letters and digits


@dataclass
class Run:
    code: int
    out: str
    err: str


def write_answers(folder: Path, answers: dict[str, Any], name: str = "answers.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(answers, sort_keys=False), encoding="utf-8")
    return path


def seed_secrets(stack_dir: Path, turn_credential: str | None = None,
                 turn_secret: str | None = None) -> None:
    """Fixed secrets so rendered files can be compared byte for byte."""
    folder = stack_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / "livekit_api_key").write_text(FIXED_KEY + "\n")
    (folder / "livekit_api_secret").write_text(FIXED_SECRET + "\n")
    if turn_credential:
        (folder / "external_turn_credential").write_text(turn_credential + "\n")
    if turn_secret:
        (folder / "external_turn_secret").write_text(turn_secret + "\n")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below folder, by relative path (empty if it does not exist)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def free_ports(count: int, kind: int = socket.SOCK_STREAM) -> list[int]:
    """`count` different free ports: all probes stay open until each has its number (one at
    a time, the kernel may hand out the same port twice)."""
    probes = [socket.socket(socket.AF_INET, kind) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("0.0.0.0", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def profiles_with_defaults(folder: Path, name: str, defaults: dict[str, Any]) -> Path:
    """A copy of the shipped profiles in which one profile has other defaults
    (point NASRTC_PROFILES_DIR at it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted((REPO / "profiles").glob("*.yaml")):
        data = yaml.safe_load(source.read_text())
        if source.stem == name:
            data["defaults"] = {**(data.get("defaults") or {}), **defaults}
        (folder / source.name).write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing holds right now, on every address (so also on loopback)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("0.0.0.0", 0))
        return int(probe.getsockname()[1])


def doctor_rows(result: Run) -> dict[str, dict[str, str]]:
    """`nasrtc doctor --json` output by row name; a traceback is a failure in itself."""
    assert "Traceback" not in result.err, result.err
    return {row["name"]: row for row in json.loads(result.out)}


def run_subprocess(*args: str, cwd: Path | None = None,
                   env: dict[str, str] | None = None) -> Run:
    """Run `python -m nasrtc` in a real process (exit codes, no terminal)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "nasrtc", *args], cwd=cwd, env=full_env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return Run(proc.returncode, proc.stdout, proc.stderr)


class EngineStack:
    """A stack made through the real CLI for the engine tests, with free ports and a
    project name of its own; cleanup() removes whatever it started."""

    def __init__(self, tmp_path: Path, client: Any, **overrides: Any) -> None:
        self.client = client
        self.project = "t" + uuid.uuid4().hex[:8]
        self.dir = tmp_path / "stack"
        self.answers: dict[str, Any] = {
            "domain": "example.org", "project": self.project,
            "ports": dict(zip(("livekit_http", "rtc_tcp", "jwt_http"), free_ports(3)),
                          rtc_udp=free_port(socket.SOCK_DGRAM)),
        }
        for key, value in overrides.items():
            if isinstance(value, dict):
                self.answers.setdefault(key, {}).update(value)
            else:
                self.answers[key] = value
        source = write_answers(tmp_path, self.answers)
        result = run_subprocess("init", "--dir", str(self.dir), "--answers", str(source))
        assert result.code == 0, result.err

    def nasrtc(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return run_subprocess(*args, "--dir", str(self.dir), env=env)

    def set_answer(self, group: str, key: str, value: Any) -> None:
        path = self.dir / "nasrtc.yaml"
        raw = yaml.safe_load(path.read_text())
        raw.setdefault(group, {})[key] = value
        path.write_text(yaml.safe_dump(raw))

    def containers(self) -> dict[str, Any]:
        found = self.client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={self.project}"})
        return {c.name: c for c in found}

    def ids(self) -> dict[str, str]:
        return {name: c.id for name, c in self.containers().items()}

    def cleanup(self) -> None:
        for container in self.client.containers.list(
                all=True, filters={"name": self.project}):
            container.remove(force=True)
        for network in self.client.networks.list(filters={"name": self.project}):
            network.remove()


def engine_says_healthy(container: Any, within: float = 45.0) -> bool:
    """Whether the engine's own health check calls the container healthy within `within`
    seconds. `up` returns once the check passes when nasrtc runs it, before the engine's
    first scheduled run (an interval after the start): this is the engine's later word."""
    import time

    deadline = time.monotonic() + within
    while True:
        container.reload()
        status = ((container.attrs.get("State") or {}).get("Health") or {}).get("Status")
        if status == "healthy":
            return True
        if status == "unhealthy" or time.monotonic() > deadline:
            return False
        time.sleep(0.5)
