"""Write generated files all or nothing; never overwrite a hand edit silently.

`.nasrtc-manifest.json` remembers the SHA-256 of every file nasrtc wrote. A
file whose bytes no longer match was edited by hand: writing stops and names
it, unless forced, in which case the edited copy is kept as `<file>.bak` (then
`.bak.2`, ...: an earlier backup is never replaced). The bytes go through
nasrtc/files.py: complete or absent, never through a link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nasrtc.errors import HandEditedError, NasrtcError
from nasrtc.files import (
    atomic_write,
    check_file_place,
    ensure_folder,
    free_backup_name,
    read_no_link,
    set_mode,
    sweep_leftovers,
    write_files,
)
from nasrtc.i18n import _
from nasrtc.output.render import Artifact

__all__ = ["MANIFEST", "WriteReport", "atomic_write", "digest", "edit_error", "forget",
           "hand_edited",
           "read_manifest", "write_artifacts"]

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
    path = stack_dir / MANIFEST
    if path.is_dir() and not path.is_symlink():
        raise NasrtcError(
            _("{path} is a folder; nasrtc keeps its record of the files it wrote in a file of "
              "that name; nothing was written").format(path=path),
            _("move the folder away (`mv {path} {path}.old`) and run again").format(path=path))
    try:
        data = json.loads(read_no_link(path).decode("utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()}
    except (FileNotFoundError, ValueError, AttributeError, NotADirectoryError,
            UnicodeDecodeError):
        return {}  # no record (or not one nasrtc wrote): every file counts as edited


def edit_error(stack_dir: Path, files: list[str], command: str = "nasrtc render",
               outcome: str | None = None) -> HandEditedError:
    """The hand-edit error, telling files nasrtc never wrote from files edited since."""
    manifest = read_manifest(stack_dir)
    return HandEditedError.for_files(stack_dir, files, command, outcome,
                                     foreign=[rel for rel in files if rel not in manifest])


def clear_docker_folders(stack_dir: Path, files: Iterable[str]) -> list[str]:
    """Empty folders where nasrtc's own files belong, removed. Docker makes one when a file
    it mounts is missing as a container starts (a file deleted, a restore that left it out,
    a NAS booting with the stack folder not yet there): the folder is Docker's, the place
    is nasrtc's (its record names the file). Anything else there is refused later. `up`
    clears the files its containers read; every other command refuses any folder there."""
    manifest = read_manifest(stack_dir)
    cleared = []
    for rel in files:
        path = stack_dir / rel
        if rel in manifest and path.is_dir() and not path.is_symlink():
            try:
                path.rmdir()  # only when empty: never what someone put there
            except OSError:
                continue
            cleared.append(rel)
    return cleared


def hand_edited(stack_dir: Path, artifacts: dict[str, Artifact]) -> list[str]:
    """Files that exist, differ from the new text and from what nasrtc last wrote. A link
    in their place is refused before anything is read through it."""
    for rel in artifacts:
        check_file_place(stack_dir / rel)
    manifest = read_manifest(stack_dir)
    edited = []
    for rel, artifact in artifacts.items():
        path = stack_dir / rel
        try:
            current = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # not there: nothing to keep
            continue
        if current == artifact.text.encode("utf-8"):
            continue
        if manifest.get(rel) != digest(current):
            edited.append(rel)
    return edited


def write_artifacts(stack_dir: Path, artifacts: dict[str, Artifact], force: bool = False,
                    keep_in_manifest: tuple[str, ...] = (), partial: bool = False,
                    command: str = "nasrtc render",
                    also: list[tuple[Path, bytes, int]] | None = None) -> WriteReport:
    """Write every artifact (or, with partial, only these, keeping the rest's records)."""
    edited = hand_edited(stack_dir, artifacts)  # refuses links/folders in files' places
    if edited and not force:
        raise edit_error(stack_dir, edited, command)
    sweep_leftovers(stack_dir)  # what a killed run staged and never put in place
    old_manifest = read_manifest(stack_dir)
    report = WriteReport()
    manifest: dict[str, str] = dict(old_manifest) if partial else {}
    pending: list[tuple[Path, bytes, int]] = list(also or [])  # e.g. new secrets
    for rel, artifact in artifacts.items():
        path = stack_dir / rel
        ensure_folder(stack_dir, path.parent)
        data = artifact.text.encode("utf-8")
        manifest[rel] = digest(data)
        if path.is_file() and not path.is_symlink() and read_no_link(path) == data:
            set_mode(path, artifact.mode)
            report.unchanged.append(rel)
            continue
        if rel in edited:
            # A backup of a secret file stays private: it gets the file's own mode.
            backup = free_backup_name(path)
            pending.append((backup, read_no_link(path), artifact.mode))
            report.backed_up.append(str(backup.relative_to(stack_dir)))
        pending.append((path, data, artifact.mode))
        report.written.append(rel)
    for rel in keep_in_manifest:
        if rel in old_manifest and rel not in manifest:
            manifest[rel] = old_manifest[rel]
    report.stale = sorted(
        rel for rel in old_manifest
        if rel not in manifest and (stack_dir / rel).exists()
    )
    # The files and their record land together, or (on a full disk) none of them.
    pending.append((stack_dir / MANIFEST, _manifest_bytes(manifest), 0o644))
    write_files(pending)
    return report


def forget(stack_dir: Path, files: list[str]) -> None:
    """Drop deleted files from the manifest (nasrtc remove)."""
    manifest = read_manifest(stack_dir)
    for rel in files:
        manifest.pop(rel, None)
    atomic_write(stack_dir / MANIFEST, _manifest_bytes(manifest), 0o644)


def _manifest_bytes(manifest: dict[str, str]) -> bytes:
    return (json.dumps({"files": dict(sorted(manifest.items()))}, indent=2) + "\n").encode()
