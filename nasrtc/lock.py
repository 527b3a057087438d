"""One nasrtc at a time per stack folder: two `init`s could leave livekit.yaml with
another secret than secrets/, two `up`s create two networks of one name. Every command
that writes or changes containers holds an flock on the stack folder itself (Linux locks a
directory's descriptor like a file's), so nothing is left in the folder; a second run
waits a little, then says who holds it (from /proc/locks)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nasrtc.errors import NasrtcError
from nasrtc.i18n import _

OLD_LOCK_FILE = ".nasrtc-lock"  # where earlier builds kept the lock: removed when seen
WAIT_ENV = "NASRTC_LOCK_WAIT"  # seconds to wait for another run (default 15)
PROC_LOCKS = Path("/proc/locks")


@contextmanager
def stack_lock(stack_dir: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the stack folder's lock; wait up to `wait` seconds (default: NASRTC_LOCK_WAIT,
    else 15) for another holder."""
    if not stack_dir.is_dir():  # nothing there yet to guard (init creates it)
        yield
        return
    try:
        fd = os.open(stack_dir, os.O_RDONLY | os.O_DIRECTORY)
    except PermissionError:
        raise NasrtcError(_("cannot open {path}: permission denied").format(path=stack_dir),
                          _("run the same command with sudo in front")) from None
    try:
        _acquire(fd, stack_dir, wait)
        _forget_old_lock_file(stack_dir)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _forget_old_lock_file(stack_dir: Path) -> None:
    """An earlier nasrtc's lock file: nasrtc's own, empty of meaning now (never followed)."""
    old = stack_dir / OLD_LOCK_FILE
    with contextlib.suppress(OSError):
        if old.is_file() and not old.is_symlink() and old.stat().st_size < 64:
            old.unlink()


def holder(fd: int, locks: Path = PROC_LOCKS) -> str:
    """The pid holding an flock on the same inode as `fd`, from /proc/locks ('?' when it
    cannot be told: another kernel, a lock on a network share)."""
    info = os.fstat(fd)
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        lines = locks.read_text(errors="replace").splitlines()[:10_000]
    except OSError:
        return "?"
    for line in lines:
        # "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a waiter's line has "->"
        words = line.split()
        if len(words) >= 6 and words[1] == "FLOCK" and "->" not in words \
                and words[5] == wanted and words[4].isdigit() and words[4] != "0":
            # 0: a holder outside this pid namespace (nasrtc in a container, say)
            return words[4]
    return "?"


def _acquire(fd: int, stack_dir: Path, wait: float | None = None) -> None:
    if wait is None:
        wait = float(os.environ.get(WAIT_ENV, "15"))
    deadline = time.monotonic() + wait
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise NasrtcError(_("another nasrtc is working on {parent} (pid {holder})")
                                  .format(parent=stack_dir, holder=holder(fd)),
                                  _("wait until it has finished, then run again")) from None
            if not said:
                print(_("nasrtc: waiting for another nasrtc working on {folder} (pid "
                        "{holder})...").format(folder=stack_dir, holder=holder(fd)),
                      file=sys.stderr)
                said = True
            time.sleep(0.2)
