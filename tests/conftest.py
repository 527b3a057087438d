"""Fixtures for every test. Plain helpers are in helpers.py; the engine fixtures
in integration/conftest.py."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

from nasrtc.cli import main
from tests.helpers import Run


def pytest_configure(config: pytest.Config) -> None:
    """nasrtc remembers the last stack folder in the user's config folder: the tests get
    their own, never the real one (subprocesses and the wizard's pty inherit it)."""
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="nasrtc-test-config-")
    # The tests read nasrtc's English; the language tests ask for theirs.
    os.environ["NASRTC_LANG"] = "en"
    # No UPnP, NAT-PMP, PCP or STUN packet leaves a test: this machine's gateway and network
    # are off limits. The lab's tests switch it on inside the lab's NAS namespace alone.
    os.environ["NASRTC_DISCOVERY"] = "off"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run nasrtc in-process, as the console script would."""

    def run(*args: str) -> Run:
        from nasrtc import i18n

        try:
            code = main(list(args))
        finally:
            i18n.activate(i18n.choose())  # a --lang of this run does not leak into the next
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
