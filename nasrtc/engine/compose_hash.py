"""Docker Compose v2's own config hash of a service (the `com.docker.compose.config-hash`
label), computed from the same Service model compose.yaml is rendered from.

Compose recreates a container when that label differs from the hash it computes for the
service (pkg/compose/convergence.go, mustRecreate). nasrtc writes Compose's hash on the
containers it creates and accepts Compose's on the ones Compose created, so the two tools
agree on what changed: `docker compose up -d` after `nasrtc up` recreates nothing, and the
other way round.

The hash is sha256 of Go's json.Marshal of compose-go's ServiceConfig, after
ServiceHash (pkg/compose/hash.go) clears some fields. Its bytes depend on the Compose
release; five dialects cover the releases named in DIALECTS (checked against the real
binaries in tests/integration/test_compose_v2.py, except "2.9", written from the source of
Compose v2.9.0 and compose-go v1.4.0 with no binary to check it here).
"""

from __future__ import annotations

import hashlib
import json
import os.path
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrtc.stack import HealthCheck, Service, Stack


@dataclass(frozen=True)
class Dialect:
    """What one range of Compose releases puts in the hashed JSON, where they differ."""

    releases: str  # which releases, and which of them were checked against the real binary
    command_always: bool  # `command: null` even when unset (not omitempty since compose-go v1.5)
    entrypoint_null: bool  # `entrypoint: null` (the same change)
    depends_on: bool  # depends_on hashed (until Compose 2.29.3)
    depends_on_required: bool  # its `required: true` (compose-go v1.16, Compose 2.20)
    deploy_block: bool  # an empty `deploy` block (compose-go v1.16 to v1.x)
    extra_hosts_separator: str  # host:address, or host=address (compose-go v2)


# Compose releases -> the shape of the hashed JSON (named after the oldest release of each),
# newest first.
_SINCE_2_10 = {"command_always": True, "entrypoint_null": True}
DIALECTS = {
    "2.29.3": Dialect(
        "Compose 2.29.3 and later (depends_on no longer hashed); checked: 2.30.3, 2.40.3",
        **_SINCE_2_10, depends_on=False, depends_on_required=False, deploy_block=False,
        extra_hosts_separator="="),
    "2.24": Dialect(
        "Compose 2.24 to 2.29.2 (compose-go v2); checked: 2.24.7",
        **_SINCE_2_10, depends_on=True, depends_on_required=True, deploy_block=False,
        extra_hosts_separator="="),
    "2.20": Dialect(
        "Compose 2.20 to 2.23 (compose-go v1.16: a deploy block); checked: 2.20.1, 2.22.0",
        **_SINCE_2_10, depends_on=True, depends_on_required=True, deploy_block=True,
        extra_hosts_separator=":"),
    "2.10": Dialect(
        "Compose 2.10 to 2.19 (compose-go v1.5 to v1.15); checked: 2.18.1",
        **_SINCE_2_10, depends_on=True, depends_on_required=False, deploy_block=False,
        extra_hosts_separator=":"),
    "2.9": Dialect(
        "Compose 2.9 (compose-go v1.4; Container Manager on DSM 7.2); from the source only",
        command_always=False, entrypoint_null=False, depends_on=True,
        depends_on_required=False, deploy_block=False, extra_hosts_separator=":"),
}
NEWEST = "2.29.3"
OLDEST = "2.9"


def _release(version: str) -> tuple[int, ...]:
    """'v2.29.3' -> (2, 29, 3); ValueError for anything else."""
    parts = version.lstrip("v").split("-")[0].split(".")
    numbers = tuple(int(part) for part in parts[:3])
    if len(numbers) < 2:
        raise ValueError(version)
    return numbers + (0,) * (3 - len(numbers))


def dialect_for(version: str) -> str:
    """The dialect of a Compose version string ("2.40.3", "v2.9.0"); the newest when unknown."""
    try:
        release = _release(version)
    except ValueError:
        return NEWEST
    for dialect in DIALECTS:  # newest first
        if release >= _release(dialect):
            return dialect
    return OLDEST


def _go_duration(text: str) -> str:
    """'90s' -> Go's time.Duration.String(): '1m30s' (what compose-go marshals)."""
    units = {"s": 1, "m": 60, "h": 3600}
    seconds = int(float(text[:-1]) * units[text[-1]])
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _healthcheck(check: HealthCheck) -> dict[str, Any]:
    return {"test": list(check.test), "timeout": _go_duration(check.timeout),
            "interval": _go_duration(check.interval), "retries": check.retries,
            "start_period": _go_duration(check.start_period)}


def service_config(stack: Stack, service: Service, folder: Path,
                   dialect: str = NEWEST) -> dict[str, Any]:
    """The ServiceConfig fields compose.yaml sets, in compose-go's field order, as
    ServiceHash marshals them."""
    shape = DIALECTS[dialect]
    out: dict[str, Any] = {}
    command = list(service.command) or None
    if shape.command_always or command is not None:
        out["command"] = command
    if service.depends_on and shape.depends_on:
        condition: dict[str, Any] = {"condition": "service_healthy"}
        if shape.depends_on_required:
            condition["required"] = True  # true unless said otherwise
        out["depends_on"] = {name: dict(condition) for name in sorted(service.depends_on)}
    if shape.deploy_block:
        out["deploy"] = {"replicas": 1, "resources": {}, "placement": {}}
    if shape.entrypoint_null:
        out["entrypoint"] = None
    if service.environment:
        out["environment"] = dict(sorted(service.environment))
    if service.extra_hosts:
        out["extra_hosts"] = sorted(f"{host}{shape.extra_hosts_separator}{address}"
                                    for host, address in service.extra_hosts)
    if service.healthcheck:
        out["healthcheck"] = _healthcheck(service.healthcheck)
    out["image"] = service.image
    if service.network_mode:
        out["network_mode"] = service.network_mode
    else:
        out["networks"] = {"default": None}
    if service.ports:
        out["ports"] = [
            {"mode": "ingress", **({"host_ip": port.host_ip} if port.host_ip else {}),
             "target": port.container_port, "published": str(port.host_port),
             "protocol": port.protocol}
            for port in service.ports]
    out["restart"] = service.restart
    if service.volumes:
        out["volumes"] = [
            {"type": "bind", "source": str(_source(folder, mount.source)),
             "target": mount.target, **({"read_only": True} if mount.read_only else {}),
             "bind": {"create_host_path": True}}
            for mount in service.volumes]
    return out


def _source(folder: Path, source: str) -> Path:
    # Compose resolves ./ against the project folder without following links.
    return Path(os.path.normpath(folder / source)) if source.startswith(".") else Path(source)


def go_json(value: Any) -> bytes:
    """json.Marshal's bytes: compact, UTF-8, and <, >, & escaped as Go does."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .encode("utf-8")


def compose_hash(stack: Stack, service: Service, folder: Path, dialect: str = NEWEST) -> str:
    return hashlib.sha256(go_json(service_config(stack, service, folder, dialect))).hexdigest()


def all_hashes(stack: Stack, service: Service, folder: Path) -> set[str]:
    """The service's hash in every dialect: a container carrying any of them was made from
    the current compose.yaml, by whichever Compose release (or by nasrtc)."""
    return {compose_hash(stack, service, folder, dialect) for dialect in DIALECTS}
