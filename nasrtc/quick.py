"""The quick lane: `nasrtc up` with nothing to do and `nasrtc status`, answered before
argparse, pathlib, YAML or the Docker SDK are loaded: on a small NAS CPU these cost more
than the answer itself. Only their plain forms take it (`up`, `up --no-wait`, `status`,
`status --json`, each with `--dir DIR` or in a stack folder), outside nasrtc's container
image. Anything else, or any doubt on the way, returns None and the command runs the
usual way, which explains whatever is wrong. `up` takes no lock here: it only reads."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from typing import Any


def _options(command: str, rest: list[str]) -> tuple[str, bool] | None:
    """(stack folder, the flag: --json for status, --no-wait for up), or None."""
    folder, flag = "", False
    index = 0
    while index < len(rest):
        word = rest[index]
        if word == "--dir" and index + 1 < len(rest) and rest[index + 1]:
            folder, index = rest[index + 1], index + 2
        elif word.startswith("--dir=") and len(word) > len("--dir="):
            folder, index = word[len("--dir="):], index + 1
        elif word == ("--json" if command == "status" else "--no-wait"):
            flag, index = True, index + 1
        else:
            return None
    if not folder:
        if not os.path.isfile("nasrtc.yaml"):
            return None  # the remembered stack: the usual way says which one it uses
        folder = "."
    return folder, flag


def run(words: list[str]) -> int | None:
    """The exit code when the quick lane answered, else None."""
    if not words or words[0] not in ("up", "status") \
            or os.environ.get("NASRTC_IN_CONTAINER") == "1":
        return None
    options = _options(words[0], words[1:])
    if options is None:
        return None
    folder, flag = options
    try:  # an answer of an unexpected shape is a doubt too: the usual way explains it
        found = _up_lines(folder, not flag) if words[0] == "up" else _status_rows(folder)
    except (AttributeError, KeyError, TypeError, ValueError, OSError):
        return None
    if found is None:
        return None
    if words[0] == "up":  # printed only once all is known: nothing twice, nothing half
        print("\n".join(found))
    else:
        from nasrtc.engine.status import print_rows

        print_rows(found, flag)
    return 0


def _up_lines(folder: str, wait: bool) -> list[Any] | None:
    from nasrtc.engine.fastpath import already_up

    return already_up(folder, wait=wait)


def _status_rows(folder: str) -> list[Any] | None:
    from nasrtc.engine.health_probe import passed_in
    from nasrtc.engine.state import UPGRADE_JOURNAL, current_state
    from nasrtc.engine.status import inspected_light, rows

    state = current_state(folder)
    if state is None or os.path.exists(os.path.join(folder, UPGRADE_JOURNAL)):
        return None  # an upgrade that did not end: the full path says so
    aside: list[str] = []
    found = inspected_light(str(state["project"]), 10, aside, passed_in(state))
    if found is None or aside:
        return None  # an interrupted `up` left a copy: the full path says so
    return rows(found)
