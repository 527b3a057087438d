"""Write generated files atomically; never overwrite a hand edit silently.

`.nasrtc-manifest.json` remembers the SHA-256 of every file nasrtc wrote. A
file whose bytes no longer match was edited by hand: writing stops and names
it, unless forced, in which case the edited copy is kept as `<file>.bak`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nasrtc.errors import HandEditedError
from nasrtc.output.render import Artifact

MANIFEST = ".nasrtc-manifest.json"


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    backed_up: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(stack_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((stack_dir / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()}
    except (FileNotFoundError, ValueError, AttributeError):
        return {}


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Temp file in the same folder, created with its final mode, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.nasrtc-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def hand_edited(stack_dir: Path, artifacts: dict[str, Artifact]) -> list[str]:
    """Files that exist, differ from the new text and from what nasrtc last wrote."""
    manifest = read_manifest(stack_dir)
    edited = []
    for rel, artifact in artifacts.items():
        path = stack_dir / rel
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            continue
        if current == artifact.text.encode("utf-8"):
            continue
        if manifest.get(rel) != digest(current):
            edited.append(rel)
    return edited


def write_artifacts(stack_dir: Path, artifacts: dict[str, Artifact], force: bool = False,
                    keep_in_manifest: tuple[str, ...] = (), partial: bool = False,
                    command: str = "nasrtc render") -> WriteReport:
    """Write every artifact (or, with partial, only these, keeping the rest's records)."""
    edited = hand_edited(stack_dir, artifacts)
    if edited and not force:
        raise HandEditedError.for_files(stack_dir, edited, command)
    old_manifest = read_manifest(stack_dir)
    report = WriteReport()
    manifest: dict[str, str] = dict(old_manifest) if partial else {}
    for rel, artifact in artifacts.items():
        path = stack_dir / rel
        data = artifact.text.encode("utf-8")
        manifest[rel] = digest(data)
        if path.exists() and path.read_bytes() == data:
            os.chmod(path, artifact.mode)
            report.unchanged.append(rel)
            continue
        if rel in edited:
            backup = path.with_name(path.name + ".bak")
            shutil.copy2(path, backup)
            os.chmod(backup, artifact.mode)  # a backup of a secret file stays private
            report.backed_up.append(str(backup.relative_to(stack_dir)))
        atomic_write(path, data, artifact.mode)
        report.written.append(rel)
    for rel in keep_in_manifest:
        if rel in old_manifest and rel not in manifest:
            manifest[rel] = old_manifest[rel]
    report.stale = sorted(
        rel for rel in old_manifest
        if rel not in manifest and (stack_dir / rel).exists()
    )
    atomic_write(stack_dir / MANIFEST,
                 (json.dumps({"files": dict(sorted(manifest.items()))}, indent=2) + "\n")
                 .encode("utf-8"), 0o644)
    return report


def forget(stack_dir: Path, files: list[str]) -> None:
    """Drop deleted files from the manifest (nasrtc remove)."""
    manifest = read_manifest(stack_dir)
    for rel in files:
        manifest.pop(rel, None)
    atomic_write(stack_dir / MANIFEST,
                 (json.dumps({"files": dict(sorted(manifest.items()))}, indent=2) + "\n")
                 .encode("utf-8"), 0o644)
