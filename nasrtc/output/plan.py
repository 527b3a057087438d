"""answers -> Stack -> the files to write, planned in memory (so the wizard can show
what will change), then applied: secrets first, then every file atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nasrtc import invocation
from nasrtc.answers import ANSWERS_FILE, Answers, dump_answers
from nasrtc.errors import NasrtcError, usage_error
from nasrtc.files import ensure_folder
from nasrtc.i18n import N_, _
from nasrtc.output.render import PUBLIC, Artifact, render_all, render_runtime
from nasrtc.output.writer import (
    WriteReport,
    digest,
    edit_error,
    hand_edited,
    read_manifest,
    write_artifacts,
)
from nasrtc.secret_store import SECRETS_DIR, secret_files
from nasrtc.stack import SecretsFrom, Stack, stack_for

# What the containers read: `up` brings these up to date before it starts anything.
RUNTIME_FILES = ("compose.yaml", ".env", "livekit/livekit.yaml")


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

    def recorded(self) -> bool:
        """Whether nasrtc's record of written files names each file with what it holds
        (a run killed after its last file and before the record leaves it behind)."""
        manifest = read_manifest(self.stack_dir)
        return all(manifest.get(rel) == digest(artifact.text.encode("utf-8"))
                   for rel, artifact in self.artifacts.items())

    def stale_runtime_files(self) -> list[str]:
        """Runtime files missing or different from what the answers render."""
        return [rel for rel in RUNTIME_FILES if rel in self.artifacts
                and (not (self.stack_dir / rel).exists()
                     or (self.stack_dir / rel).read_bytes()
                     != self.artifacts[rel].text.encode("utf-8"))]


@dataclass
class GenerateResult:
    stack_dir: Path
    stack: Stack
    artifacts: dict[str, Artifact]
    report: WriteReport
    secrets_created: list[str] = field(default_factory=list)
    secrets_replaced: list[str] = field(default_factory=list)  # rotated: the old ones were


def check_stack_dir(stack_dir: Path) -> None:
    if stack_dir.exists() and not stack_dir.is_dir():
        raise usage_error("--dir", _("{folder} exists and is not a folder")
                                   .format(folder=stack_dir))


def plan_files(stack_dir: Path, answers: Answers, write_answers_file: bool,
               secrets: SecretsFrom = "stored", rotate: bool = False,
               runtime_only: bool = False) -> Plan:
    """Everything that would be written, in memory."""
    check_stack_dir(stack_dir)
    stack, pending = stack_for(stack_dir, answers, secrets, rotate=rotate)
    artifacts: dict[str, Artifact] = {}
    if write_answers_file:
        artifacts[ANSWERS_FILE] = Artifact(dump_answers(answers), PUBLIC, N_("your answers"))
    artifacts.update(render_runtime(stack) if runtime_only else render_all(stack))
    return Plan(stack_dir, answers, stack, artifacts, pending)


def apply_plan(plan: Plan, force: bool = False, force_files: frozenset[str] = frozenset(),
               command: str = "nasrtc render") -> GenerateResult:
    """Write secrets then files; stops before writing anything on a hand edit."""
    edited = [rel for rel in hand_edited(plan.stack_dir, plan.artifacts)
              if rel not in force_files]
    if edited and not force:
        raise edit_error(plan.stack_dir, edited, command)
    replaced = sorted(name for name in plan.pending_secrets
                      if (plan.stack_dir / SECRETS_DIR / name).exists())
    try:
        ensure_folder(plan.stack_dir, plan.stack_dir)
        # New secrets and the files that hold them land together, or not at all.
        report = write_artifacts(plan.stack_dir, plan.artifacts, force=True,
                                 keep_in_manifest=(ANSWERS_FILE,),
                                 also=secret_files(plan.stack_dir, plan.pending_secrets))
    except PermissionError as exc:
        raise NasrtcError(
            _("permission denied writing {path}").format(path=exc.filename or plan.stack_dir),
            _("run as the folder's owner, or with sudo (on DSM: `{command}`)").format(
                command=invocation.command("...")),
        ) from None
    return GenerateResult(plan.stack_dir, plan.stack, plan.artifacts, report,
                          sorted(plan.pending_secrets), replaced)
