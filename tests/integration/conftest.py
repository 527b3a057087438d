"""Fixtures for the integration tests: a real Docker engine with the stand-in
images, and stacks made through the real CLI (removed afterwards). Every test that
uses the engine is marked `engine`, so `pytest -m "not engine"` starts no container."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS, EngineStack
from tests.integration import standin_images as images

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
