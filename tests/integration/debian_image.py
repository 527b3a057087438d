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
