"""What the last successful `up` left running, and a digest of everything it was made
from, in .nasrtc-state.json (no secret in it). When the digest still matches, `up` and
`status` can answer from the engine alone, without reading YAML or rendering templates.
A stale or forged record can only send them down the full path: every fact it claims
is checked against the engine before it is believed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

STATE_FILE = ".nasrtc-state.json"
FORMAT = 1
# Everything the stack's containers are made from; a change to any sends `up` the full way.
INPUTS = ("nasrtc.yaml", ".nasrtc-manifest.json", "compose.yaml", ".env",
          "livekit/livekit.yaml")
SETTINGS = ("NASRTC_VERSION_SET", "NASRTC_PROFILES_DIR", "NASRTC_COMPOSE_VERSION",
            "NASRTC_COMPOSE")


def _data_stamp() -> str:
    """nasrtc's own version and the size and time of its data files (profiles,
    templates): a new release or an edited template is a different input."""
    from nasrtc import __version__
    from nasrtc.data import _archive, data_dir

    parts = [__version__]
    archive = _archive()
    if archive:
        info = os.stat(archive)
        return "|".join([*parts, str(info.st_size), str(info.st_mtime_ns)])
    for name in ("profiles", "compose-templates"):
        folder = data_dir(name)
        if folder is None:
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            info = entry.stat()
            parts.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def inputs_digest(stack_dir: Path) -> str | None:
    """A digest of the inputs, or None when one cannot be read."""
    digest = hashlib.sha256(_data_stamp().encode())
    for name in SETTINGS:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    secrets = stack_dir / "secrets"
    try:
        names = sorted(entry.name for entry in os.scandir(secrets))
        for rel in [*INPUTS, *(f"secrets/{name}" for name in names)]:
            digest.update(rel.encode() + b"\0")
            digest.update(hashlib.sha256((stack_dir / rel).read_bytes()).digest())
    except OSError:
        return None
    return digest.hexdigest()


def read_state(stack_dir: Path) -> dict[str, Any] | None:
    try:
        path = stack_dir / STATE_FILE
        if path.is_symlink() or path.stat().st_size > 64 * 1024:
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    services = state.get("services")
    if not isinstance(state.get("project"), str) or not isinstance(services, dict) \
            or not isinstance(state.get("inputs"), str) \
            or not isinstance(state.get("report"), list):
        return None
    for record in services.values():
        if not isinstance(record, dict) or not all(
                isinstance(record.get(key), str) for key in ("container", "hash", "image")) \
                or not isinstance(record.get("mounted"), list):
            return None
    return state


def write_state(stack_dir: Path, project: str, services: dict[str, dict[str, Any]],
                report: list[str]) -> None:
    """Record a successful `up` (best effort: without the record `up` is only slower)."""
    from nasrtc.files import atomic_write

    digest = inputs_digest(stack_dir)
    if digest is None:
        return
    state = {"format": FORMAT, "inputs": digest, "project": project, "services": services,
             "report": report}
    try:
        atomic_write(stack_dir / STATE_FILE, (json.dumps(state, indent=1) + "\n").encode(),
                     0o644)
    except Exception:  # a full disk here must not turn a successful `up` into a failure
        return
