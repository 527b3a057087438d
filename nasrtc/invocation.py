"""How this nasrtc was started, so that a command it prints can be pasted as it is: the
installed `nasrtc`, the single file (`python3 /path/nasrtc.pyz`), or nasrtc's image, which
the person runs with a `docker run` line of their own (shown as `docker run … nasrtc`).
Generated files (checklist.md) keep plain `nasrtc`: they must not change with how it ran."""

from __future__ import annotations

import os
import sys

IN_IMAGE_ENV = "NASRTC_IN_CONTAINER"  # set by the Dockerfile


def program() -> str:
    if os.environ.get(IN_IMAGE_ENV) == "1":
        return "docker run … nasrtc"
    started = sys.argv[0] if sys.argv else ""
    if started.endswith(".pyz") and os.path.isfile(started):
        return f"python3 {os.path.abspath(started)}"
    return "nasrtc"


def command(rest: str, sudo: str = "sudo ") -> str:
    """'sudo nasrtc up --dir X' in the form that works where this nasrtc runs."""
    return f"{sudo}{program()} {rest}".rstrip()


def self_command() -> list[str]:
    """The argv that starts this same nasrtc again (the web page runs `up`, `status`... as
    the terminal would): the single file, else the package on this Python."""
    started = sys.argv[0] if sys.argv else ""
    if started.endswith(".pyz") and os.path.isfile(started):
        return [sys.executable, os.path.abspath(started)]
    return [sys.executable, "-m", "nasrtc"]
