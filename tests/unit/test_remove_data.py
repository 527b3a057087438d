"""remove --purge deletes the services' data folders without following links; when the
folder changes under it (swapped for a link between the check and the delete), the
user gets the path and what to do, not a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from nasrtc.commands.remove import _data_folders, _delete_data
from nasrtc.errors import NasrtcError


def test_data_folders_are_found_and_links_named(tmp_path: Path) -> None:
    assert _data_folders(tmp_path) == ({}, [])
    (tmp_path / "redis").mkdir()
    assert _data_folders(tmp_path) == ({"redis": "redis"}, [])
    (tmp_path / "redis").rmdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "redis").symlink_to(tmp_path / "elsewhere")
    assert _data_folders(tmp_path) == ({}, ["redis"])


def test_a_folder_deleted_with_its_links_unfollowed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("mine\n")
    data = tmp_path / "stack" / "redis"
    data.mkdir(parents=True)
    (data / "dump.rdb").write_bytes(b"REDIS")
    (data / "link").symlink_to(outside)
    _delete_data(tmp_path / "stack", ["redis"])
    assert not data.exists() and (outside / "keep").read_text() == "mine\n"


def test_a_delete_that_fails_is_explained(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "redis").mkdir()

    def swapped(path: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError(40, "Too many levels of symbolic links")

    monkeypatch.setattr(shutil, "rmtree", swapped)
    with pytest.raises(NasrtcError) as raised:
        _delete_data(tmp_path, ["redis"])
    assert f"could not delete {tmp_path / 'redis'}: Too many levels" in raised.value.message
    assert f"ls -la {tmp_path / 'redis'}" in raised.value.fix
