"""The single file: dist/nasrtc.pyz, built by tools/build_pyz.py, runs on Python 3.8 (DSM's
own Python, which has no pip) in isolated mode (-I: no site-packages, no user folder, no
PYTHONPATH), from another folder, through init, render, checklist, up and down; and on
Python 3.9 (DSM Package Center's), Debian 11's in a root made by debootstrap."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, REQUIRE_TOOLS
from tests.integration import standin_images as images
from tests.integration.debian_image import MIRROR

pytestmark = [pytest.mark.slow, pytest.mark.once]  # the same on every Python of the run


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
    # The web page's server is not in the single file (waitress needs Python 3.9+): it says
    # what to use instead, without a traceback.
    web = nasrtc("web", "--listen", "127.0.0.1:0")
    assert web.returncode == 1 and "waitress" in web.stderr and "init" in web.stderr, web.stderr
    assert "Traceback" not in web.stderr
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


BULLSEYE = REPO / ".venv-test" / "bullseye"  # a cache: rebuilt when missing


def bullseye_root() -> Path:
    """Debian 11's own Python 3.9 (the version DSM's Package Center offers) in a root
    made here by debootstrap from Debian's packages, kept for the next run."""
    python = BULLSEYE / "usr" / "bin" / "python3.9"
    if python.is_file():
        return BULLSEYE
    if not shutil.which("debootstrap") or os.geteuid() != 0:
        if REQUIRE_TOOLS:
            raise AssertionError("CI needs debootstrap and root for the Python 3.9 test")
        pytest.skip("needs root and debootstrap (apt-get install debootstrap)")
    partial = BULLSEYE.with_name("bullseye.partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3", "bullseye",
                    str(partial), MIRROR], check=True, capture_output=True, timeout=1200)
    for deb in (partial / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        deb.unlink()
    partial.rename(BULLSEYE)
    return BULLSEYE


def test_the_pyz_runs_on_debian_bullseyes_python_39(pyz: Path) -> None:
    """The single file on Python 3.9 with nothing installed (Debian 11's, in a root of its
    own): help, the wizard's answers in German, render, the checklist and doctor."""
    root = bullseye_root()
    work = root / "work" / os.urandom(3).hex()
    work.mkdir(parents=True)
    inside = Path("/") / work.relative_to(root)
    shutil.copy(pyz, work / "nasrtc.pyz")
    (work / "answers.yaml").write_text("domain: example.org\nlanguage: de\n")
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"

    def nasrtc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([chroot, str(root), "/usr/bin/python3", "-I",
                               str(inside / "nasrtc.pyz"), *args],
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                                   "HOME": str(inside), "NASRTC_DISCOVERY": "off"},
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    try:
        version = subprocess.run([chroot, str(root), "/usr/bin/python3", "-c",
                                  "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=60)
        assert version.stdout.strip() == "(3, 9)", version.stderr
        assert "init" in nasrtc("--help").stdout
        made = nasrtc("--lang", "de", "init", "--dir", str(inside / "s"), "--answers",
                      str(inside / "answers.yaml"))
        assert made.returncode == 0, made.stderr
        assert "Anruf-Stack für example.org" in made.stdout
        assert (work / "s" / "checklist.md").read_text().startswith("# Checkliste für")
        # A command a message tells the user to run is the one that runs nasrtc here, in
        # every language; the pages it writes keep plain `nasrtc`.
        lost = nasrtc("--lang", "ru", "status", "--dir", str(inside / "empty"))
        assert f"`python3 {inside / 'nasrtc.pyz'} init --dir" in lost.stderr, lost.stderr
        assert "nasrtc.pyz" not in (work / "s" / "checklist.md").read_text()
        assert nasrtc("render", "--dir", str(inside / "s")).returncode == 0
        page = nasrtc("checklist", "--dir", str(inside / "s"), "--offline", "--format", "html")
        assert page.returncode == 0 and "<html" in page.stdout
        doctor = nasrtc("doctor", "--local", "--dir", str(inside / "s"))
        assert doctor.returncode == 1 and "nasrtc doctor:" in doctor.stdout, doctor.stderr
        assert "Traceback" not in doctor.stderr + made.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)
