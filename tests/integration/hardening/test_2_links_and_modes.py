"""Class 2: never write through a link, never trust a shared folder. A link planted
where nasrtc writes (the file, its temp file, a sub-folder) is refused or replaced, never
followed; folders and files get their modes whatever the umask."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_subprocess, write_answers
from tests.integration.hardening.common import init


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


MALLORY = "nasrtc-mallory"  # another local user of the NAS


@pytest.fixture
def mallory() -> str:
    if os.geteuid() != 0:
        pytest.skip("creating a local user needs root")
    if subprocess.run(["id", MALLORY], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", MALLORY], check=True)
    return MALLORY


def as_user(user: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True,
                          text=True)


def test_another_local_user_cannot_plant_a_link(mallory: str) -> None:
    """A real second user: nothing nasrtc makes can take their link, and a link they plant
    in a folder the owner left open to everyone is refused, never followed."""
    shared = Path(tempfile.mkdtemp(prefix="nasrtc-shared-", dir="/tmp"))
    try:
        os.chmod(shared, 0o755)
        stack = shared / "stack"
        assert init(stack, shared).code == 0
        for target in ("livekit/evil", "secrets/evil", ".compose.yaml.nasrtc-tmp"):
            planted = as_user(mallory, "ln", "-s", "/etc/shadow", str(stack / target))
            assert planted.returncode != 0 and "Permission denied" in planted.stderr, target

        open_stack = shared / "open"
        open_stack.mkdir(mode=0o777)
        os.chmod(open_stack, 0o777)  # the owner's own choice: writable by everyone
        loot = shared / "mallory-loot"
        assert as_user(mallory, "ln", "-s", str(loot), str(open_stack / "livekit")
                       ).returncode == 0
        result = init(open_stack, shared)
        assert result.code == 1 and "livekit is a symbolic link" in result.err
        assert not loot.exists(), "the secret-holding livekit.yaml went nowhere"
    finally:
        shutil.rmtree(shared)


@pytest.mark.parametrize("command", ["init", "export"])
def test_a_link_to_nothing_or_a_file_on_the_way_is_named(tmp_path: Path, command: str) -> None:
    """The folder to write is a link to a folder that does not exist (nasrtc does not make
    the link's target), or a file sits on its way: a message with a fix, nothing made."""
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    a_file = tmp_path / "a-file"
    a_file.write_text("kept\n")

    def run(folder: Path) -> Any:
        if command == "init":
            return run_subprocess("init", "--yes", "--domain", "example.org", "--dir",
                                  str(folder))
        return run_subprocess("export", "--dir", str(stack), "--to", "kubernetes",
                              "--output", str(folder))

    linked = run(dangling)
    assert linked.code == 1 and "Traceback" not in linked.err, linked.err
    assert "is a symbolic link to" in linked.err and "which does not exist" in linked.err
    assert not (tmp_path / "nowhere").exists()
    if command == "export":  # init reads the folder's secrets first, and says so
        blocked = run(a_file / "sub")
        assert blocked.code == 1 and "Traceback" not in blocked.err, blocked.err
        assert "a part of its path is a file" in blocked.err and "fix:" in blocked.err
    assert a_file.read_text() == "kept\n"
