"""What the last successful `up` left running, and a stamp of everything it was made
from, in .nasrtc-state.json (no secret in it). While the stamp still matches, `up` and
`status` can answer from the engine alone, without reading YAML or rendering templates.
A stale or forged record can only send them down the full path: every fact it claims
is checked against the engine before it is believed.

The stamp is each input's size, time and inode (a stat each, no reading): nasrtc writes
through a new file and a rename, editors do too, and either changes the stamp."""

from __future__ import annotations

import json
import os

STATE_FILE = ".nasrtc-state.json"
UPGRADE_JOURNAL = ".nasrtc-upgrading"  # an upgrade's, from its start to its end
FORMAT = 3  # 3: the addresses `up` reports, not its English lines
# Everything the stack's containers are made from; a change to any sends `up` the full way.
INPUTS = ("nasrtc.yaml", ".nasrtc-manifest.json", "compose.yaml", ".env",
          "livekit/livekit.yaml")
SETTINGS = ("NASRTC_VERSION_SET", "NASRTC_PROFILES_DIR", "NASRTC_COMPOSE_VERSION",
            "NASRTC_COMPOSE")


def _stamp(path: str) -> str:
    info = os.stat(path)
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def _code_stamp() -> list[str]:
    """nasrtc's version and its data files (profiles, templates), or the .pyz holding them:
    a new release or an edited template is a different input."""
    from nasrtc import __version__
    from nasrtc.data import archive, data_folder

    parts = [__version__]
    pyz = archive()
    if pyz:
        return [*parts, _stamp(pyz)]
    for name in ("profiles", "compose-templates"):
        folder = data_folder(name)
        parts += sorted(f"{entry.name}:{_stamp(entry.path)}" for entry in os.scandir(folder))
    return parts


def inputs_stamp(stack_dir: str) -> str | None:
    """The stamp of every input, or None when one cannot be read."""
    try:
        parts = _code_stamp()
        parts += [f"{name}={os.environ.get(name, '')}" for name in SETTINGS]
        secrets = os.path.join(stack_dir, "secrets")
        names = sorted(entry.name for entry in os.scandir(secrets))
        for rel in [*INPUTS, *(f"secrets/{name}" for name in names)]:
            parts.append(f"{rel}={_stamp(os.path.join(stack_dir, rel))}")
    except OSError:
        return None
    return "\n".join(parts)


def read_state(stack_dir: str) -> dict[str, object] | None:
    path = os.path.join(stack_dir, STATE_FILE)
    try:
        if os.path.islink(path) or os.path.getsize(path) > 64 * 1024:
            return None
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    services = state.get("services")
    if not isinstance(state.get("project"), str) or not isinstance(services, dict) \
            or not isinstance(state.get("inputs"), str) \
            or not isinstance(state.get("addresses"), dict) \
            or not all(isinstance(value, str) for value in state["addresses"].values()):
        return None
    for record in services.values():
        if not isinstance(record, dict) or not all(
                isinstance(record.get(key), str) for key in ("container", "hash", "image")) \
                or not isinstance(record.get("mounted"), list):
            return None
    return state


def current_state(stack_dir: str) -> dict[str, object] | None:
    """The record, if the inputs are still those it was made from."""
    state = read_state(stack_dir)
    if state is None or inputs_stamp(stack_dir) != state["inputs"]:
        return None
    return state


def write_state(stack_dir: str, project: str, services: dict[str, dict[str, object]],
                addresses: dict[str, str]) -> None:
    """Record a successful `up` (best effort: without the record `up` is only slower)."""
    from pathlib import Path

    from nasrtc.files import atomic_write

    stamp = inputs_stamp(stack_dir)
    if stamp is None:
        return
    state = {"format": FORMAT, "inputs": stamp, "project": project, "services": services,
             "addresses": addresses}
    try:
        atomic_write(Path(stack_dir) / STATE_FILE,
                     (json.dumps(state, indent=1) + "\n").encode(), 0o644)
    except Exception:  # a full disk here must not turn a successful `up` into a failure
        return
