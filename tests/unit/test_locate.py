"""Commands find the stack without --dir: the current folder, else the one the last
init wrote (remembered per user, trusted only when nobody else can write it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_answers


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_commands_use_the_stack_the_last_init_wrote(cli: Any, tmp_path: Path,
                                                    config_home: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_answers(tmp_path, {"domain": "example.org"})
    stack = tmp_path / "stack"
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = cli("checklist", "--offline")
    assert result.code == 0, result.err
    assert f"using the stack in {stack.resolve()}" in result.err
    assert "CALL SETUP CHECKLIST FOR EXAMPLE.ORG" in result.out
    assert (config_home / "nasrtc" / "last-stack").stat().st_mode & 0o777 == 0o600


def test_the_current_folder_wins(cli: Any, tmp_path: Path, config_home: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name, domain in (("first", "example.org"), ("second", "example.net")):
        source = write_answers(tmp_path, {"domain": domain}, f"{name}.yaml")
        assert cli("init", "--dir", str(tmp_path / name), "--answers", str(source)).code == 0
    monkeypatch.chdir(tmp_path / "first")
    result = cli("checklist", "--offline")
    assert "example.org" in result.out and "using the stack" not in result.err


def test_a_memory_others_can_write_is_ignored(cli: Any, tmp_path: Path, config_home: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_answers(tmp_path, {"domain": "example.org"})
    assert cli("init", "--dir", str(tmp_path / "stack"), "--answers", str(source)).code == 0
    memory = config_home / "nasrtc" / "last-stack"
    os.chmod(memory, 0o666)
    monkeypatch.chdir(tmp_path)
    result = cli("checklist", "--offline")
    assert result.code == 1 and "no nasrtc.yaml in" in result.err


def test_an_unreadable_stack_folder_asks_for_sudo(cli: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "root-only"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == folder
                        else real_access(path, mode))  # as a user who is not root sees it
    result = cli("status", "--dir", str(folder))
    assert result.code == 1 and "Traceback" not in result.err
    assert "permission denied" in result.err and "with sudo in front" in result.err
