"""Class 1: every write is complete or absent. A real, tiny tmpfs fills up mid-init:
the user is told the disk is full and where, and nothing is left half written."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import snapshot
from tests.integration.hardening.common import init, root_only


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


@root_only
def test_a_full_disk_changes_nothing(tiny_disk: Path, tmp_path: Path) -> None:
    result = init(tiny_disk / "stack", tmp_path)
    assert result.code == 1, result.out + result.err
    assert "disk full at" in result.err and "nothing changed" in result.err
    assert "Traceback" not in result.err
    left = snapshot(tiny_disk / "stack")
    assert left == {}, f"half a stack was left behind: {sorted(left)}"
