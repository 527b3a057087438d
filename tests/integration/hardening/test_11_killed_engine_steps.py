"""Class 11: `up` and `down` killed (SIGKILL) after each change they make on the engine
(each create, start, stop, rename, remove, network call: NASRTC_FAILPOINT=engine:N, N from
1 until the command runs through), and `remove` at each file it deletes (file:N). A GET changes
nothing, so a kill after one leaves what a kill after the change before it leaves: those
are the steps (the wait for health included, which is GETs after the last start).

After each kill the next plain command finishes the job: the stack runs with exactly its
containers (no `-replaced-` copy, no second network), a further `up` recreates nothing;
or, for `down` and `remove`, nothing of the stack is left on the engine. The dead run's
lock never makes it wait."""

from __future__ import annotations

import contextlib
from typing import Any

import docker
import pytest

from tests.helpers import free_port, snapshot
from tests.integration import standin_images as images
from tests.integration.registry import local_registry

pytestmark = [pytest.mark.engine, pytest.mark.slow, pytest.mark.once]
MOST_STEPS = 60
HEAL_ENV = {"NASRTC_LOCK_WAIT": "0"}


def expected(stack: Any) -> list[str]:
    return [f"{stack.project}-jwt-1", f"{stack.project}-livekit-1"]


def networks(stack: Any) -> list[str]:
    return sorted(n.name for n in stack.client.networks.list(filters={"name": stack.project}))


def running_as_it_should(stack: Any, point: int) -> None:
    names = sorted(stack.containers())
    assert names == expected(stack), (point, names)
    assert all(c.status == "running" for c in stack.containers().values()), point
    assert len(networks(stack)) <= 1, (point, networks(stack))
    again = stack.nasrtc("up", env=HEAL_ENV)
    assert again.code == 0 and "nothing was recreated" in again.out, (point, again.out)


def files(folder: Any) -> dict[str, bytes]:
    """The stack folder, less the record of the last `up` (it names that up's containers,
    new at every up)."""
    return {rel: data for rel, data in snapshot(folder).items()
            if rel != ".nasrtc-state.json"}


def killed(stack: Any, command: str, point: int, *args: str) -> bool:
    """Whether `command` died at its `point`th engine change (else it ran through)."""
    done = stack.nasrtc(command, *args, env={"NASRTC_FAILPOINT": f"engine:{point}"})
    if done.code == -9:
        return True
    assert done.code == 0, (point, done.out, done.err)
    return False


def test_a_first_up_killed_at_every_engine_step(make_stack: Any) -> None:
    stack = make_stack()
    for point in range(1, MOST_STEPS + 1):
        if not killed(stack, "up", point):
            running_as_it_should(stack, point)
            break
        healed = stack.nasrtc("up", env=HEAL_ENV)
        assert healed.code == 0, (point, healed.out, healed.err)
        running_as_it_should(stack, point)
        assert stack.nasrtc("down").code == 0 and not stack.containers()
    else:
        raise AssertionError("the enumeration did not end")
    assert point > 3, "up was killed at its steps at all"
    print(f"up (first start): {point - 1} kill points, every one healed by the next up")


def test_up_and_down_over_the_sdk_killed_at_every_engine_step(
        make_stack: Any, tcp_engine: str) -> None:
    """The same over the Docker SDK's transport (an engine at a tcp:// address, as on a NAS
    managed from another machine): up, then down, killed at each engine change."""
    stack = make_stack()
    sdk = {"DOCKER_HOST": tcp_engine}
    points = {"up": 0, "down": 0}
    for command in ("up", "down"):
        for point in range(1, MOST_STEPS + 1):
            if command == "down":
                assert stack.nasrtc("up", env=sdk).code == 0
            done = stack.nasrtc(command, env={**sdk, "NASRTC_FAILPOINT": f"engine:{point}"})
            if done.code != -9:
                assert done.code == 0, (command, point, done.out, done.err)
                break
            points[command] += 1
            healed = stack.nasrtc(command, env={**sdk, **HEAL_ENV})
            assert healed.code == 0, (command, point, healed.out, healed.err)
            if command == "up":
                running_as_it_should(stack, point)
                assert stack.nasrtc("down", env=sdk).code == 0
            else:
                assert not stack.containers() and networks(stack) == [], (command, point)
        else:
            raise AssertionError("the enumeration did not end")
    assert points["up"] > 3 and points["down"] > 2, points
    print(f"over the SDK: up {points['up']}, down {points['down']} kill points, all healed")


def test_an_up_killed_while_it_pulls(make_stack: Any, client: Any) -> None:
    """A missing image pulled from a registry (a local one serving the stand-in): `up`
    killed at each of the pull's progress events (pull:N); the next `up` pulls what is
    still missing and starts the stack."""
    with local_registry() as registry:
        served = registry.add(client, images.LIVEKIT, "served/livekit")
        stack = make_stack(images={"livekit": served})
        points = 0
        try:
            for point in range(1, MOST_STEPS + 1):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    client.images.remove(served, force=True)
                if not killed(stack, "up", point):
                    running_as_it_should(stack, point)
                    break
                points += 1
                healed = stack.nasrtc("up", env=HEAL_ENV)
                assert healed.code == 0, (point, healed.out, healed.err)
                running_as_it_should(stack, point)
                assert stack.nasrtc("down").code == 0
            else:
                raise AssertionError("the enumeration did not end")
        finally:
            stack.cleanup()
            with contextlib.suppress(docker.errors.ImageNotFound):
                client.images.remove(served, force=True)
    assert points >= 2, "the pull was killed at its steps at all"
    print(f"up while pulling: {points} kill points, every one healed by the next up")


def test_an_up_that_recreates_killed_at_every_engine_step(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    for point in range(1, MOST_STEPS + 1):
        stack.set_answer("ports", "rtc_tcp", free_port())  # LiveKit must be recreated
        if not killed(stack, "up", point):
            running_as_it_should(stack, point)
            break
        healed = stack.nasrtc("up", env=HEAL_ENV)
        assert healed.code == 0, (point, healed.out, healed.err)
        running_as_it_should(stack, point)
    else:
        raise AssertionError("the enumeration did not end")
    assert point > 3
    print(f"up (recreating LiveKit): {point - 1} kill points, every one healed by up")


def test_down_killed_at_every_engine_step(make_stack: Any) -> None:
    stack = make_stack()
    points = 0
    assert stack.nasrtc("up").code == 0 and stack.nasrtc("down").code == 0
    uninterrupted = files(stack.dir)  # what down leaves when it runs through
    for point in range(1, MOST_STEPS + 1):
        assert stack.nasrtc("up", env=HEAL_ENV).code == 0
        if not killed(stack, "down", point):
            break
        points += 1
        healed = stack.nasrtc("down", env=HEAL_ENV)
        assert healed.code == 0, (point, healed.out, healed.err)
        assert not stack.containers(), (point, sorted(stack.containers()))
        assert networks(stack) == [], (point, networks(stack))
        assert files(stack.dir) == uninterrupted, point
    else:
        raise AssertionError("the enumeration did not end")
    assert points > 2
    print(f"down: {points} kill points, every one healed by the next down")


@pytest.mark.parametrize("purge", [(), ("--purge",)], ids=["keep", "purge"])
def test_remove_killed_at_every_file_it_deletes(make_stack: Any, purge: tuple[str, ...]) -> None:
    """remove's engine steps are down's (above); here each file and folder it deletes
    (with --purge also the answers, the secrets and Redis's data)."""
    stack = make_stack(redis={"enabled": True}) if purge else make_stack()
    answers = str(stack.dir.parent / "answers.yaml")
    if purge:  # Redis's data folder, as its container would have left it
        (stack.dir / "redis").mkdir(mode=0o700, exist_ok=True)
        (stack.dir / "redis" / "dump.rdb").write_bytes(b"REDIS0011")
    assert stack.nasrtc("remove", "--yes", *purge).code == 0
    uninterrupted = files(stack.dir)  # nasrtc.yaml, secrets/ and the record of nasrtc.yaml
    points = 0
    for point in range(1, MOST_STEPS + 1):
        assert stack.nasrtc("init", "--answers", answers, env=HEAL_ENV).code == 0
        if purge:
            (stack.dir / "redis").mkdir(mode=0o700, exist_ok=True)
            (stack.dir / "redis" / "dump.rdb").write_bytes(b"REDIS0011")
        done = stack.nasrtc("remove", "--yes", *purge,
                            env={"NASRTC_FAILPOINT": f"file:{point}"})
        if done.code != -9:
            assert done.code == 0, (point, done.out, done.err)
            break
        points += 1
        answers_gone = not (stack.dir / "nasrtc.yaml").exists()
        healed = stack.nasrtc("remove", "--yes", *purge, env=HEAL_ENV)
        if answers_gone:
            # The answers go last: killed after them, nothing of the stack was left, and
            # the next remove says there is no stack here.
            assert healed.code == 1 and "no nasrtc.yaml" in healed.err, (point, healed.err)
        else:
            assert healed.code == 0, (point, healed.out, healed.err)
        left = files(stack.dir)
        assert left == uninterrupted, (point, sorted(
            rel for rel in set(left) | set(uninterrupted)
            if left.get(rel) != uninterrupted.get(rel)))
    else:
        raise AssertionError("the enumeration did not end")
    assert points > 5
    print(f"remove{''.join(' ' + word for word in purge)}: {points} kill points, every one healed by the next")
