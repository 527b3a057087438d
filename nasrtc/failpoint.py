"""Where the tests kill nasrtc for real (NASRTC_FAILPOINT=<name>: SIGKILL at that point),
to see what a power cut or a closed SSH session leaves and that the next run heals it.
Unset, a name costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

ENV = "NASRTC_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
