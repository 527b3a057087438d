"""Class 14: `upgrade --yes` killed (SIGKILL) at every step: each file it writes (the pins
into nasrtc.yaml, the files rendered from them: file:N) and each change on the engine
(the recreate: engine:N), and the same for an upgrade whose new image does not start, so
the kill points of its rollback are covered too. After each kill the next plain
`upgrade --yes` finishes the job (or rolls it back again): the stack runs exactly its
containers on the images it should, nasrtc.yaml pins them, and `up` recreates nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration import standin_images as images

pytestmark = [pytest.mark.engine, pytest.mark.slow, pytest.mark.once]
MOST_STEPS = 80
NEWER = "nasrtc-test/livekit:7-next"


def version_set(folder: Path, livekit: str) -> dict[str, str]:
    path = folder / "versions.json"
    path.write_text(json.dumps({"livekit": livekit, "jwt": images.JWT,
                                "earlier": [{"livekit": images.LIVEKIT, "jwt": images.JWT}]}))
    return {"NASRTC_VERSION_SET": str(path)}


def image_of(stack: Any, service: str) -> str:
    return str(stack.containers()[f"{stack.project}-{service}-1"].attrs["Config"]["Image"])


def settled(stack: Any, livekit: str, point: str) -> None:
    names = sorted(stack.containers())
    assert names == [f"{stack.project}-jwt-1", f"{stack.project}-livekit-1"], (point, names)
    assert all(c.status == "running" for c in stack.containers().values()), point
    assert image_of(stack, "livekit") == livekit, (point, image_of(stack, "livekit"))
    pinned = (stack.dir / "nasrtc.yaml").read_text()
    assert f"livekit: {livekit}" in pinned, point
    again = stack.nasrtc("up", env={"NASRTC_LOCK_WAIT": "0"})
    assert again.code == 0 and "nothing was recreated" in again.out, (point, again.out)


def enumerate_upgrade(stack: Any, env: dict[str, str], lands_on: str, code: int,
                      kinds: tuple[str, ...] = ("file", "engine")) -> int:
    """Kill `upgrade --yes` at each step of each kind; after each, the next upgrade heals
    and --rollback (the way back from every upgrade) brings the old images back."""
    assert stack.nasrtc("up").code == 0
    points = 0
    for kind in kinds:
        for point in range(1, MOST_STEPS + 1):
            assert image_of(stack, "livekit") == images.LIVEKIT, (kind, point)
            done = stack.nasrtc("upgrade", "--yes", "--timeout", "30",
                                env={**env, "NASRTC_FAILPOINT": f"{kind}:{point}"})
            if done.code != -9:
                assert done.code == code, (kind, point, done.out, done.err)
                settled(stack, lands_on, f"{kind}:{point} (ran through)")
                break
            points += 1
            healed = stack.nasrtc("upgrade", "--yes", "--timeout", "30",
                                  env={**env, "NASRTC_LOCK_WAIT": "0"})
            assert healed.code == code, (kind, point, healed.out, healed.err)
            settled(stack, lands_on, f"{kind}:{point}")
            if lands_on != images.LIVEKIT:
                back = stack.nasrtc("upgrade", "--rollback", "--yes", env=env)
                assert back.code == 0, (kind, point, back.out, back.err)
                settled(stack, images.LIVEKIT, f"{kind}:{point} (rolled back)")
        else:
            raise AssertionError("the enumeration did not end")
        if lands_on != images.LIVEKIT:  # the run that went through: back for the next kind
            assert stack.nasrtc("upgrade", "--rollback", "--yes", env=env).code == 0
    return points


def test_an_upgrade_killed_at_every_step_is_finished_by_the_next(
        make_stack: Any, client: Any, tmp_path: Path) -> None:
    client.images.get(images.LIVEKIT).tag(*NEWER.split(":"))
    stack = make_stack()
    points = enumerate_upgrade(stack, version_set(tmp_path, NEWER), NEWER, 0)
    assert points > 3
    print(f"upgrade: {points} kill points, every one finished by the next upgrade")


def test_a_failing_upgrade_killed_at_every_step_ends_rolled_back(
        make_stack: Any, tmp_path: Path) -> None:
    """The new image crashes: upgrade puts the previous images back (exit 1); killed in the
    middle of that, the next upgrade tries again and rolls back again."""
    stack = make_stack()  # its file steps are the upgrade's above; here the engine's
    points = enumerate_upgrade(stack, version_set(tmp_path, images.CRASH), images.LIVEKIT, 1,
                               kinds=("engine",))
    assert points > 3
    print(f"upgrade rolled back: {points} kill points, every one ended rolled back")


def test_an_upgrade_over_the_sdk_killed_at_every_engine_step(
        make_stack: Any, client: Any, tcp_engine: str, tmp_path: Path) -> None:
    """The same recreate over the Docker SDK's transport (an engine at a tcp:// address):
    its file steps are those above; here each change it makes on the engine."""
    client.images.get(images.LIVEKIT).tag(*NEWER.split(":"))
    stack = make_stack()
    env = {**version_set(tmp_path, NEWER), "DOCKER_HOST": tcp_engine}
    points = enumerate_upgrade(stack, env, NEWER, 0, kinds=("engine",))
    assert points > 3
    print(f"upgrade over the SDK: {points} kill points, every one finished by the next")


def test_a_rollback_killed_at_every_step_is_finished_by_the_next(
        make_stack: Any, client: Any, tmp_path: Path) -> None:
    """`upgrade --rollback` (the saved answers back, LiveKit recreated on the old image)
    killed at each file and engine step; the next `--rollback` finishes it."""
    client.images.get(images.LIVEKIT).tag(*NEWER.split(":"))
    stack = make_stack()
    env = version_set(tmp_path, NEWER)
    assert stack.nasrtc("up").code == 0
    points = 0
    for kind in ("file", "engine"):
        for point in range(1, MOST_STEPS + 1):
            moved = stack.nasrtc("upgrade", "--yes", env=env)
            assert moved.code == 0, (kind, point, moved.out, moved.err)
            settled(stack, NEWER, f"{kind}:{point} (upgraded)")
            done = stack.nasrtc("upgrade", "--rollback", "--yes",
                                env={**env, "NASRTC_FAILPOINT": f"{kind}:{point}"})
            if done.code != -9:
                assert done.code == 0, (kind, point, done.out, done.err)
                settled(stack, images.LIVEKIT, f"{kind}:{point} (ran through)")
                break
            points += 1
            healed = stack.nasrtc("upgrade", "--rollback", "--yes",
                                  env={**env, "NASRTC_LOCK_WAIT": "0"})
            assert healed.code == 0, (kind, point, healed.out, healed.err)
            settled(stack, images.LIVEKIT, f"{kind}:{point}")
        else:
            raise AssertionError("the enumeration did not end")
    assert points > 3
    print(f"upgrade --rollback: {points} kill points, every one finished by the next")


def test_status_names_an_upgrade_that_did_not_end(make_stack: Any, client: Any,
                                                  tmp_path: Path) -> None:
    """The journal: there from the upgrade's start to its end; status (past the quick
    lane) says so, and the next upgrade finishes the job and removes it."""
    client.images.get(images.LIVEKIT).tag(*NEWER.split(":"))
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    assert stack.nasrtc("status").code == 0  # the quick lane's record is there
    env = version_set(tmp_path, NEWER)
    killed = stack.nasrtc("upgrade", "--yes", env={**env, "NASRTC_FAILPOINT": "engine:1"})
    assert killed.code == -9
    journal = stack.dir / ".nasrtc-upgrading"
    assert journal.is_file()
    said = stack.nasrtc("status")
    assert "an interrupted `nasrtc upgrade` began here" in said.out, said.out
    finished = stack.nasrtc("upgrade", "--yes", env=env)
    assert finished.code == 0, finished.out + finished.err
    assert not journal.exists()
    assert "interrupted" not in stack.nasrtc("status").out
    settled(stack, NEWER, "after the journal")
