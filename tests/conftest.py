"""Fixtures for every test. Plain helpers are in helpers.py; the engine fixtures
in integration/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from nasrtc.cli import main
from tests.helpers import Run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run nasrtc in-process, as the console script would."""

    def run(*args: str) -> Run:
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
