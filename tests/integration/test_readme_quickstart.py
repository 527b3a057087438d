"""The README's first quick-start command, exactly as written, on a fresh Debian 12: a
container made from Debian's packages (python3 and sudo, no pip, no venv, PEP 668 in
force), with a real terminal. It must install nasrtc and start the wizard. The container
cannot use this machine's HTTPS proxy CA, so pip gets the same packages from a folder of
wheels fetched here (PIP_NO_INDEX/PIP_FIND_LINKS: the command line is untouched); apt
uses Debian's mirror over plain http, as a stock sources.list does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO
from tests.integration.debian_image import debian_python_image
from tests.integration.readme import commands

pytestmark = [pytest.mark.slow, pytest.mark.once]  # the same on every Python of the run
RUNTIME = ("docker", "pyyaml", "questionary", "jinja2", "requests")
BUILD = ("hatchling",)  # pip builds `.` in isolation with the backend pyproject names


def test_the_first_command_installs_and_starts_the_wizard(client: Any, tmp_path: Path) -> None:
    import pexpect

    base = debian_python_image(client)
    first = commands("## Quick start")[0]
    assert first.endswith("nasrtc init") and "pip install ." in first
    wheels = tmp_path / "wheels"
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(wheels),
         "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
         "--abi", "cp311", "--platform", "manylinux2014_x86_64", "--platform", "any",
         *RUNTIME, *BUILD], capture_output=True, text=True, timeout=600)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    source = tmp_path / "nasrtc-src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "dist", "__pycache__", ".*_cache", ".hypothesis"))

    child = pexpect.spawn("docker", [
        "run", "--rm", "-it", "--network", "host", "-v", f"{source}:/src", "-w", "/src",
        "-v", f"{wheels}:/wheels:ro", "-e", "PIP_NO_INDEX=1", "-e", "PIP_FIND_LINKS=/wheels",
        "-e", "PROMPT_TOOLKIT_NO_CPR=1", "-e", "DEBIAN_FRONTEND=noninteractive",
        base, "bash", "-c", first], encoding="utf-8", timeout=900, dimensions=(50, 160))
    child.expect(["Stack folder", pexpect.EOF])
    transcript = str(child.before) + str(child.after)
    assert "Stack folder" in transcript, transcript[-3000:]
    child.send("\x03")  # Ctrl-C at the first question: nothing is written
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, str(child.before)[-2000:]
    assert (source / ".venv" / "bin" / "nasrtc").exists()
