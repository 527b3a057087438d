"""Load platform profiles (data files in profiles/)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from nasrtc.data import data_files, read_data
from nasrtc.errors import NasrtcError


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    stack_dir: str
    sudo: str
    # protocol -> {port: who owns it}
    reserved_ports: dict[str, dict[int, str]]
    defaults: dict[str, Any]
    reverse_proxy: dict[str, Any]
    certificates: dict[str, Any]
    firewall: dict[str, Any]
    homeserver: dict[str, Any] = field(default_factory=dict)
    turn_tls: dict[str, Any] = field(default_factory=dict)  # supported: bool, why: str
    start_alternative: str = ""  # the platform's own way to start a compose project

    def reserved_owner(self, protocol: str, port: int) -> str | None:
        return self.reserved_ports.get(protocol, {}).get(port)


# A folder of profile files used instead of the shipped ones: for writing a new
# platform's profile, and for tests that change a profile's defaults.
PROFILES_ENV = "NASRTC_PROFILES_DIR"


def _profile_text(name: str) -> str | None:
    override = os.environ.get(PROFILES_ENV)
    if override:
        path = Path(override) / f"{name}.yaml"
        return path.read_text(encoding="utf-8") if path.is_file() else None
    return read_data("profiles", f"{name}.yaml")


def profile_names() -> list[str]:
    override = os.environ.get(PROFILES_ENV)
    files = (sorted(p.name for p in Path(override).glob("*.yaml")) if override
             else data_files("profiles", ".yaml"))
    return [name[:-len(".yaml")] for name in files]


@lru_cache(maxsize=None)  # data files, read once per run
def load_profile(name: str) -> Profile:
    import yaml

    text = _profile_text(name) if "/" not in name else None
    if text is None:
        raise NasrtcError(
            f"unknown profile {name!r}",
            f"use one of: {', '.join(profile_names())}",
        )
    raw = yaml.safe_load(text)
    reserved = {
        proto: {int(port): str(owner) for port, owner in (ports or {}).items()}
        for proto, ports in (raw.get("reserved_ports") or {}).items()
    }
    return Profile(
        name=raw["name"],
        title=raw["title"],
        stack_dir=raw["stack_dir"],
        sudo=raw.get("sudo", ""),
        reserved_ports=reserved,
        defaults=raw.get("defaults") or {},
        reverse_proxy=raw["reverse_proxy"],
        certificates=raw["certificates"],
        firewall=raw["firewall"],
        homeserver=raw.get("homeserver") or {},
        turn_tls=raw.get("turn_tls") or {},
        start_alternative=raw.get("start_alternative", ""),
    )
