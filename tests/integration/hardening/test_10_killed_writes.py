"""Class 10: `init` and `render` killed (SIGKILL, as a power cut or a closed SSH session)
at every step of their writing: each file staged, each rename, each folder made or synced
(NASRTC_FAILPOINT=file:N, N from 1 until the command runs through, so every step is
covered, not a sample). After each kill:

- every file in the folder is either the version from before or the version the healing
  run leaves (never half written: a power cut at that moment leaves the same);
- the next plain command runs at once (the dead run's lock is gone) and finishes the job:
  the folder is then what an uninterrupted run makes, byte for byte, with the same
  secrets, and no temporary file is left.

The number of steps each command has is printed (docs/hardening.md has the table)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nasrtc.files import TMP_SUFFIX
from tests.helpers import run_subprocess, seed_secrets, snapshot, write_answers

pytestmark = [pytest.mark.slow, pytest.mark.once]
MOST_STEPS = 300  # a bound: init has about fifty
HEAL_ENV = {"NASRTC_LOCK_WAIT": "0"}  # a dead run's lock must not make the next one wait


def answers_file(tmp_path: Path, **ports: int) -> Path:
    return write_answers(tmp_path, {"domain": "example.org", "profile": "synology",
                                    "turn": {"enabled": True}, "redis": {"enabled": True},
                                    "ports": {"rtc_tcp": 7881, **ports}}, "kill-answers.yaml")


def written(folder: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in snapshot(folder).items()
            if not rel.endswith(TMP_SUFFIX)}


def uninterrupted_run(folder: Path, start: Callable[[Path], None], command: list[str],
                      secrets_from: Path | None = None) -> dict[str, bytes]:
    """What `command` makes from the start, run through (with the secrets of another
    folder, for a command that makes new ones)."""
    start(folder)
    if secrets_from is not None:
        shutil.copytree(secrets_from / "secrets", folder / "secrets")
    done = run_subprocess(*command, "--dir", str(folder))
    assert done.code == 0, done.err
    return snapshot(folder)


def enumerate_kills(tmp_path: Path, start: Callable[[Path], None], command: list[str],
                    heal: list[str], makes_secrets: bool = False) -> int:
    """Kill `command` at each of its file steps in turn, each time from the same start;
    returns the number of steps. `heal` is the plain command run after each kill. When the
    command makes new secrets, "what an uninterrupted run makes" is with the secrets the
    healed folder holds (they must be the ones the killed run wrote, if it wrote any)."""
    uninterrupted = uninterrupted_run(tmp_path / "reference", start, command)
    for point in range(1, MOST_STEPS + 1):
        folder = tmp_path / f"killed-{point}"
        start(folder)
        before = written(folder)
        killed = run_subprocess(*command, "--dir", str(folder),
                                env={"NASRTC_FAILPOINT": f"file:{point}"})
        if killed.code != -9:  # it ran through: every step before this one was a kill
            assert killed.code == 0, killed.err
            if not makes_secrets:
                assert snapshot(folder) == uninterrupted
            assert point > 5, "the command was killed at its steps at all"
            return point - 1
        at_kill = written(folder)
        healed = run_subprocess(*heal, "--dir", str(folder), env=HEAL_ENV)
        assert healed.code == 0, (point, healed.out, healed.err)
        after = snapshot(folder)
        assert not [rel for rel in after if rel.endswith(TMP_SUFFIX)], (point, sorted(after))
        if makes_secrets:
            uninterrupted = uninterrupted_run(tmp_path / f"reference-{point}", start, command,
                                              secrets_from=folder)
            for rel in ("secrets/livekit_api_key", "secrets/livekit_api_secret"):
                if rel in at_kill:
                    assert at_kill[rel] == after[rel], f"step {point}: the secrets changed"
        assert after == uninterrupted, (point, sorted(
            rel for rel in set(after) | set(uninterrupted)
            if after.get(rel) != uninterrupted.get(rel)))
        half = [rel for rel, data in at_kill.items()
                if data != before.get(rel) and data != after.get(rel)]
        assert half == [], f"step {point} left files neither old nor new: {half}"
        shutil.rmtree(folder)
    raise AssertionError(f"more than {MOST_STEPS} steps: the enumeration did not end")


def test_a_first_init_killed_at_every_step(tmp_path: Path) -> None:
    """The first run makes the secrets: they land before any file that holds them, so a
    kill never leaves a file with a secret the folder does not hold, and the next init
    keeps the ones that landed."""
    source = answers_file(tmp_path)

    def start(folder: Path) -> None:
        folder.mkdir(parents=True)

    steps = enumerate_kills(tmp_path, start, ["init", "--answers", str(source)],
                            ["init", "--answers", str(source)], makes_secrets=True)
    print(f"init (first run): {steps} kill points, every one healed by the next init")


def test_a_render_after_a_change_killed_at_every_step(tmp_path: Path) -> None:
    source = answers_file(tmp_path)
    ready = tmp_path / "ready"
    seed_secrets(ready)
    assert run_subprocess("init", "--dir", str(ready), "--answers", str(source)).code == 0
    answers = ready / "nasrtc.yaml"
    answers.write_text(answers.read_text().replace("rtc_tcp: 7881", "rtc_tcp: 7991"))

    def start(folder: Path) -> None:
        shutil.copytree(ready, folder, symlinks=True)

    steps = enumerate_kills(tmp_path, start, ["render"], ["render"])
    print(f"render (answers changed): {steps} kill points, every one healed by render")


def test_a_rotation_killed_at_every_step_is_finished_by_render(tmp_path: Path) -> None:
    """New secrets: a kill leaves the old ones with the old files, or the new ones (they
    land first) with some files still old; `render` then writes every file for the
    secrets the folder holds. Never a file with a secret that is not in secrets/."""
    source = answers_file(tmp_path)
    ready = tmp_path / "ready"
    seed_secrets(ready)
    assert run_subprocess("init", "--dir", str(ready), "--answers", str(source)).code == 0
    points = 0
    for point in range(1, MOST_STEPS + 1):
        folder = tmp_path / f"rotated-{point}"
        shutil.copytree(ready, folder, symlinks=True)
        killed = run_subprocess("init", "--dir", str(folder), "--answers", str(source),
                                "--rotate-secrets", env={"NASRTC_FAILPOINT": f"file:{point}"})
        if killed.code != -9:
            assert killed.code == 0, killed.err
            break
        points += 1
        healed = run_subprocess("render", "--dir", str(folder), env=HEAL_ENV)
        assert healed.code == 0, (point, healed.err)
        secret = (folder / "secrets" / "livekit_api_secret").read_text().strip()
        livekit = (folder / "livekit" / "livekit.yaml").read_text()
        assert secret in livekit, f"step {point}: livekit.yaml holds another secret"
        settled = snapshot(folder)
        assert not [rel for rel in settled if rel.endswith(TMP_SUFFIX)], point
        again = run_subprocess("render", "--dir", str(folder))
        assert again.code == 0 and snapshot(folder) == settled, "render healed it for good"
        shutil.rmtree(folder)
    assert points > 5
    print(f"init --rotate-secrets: {points} kill points, every one healed by render")


@pytest.mark.parametrize("target", ["kubernetes", "ess"])
def test_an_export_killed_at_every_step(tmp_path: Path, target: str) -> None:
    """export writes its folder the same way (all or nothing per file, a record of them):
    killed at each step, the next export leaves the folder as an uninterrupted one."""
    source = answers_file(tmp_path)
    ready = tmp_path / "ready"
    seed_secrets(ready)
    assert run_subprocess("init", "--dir", str(ready), "--answers", str(source)).code == 0

    def export(place: Path, **env: str) -> Any:
        return run_subprocess("export", "--dir", str(ready), "--to", target, "--output",
                              str(place), env=env or None)

    assert export(tmp_path / "reference").code == 0
    uninterrupted = snapshot(tmp_path / "reference")
    for point in range(1, MOST_STEPS + 1):
        place = tmp_path / f"out-{point}"
        done = export(place, NASRTC_FAILPOINT=f"file:{point}")
        if done.code != -9:
            assert done.code == 0 and snapshot(place) == uninterrupted, done.err
            break
        at_kill = written(place)
        healed = export(place, **HEAL_ENV)
        assert healed.code == 0, (point, healed.err)
        after = snapshot(place)
        assert after == uninterrupted, (point, sorted(set(after) ^ set(uninterrupted)))
        assert [rel for rel, data in at_kill.items() if data != after.get(rel)] == [], point
    else:
        raise AssertionError("the enumeration did not end")
    assert point > 3
    print(f"export --to {target}: {point - 1} kill points, every one healed by export")


def test_a_checklist_written_to_a_file_killed_at_every_step(tmp_path: Path) -> None:
    """`checklist --output` writes one file, anywhere the user names: killed at each step,
    the file is absent or whole, and the next run leaves it whole with no staged copy."""
    stack = tmp_path / "stack"
    stack.mkdir()
    assert run_subprocess("init", "--dir", str(stack), "--answers",
                          str(answers_file(tmp_path))).code == 0
    printed = tmp_path / "print"
    printed.mkdir()
    target = printed / "checklist.html"
    command = ["checklist", "--dir", str(stack), "--offline", "--format", "html",
               "--output", str(target)]
    assert run_subprocess(*command).code == 0
    whole = target.read_bytes()
    for point in range(1, MOST_STEPS + 1):
        target.unlink()
        killed = run_subprocess(*command, env={"NASRTC_FAILPOINT": f"file:{point}"})
        if killed.code != -9:
            assert killed.code == 0, killed.err
            break
        assert not target.exists() or target.read_bytes() == whole, point
        healed = run_subprocess(*command, env=HEAL_ENV)
        assert healed.code == 0, (point, healed.err)
        assert target.read_bytes() == whole, point
        assert sorted(p.name for p in printed.iterdir()) == ["checklist.html"], point
    else:
        raise AssertionError("the enumeration did not end")
    assert point > 1
    print(f"checklist --output: {point - 1} kill points, every one healed by the next run")
