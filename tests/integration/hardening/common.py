"""What the hardening modules share: a stack made through the real CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS, run_subprocess, write_answers

root_only = pytest.mark.skipif(os.geteuid() != 0 and not REQUIRE_TOOLS,
                               reason="needs root (tests/run.sh runs as root)")


def init(folder: Path, tmp_path: Path, *extra: str, **answers: Any) -> Any:
    source = write_answers(tmp_path, {"domain": "example.org", **answers}, "hardening.yaml")
    return run_subprocess("init", "--dir", str(folder), "--answers", str(source), *extra)
