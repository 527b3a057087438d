"""Where the tests kill nasrtc for real, to see what a power cut or a closed SSH session
leaves and that the next run heals it: NASRTC_FAILPOINT=<name> is SIGKILL at that named
point; NASRTC_FAILPOINT=<kind>:<N> at the Nth counted step of that kind (`file`: each
file staged, renamed, deleted, folder made or synced; `engine`: each change on the Docker
engine; `pull`: each progress event of a pull; `router`: each mapping made or deleted on
the router), so a test can enumerate every step of a command, not a sample. Unset, a
point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

ENV = "NASRTC_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


_counted: dict[str, int] = {}


def step(kind: str) -> None:
    """One more step of `kind`; the Nth is where NASRTC_FAILPOINT=<kind>:<N> kills."""
    wanted = os.environ.get(ENV)
    if not wanted or not wanted.startswith(kind + ":"):
        return
    _counted[kind] = _counted.get(kind, 0) + 1
    if wanted[len(kind) + 1:] == str(_counted[kind]):
        os.kill(os.getpid(), signal.SIGKILL)
