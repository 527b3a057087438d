"""Every file and folder nasrtc writes goes through here. nasrtc runs as root in folders
other users may reach, so: a write is complete or absent (all bytes, fsync, rename; on
a full disk nothing changes), nothing is written or chmod-ed through a symbolic link,
and modes are set explicitly whatever the umask."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from nasrtc.errors import NasrtcError
from nasrtc.failpoint import step
from nasrtc.i18n import _

TMP_SUFFIX = ".nasrtc-tmp"
FOLDER_MODE = 0o755
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG)


class LinkRefused(NasrtcError):
    """A symbolic link where nasrtc writes: it may point anywhere, so nasrtc stops."""


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(path.lstat().st_mode)
    except (FileNotFoundError, NotADirectoryError):  # nothing there (a file on the way)
        return False


def refuse_link(path: Path) -> None:
    if _is_link(path):
        raise LinkRefused(_("{path} is a symbolic link; nasrtc does not write through links "
                            "(one planted in a shared folder could point at any file)")
                          .format(path=path),
                          _("remove the link (`rm {path}`) and run again").format(path=path))


def ensure_folder(base: Path, folder: Path, mode: int = FOLDER_MODE) -> None:
    """`folder` (base itself or below it) exists as a real folder with `mode`. `base` may be
    a link the user made; nothing below it may be one."""
    if not base.exists():
        if _is_link(base):  # a link to nothing: making its target is not ours to do
            raise NasrtcError(_("{base} is a symbolic link to {target}, which does not "
                                "exist; nothing was written")
                              .format(base=base, target=os.readlink(base)),
                              _("create the folder it points to, remove the link, or choose "
                                "another folder"))
        try:
            base.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise NasrtcError(_("{base} cannot be made: a part of its path is a file or a "
                                "broken link; nothing was written").format(base=base),
                              _("choose another folder, or move that file away")) from None
        os.chmod(base, FOLDER_MODE)  # the umask does not decide this
        sync_folder(base.parent)  # its entry on disk too (a counted step)
    if not base.is_dir():
        raise NasrtcError(_("{base} exists and is not a folder").format(base=base),
                          _("choose another --dir"))
    current = base
    for part in folder.relative_to(base).parts:
        current = current / part
        refuse_link(current)
        if not current.exists():
            os.mkdir(current, mode)
            os.chmod(current, mode)
            sync_folder(current.parent)  # a counted step
        elif not current.is_dir():
            raise NasrtcError(_("{path} exists and is not a folder").format(path=current),
                              _("move that file away; nasrtc keeps its files in that folder"))
    if folder != base:
        os.chmod(folder, mode)  # a real folder (checked above): safe to chmod


def check_file_place(path: Path) -> None:
    """Where nasrtc writes a file there is a file or nothing: no link, no folder."""
    refuse_link(path)
    if path.is_dir():
        raise NasrtcError(_("{path} is a folder where nasrtc writes a file; nothing was written")
                          .format(path=path),
                          _("move that folder away (`mv {path} {path}.old`) and run again")
                          .format(path=path))


def _stage(path: Path, data: bytes, mode: int) -> Path:
    """The bytes in a new temp file beside path, complete and on disk, with `mode`."""
    check_file_place(path)
    tmp = path.with_name(f".{path.name}{TMP_SUFFIX}")
    try:
        if tmp.exists() or _is_link(tmp):
            tmp.unlink()  # a leftover, or something planted: never written through
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise _write_failed(path, exc) from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fchmod(fd, mode)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise _write_failed(path, exc) from None
    os.close(fd)
    step("file")  # staged: complete on disk beside the file, not yet in its place
    return tmp


def _write_failed(path: Path, exc: OSError) -> NasrtcError:
    if exc.errno in _FULL:
        return NasrtcError(_("disk full at {path}; nothing changed").format(path=path),
                           _("free some space on that volume and run again"))
    return NasrtcError(_("cannot write {path}: {reason}")
                       .format(path=path, reason=exc.strerror or exc),
                       _("check the folder's owner and permissions (on DSM run with sudo)"))


def write_files(files: Iterable[tuple[Path, bytes, int]]) -> None:
    """Write several files all or nothing: every temp file complete first, then renamed."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data, mode in files:
            staged.append((_stage(path, data, mode), path))
    except BaseException:
        for tmp, _final in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)  # rename never follows a link at path: it replaces it
        step("file")
    # The renames themselves on disk too: after a power cut each file is the old or the
    # new one, and a new file is there at all (its folder's entry is synced).
    for folder in dict.fromkeys(path.parent for _tmp, path in staged):
        sync_folder(folder)


def sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # a folder that cannot be opened for reading cannot be synced either
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (a network share) refuse fsync on folders
    finally:
        os.close(fd)
    step("file")


def sweep_leftovers(stack_dir: Path, most: int = 10_000) -> list[Path]:
    """Temporary files a killed run left (staged, never renamed into place) in the stack
    folder and its folders, removed: under the stack's lock no other run writes them.
    Links are removed, never followed; folders below the first level are not entered."""
    removed: list[Path] = []
    folders = [stack_dir]
    seen = 0
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > most:
                return removed
            if entry.name.startswith(".") and entry.name.endswith(TMP_SUFFIX) \
                    and not entry.is_dir(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
                except OSError:
                    pass
            elif folder == stack_dir and entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
    return removed


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    write_files([(path, data, mode)])


def read_no_link(path: Path) -> bytes:
    """A file's bytes, refusing a link (what a backup copies must be the file itself)."""
    refuse_link(path)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def set_mode(path: Path, mode: int) -> None:
    """chmod a regular file, never through a link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkRefused(_("{path} is a symbolic link; nasrtc does not change modes "
                                "through links").format(path=path),
                              _("remove the link (`rm {path}`)").format(path=path)) from None
        raise
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def free_backup_name(path: Path) -> Path:
    """<file>.bak, else <file>.bak.2, .bak.3, ...: an earlier backup is never replaced."""
    candidate = path.with_name(path.name + ".bak")
    number = 2
    while candidate.exists() or _is_link(candidate):
        candidate = path.with_name(f"{path.name}.bak.{number}")
        number += 1
    return candidate
