"""`init` and `render`: answers -> stack -> files on disk. Planning happens in
memory (so the wizard can show what will change); applying writes. Returns
results; the CLI does the printing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrtc.answers import (
    ANSWERS_FILE,
    Answers,
    dump_answers,
    load_answers,
    load_stack_answers,
    resolve,
)
from nasrtc.errors import HandEditedError, InputError, NasrtcError, Problem
from nasrtc.model import Stack, build_stack, check_answers
from nasrtc.profiles import load_profile
from nasrtc.render import PUBLIC, Artifact, render_all, render_runtime
from nasrtc.secret_store import plan_secrets, require_secrets, store_secrets
from nasrtc.writer import WriteReport, hand_edited, write_artifacts


@dataclass
class Plan:
    stack_dir: Path
    answers: Answers
    stack: Stack
    artifacts: dict[str, Artifact]
    pending_secrets: dict[str, str] = field(repr=False)

    def status(self) -> dict[str, str]:
        """Per file: new, changes, unchanged, or edited (by hand since last written)."""
        edited = set(hand_edited(self.stack_dir, self.artifacts))
        out = {}
        for rel, artifact in self.artifacts.items():
            path = self.stack_dir / rel
            if not path.exists():
                out[rel] = "new"
            elif path.read_bytes() == artifact.text.encode("utf-8"):
                out[rel] = "unchanged"
            else:
                out[rel] = "edited" if rel in edited else "changes"
        return out


@dataclass
class GenerateResult:
    stack_dir: Path
    stack: Stack
    artifacts: dict[str, Artifact]
    report: WriteReport
    secrets_created: list[str] = field(default_factory=list)


def check_stack_dir(stack_dir: Path) -> None:
    if stack_dir.exists() and not stack_dir.is_dir():
        raise InputError([Problem("--dir", f"{stack_dir} exists and is not a folder")],
                         source="the command line")


def plan_stack(stack_dir: Path, answers: Answers, write_answers_file: bool,
               rotate: bool = False, runtime_only: bool = False) -> Plan:
    """Everything that would be written, in memory. Raises on bad answers."""
    check_stack_dir(stack_dir)
    profile = load_profile(answers["profile"])
    problems = check_answers(answers, profile)
    if problems:
        raise InputError(problems)
    secrets, pending = plan_secrets(stack_dir, rotate=rotate,
                                    need_turn_credential=bool(answers["external_turn.host"]))
    stack = build_stack(answers, profile, secrets)
    artifacts: dict[str, Artifact] = {}
    if write_answers_file:
        artifacts[ANSWERS_FILE] = Artifact(dump_answers(answers), PUBLIC, "your answers")
    artifacts.update(render_runtime(stack) if runtime_only else render_all(stack))
    return Plan(stack_dir, answers, stack, artifacts, pending)


def apply_plan(plan: Plan, force: bool = False,
               force_files: frozenset[str] = frozenset()) -> GenerateResult:
    """Write secrets then files; stops before writing anything on a hand edit."""
    edited = set(hand_edited(plan.stack_dir, plan.artifacts)) - force_files
    if edited and not force:
        write_artifacts(plan.stack_dir, plan.artifacts)  # raises HandEditedError
    try:
        plan.stack_dir.mkdir(parents=True, exist_ok=True)
        store_secrets(plan.stack_dir, plan.pending_secrets)
        report = write_artifacts(plan.stack_dir, plan.artifacts, force=True,
                                 keep_in_manifest=(ANSWERS_FILE,))
    except PermissionError as exc:
        raise NasrtcError(
            f"permission denied writing {exc.filename or plan.stack_dir}",
            "run as the folder's owner, or with sudo (on DSM: `sudo nasrtc ...`)",
        ) from None
    return GenerateResult(plan.stack_dir, plan.stack, plan.artifacts, report,
                          sorted(plan.pending_secrets))


def init_stack(stack_dir: Path, answers_path: Path, force: bool = False,
               rotate_secrets: bool = False) -> GenerateResult:
    """Non-interactive init: validate the answers file, then write everything."""
    check_stack_dir(stack_dir)
    answers = load_answers(answers_path)
    target = stack_dir / ANSWERS_FILE
    # The user's own nasrtc.yaml is the source: never rewrite it under them.
    own_file = target.exists() and target.resolve() == answers_path.resolve()
    plan = plan_stack(stack_dir, answers, write_answers_file=not own_file,
                      rotate=rotate_secrets)
    return apply_plan(plan, force=force)


def plan_from_raw(stack_dir: Path, raw: dict[str, Any], rotate_secrets: bool = False) -> Plan:
    """For the wizard and --yes: answers given as data, written to nasrtc.yaml."""
    return plan_stack(stack_dir, resolve(raw), write_answers_file=True, rotate=rotate_secrets)


def stack_for_display(stack_dir: Path) -> Stack:
    """The stack from DIR/nasrtc.yaml, for texts that never show secrets (checklist)."""
    from nasrtc.secret_store import Secrets

    answers = load_stack_answers(stack_dir)
    profile = load_profile(answers["profile"])
    problems = check_answers(answers, profile)
    if problems:
        raise InputError(problems, source=str(stack_dir / ANSWERS_FILE))
    return build_stack(answers, profile, Secrets("unused", "unused", "unused"))


RUNTIME_FILES = ("compose.yaml", ".env", "livekit/livekit.yaml")


def prepare_up(stack_dir: Path, force: bool = False) -> tuple[Plan, list[str]]:
    """The stack to run, with the files the containers read brought up to date.

    A hand-edited compose.yaml, .env or livekit.yaml stops here (unless force,
    which keeps the edit as .bak): `up` never runs something other than the
    files the user sees. Files merely out of date are rendered, and named."""
    answers = load_stack_answers(stack_dir)
    require_secrets(stack_dir)
    plan = plan_stack(stack_dir, answers, write_answers_file=False,
                      runtime_only=True)
    runtime = {rel: plan.artifacts[rel] for rel in RUNTIME_FILES}
    edited = hand_edited(stack_dir, runtime)
    if edited and not force:
        raise HandEditedError(
            "these files differ from what nasrtc.yaml renders (edited by hand?); nothing was "
            "started:\n" + "\n".join(f"  - {stack_dir / rel}" for rel in edited),
            "put the change into nasrtc.yaml and run `nasrtc render`, or use `nasrtc up "
            "--force` to re-render them (your copies are kept as .bak) and start")
    stale = [rel for rel, artifact in runtime.items()
             if not (stack_dir / rel).exists()
             or (stack_dir / rel).read_bytes() != artifact.text.encode("utf-8")]
    if stale:
        write_artifacts(stack_dir, runtime, force=True, partial=True)
    return plan, stale


def render_stack(stack_dir: Path, force: bool = False) -> GenerateResult:
    """Re-render every file from <dir>/nasrtc.yaml and the stored secrets."""
    check_stack_dir(stack_dir)
    answers = load_stack_answers(stack_dir)
    require_secrets(stack_dir)
    return apply_plan(plan_stack(stack_dir, answers, write_answers_file=False), force=force)
