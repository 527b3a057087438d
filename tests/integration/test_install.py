"""A built wheel, installed in a fresh virtual environment and run from another
folder, finds its profiles and templates (they ship inside the package)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})


def test_wheel_in_a_fresh_venv_finds_its_data(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO))
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(dist.glob("nasrtc-*.whl"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = run(str(python), "-m", "pip", "install", "-q", str(wheel))
    assert installed.returncode == 0, installed.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(str(python), "-c", "from nasrtc.data import data_dir; "
                "print(data_dir('profiles')); print(data_dir('compose-templates'))",
                cwd=elsewhere)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert str(env_dir) in line, f"data found outside the venv: {line}"

    (elsewhere / "answers.yaml").write_text("profile: synology\ndomain: example.org\n")
    nasrtc = env_dir / "bin" / "nasrtc"
    result = run(str(nasrtc), "init", "--dir", "stack", "--answers", "answers.yaml",
                 cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "stack" / "compose.yaml").is_file()
    assert "Control Panel" in (elsewhere / "stack" / "reverse-proxy.md").read_text()
    module = run(str(python), "-m", "nasrtc", "render", "--dir", "stack", cwd=elsewhere)
    assert module.returncode == 0, module.stderr
