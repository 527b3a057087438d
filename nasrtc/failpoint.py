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


PAUSE = "NASRTC_PAUSEPOINT"  # <kind>:<N>:<file>: at that step, make <file>, wait while it is
PAUSE_LONGEST = 120  # seconds

_counted: dict[str, int] = {}


def step(kind: str) -> None:
    """One more step of `kind`; the Nth is where NASRTC_FAILPOINT=<kind>:<N> kills, and
    where NASRTC_PAUSEPOINT=<kind>:<N>:<file> waits (while a test stops the engine under
    it, say) until <file>, which it makes, is gone."""
    wanted, paused = os.environ.get(ENV), os.environ.get(PAUSE)
    if not (wanted and wanted.startswith(kind + ":")) \
            and not (paused and paused.startswith(kind + ":")):
        return
    _counted[kind] = _counted.get(kind, 0) + 1
    if wanted and wanted == f"{kind}:{_counted[kind]}":
        os.kill(os.getpid(), signal.SIGKILL)
    if paused and paused.startswith(f"{kind}:{_counted[kind]}:"):
        _pause(paused.split(":", 2)[2])


def _pause(marker: str) -> None:
    import time

    with open(marker, "x"):
        pass
    deadline = time.monotonic() + PAUSE_LONGEST
    while os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
