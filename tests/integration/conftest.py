"""Fixtures for the integration tests: a real Docker engine with the stand-in
images, and stacks made through the real CLI (removed afterwards). Every test that
uses the engine is marked `engine`, so `pytest -m "not engine"` starts no container."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, REQUIRE_TOOLS, EngineStack
from tests.integration import standin_images as images
from tests.integration.doctor_env import World, running_world

ENGINE_FIXTURES = {"client", "make_stack"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engine)


def _client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
        return client
    except Exception as exc:
        if REQUIRE_TOOLS:
            raise AssertionError(f"CI needs a Docker engine and none answers: {exc}") from exc
        pytest.skip(f"no Docker engine answers ({exc.__class__.__name__}); tests/run.sh starts one")


@pytest.fixture(scope="module")
def client() -> Any:
    engine = _client()
    images.ensure_images(engine)
    return engine


@pytest.fixture
def make_stack(tmp_path: Path, client: Any) -> Iterator[Any]:
    made: list[EngineStack] = []

    def make(**overrides: Any) -> EngineStack:
        wanted = {"livekit": images.LIVEKIT, "jwt": images.JWT, **overrides.pop("images", {})}
        stack = EngineStack(tmp_path / f"s{len(made)}", client, images=wanted, **overrides)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.cleanup()


@pytest.fixture
def homeserver_on_443(tmp_path: Path) -> Iterator[Any]:
    """example.org's well-known files and a federation endpoint on this host's 443, where
    containers reach it through extra_hosts (host-gateway)."""
    import socket

    import trustme

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(("0.0.0.0", 443))
        except OSError as exc:
            if REQUIRE_TOOLS:
                raise AssertionError(f"port 443 is needed for this test: {exc}") from exc
            pytest.skip(f"port 443 is not free or not allowed ({exc})")
    ca = trustme.CA()
    cert = ca.issue_cert("example.org", "matrix.example.org")
    cert_file, key_file = tmp_path / "hs.pem", tmp_path / "hs.key"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))

    def start(*flags: str) -> subprocess.Popen[str]:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.homeserver_side", str(cert_file),
             str(key_file), *flags], cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        started.append(server)
        return server

    started: list[subprocess.Popen[str]] = []
    yield start
    for server in started:
        server.terminate()
        server.wait(timeout=5)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Per module: the stack's files, real Synapse, the stand-ins (doctor_env.py)."""
    with running_world(tmp_path_factory.mktemp("world")) as made:
        yield made


@pytest.fixture
def fresh(world: World) -> Iterator[World]:
    """The module's world; nginx instances and extra servers stop after each test."""
    mark = len(world.started)
    yield world
    while len(world.started) > mark:
        world.started.pop().stop()


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/nasrtc.pyz built by the repository's one command (tools/build_pyz.py)."""
    target = tmp_path_factory.mktemp("pyz") / "nasrtc.pyz"
    built = subprocess.run([sys.executable, str(REPO / "tools" / "build_pyz.py"),
                            "--output", str(target)], capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr[-3000:]
    return target


@pytest.fixture
def tcp_engine() -> Iterator[str]:
    """The engine at a tcp:// address (as on a NAS managed from another machine): a
    forwarder to the real socket. nasrtc then talks to it through the Docker SDK."""
    socket_path = (os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock")[7:]
    server = socket.create_server(("127.0.0.1", 0))

    def pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(socket_path)
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=pipe, args=(source, target), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()
