"""A Debian 12 base image made here from Debian's packages only (no registry is
reachable in tests or CI): debootstrap --variant=minbase with python3 and sudo (as a
stock Debian 12 server has them; no pip, no venv), imported into the engine. Built once per engine; about two minutes on a fresh machine."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS

DEBIAN_PYTHON = "nasrtc-test/debian12-python:2"
MIRROR = "http://deb.debian.org/debian"  # plain http: images here lack the host's CA


def debian_python_image(client: Any) -> str:
    import docker

    try:
        client.images.get(DEBIAN_PYTHON)
        return DEBIAN_PYTHON
    except docker.errors.ImageNotFound:
        pass
    if not shutil.which("debootstrap"):
        if REQUIRE_TOOLS:
            raise AssertionError("CI needs debootstrap (tests/run.sh installs it)")
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="nasrtc-debian12-") as root:
        subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,sudo",
                        "bookworm", root, MIRROR], check=True, capture_output=True,
                       timeout=1200)
        # The downloaded .deb files stay behind in the tree: not part of a system.
        for deb in Path(root, "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", DEBIAN_PYTHON], stdin=tar.stdout,
                       check=True, capture_output=True, timeout=600)
        assert tar.wait() == 0
    return DEBIAN_PYTHON


REDIS = "nasrtc-test/redis:1"


def redis_image(client: Any) -> str:
    """Debian 12's redis-server (and redis-cli) on that base: a stand-in for the official
    Redis image, which no registry here can give."""
    import io
    import tarfile

    import docker

    try:
        client.images.get(REDIS)
        return REDIS
    except docker.errors.ImageNotFound:
        pass
    base = debian_python_image(client)
    dockerfile = (f"FROM {base}\n"
                  f"RUN echo 'deb {MIRROR} bookworm main' > /etc/apt/sources.list \\\n"
                  " && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q"
                  " --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*\n")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile.encode())
        tar.addfile(info, io.BytesIO(dockerfile.encode()))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=REDIS, rm=True)
    return REDIS
