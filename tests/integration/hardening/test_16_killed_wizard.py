"""Class 16: the terminal wizard (`nasrtc init` in a terminal) killed at each file step of
its final write (NASRTC_FAILPOINT=file:N, after every question was answered and "Write
these files?" said yes). After each kill every file is the old or the new version, and
the next wizard, answered the same way, runs at once and leaves what an uninterrupted one
makes: the same answers file, the files `init --answers` makes from those answers with the
secrets the killed run wrote (if it wrote any), no temporary file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nasrtc.files import TMP_SUFFIX
from tests.helpers import run_subprocess, snapshot, write_answers
from tests.integration.hardening.test_10_killed_writes import HEAL_ENV, MOST_STEPS, written
from tests.integration.test_wizard import Wizard, artifacts, defaults_through_turn

pytest.importorskip("pexpect")
pytestmark = [pytest.mark.slow, pytest.mark.once]
LAN = "192.168.1.10"
ANSWERS = {"profile": "generic", "domain": "example.org", "network": {"lan_ip": LAN}}


def wizard(tmp_path: Path, folder: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The wizard answered with its defaults and the LAN address; (exit code or -signal,
    what it printed)."""
    w = Wizard(tmp_path, "--dir", str(folder), env=env)
    w.child.delaybeforesend = None  # each answer waits for its prompt anyway
    defaults_through_turn(w)
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    w.text("The NAS's LAN address", LAN)
    # A kill after the last write leaves nothing to do: the next wizard says so and ends.
    if w.child.expect(["Write these files", "nothing to write"]) == 0:
        w.child.send("y")
    code = w.finish()
    if w.child.signalstatus is not None:
        code = -int(w.child.signalstatus)
    return code, w.output


def from_answers(tmp_path: Path, name: str, secrets_from: Path) -> Path:
    """What `init --answers` makes from the wizard's answers, with these secrets."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copytree(secrets_from / "secrets", folder / "secrets")
    source = write_answers(tmp_path, ANSWERS, f"{name}.yaml")
    done = run_subprocess("init", "--dir", str(folder), "--answers", str(source))
    assert done.code == 0, done.err
    return folder


def test_the_wizards_write_killed_at_every_step(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    code, said = wizard(tmp_path, reference)
    assert code == 0, said
    answers_file = (reference / "nasrtc.yaml").read_bytes()
    for point in range(1, MOST_STEPS + 1):
        folder = tmp_path / f"killed-{point}"
        code, said = wizard(tmp_path, folder, env={"NASRTC_FAILPOINT": f"file:{point}"})
        if code != -9:  # it ran through: every step before this one was a kill
            assert code == 0, said
            break
        at_kill = written(folder) if folder.exists() else {}
        code, said = wizard(tmp_path, folder, env=HEAL_ENV)
        assert code == 0, (point, said)
        after = snapshot(folder)
        assert not [rel for rel in after if rel.endswith(TMP_SUFFIX)], (point, sorted(after))
        for rel in ("secrets/livekit_api_key", "secrets/livekit_api_secret"):
            if rel in at_kill:
                assert at_kill[rel] == after[rel], f"step {point}: the secrets changed"
        assert after["nasrtc.yaml"] == answers_file, point
        made = from_answers(tmp_path, f"answers-{point}", folder)
        assert artifacts(folder) == artifacts(made), (point, sorted(
            rel for rel in set(artifacts(folder)) | set(artifacts(made))
            if artifacts(folder).get(rel) != artifacts(made).get(rel)))
        half = [rel for rel, data in at_kill.items() if data != after.get(rel)
                and not rel.startswith("secrets/")]  # a first run: nothing was there before
        assert half == [], f"step {point} left files neither absent nor new: {half}"
        shutil.rmtree(folder)
        shutil.rmtree(made)
    else:
        raise AssertionError("the enumeration did not end")
    assert point > 5, "the wizard was killed at its steps at all"
    print(f"the wizard's write: {point - 1} kill points, every one healed by the next wizard")
