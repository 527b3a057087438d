"""Options and printouts several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasrtc.cli import HelpFormatter
from nasrtc.i18n import N_, _, pad

FORMATTER = HelpFormatter  # every command's help: descriptions and examples as written


def add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help=_("stack folder (default: the current folder if it holds "
                               "nasrtc.yaml, else the one the last `{nasrtc} init` wrote)"))
    parser.set_defaults(find_stack=True)


def add_force(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--force", action="store_true",
                        help=help or _("overwrite files edited by hand, keeping them as "
                                       "<file>.bak"))


def project_of(stack_dir: Path) -> str:
    """down/status need only the project name: no secrets, no rendering."""
    from nasrtc.answers import load_stack_answers

    return str(load_stack_answers(stack_dir)["project"])


def known_project(stack_dir: Path) -> str:
    """The project name, from the record of the last `up` while nasrtc.yaml and the files
    it made are unchanged (no YAML to read), else from nasrtc.yaml."""
    from nasrtc.engine.state import current_state

    state = current_state(str(stack_dir))
    return str(state["project"]) if state else project_of(stack_dir)


# A file's state in a plan or a write report, in words (translated where shown).
FILE_STATES = {"new": N_("new"), "changes": N_("changes"), "unchanged": N_("unchanged"),
               "edited": N_("edited"), "written": N_("written")}


def file_state(state: str) -> str:
    """'written', 'unchanged', ... in the user's language."""
    return _(FILE_STATES[state]) if state in FILE_STATES else state


def print_result(result: Any, wrote: bool, steps: bool = False) -> None:
    """What init (wrote) and render wrote, file by file."""
    from nasrtc.output.summary import next_steps

    stack, report = result.stack, result.report
    heading = (_("nasrtc: wrote the call stack for {domain} in {folder} ({profile})") if wrote
               else _("nasrtc: rendered the call stack for {domain} in {folder} ({profile})"))
    print(heading.format(domain=stack.domain, folder=result.stack_dir.resolve(),
                         profile=stack.profile.title))
    size = max(len(rel) for rel in result.artifacts)
    for rel, artifact in result.artifacts.items():
        state = file_state("written" if rel in report.written else "unchanged")
        print(f"  {pad(state, 9)}  {rel:<{size}}  {_(artifact.purpose)}")
    for backup in report.backed_up:
        print("  " + _("kept your edited copy as {file}").format(file=backup))
    for rel in report.stale:
        print("  " + _("no longer generated: {file} (delete it if nothing uses it)").format(
            file=rel))
    if result.secrets_replaced:
        from nasrtc.invocation import command

        print("  " + _("secrets: replaced {names} in secrets/ (mode 0600); containers started "
                       "before still use the old ones: run `{command}` to restart them with "
                       "the new ones (calls in progress drop)").format(
            names=", ".join(result.secrets_replaced),
            command=command(f"up --dir {result.stack_dir.resolve()}")))
    elif result.secrets_created:
        print("  " + _("secrets: created {names} in secrets/ (mode 0600)").format(
            names=", ".join(result.secrets_created)))
    else:
        print("  " + _("secrets: kept the existing ones in secrets/"))
    if steps:
        print("\n" + _("Next steps (every detail, with checkboxes: checklist.md):"))
        for number, step in enumerate(next_steps(stack, result.stack_dir), 1):
            print(f"  {number}. {step}")
    else:
        print(_("next: work through checklist.md, then start the stack."))
