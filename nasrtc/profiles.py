"""Load platform profiles (data files in profiles/)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from nasrtc.data import data_files, read_data
from nasrtc.errors import NasrtcError
from nasrtc.i18n import _


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


# The profile texts a person reads (steps, click paths, notes), in the catalogs: the
# extraction (tools/i18n.py) and the translation at load below walk the same keys.
TEXT_KEYS = {
    "title": None, "turn_tls": ("why",),
    "reverse_proxy": ("name", "where", "create_steps", "websocket_steps", "timeout_steps",
                      "config_files"),
    "certificates": ("where", "note", "steps"), "firewall": ("where", "note", "steps"),
    "homeserver": ("config", "well_known", "restart"), "start_alternative": None,
    "reserved_ports": None,
}


def profile_texts(raw: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """raw with change() applied to every text of TEXT_KEYS (notes of config_files and
    the owners of reserved ports included); other values as they are."""
    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return change(value)
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):  # a config file's name and condition are not texts
            return {key: item if key in ("file", "when") else walk(item)
                    for key, item in value.items()}
        return value

    out = dict(raw)
    for key, inner in TEXT_KEYS.items():
        if key not in out or out[key] is None:
            continue
        if inner is None:
            out[key] = walk(out[key])
        else:
            out[key] = {k: (walk(v) if k in inner else v) for k, v in out[key].items()}
    return out


def load_profile(name: str, language: str | None = None) -> Profile:
    """The profile, its texts in `language` (the user's, when not given)."""
    from nasrtc.i18n import active_language, speaking

    if language is None or language == active_language():
        return _load_profile(name, active_language())
    with speaking(language):
        return _load_profile(name, language)


def forget_loaded() -> None:
    """Read the profile files again on the next load (a test changed them)."""
    _load_profile.cache_clear()


@lru_cache(maxsize=None)  # data files, read once per run and language
def _load_profile(name: str, language: str) -> Profile:
    import yaml

    text = _profile_text(name) if "/" not in name else None
    if text is None:
        raise NasrtcError(
            _("unknown profile {name!r}").format(name=name),
            _("use one of: {names}").format(names=', '.join(profile_names())),
        )

    english = yaml.safe_load(text)
    raw = profile_texts(english, _)
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
