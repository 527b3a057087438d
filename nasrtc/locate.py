"""Which stack folder a command works on when --dir is not given: the current folder if
it holds nasrtc.yaml, else the folder the last `nasrtc init` of this user wrote.

The remembered path lives in the user's own config folder and is trusted only when it
belongs to that user and nobody else may write it (nasrtc often runs as root)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

ANSWERS_FILE = "nasrtc.yaml"  # the same name as answers.ANSWERS_FILE, without its imports


def _memory() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "nasrtc" / "last-stack"


def _trusted(path: Path) -> bool:
    """Ours and not writable by group or others: the file and its folder."""
    try:
        for item in (path.parent, path):
            info = item.lstat()
            if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid() \
                    or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
    except OSError:
        return False
    return True


def remember(stack_dir: Path) -> None:
    """After init wrote a stack: the folder later commands use without --dir."""
    memory = _memory()
    try:
        memory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _trusted(memory.parent / ".") and memory.parent.exists():
            return
        tmp = memory.with_name(".last-stack.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(str(stack_dir.resolve()) + "\n")
            handle.flush()
            os.fsync(handle.fileno())  # after a power cut: the old name or the new, not empty
        os.replace(tmp, memory)
    except OSError:
        pass  # a read-only home: --dir (or the current folder) still works


def find_stack_dir() -> Path:
    """The current folder when it is a stack, else the remembered one (said on stderr),
    else the current folder (whose error then names --dir)."""
    here = Path(".")
    if (here / ANSWERS_FILE).is_file():
        return here
    memory = _memory()
    if _trusted(memory):
        try:
            remembered = Path(memory.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            return here
        if remembered.is_absolute() and (remembered / ANSWERS_FILE).is_file():
            from nasrtc.i18n import _

            print(_("nasrtc: using the stack in {folder} (the last one `{nasrtc} init` wrote; "
                    "--dir chooses another)").format(folder=remembered), file=sys.stderr)
            return remembered
    return here
