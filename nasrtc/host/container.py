"""nasrtc running inside its own container image (the install on DSM): which container
it is, and whether the stack folder is mounted at the same path as on the host. The
paths in compose.yaml and the bind mounts `up` creates are host paths, so a stack folder
seen at another path (or only inside this container) would give the stack's containers
mounts that point at nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from nasrtc.errors import NasrtcError
from nasrtc.i18n import _
from nasrtc.invocation import IN_IMAGE_ENV  # the Dockerfile's flag

_CONTAINER_ID = re.compile(r"/containers/([0-9a-f]{64})/")


def in_container() -> bool:
    return os.environ.get(IN_IMAGE_ENV) == "1"


def own_container_id(mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from
    /var/lib/docker/containers/<id>/ into every container (with --network host too)."""
    try:
        text = Path(mountinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if " /etc/hostname " in line or " /etc/hosts " in line:
            found = _CONTAINER_ID.search(line)
            if found:
                return found.group(1)
    return None


def host_path_problem(folder: Path, mounts: list[dict[str, Any]]) -> tuple[str, Path] | None:
    """Why `folder` (as seen in this container) is not the same path on the host, and the
    host path to mount instead; None when it is. mounts: the container's Mounts from the
    engine (Source on the host, Destination here)."""
    folder = Path(os.path.normpath(folder))
    covering = [m for m in mounts if m.get("Type") in ("bind", None)
                and _is_within(folder, Path(str(m.get("Destination", ""))))]
    if not covering:
        return (_("{folder} exists only inside nasrtc's container: what is written there is "
                  "lost when it ends, and the stack's containers would find nothing there")
                .format(folder=folder), folder)
    mount = max(covering, key=lambda m: len(str(m["Destination"])))
    source, target = Path(str(mount["Source"])), Path(str(mount["Destination"]))
    if source != target:
        host = source / folder.relative_to(target)
        return (_("{folder} is the host's {host}: compose.yaml and the containers use host "
                  "paths, so the folder must have the same path in nasrtc's container as on "
                  "the host").format(folder=folder, host=host), host)
    return None


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_same_path(folder: Path, client: Any) -> None:
    """Refuse a stack folder that is not mounted at the same path as on the host."""
    container_id = own_container_id()
    if container_id is None:
        return  # cannot tell which container this is: the engine checks the mounts later
    details = client.api.inspect_container(container_id)
    if (details.get("HostConfig") or {}).get("NetworkMode") != "host":
        raise NasrtcError(
            _("nasrtc's container does not use the host's network: its port checks, the LAN "
              "address and doctor's local checks would describe the container, not the NAS; "
              "nothing was changed"),
            _("start it with `--network host` (see the README's Synology section)"))
    mounts = details.get("Mounts") or []
    found = host_path_problem(folder.resolve(), mounts)
    if found:
        problem, host = found
        raise NasrtcError(
            _("{problem}; nothing was changed").format(problem=problem),
            _("start nasrtc's container with `-v {host}:{host}` (the same path twice) and "
              "`--dir {host}`; see the README's Synology section").format(host=host))
