"""Class 17: the setup page (`nasrtc web`) killed at each file step of its Write (the
server process dies as a NAS losing power would take it: NASRTC_FAILPOINT=file:N in its
environment). After each kill every file is absent or whole, and the page started again,
answered the same way, writes what `init --answers` makes from those answers with the
secrets that landed, and leaves no staged file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from nasrtc.files import TMP_SUFFIX
from tests.helpers import run_subprocess, snapshot
from tests.integration.hardening.test_10_killed_writes import HEAL_ENV, MOST_STEPS, written
from tests.integration.web_server import (
    form_fields,
    quiet_environment,
    running_web,
    stack_folder,
    walk_wizard,
)

pytest.importorskip("waitress", reason="nasrtc[web] needs Python 3.9+ (waitress)")
pytestmark = [pytest.mark.slow, pytest.mark.once]
ANSWERS = {"domain": "example.org", "turn.enabled": "yes"}


def write_on_the_page(folder: Path, env: dict[str, str]) -> bool:
    """The page answered and Write pressed; whether the server lived through it."""
    with running_web("--dir", str(folder), env=quiet_environment(**env)) as web:
        session = requests.Session()
        assert session.get(web.links[0], allow_redirects=False).status_code == 303
        summary = walk_wizard(session, web.url, ANSWERS)
        try:
            done = session.post(f"{web.url}/write", data=form_fields(summary.text),
                                timeout=60)
        except requests.ConnectionError:
            assert web.process.wait(timeout=15) == -9
            return False
        assert done.url.endswith("/stack"), done.text[-2000:]
        return True


def test_the_pages_write_killed_at_every_step(tmp_path: Path) -> None:
    for point in range(1, MOST_STEPS + 1):
        folder = stack_folder(tmp_path / f"killed-{point}")
        if write_on_the_page(folder, {"NASRTC_FAILPOINT": f"file:{point}"}):
            break  # it ran through: every step before this one was a kill
        at_kill = written(folder)
        assert write_on_the_page(folder, HEAL_ENV), point
        after = snapshot(folder)
        assert not [rel for rel in after if rel.endswith(TMP_SUFFIX)], (point, sorted(after))
        for rel in ("secrets/livekit_api_key", "secrets/livekit_api_secret"):
            if rel in at_kill:
                assert at_kill[rel] == after[rel], f"step {point}: the secrets changed"
        half = [rel for rel, data in at_kill.items() if data != after.get(rel)]
        assert half == [], f"step {point} left files neither absent nor new: {half}"
        # The same answers to `init --answers`, with the same secrets: the same bytes.
        other = tmp_path / f"answers-{point}"
        shutil.copytree(folder / "secrets", other / "secrets")
        shutil.copy(folder / "nasrtc.yaml", tmp_path / "answers.yaml")
        made = run_subprocess("init", "--dir", str(other), "--answers",
                              str(tmp_path / "answers.yaml"))
        assert made.code == 0, made.err
        expected = snapshot(other)
        assert [rel for rel in set(after) | set(expected)
                if after.get(rel) != expected.get(rel)] == [], point
        shutil.rmtree(tmp_path / f"killed-{point}")
        shutil.rmtree(other)
    else:
        raise AssertionError("the enumeration did not end")
    assert point > 5, "the page was killed at its steps at all"
    print(f"the page's write: {point - 1} kill points, every one healed by the page again")
