"""Living with the stack: logs, status as people read it, and a remove that takes only
what nasrtc made. On the real engine with the stand-in images."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

from tests.helpers import engine_says_healthy
from tests.integration import standin_images as images


def test_logs_prefix_each_line_with_its_service(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    shown = stack.nasrtc("logs")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    port = stack.answers["ports"]["livekit_http"]
    assert f"livekit-1  | stand-in livekit: listening on 127.0.0.1:{port}" in lines
    assert "jwt-1      | stand-in auth service: listening on 8080" in lines
    only = stack.nasrtc("logs", "jwt", "--tail", "1")
    assert only.out.splitlines() == ["jwt-1  | stand-in auth service: listening on 8080"]
    assert stack.nasrtc("logs", "--since", "1d").out == shown.out
    assert stack.nasrtc("logs", "--since", "soon").code == 2


def test_follow_ends_cleanly_on_ctrl_c(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    follow = subprocess.Popen([sys.executable, "-m", "nasrtc", "logs", "--follow", "--dir",
                               str(stack.dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    assert follow.stdout is not None
    first = follow.stdout.readline()  # it streams: the first line arrives before the end
    assert "| stand-in" in first
    time.sleep(0.5)
    assert follow.poll() is None, "--follow keeps running"
    follow.send_signal(signal.SIGINT)
    _, err = follow.communicate(timeout=10)
    assert follow.returncode == 0 and "Traceback" not in err


def test_status_names_the_ports_in_host_mode_and_json_says_the_same(make_stack: Any) -> None:
    stack = make_stack()
    before = json.loads(stack.nasrtc("status", "--json").out)
    assert {row["state"] for row in before} == {"not created"}
    assert all(row["health"] == "-" and row["ports"] == ["-"] for row in before), before
    assert stack.nasrtc("up").code == 0
    text = stack.nasrtc("status").out
    ports = stack.answers["ports"]
    for shown in (f"{ports['livekit_http']}/tcp (host network)",
                  f"{ports['rtc_tcp']}/tcp (host network)",
                  f"{ports['rtc_udp']}/udp (host network)"):
        assert shown in text
    rows = {row["service"]: row for row in json.loads(stack.nasrtc("status", "--json").out)}
    assert f"{ports['rtc_udp']}/udp (host network)" in rows["livekit"]["ports"]
    assert rows["livekit"]["health"] == "healthy"


def test_remove_takes_only_what_nasrtc_made(make_stack: Any, client: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    bystander = client.containers.run(images.LIVEKIT, name=f"{stack.project}-mine",
                                      command=["--config", "/nonexistent"], detach=True)
    try:
        (stack.dir / "notes.txt").write_text("mine\n")
        checklist = stack.dir / "checklist.md"
        original = checklist.read_text()
        checklist.write_text(original + "my own step\n")
        refused = stack.nasrtc("remove")  # no terminal and no --yes: nothing happens
        assert refused.code == 2 and "--yes" in refused.err
        named = lambda: {c.name for c in client.containers.list(  # noqa: E731
            all=True, filters={"name": stack.project})}
        assert len(named()) == 3

        removed = stack.nasrtc("remove", "--yes")
        assert removed.code == 0, removed.err
        assert "keep   checklist.md (edited by hand" in removed.out
        assert named() == {f"{stack.project}-mine"}, "never another container"
        left = {str(p.relative_to(stack.dir)) for p in stack.dir.rglob("*") if p.is_file()}
        assert left == {"nasrtc.yaml", "notes.txt", "checklist.md", ".nasrtc-manifest.json",
                        "secrets/livekit_api_key", "secrets/livekit_api_secret"}
        checklist.write_text(original)  # (an edited file would stop init, rightly)
        assert stack.nasrtc("init", "--answers", str(stack.dir / "nasrtc.yaml")).code == 0, \
            "init brings it back from the kept answers and secrets"
        checklist.write_text(original + "my own step\n")

        purged = stack.nasrtc("remove", "--purge", "--yes")
        assert purged.code == 0, purged.err
        left = {str(p.relative_to(stack.dir)) for p in stack.dir.rglob("*")}
        assert left == {"notes.txt", "checklist.md"}, "only what is the user's stays"
        assert os.listdir(stack.dir)
    finally:
        bystander.remove(force=True)


def version_set(tmp: Any, **chosen: Any) -> dict[str, str]:
    """A tested version set other than the shipped one (NASRTC_VERSION_SET), as a release
    of nasrtc with newer pins would carry."""
    path = tmp / "versions.json"
    path.write_text(json.dumps(chosen))
    return {"NASRTC_VERSION_SET": str(path)}


def test_upgrade_moves_to_the_tested_set_and_back(make_stack: Any, client: Any,
                                                  tmp_path: Any, homeserver_on_443: Any) -> None:
    homeserver_on_443()  # so that doctor's checks after the upgrade can all pass
    newer = "nasrtc-test/livekit:7-next"
    client.images.get(images.LIVEKIT).tag(*newer.split(":"))
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    before = stack.ids()
    env = version_set(tmp_path, livekit=newer, jwt=images.JWT,
                      earlier=[{"livekit": images.LIVEKIT, "jwt": images.JWT}])
    status = stack.nasrtc("status", env=env)
    assert "note: livekit runs an image older than the set this nasrtc was tested with" \
        in status.out
    refused = stack.nasrtc("upgrade", env=env)  # no terminal and no --yes
    assert refused.code == 2 and stack.ids() == before

    done = stack.nasrtc("upgrade", "--yes", env=env)
    assert done.code == 0, done.err
    assert f"upgrade  livekit: {images.LIVEKIT} -> {newer}" in done.out
    assert "changes  compose.yaml" in done.out
    assert "doctor: this machine's checks pass" in done.out
    after = stack.ids()
    livekit, jwt = f"{stack.project}-livekit-1", f"{stack.project}-jwt-1"
    assert after[livekit] != before[livekit] and after[jwt] == before[jwt], \
        "only what changed is recreated"
    assert stack.containers()[livekit].attrs["Config"]["Image"] == newer
    assert f"livekit: {newer}" in (stack.dir / "nasrtc.yaml").read_text()
    again = stack.nasrtc("upgrade", "--yes", env=env)
    assert again.code == 0 and "nothing to upgrade" in again.out

    back = stack.nasrtc("upgrade", "--rollback", "--yes", env=env)
    assert back.code == 0, back.err
    assert stack.containers()[livekit].attrs["Config"]["Image"] == images.LIVEKIT


def test_an_upgrade_that_does_not_start_is_rolled_back(make_stack: Any, tmp_path: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    answers = (stack.dir / "nasrtc.yaml").read_text()
    env = version_set(tmp_path, livekit=images.CRASH, jwt=images.JWT,
                      earlier=[{"livekit": images.LIVEKIT, "jwt": images.JWT}])
    failed = stack.nasrtc("upgrade", "--yes", "--timeout", "30", env=env)
    assert failed.code == 1
    assert "putting the previous images back" in failed.err
    assert "the upgrade was rolled back" in failed.err
    assert (stack.dir / "nasrtc.yaml").read_text() == answers
    livekit = stack.containers()[f"{stack.project}-livekit-1"]
    assert livekit.attrs["Config"]["Image"] == images.LIVEKIT
    assert engine_says_healthy(livekit)


def test_a_pin_of_the_users_own_is_kept(make_stack: Any, tmp_path: Any) -> None:
    stack = make_stack()  # its images are pins no nasrtc release chose
    env = version_set(tmp_path, livekit="livekit/livekit-server:v9", jwt="other/jwt:9")
    kept = stack.nasrtc("upgrade", "--yes", env=env)
    assert kept.code == 0, kept.err
    assert f"kept     livekit: {images.LIVEKIT} (your own pin" in kept.out
    assert "nothing to upgrade" in kept.out
