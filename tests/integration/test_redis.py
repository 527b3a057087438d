"""redis.enabled: Redis as a third container on the real engine (Debian's redis-server as
the stand-in image). The auth service waits for it (the stand-in, like the real one, pings
Redis at start and exits without an answer), Redis publishes no port, keeps its data in
the stack folder across down and up, and status, down and Compose v2 see all three."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.helpers import engine_says_healthy
from tests.integration.debian_image import redis_image

pytestmark = pytest.mark.engine


def test_redis_comes_first_keeps_its_data_and_goes_with_the_stack(
        make_stack: Any, client: Any) -> None:
    image = redis_image(client)
    stack = make_stack(redis={"enabled": True}, images={"redis": image})
    result = stack.nasrtc("up")
    assert result.code == 0, result.err
    assert "redis" in result.out
    found = {c.labels["com.docker.compose.service"]: c for c in stack.containers().values()}
    assert sorted(found) == ["jwt", "livekit", "redis"]
    redis, jwt = found["redis"], found["jwt"]
    assert engine_says_healthy(redis)
    assert not redis.attrs["HostConfig"]["PortBindings"]  # nothing published
    # The auth service found Redis on its first start: no restart, and its own word.
    assert jwt.attrs["RestartCount"] == 0
    assert "connected to Redis at redis:6379" in jwt.logs().decode()
    assert jwt.labels["com.docker.compose.depends_on"] == "redis:service_healthy:false"
    data = stack.dir / "redis"
    assert data.is_dir() and (data.stat().st_mode & 0o077) == 0

    rows = {row["service"]: row for row in yaml.safe_load(stack.nasrtc("status", "--json").out)}
    assert rows["redis"]["health"] == "healthy" and rows["redis"]["ports"] == ["-"]  # none

    # What the auth service stored survives down and up: the data is in the stack folder.
    stored = redis.exec_run(["redis-cli", "HSET", "lk-jwt:jobs", "room", "job"])
    assert stored.exit_code == 0, stored.output
    assert redis.exec_run(["redis-cli", "SAVE"]).exit_code == 0
    assert stack.nasrtc("down").code == 0 and stack.containers() == {}
    assert any(data.iterdir())  # the snapshot
    again = stack.nasrtc("up")
    assert again.code == 0, again.err
    redis = next(c for c in stack.containers().values()
                 if c.labels["com.docker.compose.service"] == "redis")
    assert redis.exec_run(["redis-cli", "HGET", "lk-jwt:jobs", "room"]).output.strip() == b"job"

    # A second up changes nothing; with Redis turned off in nasrtc.yaml, the next up runs
    # the auth service without it and removes Redis's container, not its data.
    ids = stack.ids()
    assert "nothing was recreated" in stack.nasrtc("up").out and stack.ids() == ids
    stack.set_answer("redis", "enabled", False)
    changed = stack.nasrtc("up")
    assert changed.code == 0, changed.err
    assert "recreating" in changed.out and "redis: no longer in nasrtc.yaml" in changed.out
    services = {c.labels["com.docker.compose.service"] for c in stack.containers().values()}
    assert services == {"livekit", "jwt"} and any(data.iterdir())
    assert stack.nasrtc("down").code == 0
    assert stack.containers() == {}


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_compose_v1_reads_the_same_depends_on(make_stack: Any, client: Any) -> None:
    """Debian's docker-compose (v1) accepts the long depends_on form compose.yaml uses."""
    image = redis_image(client)
    stack = make_stack(redis={"enabled": True}, images={"redis": image})
    assert stack.nasrtc("render").code == 0
    checked = subprocess.run(["docker-compose", "config", "-q"], cwd=stack.dir,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("release", ["2.24.7", "2.40.3"])  # before and after 2.29.3
def test_compose_v2_finds_nothing_to_change(release: str, make_stack: Any,
                                            client: Any) -> None:
    """Compose hashed depends_on until 2.29.3: on both sides of that line, `docker compose
    up -d` after `nasrtc up` recreates none of the three, and `nasrtc up` after Compose's
    `down` and `up -d` takes Compose's containers as they are."""
    from tests.integration.test_compose_v2 import compose, compose_binary

    binary = compose_binary(release)
    image = redis_image(client)
    stack = make_stack(redis={"enabled": True}, images={"redis": image})
    env = {"NASRTC_COMPOSE": str(binary)}  # the release on this host, as nasrtc finds it
    assert stack.nasrtc("up", env=env).code == 0
    ids = stack.ids()
    done = compose(binary, stack.dir, "up", "-d")
    assert done.returncode == 0, done.stderr
    assert stack.ids() == ids, "Compose recreated nasrtc's containers"
    assert compose(binary, stack.dir, "down").returncode == 0
    assert compose(binary, stack.dir, "up", "-d", "--wait").returncode == 0
    theirs = stack.ids()
    again = stack.nasrtc("up", env=env)
    assert again.code == 0 and "nothing was recreated" in again.out, again.out + again.err
    assert stack.ids() == theirs


def test_a_file_where_the_data_folder_goes_is_named(make_stack: Any, client: Any) -> None:
    stack = make_stack(redis={"enabled": True}, images={"redis": "nasrtc-test/unused:1"})
    assert stack.nasrtc("render").code == 0
    (stack.dir / "redis").write_text("not a folder\n")
    result = stack.nasrtc("up")
    assert result.code == 4 and "Traceback" not in result.err
    assert "redis keeps its data in" in result.err and "is not a folder" in result.err
    assert "mv " in result.err and stack.containers() == {}
    assert (stack.dir / "redis").read_text() == "not a folder\n"  # nothing lost


def test_a_link_where_the_data_folder_goes_is_refused(make_stack: Any, tmp_path: Any) -> None:
    """A planted link would hand the root-run Redis container any host folder, writable."""
    stack = make_stack(redis={"enabled": True}, images={"redis": "nasrtc-test/unused:1"})
    assert stack.nasrtc("render").code == 0
    target = tmp_path / "elsewhere"
    target.mkdir()
    (stack.dir / "redis").symlink_to(target)
    result = stack.nasrtc("up")
    assert result.code == 4 and "Traceback" not in result.err
    assert "which is a symbolic link, not a folder" in result.err
    assert stack.containers() == {} and list(target.iterdir()) == []


def test_upgrade_moves_redis_and_its_data_stays(make_stack: Any, client: Any,
                                                tmp_path: Any) -> None:
    """A release with a newer Redis pin moves a stack that runs Redis (its data kept); a
    stack without Redis gets no Redis pin written into its answers."""
    from tests.integration import standin_images as images
    from tests.integration.test_day_two import version_set

    image = redis_image(client)
    newer = "nasrtc-test/redis:2-next"
    client.images.get(image).tag(*newer.split(":"))
    env = version_set(tmp_path, livekit=images.LIVEKIT, jwt=images.JWT, redis=newer,
                      earlier=[{"livekit": images.LIVEKIT, "jwt": images.JWT, "redis": image}])
    try:
        stack = make_stack(redis={"enabled": True}, images={"redis": image})
        assert stack.nasrtc("up").code == 0
        redis_name = f"{stack.project}-redis-1"
        redis = stack.containers()[redis_name]
        assert redis.exec_run(["redis-cli", "SET", "kept", "yes"]).exit_code == 0
        assert redis.exec_run(["redis-cli", "SAVE"]).exit_code == 0
        before = stack.ids()

        done = stack.nasrtc("upgrade", "--yes", env=env)
        assert done.code == 0, done.out + done.err
        assert f"upgrade  redis: {image} -> {newer}" in done.out
        after = stack.ids()
        assert after[redis_name] != before[redis_name]
        assert after[f"{stack.project}-livekit-1"] == before[f"{stack.project}-livekit-1"]
        redis = stack.containers()[redis_name]
        assert redis.attrs["Config"]["Image"] == newer
        assert redis.exec_run(["redis-cli", "GET", "kept"]).output.strip() == b"yes"
        assert f"redis: {newer}" in (stack.dir / "nasrtc.yaml").read_text()

        back = stack.nasrtc("upgrade", "--rollback", "--yes", env=env)
        assert back.code == 0, back.err
        assert stack.containers()[redis_name].attrs["Config"]["Image"] == image

        plain = make_stack()  # no Redis: nothing to move, no pin written down for it
        answers = (plain.dir / "nasrtc.yaml").read_text()
        untouched = plain.nasrtc("upgrade", "--yes", env=env)
        assert untouched.code == 0 and "nothing to upgrade" in untouched.out, untouched.err
        assert "redis" not in untouched.out
        assert (plain.dir / "nasrtc.yaml").read_text() == answers
    finally:
        client.images.remove(newer)


def test_remove_keeps_the_data_until_purge_and_never_follows_a_link(
        make_stack: Any, client: Any, tmp_path: Any) -> None:
    image = redis_image(client)
    stack = make_stack(redis={"enabled": True}, images={"redis": image})
    assert stack.nasrtc("up").code == 0
    redis = stack.containers()[f"{stack.project}-redis-1"]
    assert redis.exec_run(["redis-cli", "SAVE"]).exit_code == 0
    data = stack.dir / "redis"
    assert any(data.iterdir())

    removed = stack.nasrtc("remove", "--yes")
    assert removed.code == 0, removed.err
    assert "keep   redis/ (redis's data; --purge deletes it)" in removed.out
    assert stack.containers() == {} and any(data.iterdir()), "the data stays"

    purged = stack.nasrtc("remove", "--purge", "--yes")
    assert purged.code == 0, purged.err
    assert "delete redis/ (redis's data)" in purged.out
    assert not data.exists() and list(stack.dir.iterdir()) == [], "nothing of nasrtc's stays"

    # A link where the data folder goes: neither it nor what it points to is touched.
    linked = make_stack(redis={"enabled": True}, images={"redis": image})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("mine\n")
    (linked.dir / "redis").symlink_to(elsewhere)
    gone = linked.nasrtc("remove", "--purge", "--yes")
    assert gone.code == 0, gone.err
    assert "keep   redis/ (a symbolic link" in gone.out
    assert (linked.dir / "redis").is_symlink()
    assert (elsewhere / "precious").read_text() == "mine\n"


def test_a_new_redis_image_recreates_redis_and_the_auth_service_waits_for_it(
        make_stack: Any, client: Any) -> None:
    """The auth service waits for Redis to be healthy. While Redis is recreated, its old
    container, stopped and set aside, carries the same labels as the new one: `up` must
    wait for the new one, not report the old one as stopped (it did, and rolled back)."""
    image = redis_image(client)
    other = "nasrtc-test/redis:1-other-tag"
    client.images.get(image).tag(*other.split(":"))
    try:
        stack = make_stack(redis={"enabled": True}, images={"redis": image})
        assert stack.nasrtc("up").code == 0
        before = stack.ids()
        stack.set_answer("images", "redis", other)
        assert stack.nasrtc("render").code == 0
        again = stack.nasrtc("up")
        assert again.code == 0, again.out + again.err
        assert "redis: settings changed, recreating" in again.out
        redis_name = f"{stack.project}-redis-1"
        after = stack.containers()
        assert sorted(after) == sorted(before), "no copy set aside is left"
        assert after[redis_name].id != before[redis_name]
        assert after[redis_name].attrs["Config"]["Image"] == other
        assert all(c.status == "running" for c in after.values())
    finally:
        client.images.remove(other)
