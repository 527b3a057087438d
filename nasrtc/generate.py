"""`init` and `render`: answers -> stack -> files on disk. Returns a result;
the CLI does the printing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nasrtc.answers import ANSWERS_FILE, Answers, dump_answers, load_answers
from nasrtc.errors import InputError, NasrtcError, Problem
from nasrtc.model import Stack, build_stack, check_answers
from nasrtc.profiles import load_profile
from nasrtc.render import PUBLIC, Artifact, render_all
from nasrtc.secret_store import plan_secrets, require_secrets, store_secrets
from nasrtc.writer import WriteReport, hand_edited, write_artifacts


@dataclass
class GenerateResult:
    stack_dir: Path
    stack: Stack
    artifacts: dict[str, Artifact]
    report: WriteReport
    secrets_created: list[str] = field(default_factory=list)


def _check_dir(stack_dir: Path) -> None:
    if stack_dir.exists() and not stack_dir.is_dir():
        raise InputError([Problem("--dir", f"{stack_dir} exists and is not a folder")],
                         source="the command line")


def _generate(stack_dir: Path, answers: Answers, extra: dict[str, Artifact], force: bool,
              rotate: bool, keep_in_manifest: tuple[str, ...] = ()) -> GenerateResult:
    profile = load_profile(answers["profile"])
    problems = check_answers(answers, profile)
    if problems:
        raise InputError(problems)
    secrets, pending = plan_secrets(stack_dir, rotate=rotate,
                                    need_turn_credential=bool(answers["external_turn.host"]))
    stack = build_stack(answers, profile, secrets)
    artifacts = {**extra, **render_all(stack)}
    if not force and hand_edited(stack_dir, artifacts):
        write_artifacts(stack_dir, artifacts)  # raises HandEditedError, writes nothing
    try:
        stack_dir.mkdir(parents=True, exist_ok=True)
        store_secrets(stack_dir, pending)
        report = write_artifacts(stack_dir, artifacts, force=force,
                                 keep_in_manifest=keep_in_manifest)
    except PermissionError as exc:
        raise NasrtcError(
            f"permission denied writing {exc.filename or stack_dir}",
            "run as the folder's owner, or with sudo (on DSM: `sudo nasrtc ...`)",
        ) from None
    return GenerateResult(stack_dir, stack, artifacts, report, sorted(pending))


def init_stack(stack_dir: Path, answers_path: Path, force: bool = False,
               rotate_secrets: bool = False) -> GenerateResult:
    """Non-interactive init: validate the answers file, then write everything."""
    _check_dir(stack_dir)
    answers = load_answers(answers_path)
    target = stack_dir / ANSWERS_FILE
    extra: dict[str, Artifact] = {}
    # The user's own nasrtc.yaml is the source: never rewrite it under them.
    if not (target.exists() and target.resolve() == answers_path.resolve()):
        extra[ANSWERS_FILE] = Artifact(dump_answers(answers), PUBLIC, "your answers")
    return _generate(stack_dir, answers, extra, force, rotate_secrets,
                     keep_in_manifest=(ANSWERS_FILE,))


def render_stack(stack_dir: Path, force: bool = False) -> GenerateResult:
    """Re-render every file from <dir>/nasrtc.yaml and the stored secrets."""
    _check_dir(stack_dir)
    source = stack_dir / ANSWERS_FILE
    if not source.is_file():
        raise NasrtcError(
            f"no {ANSWERS_FILE} in {stack_dir}",
            f"run `nasrtc init --dir {stack_dir}` first, or point --dir at the stack folder",
        )
    answers = load_answers(source)
    require_secrets(stack_dir)
    return _generate(stack_dir, answers, {}, force, rotate=False,
                     keep_in_manifest=(ANSWERS_FILE,))
