"""Where the shipped data folders are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`profiles` or `compose-templates`: inside the wheel, else the repo top."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"nasrtc's '{name}' folder is missing from {_PACKAGE}; reinstall nasrtc"
    )
