"""What lands on disk: modes, secrets kept across runs, hand edits protected,
byte-identical re-renders."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from nasrtc import versions
from tests.helpers import snapshot, write_answers


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def init(cli: Any, tmp_path: Path, answers: dict[str, Any] | None = None,
         *extra: str) -> tuple[Path, Any]:
    source = write_answers(tmp_path, answers or {"domain": "example.org"})
    stack = tmp_path / "stack"
    return stack, cli("init", "--dir", str(stack), "--answers", str(source), *extra)


def test_secret_files_are_private_and_strong(cli: Any, tmp_path: Path) -> None:
    stack, result = init(cli, tmp_path)
    assert result.code == 0, result.err
    assert mode(stack / "secrets") == 0o700
    key = (stack / "secrets/livekit_api_key").read_text().strip()
    secret = (stack / "secrets/livekit_api_secret").read_text().strip()
    assert mode(stack / "secrets/livekit_api_key") == 0o600
    assert mode(stack / "secrets/livekit_api_secret") == 0o600
    assert key.startswith("API") and key.isalnum() and len(key) == 15
    assert secret.isalnum() and len(secret) >= 32
    assert mode(stack / "livekit/livekit.yaml") == 0o600
    assert mode(stack / "compose.yaml") == 0o644
    # The secret is in livekit.yaml only: never in compose.yaml, the output or the answers.
    assert secret in (stack / "livekit/livekit.yaml").read_text()
    for public in ("compose.yaml", "nasrtc.yaml", "checklist.md", "reverse-proxy.md",
                   ".nasrtc-manifest.json"):
        assert secret not in (stack / public).read_text(), public
        assert key not in (stack / public).read_text(), public
    assert secret not in result.out + result.err and key not in result.out + result.err


def test_livekit_yaml_uses_the_stored_key(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    key = (stack / "secrets/livekit_api_key").read_text().strip()
    secret = (stack / "secrets/livekit_api_secret").read_text().strip()
    config = yaml.safe_load((stack / "livekit/livekit.yaml").read_text())
    assert config["keys"] == {key: secret}
    assert config["webhook"]["api_key"] == key  # must be one of the keys


def test_rerun_keeps_secrets_and_is_byte_identical(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    before = snapshot(stack)
    again = cli("init", "--dir", str(stack), "--answers", str(tmp_path / "answers.yaml"))
    assert again.code == 0, again.err
    assert snapshot(stack) == before
    assert "unchanged" in again.out and "written " not in again.out
    assert "kept the existing ones" in again.out
    rendered = cli("render", "--dir", str(stack))
    assert rendered.code == 0, rendered.err
    assert snapshot(stack) == before


def test_rotate_secrets_changes_key_and_livekit_yaml(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    old = (stack / "secrets/livekit_api_secret").read_text()
    result = cli("init", "--dir", str(stack), "--answers", str(tmp_path / "answers.yaml"),
                 "--rotate-secrets")
    assert result.code == 0, result.err
    new = (stack / "secrets/livekit_api_secret").read_text()
    assert new != old
    assert new.strip() in (stack / "livekit/livekit.yaml").read_text()
    assert mode(stack / "secrets/livekit_api_secret") == 0o600


def test_loose_secret_permissions_are_tightened(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    (stack / "secrets/livekit_api_secret").chmod(0o644)
    (stack / "secrets").chmod(0o755)
    assert cli("render", "--dir", str(stack)).code == 0
    assert mode(stack / "secrets/livekit_api_secret") == 0o600
    assert mode(stack / "secrets") == 0o700


def test_weak_stored_secret_is_refused(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    (stack / "secrets/livekit_api_secret").write_text("short-and-$ymbols\n")
    result = cli("render", "--dir", str(stack))
    assert result.code == 1
    assert "is not 32+ letters and digits" in result.err
    assert "short-and" not in result.err


def test_hand_edit_stops_render_and_names_the_file(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    compose = stack / "compose.yaml"
    compose.write_text(compose.read_text() + "# my tweak\n")
    answers = stack / "nasrtc.yaml"
    answers.write_text(answers.read_text().replace("domain: example.org", "domain: example.net"))
    before = snapshot(stack)
    result = cli("render", "--dir", str(stack))
    assert result.code == 3
    assert str(compose) in result.err and "--force" in result.err
    assert snapshot(stack) == before, "nothing may be written when a hand edit is found"


def test_force_overwrites_and_keeps_a_backup(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    livekit = stack / "livekit/livekit.yaml"
    edited = livekit.read_text() + "# my tweak\n"
    livekit.write_text(edited)
    result = cli("render", "--dir", str(stack), "--force")
    assert result.code == 0, result.err
    backup = stack / "livekit/livekit.yaml.bak"
    assert backup.read_text() == edited
    assert mode(backup) == 0o600, "a backup of a file holding the secret stays private"
    assert "# my tweak" not in livekit.read_text()
    assert "kept your edited copy as livekit/livekit.yaml.bak" in result.out
    # After the forced write the file is nasrtc's again: a plain render works.
    assert cli("render", "--dir", str(stack)).code == 0


def test_answers_change_rerenders_without_complaint(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    answers = stack / "nasrtc.yaml"
    answers.write_text(answers.read_text().replace("domain: example.org", "domain: example.net"))
    result = cli("render", "--dir", str(stack))
    assert result.code == 0, result.err
    compose = (stack / "compose.yaml").read_text()
    # jwt_host/sfu_host were defaults, so they follow the new domain.
    assert "wss://sfu.example.net" in compose
    assert answers.read_text().count("example.net") >= 1, "render must not rewrite nasrtc.yaml"


def test_existing_foreign_file_is_not_overwritten(cli: Any, tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "compose.yaml").write_text("services: {mine: {image: busybox}}\n")
    source = write_answers(tmp_path, {"domain": "example.org"})
    result = cli("init", "--dir", str(stack), "--answers", str(source))
    assert result.code == 3
    assert (stack / "compose.yaml").read_text() == "services: {mine: {image: busybox}}\n"
    assert not (stack / "secrets").exists(), "secrets are not written when init stops"


def test_edited_nasrtc_yaml_is_not_replaced_by_other_answers(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    answers = stack / "nasrtc.yaml"
    answers.write_text(answers.read_text() + "# note to self\n")
    other = write_answers(tmp_path, {"domain": "example.org", "project": "calls"}, "other.yaml")
    result = cli("init", "--dir", str(stack), "--answers", str(other))
    assert result.code == 3
    assert "nasrtc.yaml" in result.err
    assert answers.read_text().endswith("# note to self\n")


def test_init_from_the_stacks_own_answers_keeps_its_comments(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    answers = stack / "nasrtc.yaml"
    answers.write_text(answers.read_text() + "# note to self\n")
    result = cli("init", "--dir", str(stack), "--answers", str(answers))
    assert result.code == 0, result.err
    assert answers.read_text().endswith("# note to self\n")


def test_no_temporary_files_left_behind(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path)
    leftovers = [p for p in stack.rglob("*") if "tmp" in p.name]
    assert leftovers == []


def test_render_without_answers_or_secrets(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--dir", str(tmp_path))
    assert result.code == 1 and "no nasrtc.yaml" in result.err and "nasrtc init" in result.err
    (tmp_path / "nasrtc.yaml").write_text("domain: example.org\n")
    result = cli("render", "--dir", str(tmp_path))
    assert result.code == 1 and "livekit_api_key is missing" in result.err
    assert not (tmp_path / "compose.yaml").exists()


def test_partial_answers_take_profile_defaults(cli: Any, tmp_path: Path) -> None:
    stack, result = init(cli, tmp_path, {"profile": "synology", "domain": "example.org"})
    assert result.code == 0, result.err
    compose = yaml.safe_load((stack / "compose.yaml").read_text())
    assert "COMPOSE_PROJECT_NAME=matrixrtc\n" in (stack / ".env").read_text()
    assert compose["services"]["livekit"]["image"] == versions.LIVEKIT_IMAGE
    assert compose["services"]["jwt"]["image"] == versions.JWT_IMAGE
    # DSM's proxy is configured by clicking: no nginx/Caddy files for it.
    assert not (stack / "reverse-proxy").exists()
    assert "Control Panel › Login Portal › Advanced › Reverse Proxy" in (
        stack / "reverse-proxy.md").read_text()


def test_switching_profile_reports_files_no_longer_generated(cli: Any, tmp_path: Path) -> None:
    stack, _ = init(cli, tmp_path, {"profile": "generic", "domain": "example.org"})
    answers = stack / "nasrtc.yaml"
    answers.write_text(answers.read_text().replace("\nprofile: generic", "\nprofile: synology"))
    result = cli("render", "--dir", str(stack))
    assert result.code == 0, result.err
    assert "no longer generated: reverse-proxy/nginx.conf" in result.out
