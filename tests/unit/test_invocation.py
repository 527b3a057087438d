"""The commands nasrtc prints name the program as the person started it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from nasrtc.invocation import command, program


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
