"""The program's entry (console script, `python -m nasrtc`, nasrtc.pyz): the quick lane
first (nasrtc/quick.py: `up` with nothing to do, `status`), before even argparse is
loaded; everything else through the command line in nasrtc/cli.py."""

from __future__ import annotations

import os
import sys


def _language_known() -> bool:
    """An NASRTC_LANG nasrtc cannot speak is for the full command line to refuse."""
    value = os.environ.get("NASRTC_LANG")
    if not value:
        return True
    from nasrtc.i18n import match  # a light module: os only

    return match(value) is not None


def main() -> int:
    words = sys.argv[1:]
    if words[:1] in (["up"], ["status"]) and _language_known():
        from nasrtc.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED
        from nasrtc.quick import run

        try:
            answered = run(words)
        except BrokenPipeError:  # `nasrtc status | head`: the reader left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        if answered is not None:
            return answered
    from nasrtc.cli import main as full

    return full(words)
