"""The commands nasrtc prints name the program as the person started it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from nasrtc.invocation import command, program
from tests.helpers import REPO


def test_installed_command(monkeypatch: Any) -> None:
    monkeypatch.delenv("NASRTC_IN_CONTAINER", raising=False)
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/nasrtc", "up"])
    assert program() == "nasrtc"
    assert command("up --dir /volume1/docker/matrixrtc") == \
        "sudo nasrtc up --dir /volume1/docker/matrixrtc"
    assert command("status", sudo="") == "nasrtc status"


def test_the_single_file(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.delenv("NASRTC_IN_CONTAINER", raising=False)
    pyz = tmp_path / "nasrtc.pyz"
    pyz.write_bytes(b"PK")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["nasrtc.pyz", "init"])  # as typed: a relative path
    assert command("up") == f"sudo python3 {pyz} up"
    monkeypatch.setattr(sys, "argv", ["missing.pyz"])  # not a file: no guess
    assert program() == "nasrtc"


def test_the_image(monkeypatch: Any) -> None:
    monkeypatch.setenv("NASRTC_IN_CONTAINER", "1")
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/nasrtc"])
    assert command("up --dir /x") == "sudo docker run … nasrtc up --dir /x"


def test_commands_in_messages_are_the_ones_that_run_nasrtc_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started as the single file, a message names `python3 /path/nasrtc.pyz render`, in
    German too; the files nasrtc writes keep plain `nasrtc`."""
    from nasrtc import i18n
    from nasrtc.answers import resolve
    from nasrtc.output.render import render_all
    from nasrtc.secret_store import Secrets
    from nasrtc.stack import build_stack
    from tests.helpers import FIXED_KEY, FIXED_SECRET

    pyz = tmp_path / "nasrtc.pyz"
    pyz.write_bytes(b"")
    monkeypatch.setattr(sys, "argv", [str(pyz)])
    monkeypatch.delenv("NASRTC_IN_CONTAINER", raising=False)
    fix = "run `{nasrtc} render` to write it again"
    assert i18n._(fix) == f"run `python3 {pyz} render` to write it again"
    with i18n.speaking("de"):
        assert f"`python3 {pyz} render`" in i18n._(fix)
    stack = build_stack(resolve({"domain": "example.org"}), Secrets(FIXED_KEY, FIXED_SECRET))
    pages = render_all(stack)
    assert "`nasrtc init`" in pages["checklist.md"].text
    assert "nasrtc.pyz" not in "".join(a.text for a in pages.values())
    monkeypatch.setenv("NASRTC_IN_CONTAINER", "1")
    assert i18n._(fix) == "run `docker run … nasrtc render` to write it again"


def test_every_command_a_message_names_follows_how_nasrtc_runs() -> None:
    """No message in the catalogs names `nasrtc <command>` as fixed text: each says
    {nasrtc}, which the catalogs keep in every language (test_i18n checks placeholders)."""
    import re

    template = (REPO / "nasrtc" / "locale" / "nasrtc.pot").read_text(encoding="utf-8")
    joined = re.sub(r'"\n"', "", template)
    fixed = re.findall(r'msgid "([^\n]*`(?:sudo )?nasrtc [a-z][^\n]*)"', joined)
    # a DSM step (profiles/synology.yaml) that says what to click *instead of* a command
    fixed = [text for text in fixed if "instead of `nasrtc up`" not in text]
    assert fixed == [], fixed
