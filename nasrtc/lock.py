"""One nasrtc at a time per stack folder: two `init`s could leave livekit.yaml with
another secret than secrets/, two `up`s create two networks of one name. Every command
that writes or changes containers holds an flock on <dir>/.nasrtc-lock; a second one
waits a little, then says who holds it."""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nasrtc.errors import NasrtcError
from nasrtc.i18n import _

LOCK_FILE = ".nasrtc-lock"
WAIT_ENV = "NASRTC_LOCK_WAIT"  # seconds to wait for another run (default 15)


@contextmanager
def stack_lock(stack_dir: Path) -> Iterator[None]:
    if not stack_dir.is_dir():  # nothing there yet to guard (init creates it)
        yield
        return
    path = stack_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NasrtcError(_("{path} is a symbolic link; nasrtc does not follow it")
                              .format(path=path),
                              _("remove it (`rm {path}`) and run again")
                              .format(path=path)) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise NasrtcError(_("cannot open {path}: permission denied").format(path=path),
                              _("run the same command with sudo in front")) from None
        raise
    try:
        _acquire(fd, path)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, path: Path) -> None:
    deadline = time.monotonic() + float(os.environ.get(WAIT_ENV, "15"))
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            if time.monotonic() >= deadline:
                raise NasrtcError(_("another nasrtc is working on {parent} (pid {holder})")
                                  .format(parent=path.parent, holder=holder),
                                  _("wait until it has finished, then run again")) from None
            if not said:
                print(_("nasrtc: waiting for another nasrtc working on {folder} (pid "
                        "{holder})...").format(folder=path.parent, holder=holder),
                      file=sys.stderr)
                said = True
            time.sleep(0.2)
