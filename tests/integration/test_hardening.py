"""nasrtc runs as root on machines that hold people's files. A write is complete or
absent (a real, tiny tmpfs fills up), nothing is written or chmod-ed through a planted
link, folders get their modes whatever the umask, backups are never replaced, and no
template cache someone else can write is used."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS, run_subprocess, snapshot, write_answers

root_only = pytest.mark.skipif(os.geteuid() != 0 and not REQUIRE_TOOLS,
                               reason="mounting a tmpfs needs root")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 KiB tmpfs: room for the secrets and a few files, not for a whole stack."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def init(folder: Path, tmp_path: Path, *extra: str) -> Any:
    source = write_answers(tmp_path, {"domain": "example.org"}, "hardening.yaml")
    return run_subprocess("init", "--dir", str(folder), "--answers", str(source), *extra)


@root_only
def test_a_full_disk_changes_nothing(tiny_disk: Path, tmp_path: Path) -> None:
    result = init(tiny_disk / "stack", tmp_path)
    assert result.code == 1, result.out + result.err
    assert "disk full at" in result.err and "nothing changed" in result.err
    assert "Traceback" not in result.err
    left = snapshot(tiny_disk / "stack")
    assert left == {}, f"half a stack was left behind: {sorted(left)}"


def test_a_planted_link_is_never_written_through(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (stack / "compose.yaml").unlink()
    (stack / ".compose.yaml.nasrtc-tmp").symlink_to(victim)  # the temp file's name
    assert run_subprocess("render", "--dir", str(stack)).code == 0
    assert victim.read_text() == "precious\n"
    assert not (stack / "compose.yaml").is_symlink()
    (stack / "compose.yaml").unlink()
    (stack / "compose.yaml").symlink_to(victim)  # the file itself
    refused = run_subprocess("render", "--dir", str(stack), "--force")
    assert refused.code == 1 and "is a symbolic link" in refused.err
    assert victim.read_text() == "precious\n"


def test_a_linked_sub_folder_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "livekit").symlink_to(elsewhere)
    result = init(stack, tmp_path)
    assert result.code == 1 and "livekit is a symbolic link" in result.err
    assert list(elsewhere.iterdir()) == [], "the secret-holding livekit.yaml went nowhere"


def test_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    source = write_answers(tmp_path, {"domain": "example.org"}, "umask.yaml")
    import sys

    done = subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$@"', "sh", sys.executable, "-m", "nasrtc", "init",
         "--dir", str(stack), "--answers", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    def mode(rel: str) -> int:
        return (stack / rel).stat().st_mode & 0o777

    assert mode(".") == 0o755 and mode("livekit") == 0o755 and mode("secrets") == 0o700
    assert mode("livekit/livekit.yaml") == 0o600 and mode("secrets/livekit_api_secret") == 0o600
    assert mode("compose.yaml") == 0o644


def test_backups_are_numbered_never_replaced(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    compose = stack / "compose.yaml"
    for edit in ("# first edit\n", "# second edit\n"):
        compose.write_text(compose.read_text() + edit)
        assert run_subprocess("render", "--dir", str(stack), "--force").code == 0
    assert (stack / "compose.yaml.bak").read_text().endswith("# first edit\n")
    assert (stack / "compose.yaml.bak.2").read_text().endswith("# second edit\n")


def test_a_template_cache_others_can_write_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "nasrtc").mkdir(parents=True)
    os.chmod(cache / "nasrtc", 0o777)  # anyone could plant compiled code here
    stack = tmp_path / "stack"
    source = write_answers(tmp_path, {"domain": "example.org"}, "cache.yaml")
    result = run_subprocess("init", "--dir", str(stack), "--answers", str(source),
                            env={"XDG_CACHE_HOME": str(cache)})
    assert result.code == 0, result.err
    assert list((cache / "nasrtc").iterdir()) == [], "nothing cached, nothing read"
    own = tmp_path / "own-cache"
    assert run_subprocess("render", "--dir", str(stack), env={"XDG_CACHE_HOME": str(own)}
                          ).code == 0
    assert any((own / "nasrtc").rglob("*")), "a cache of our own is used"


def test_output_that_cannot_be_written_is_a_clear_message(cli: Any, tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    for target, words in ((tmp_path, "is a folder, not a file"),
                          (tmp_path / "missing" / "x.html", "No such file or directory")):
        result = cli("checklist", "--dir", str(stack), "--format", "html", "--offline",
                     "--output", str(target))
        assert result.code == 1 and words in result.err and "internal error" not in result.err


def test_one_nasrtc_at_a_time_per_stack(tmp_path: Path) -> None:
    import fcntl
    import sys
    import time

    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    lock = os.open(stack / ".nasrtc-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another run holds the stack
    os.pwrite(lock, f"{os.getpid()}\n".encode(), 0)
    try:
        busy = run_subprocess("render", "--dir", str(stack), env={"NASRTC_LOCK_WAIT": "1"})
        assert busy.code == 1
        assert f"another nasrtc is working on {stack} (pid {os.getpid()})" in busy.err
        waiting = subprocess.Popen([sys.executable, "-m", "nasrtc", "render", "--dir",
                                    str(stack)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert waiting.poll() is None, "it waits for the other run"
    finally:
        os.close(lock)  # the other run ends
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert "waiting for another nasrtc" in err and "rendered" in out
