"""Class 12: the Docker engine restarts under nasrtc (DSM restarting Container Manager
during an update) and the NAS reboots (the engine stops with the stack running and starts
again). A dockerd of the test's own, in a sealed network namespace of its own (the lab's
engine: nothing reaches this machine's network), so that it can be stopped and started.

- `up` and `upgrade` whose engine goes away mid-way (stopped while nasrtc waits at a
  chosen step: NASRTC_PAUSEPOINT) end with a clear message (exit 4, no traceback); once the
  engine is back, the next `up` (`upgrade`) finishes: exactly the stack's containers,
  running, on the images they should be.
- After a reboot the stack comes back by itself (restart policies); `status` says so,
  `up` (the quick lane) recreates nothing, and Redis's data is still there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, write_answers
from tests.integration import standin_images as images
from tests.integration.debian_image import REDIS, redis_image
from tests.lab.engine import LabEngine
from tests.lab.topology import Lab, Namespace

pytestmark = [pytest.mark.engine, pytest.mark.lab, pytest.mark.slow]


class Nas:
    def __init__(self, lab: Lab, space: Namespace, engine: LabEngine) -> None:
        self.lab, self.space, self.engine = lab, space, engine

    def nasrtc(self, *args: str, timeout: float = 240,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """nasrtc on the NAS: in its namespace, talking to its engine."""
        env = {**os.environ, "DOCKER_HOST": self.engine.host, "NASRTC_LOCK_WAIT": "0",
               "PYTHONPATH": str(REPO), **(env or {})}
        return subprocess.run([*self.space.exec_prefix(), sys.executable, "-m", "nasrtc",
                               *args], capture_output=True, text=True, timeout=timeout,
                              env=env, stdin=subprocess.DEVNULL)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        env = {**os.environ, "DOCKER_HOST": self.engine.host, "PYTHONPATH": str(REPO),
               **(env or {})}
        return subprocess.Popen([*self.space.exec_prefix(), sys.executable, "-m", "nasrtc",
                                 *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, stdin=subprocess.DEVNULL)

    def containers(self, project: str) -> dict[str, Any]:
        client = self.engine.client()
        try:
            found = client.containers.list(all=True, filters={
                "label": f"io.nasrtc.project={project}"})
            return {c.name: c for c in found}
        finally:
            client.close()


@pytest.fixture(scope="module")
def nas(client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nas]:
    root = tmp_path_factory.mktemp("restarts")
    lab = Lab(os.urandom(3).hex(), root)
    try:
        space = lab.namespace("nas")
        lab.resolv_conf(space, "127.0.0.1")
        engine = LabEngine(lab, space, root / "engine").start()
        for image in (images.LIVEKIT, images.JWT, redis_image(client)):
            engine.load(client, image)
        yield Nas(lab, space, engine)
        engine.stop()
    finally:
        lab.close()


def stack_folder(tmp_path: Path, redis: bool = False) -> tuple[Path, str, str]:
    """The folder to init, the answers file (the stand-ins, a project of its own)."""
    project = "rs" + os.urandom(3).hex()
    folder = tmp_path / "stack"
    source = write_answers(tmp_path, {
        "domain": "example.org", "project": project,
        "images": {"livekit": images.LIVEKIT, "jwt": images.JWT,
                   **({"redis": REDIS} if redis else {})},
        "redis": {"enabled": redis}})
    return folder, str(source), project


def wait_for(what: Any, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(every)
    return bool(what())


def engine_away_at(nas: Nas, tmp_path: Path, step: str, *command: str,
                   env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`command` started; at its engine step `step` it waits while the engine is stopped;
    then it goes on without one. Its exit code and output; the engine is started again."""
    marker = tmp_path / "paused"
    running = nas.popen(*command, env={**(env or {}),
                                       "NASRTC_PAUSEPOINT": f"engine:{step}:{marker}"})
    try:
        assert wait_for(marker.exists, 60), "the command reached its pause point"
        nas.engine.halt()
        marker.unlink()
        out, err = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
        if nas.engine.proc is None:
            nas.engine.start()
    return running.returncode, out, err


def test_the_engine_going_away_during_up_is_said_and_the_next_up_finishes(
        nas: Nas, tmp_path: Path) -> None:
    folder, source, project = stack_folder(tmp_path)
    assert nas.nasrtc("init", "--dir", str(folder), "--answers", source).returncode == 0
    # Step 4: the network and both containers made, one started.
    code, out, err = engine_away_at(nas, tmp_path, "4", "up", "--dir", str(folder))
    assert code == 4, (code, out, err)
    assert "Docker engine" in err and "Traceback" not in err + out, err
    healed = nas.nasrtc("up", "--dir", str(folder))
    assert healed.returncode == 0, healed.stdout + healed.stderr
    found = nas.containers(project)
    assert sorted(found) == [f"{project}-jwt-1", f"{project}-livekit-1"], sorted(found)
    assert all(c.status == "running" for c in found.values())
    again = nas.nasrtc("up", "--dir", str(folder))
    assert again.returncode == 0 and "nothing was recreated" in again.stdout, again.stdout
    assert nas.nasrtc("down", "--dir", str(folder)).returncode == 0


def test_the_engine_going_away_during_upgrade_is_said_and_the_next_upgrade_finishes(
        nas: Nas, client: Any, tmp_path: Path) -> None:
    newer = "nasrtc-test/livekit:7-after"
    nas.engine.load(client, images.LIVEKIT, tag_as=newer)
    versions = tmp_path / "versions.json"
    versions.write_text(json.dumps({"livekit": newer, "jwt": images.JWT, "earlier": [
        {"livekit": images.LIVEKIT, "jwt": images.JWT}]}))
    env = {"NASRTC_VERSION_SET": str(versions)}
    folder, source, project = stack_folder(tmp_path)
    assert nas.nasrtc("init", "--dir", str(folder), "--answers", source).returncode == 0
    assert nas.nasrtc("up", "--dir", str(folder)).returncode == 0
    # Step 2: LiveKit's old container stopped and set aside; the new one not yet made.
    code, out, err = engine_away_at(nas, tmp_path, "2", "upgrade", "--yes", "--dir",
                                    str(folder), env=env)
    assert code == 4, (code, out, err)
    assert "Docker engine" in err and "Traceback" not in err + out, err
    said = nas.nasrtc("status", "--dir", str(folder))
    assert "interrupted `nasrtc upgrade`" in said.stdout, said.stdout
    healed = nas.nasrtc("upgrade", "--yes", "--dir", str(folder), env=env)
    assert healed.returncode == 0, healed.stdout + healed.stderr
    found = nas.containers(project)
    assert sorted(found) == [f"{project}-jwt-1", f"{project}-livekit-1"], sorted(found)
    assert found[f"{project}-livekit-1"].attrs["Config"]["Image"] == newer
    assert f"livekit: {newer}" in (folder / "nasrtc.yaml").read_text()
    again = nas.nasrtc("up", "--dir", str(folder))
    assert again.returncode == 0 and "nothing was recreated" in again.stdout, again.stdout
    assert nas.nasrtc("down", "--dir", str(folder)).returncode == 0


def test_after_a_reboot_the_stack_is_back_by_itself_and_up_recreates_nothing(
        nas: Nas, tmp_path: Path) -> None:
    folder, source, project = stack_folder(tmp_path, redis=True)
    assert nas.nasrtc("init", "--dir", str(folder), "--answers", source).returncode == 0
    up = nas.nasrtc("up", "--dir", str(folder))
    assert up.returncode == 0, up.stdout + up.stderr
    before = {name: c.id for name, c in nas.containers(project).items()}
    redis = nas.containers(project)[f"{project}-redis-1"]
    assert redis.exec_run(["redis-cli", "SET", "kept", "yes"]).exit_code == 0
    assert redis.exec_run(["redis-cli", "SAVE"]).exit_code == 0

    nas.engine.halt()  # the NAS shuts down: dockerd stops its containers
    nas.engine.start()  # and boots: nobody runs nasrtc

    def healthy() -> bool:
        found = nas.containers(project)
        return len(found) == 3 and all(
            c.status == "running" and (c.attrs["State"].get("Health") or {}).get("Status")
            in (None, "healthy") for c in found.values())

    assert wait_for(healthy, 120, every=1), {n: c.status for n, c in
                                             nas.containers(project).items()}
    assert {name: c.id for name, c in nas.containers(project).items()} == before, \
        "the same containers came back (restart policy), none was made anew"
    status = nas.nasrtc("status", "--dir", str(folder))
    assert status.returncode == 0 and status.stdout.count("healthy") == 3, status.stdout
    again = nas.nasrtc("up", "--dir", str(folder))
    assert again.returncode == 0 and "nothing was recreated" in again.stdout, again.stdout
    assert {name: c.id for name, c in nas.containers(project).items()} == before
    redis = nas.containers(project)[f"{project}-redis-1"]
    assert redis.exec_run(["redis-cli", "GET", "kept"]).output.strip() == b"yes"
    assert nas.nasrtc("down", "--dir", str(folder)).returncode == 0
