"""The single file: dist/nasrtc.pyz, built by tools/build_pyz.py, runs on Python 3.8 (DSM's
own Python, which has no pip) in isolated mode (-I: no site-packages, no user folder, no
PYTHONPATH), from another folder, through init, render, checklist, up and down."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS
from tests.integration import standin_images as images

pytestmark = pytest.mark.slow


def python38() -> str:
    found = sorted(glob.glob("/root/.pyenv/versions/3.8*/bin/python3")) \
        + [p for p in [shutil.which("python3.8")] if p]
    if not found:
        if REQUIRE_TOOLS:
            raise AssertionError("CI needs a Python 3.8 (pyenv) for the .pyz test")
        pytest.skip("no Python 3.8 here (pyenv install 3.8)")
    return found[0]


def test_the_pyz_runs_on_python_38_with_nothing_installed(pyz: Path, tmp_path: Path,
                                                          client: Any) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}

    def nasrtc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python38(), "-I", str(pyz), *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)

    version = subprocess.run([python38(), "-I", "-c", "import sys; print(sys.version_info[:2])"
                              "; import yaml"], capture_output=True, text=True)
    assert "(3, 8)" in version.stdout and "No module named 'yaml'" in version.stderr, \
        "the interpreter has nothing installed: every module comes from the .pyz"
    assert "init" in nasrtc("--help").stdout
    # The compiled catalogs travel inside the archive and load from it.
    spoken = subprocess.run(
        [python38(), "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "from nasrtc import i18n; i18n.activate('ru'); print(i18n._('Write these files?'))",
         str(pyz)], capture_output=True, text=True, env=env)
    assert spoken.stdout.strip() == "Записать эти файлы?", spoken.stderr
    bad = nasrtc("init", "--dir", "bad", "--yes", "--domain", "not a domain")
    assert bad.returncode == 2 and "domain" in bad.stderr, "exit codes come through"

    quick = nasrtc("init", "--dir", "quick", "--yes", "--domain", "example.org")
    assert quick.returncode == 0, quick.stderr
    assert (elsewhere / "quick" / "compose.yaml").is_file()
    # What it says to run next can be pasted: the single file, not an installed `nasrtc`.
    assert f"Start: sudo python3 {pyz} up --dir {elsewhere / 'quick'}" in quick.stdout

    project = "pyz" + os.urandom(3).hex()
    images.write_standin_answers(elsewhere / "answers.yaml", project)
    init = nasrtc("init", "--dir", "stack", "--answers", "answers.yaml")
    assert init.returncode == 0, init.stderr
    assert "Control Panel" in (elsewhere / "stack" / "reverse-proxy.md").read_text()
    assert nasrtc("render", "--dir", "stack").returncode == 0
    checklist = nasrtc("checklist", "--dir", "stack", "--offline", "--format", "html")
    assert checklist.returncode == 0 and "<html" in checklist.stdout
    try:
        up = nasrtc("up", "--dir", "stack")
        assert up.returncode == 0, up.stdout + up.stderr
        running = client.containers.list(filters={"label": f"io.nasrtc.project={project}"})
        assert sorted(c.name for c in running) == [f"{project}-jwt-1", f"{project}-livekit-1"]
        status = nasrtc("status", "--dir", "stack")
        assert status.returncode == 0 and "healthy" in status.stdout
    finally:
        down = nasrtc("down", "--dir", "stack")
    assert down.returncode == 0, down.stderr
    assert not client.containers.list(all=True, filters={"label": f"io.nasrtc.project={project}"})
