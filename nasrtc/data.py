"""Where the shipped data folders are: installed (inside the package), in a source
checkout (the repository's top), or inside the single-file nasrtc.pyz (a zip archive,
read through the zip importer: nothing is unpacked to disk)."""

from __future__ import annotations

import os

from nasrtc.package import PACKAGE as _PACKAGE
from nasrtc.package import archive, read_package_bytes

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = ["archive", "data_dir", "data_files", "data_folder", "read_data",
           "read_package_bytes", "template_loader"]


def data_folder(name: str) -> str | None:
    """`profiles` or `compose-templates` as a real folder; None inside a .pyz."""
    if archive():
        return None
    for candidate in (os.path.join(_PACKAGE, name),
                      os.path.join(os.path.dirname(_PACKAGE), name)):
        if os.path.isdir(candidate):
            return candidate
    from nasrtc.i18n import _

    raise FileNotFoundError(_("nasrtc's '{name}' folder is missing from {package}; reinstall "
                              "nasrtc").format(name=name, package=_PACKAGE))


def data_dir(name: str) -> Path | None:
    """data_folder as a Path."""
    from pathlib import Path

    folder = data_folder(name)
    return None if folder is None else Path(folder)


def data_files(name: str, suffix: str) -> list[str]:
    """The names of the files in a data folder that end with suffix."""
    folder = data_dir(name)
    if folder is not None:
        return sorted(p.name for p in folder.glob(f"*{suffix}"))
    import zipfile

    prefix = f"nasrtc/{name}/"
    with zipfile.ZipFile(str(archive())) as pyz:
        return sorted(item[len(prefix):] for item in pyz.namelist()
                      if item.startswith(prefix) and item.endswith(suffix)
                      and "/" not in item[len(prefix):])


def read_data(name: str, file: str) -> str | None:
    """A data file's text, or None when there is no such file."""
    folder = data_dir(name)
    if folder is not None:
        path = folder / file
        return path.read_text(encoding="utf-8") if path.is_file() else None
    if file not in data_files(name, ""):  # only the archive's own files, by name
        return None
    data = read_package_bytes(f"{name}/{file}")
    return None if data is None else data.decode("utf-8")


def template_loader() -> Any:
    """Jinja's loader for compose-templates, from a folder or from the .pyz."""
    import jinja2

    folder = data_dir("compose-templates")
    if folder is not None:
        return jinja2.FileSystemLoader(str(folder))
    return jinja2.PackageLoader("nasrtc", "compose-templates")
