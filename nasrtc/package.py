"""Files shipped inside the nasrtc package (a compiled catalog, a template), from the
installed folder or from the single-file nasrtc.pyz, read through the zip importer.
The lowest layer: it speaks no language, so i18n can read its catalogs through it."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from typing import Any

# os.path, not pathlib: the quick lane (engine/state.py) asks where the data is too.
PACKAGE = os.path.dirname(os.path.realpath(__file__))


def archive() -> str | None:
    """The .pyz this module was imported from, or None."""
    loader = globals().get("__loader__")
    return getattr(loader, "archive", None)


def read_package_bytes(relative: str) -> bytes | None:
    """A file shipped inside the nasrtc package, from the installed folder or the .pyz;
    None when there is none."""
    pyz = archive()
    if pyz is None:
        try:
            with open(os.path.join(PACKAGE, relative), "rb") as handle:
                return handle.read()
        except OSError:
            return None
    loader: Any = globals()["__loader__"]
    try:
        return bytes(loader.get_data(f"{pyz}/nasrtc/{relative}"))
    except OSError:
        return None
