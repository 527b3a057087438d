"""Which Docker Compose v2 release this stack lives with, so the containers nasrtc creates
carry the config hash that release computes (engine/compose_hash.py). In order: the
NASRTC_COMPOSE_VERSION setting; the version Compose wrote on the project's containers;
the Compose v2 binary on this host; else none (the newest dialect is used)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from nasrtc.engine.labels import VERSION_LABEL

VERSION_ENV = "NASRTC_COMPOSE_VERSION"
BINARY_ENV = "NASRTC_COMPOSE"  # a Compose v2 binary to ask (tests, unusual installs)
PLUGIN_DIRS = ("/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins",
               "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins")
_VERSION = re.compile(r"^v?(2\.\d+\.\d+)")


def compose_version(existing: dict[str, dict[str, Any]], ask_binary: bool = True) -> str:
    """'2.40.3', or '' when nothing tells. existing: the project's container summaries."""
    configured = os.environ.get(VERSION_ENV, "").strip()
    if configured:
        return configured.lstrip("v")
    for summary in existing.values():
        found = _VERSION.match((summary.get("Labels") or {}).get(VERSION_LABEL, ""))
        if found:
            return found.group(1)
    return binary_version() if ask_binary else ""


def _trusted(path: Path) -> bool:
    """nasrtc may run as root: only a binary (and folder) no other user can replace."""
    try:
        for item in (path, path.parent):
            info = item.stat()
            if info.st_uid not in (0, os.geteuid()) or info.st_mode & (stat.S_IWGRP |
                                                                        stat.S_IWOTH):
                return False
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _candidates() -> list[Path]:
    found = [os.environ.get(BINARY_ENV, ""), shutil.which("docker-compose") or ""]
    found += [str(Path(folder) / "docker-compose") for folder in PLUGIN_DIRS]
    return [Path(item) for item in found if item]


def _is_script(path: Path) -> bool:
    """Compose v2 is one static binary; a script is Compose v1 (Python) or a wrapper."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return True


def binary_version() -> str:
    """The version of the first trusted Compose v2 binary found ('' when none)."""
    for path in _candidates():
        if not path.is_file() or not _trusted(path) or _is_script(path):
            continue
        try:
            done = subprocess.run([str(path), "version", "--short"], capture_output=True,
                                  text=True, timeout=5, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            continue
        found = _VERSION.match(done.stdout.strip())
        if found:
            return found.group(1)
    return ""
