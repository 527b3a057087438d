"""Which platform is this? Synology DSM or generic Linux, from marker files.

`root` is a parameter so tests use fake marker files, never the host's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DSM_VERSION_FILE = "etc.defaults/VERSION"
DSM_SYNOINFO_FILE = "etc/synoinfo.conf"


@dataclass(frozen=True)
class Platform:
    profile: str  # the profile to propose
    description: str  # shown to the user, e.g. "Synology DSM 7.2.1-69057 Update 5"


def _read_keys(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return dict(re.findall(r'^\s*([A-Za-z_]+)\s*=\s*"?([^"\n]*)"?\s*$', text, re.M))


def detect_platform(root: Path = Path("/")) -> Platform:
    version_file = root / DSM_VERSION_FILE
    if version_file.is_file() or (root / DSM_SYNOINFO_FILE).is_file():
        keys = _read_keys(version_file)
        version = keys.get("productversion") or ".".join(
            part for part in (keys.get("majorversion"), keys.get("minorversion")) if part)
        text = "Synology DSM"
        if version:
            text += f" {version}"
            if keys.get("buildnumber"):
                text += f"-{keys['buildnumber']}"
            if keys.get("smallfixnumber", "0") not in ("", "0"):
                text += f" Update {keys['smallfixnumber']}"
        return Platform("synology", text)
    release = _read_keys(root / "etc/os-release").get("PRETTY_NAME", "")
    return Platform("generic", f"Linux ({release})" if release else "Linux")


# Tests point this at a folder with fake DSM marker files.
ROOT_ENV = "NASRTC_ROOT"


def this_platform() -> Platform:
    """The platform nasrtc runs on (NASRTC_ROOT moves the root, for tests)."""
    import os

    return detect_platform(Path(os.environ.get(ROOT_ENV, "/")))
