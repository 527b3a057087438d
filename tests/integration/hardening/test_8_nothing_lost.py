"""Class 8: nothing of the user's is lost. Backups are numbered, files nasrtc never
wrote are named as such (not as "changed"), and a folder where a file belongs, a folder
given as --output or a manifest that is a folder each get a clear message with the path,
never "internal error". Rotating secrets says how to apply them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import run_subprocess, snapshot
from tests.integration.hardening.common import init


def test_backups_are_numbered_never_replaced(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    compose = stack / "compose.yaml"
    for edit in ("# first edit\n", "# second edit\n"):
        compose.write_text(compose.read_text() + edit)
        assert run_subprocess("render", "--dir", str(stack), "--force").code == 0
    assert (stack / "compose.yaml.bak").read_text().endswith("# first edit\n")
    assert (stack / "compose.yaml.bak.2").read_text().endswith("# second edit\n")



def test_output_that_cannot_be_written_is_a_clear_message(cli: Any, tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    for target, words in ((tmp_path, f"{tmp_path} is a folder, not a file"),
                          (tmp_path / "missing" / "x.html", "No such file or directory")):
        result = cli("checklist", "--dir", str(stack), "--format", "html", "--offline",
                     "--output", str(target))
        assert result.code == 1 and words in result.err and "internal error" not in result.err


def test_files_nasrtc_never_wrote_are_not_called_edits(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    own = "services: {}  # the user's own compose file, from before\n"
    (stack / "compose.yaml").write_text(own)
    refused = init(stack, tmp_path)
    assert refused.code == 3, refused.err
    assert "not written by nasrtc (they were there before)" in refused.err
    assert f"{stack / 'compose.yaml'}" in refused.err
    assert "changed by hand" not in refused.err
    assert (stack / "compose.yaml").read_text() == own
    # A file nasrtc wrote and the user changed is still called an edit, in the same run.
    assert init(stack, tmp_path, "--force").code == 0
    assert (stack / "compose.yaml.bak").read_text() == own
    (stack / "checklist.md").write_text("my notes\n")
    (stack / "compose.yaml").unlink()
    (stack / "compose.yaml").write_text(own)
    (stack / ".nasrtc-manifest.json").write_text(
        (stack / ".nasrtc-manifest.json").read_text().replace('"compose.yaml"', '"other"'))
    both = run_subprocess("render", "--dir", str(stack))
    assert both.code == 3
    edited, _, foreign = both.err.partition("not written by nasrtc")
    assert "changed by hand" in edited and "checklist.md" in edited
    assert "compose.yaml" in foreign and "checklist.md" not in foreign


def test_a_folder_where_a_file_belongs_is_named(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    before = snapshot(stack)
    manifest = stack / ".nasrtc-manifest.json"
    manifest.unlink()
    manifest.mkdir()
    for args in (("render",), ("render", "--force"), ("up",)):
        result = run_subprocess(*args, "--dir", str(stack))
        assert result.code == 1, (args, result.err)
        assert f"{manifest} is a folder" in result.err and "mv" in result.err, result.err
        assert "internal error" not in result.err and "Traceback" not in result.err
    manifest.rmdir()
    (stack / "checklist.md").unlink()
    (stack / "checklist.md").mkdir()
    result = run_subprocess("render", "--dir", str(stack), "--force")
    assert result.code == 1 and f"{stack / 'checklist.md'} is a folder" in result.err
    (stack / "checklist.md").rmdir()
    kept = {rel: data for rel, data in snapshot(stack).items()}
    assert {rel: before[rel] for rel in kept if rel in before} == kept, \
        "a refused run changed a file"


def test_rotating_secrets_says_to_restart_the_stack(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    first = init(stack, tmp_path)
    assert first.code == 0 and "secrets: created" in first.out
    old = (stack / "secrets" / "livekit_api_secret").read_text()
    rotated = init(stack, tmp_path, "--rotate-secrets")
    assert rotated.code == 0, rotated.err
    assert "secrets: replaced livekit_api_key, livekit_api_secret" in rotated.out
    assert f"run `sudo nasrtc up --dir {stack}`" in rotated.out
    new = (stack / "secrets" / "livekit_api_secret").read_text()
    assert new != old and new not in rotated.out + rotated.err
