"""The quick lane (`up` with nothing to do, `status`) answers from the record of the last
`up` and the engine, loading neither YAML, templates, argparse nor the Docker SDK; and it
never answers wrongly: whatever changed since (a stopped container, a rewritten file, a
forged record) sends the command down the usual way, which acts on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HEAVY = ("yaml", "jinja2", "docker", "requests", "argparse", "questionary")


def loaded_by(stack_dir: Path, *args: str) -> tuple[int, str, list[str]]:
    """Run nasrtc's entry in a fresh interpreter; (exit code, output, heavy modules loaded)."""
    code = ("import io, sys, contextlib\n"
            "from nasrtc.entry import main\n"
            f"sys.argv = ['nasrtc', *{list(args)!r}, '--dir', {str(stack_dir)!r}]\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    code = main()\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "print(code, '|'.join(heavy), sep='\\n')\n"
            "print(out.getvalue())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    exit_code, heavy, output = done.stdout.split("\n", 2)
    return int(exit_code), output, [m for m in heavy.split("|") if m]


def test_nothing_to_do_is_known_without_the_heavy_modules(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    code, out, heavy = loaded_by(stack.dir, "up")
    assert code == 0 and "up to date: nothing was recreated" in out, out
    assert "Where it answers:" in out and heavy == [], heavy
    code, out, heavy = loaded_by(stack.dir, "status", "--json")
    assert code == 0 and heavy == [], heavy
    quick = {row["service"]: row for row in json.loads(out)}
    full = {row["service"]: row for row in json.loads(
        stack.nasrtc("status", "--json", env={"NASRTC_IN_CONTAINER": "0"}).out)}
    for rows in (quick, full):
        for row in rows.values():
            row.pop("uptime_seconds")
    assert quick == full and quick["livekit"]["state"] == "running"


def test_whatever_changed_sends_up_the_usual_way(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    livekit = stack.containers()[f"{stack.project}-livekit-1"]

    livekit.stop(timeout=1)  # stopped behind nasrtc's back
    code, out, heavy = loaded_by(stack.dir, "up", "--no-wait")
    assert "livekit  started" in out and "yaml" in heavy, out  # nasrtc.yaml read: full way

    record = stack.dir / ".nasrtc-state.json"
    state = json.loads(record.read_text())
    state["services"]["jwt"]["hash"] = "0" * 64  # a forged record
    record.write_text(json.dumps(state))
    code, out, heavy = loaded_by(stack.dir, "up")
    assert code == 0 and "yaml" in heavy, "the record was not believed"
    assert "jwt      unchanged" in out and json.loads(record.read_text()) != state

    os.utime(stack.dir / "livekit" / "livekit.yaml")  # written after the container started
    code, out, heavy = loaded_by(stack.dir, "up")
    assert "livekit.yaml changed, restarting" in out, out

    record.unlink()
    record.symlink_to(stack.dir / "nasrtc.yaml")  # not a record at all
    code, out, heavy = loaded_by(stack.dir, "up")
    assert code == 0 and "yaml" in heavy


def test_up_after_down_needs_neither_the_sdk_nor_the_templates(make_stack: Any) -> None:
    """The files are those the last `up` checked (the record's stamp): `up` creates the
    containers over the engine's socket without rendering again or importing the SDK."""
    stack = make_stack()
    assert stack.nasrtc("up").code == 0
    before = stack.ids()
    assert stack.nasrtc("down").code == 0 and stack.containers() == {}
    code, out, heavy = loaded_by(stack.dir, "up", "--no-wait")
    assert code == 0 and "livekit  created" in out and "jwt      created" in out, out
    assert "docker" not in heavy and "jinja2" not in heavy, heavy
    states = {c.labels["com.docker.compose.service"]: c.status
              for c in stack.containers().values()}
    assert states == {"livekit": "running", "jwt": "running"}
    assert set(stack.ids().values()).isdisjoint(before.values())
    # The same containers as the full way makes: a forced `up` finds nothing to change.
    again = stack.nasrtc("up", "--force")
    assert again.code == 0 and "nothing was recreated" in again.out, again.out + again.err


def test_up_status_and_down_speak_the_users_language(make_stack: Any) -> None:
    """The full way and the quick lane say the same, in the user's language; the record of
    the last `up` keeps the addresses, not one language's lines."""
    import re

    stack = make_stack()
    first = stack.nasrtc("up", env={"NASRTC_LANG": "de"})
    assert first.code == 0, first.err
    assert re.search(r"livekit\s+angelegt\s+\(running, healthy\)", first.out), first.out
    assert "Wo er antwortet:" in first.out and "auf diesem Rechner; öffentlich" in first.out
    quick = stack.nasrtc("up", env={"NASRTC_LANG": "ru"})  # the quick lane, another language
    assert "актуальном состоянии: ничего не пересоздано" in quick.out, quick.out
    assert re.search(r"jwt\s+без изменений\s+\(running, healthy\)", quick.out)
    assert "Где он отвечает:" in quick.out and "Wo er antwortet" not in quick.out
    english = stack.nasrtc("up")
    assert "Where it answers:" in english.out and "Где" not in english.out
    status = stack.nasrtc("status", env={"NASRTC_LANG": "zh_CN"})
    heading = status.out.splitlines()[0]
    assert heading.split() == ["服务", "状态", "健康", "运行时长", "镜像", "端口"]
    down = stack.nasrtc("down", env={"NASRTC_LANG": "de"})
    assert f"{stack.project}-livekit-1 gestoppt und entfernt" in down.out
    assert "ist gestoppt;" in down.out
