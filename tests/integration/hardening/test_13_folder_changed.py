"""Class 13: the stack folder changes under a running stack: a file deleted, a mounted
file replaced by the folder Docker makes when it is missing, a folder of someone's in a
file's place, the whole folder restored from a backup (or a Btrfs snapshot on DSM). doctor
names what is wrong; `up` repairs what is nasrtc's and leaves the rest alone."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.helpers import doctor_rows, free_port

pytestmark = [pytest.mark.engine, pytest.mark.once]


def test_a_deleted_file_is_written_again_and_only_its_service_restarts(
        make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    before = stack.ids()
    (stack.dir / "livekit" / "livekit.yaml").unlink()
    rows = doctor_rows(stack.nasrtc("doctor", "--local", "--json"))
    assert rows["livekit.yaml"]["status"] == "fail" and "up" in rows["livekit.yaml"]["fix"]
    up = stack.nasrtc("up")
    assert up.code == 0 and "rendered livekit/livekit.yaml" in up.out, up.out + up.err
    assert (stack.dir / "livekit" / "livekit.yaml").is_file()
    after = stack.ids()
    assert after[f"{stack.project}-jwt-1"] == before[f"{stack.project}-jwt-1"]


def test_the_folder_docker_makes_for_a_missing_file_is_repaired(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    config = stack.dir / "livekit" / "livekit.yaml"
    config.unlink()
    livekit = stack.containers()[f"{stack.project}-livekit-1"]
    with pytest.raises(Exception):  # noqa: B017 (docker's own error: a folder on a file)
        livekit.restart()  # as a reboot would: Docker makes a folder at the missing file
    assert config.is_dir(), "Docker made the folder"
    rows = doctor_rows(stack.nasrtc("doctor", "--local", "--json"))
    assert "a folder" in rows["livekit.yaml"]["detail"], rows["livekit.yaml"]
    assert "up" in rows["mounted files"]["fix"], rows["mounted files"]
    up = stack.nasrtc("up")
    assert up.code == 0, up.out + up.err
    assert "removed the empty folder Docker had made where livekit/livekit.yaml" in up.out
    assert config.is_file() and config.stat().st_mode & 0o777 == 0o600
    assert all(c.status == "running" for c in stack.containers().values())
    again = stack.nasrtc("up")
    assert "nothing was recreated" in again.out, again.out


def test_a_folder_with_something_in_it_is_never_removed(make_stack: Any) -> None:
    stack = make_stack()
    config = stack.dir / "livekit" / "livekit.yaml"
    config.unlink()
    config.mkdir()
    (config / "mine.txt").write_text("someone's\n")
    up = stack.nasrtc("up")
    assert up.code != 0 and "is a folder where nasrtc writes a file" in up.err, up.err
    assert (config / "mine.txt").read_text() == "someone's\n"
    assert stack.containers() == {}, "nothing was started"


def test_a_folder_restored_from_a_backup_runs_as_it_was_then(make_stack: Any,
                                                              tmp_path: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    backup = tmp_path / "backup"
    shutil.copytree(stack.dir, backup, symlinks=True)  # a snapshot, modes and all
    then = (stack.dir / "livekit" / "livekit.yaml").read_text()
    stack.set_answer("ports", "rtc_tcp", free_port())
    assert stack.nasrtc("up").code == 0
    assert (stack.dir / "livekit" / "livekit.yaml").read_text() != then
    shutil.rmtree(stack.dir)
    shutil.copytree(backup, stack.dir, symlinks=True)  # restored while the stack runs
    up = stack.nasrtc("up")
    assert up.code == 0, up.out + up.err
    assert "livekit" in up.out and "nothing was recreated" not in up.out, up.out
    livekit = stack.containers()[f"{stack.project}-livekit-1"]
    assert livekit.status == "running"
    assert (stack.dir / "livekit" / "livekit.yaml").read_text() == then
    status = stack.nasrtc("status")
    assert status.code == 0 and status.out.count("healthy") == 2, status.out
    again = stack.nasrtc("up")
    assert "nothing was recreated" in again.out, again.out
