"""Options and printouts several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasrtc.cli import HelpFormatter

FORMATTER = HelpFormatter  # every command's help: descriptions and examples as written


def add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help="stack folder (default: the current folder if it holds "
                             "nasrtc.yaml, else the one the last `nasrtc init` wrote)")
    parser.set_defaults(find_stack=True)


def add_force(parser: argparse.ArgumentParser, help: str = "overwrite files edited by hand, "
              "keeping them as <file>.bak") -> None:
    parser.add_argument("--force", action="store_true", help=help)


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


def print_result(result: Any, verb: str, steps: bool = False) -> None:
    """What init and render wrote, file by file."""
    from nasrtc.output.summary import next_steps

    stack, report = result.stack, result.report
    print(f"nasrtc: {verb} the call stack for {stack.domain} in {result.stack_dir.resolve()}"
          f" ({stack.profile.title})")
    width = max(len(rel) for rel in result.artifacts)
    for rel, artifact in result.artifacts.items():
        state = "written" if rel in report.written else "unchanged"
        print(f"  {state:<9}  {rel:<{width}}  {artifact.purpose}")
    for backup in report.backed_up:
        print(f"  kept your edited copy as {backup}")
    for rel in report.stale:
        print(f"  no longer generated: {rel} (delete it if nothing uses it)")
    if result.secrets_replaced:
        print(f"  secrets: replaced {', '.join(result.secrets_replaced)} in secrets/ (mode "
              "0600); containers started before still use the old ones: run `sudo nasrtc up "
              f"--dir {result.stack_dir.resolve()}` to restart them with the new ones (calls "
              "in progress drop)")
    elif result.secrets_created:
        print(f"  secrets: created {', '.join(result.secrets_created)} in secrets/ (mode 0600)")
    else:
        print("  secrets: kept the existing ones in secrets/")
    if steps:
        print("\nNext steps (every detail, with checkboxes: checklist.md):")
        for number, step in enumerate(next_steps(stack, result.stack_dir), 1):
            print(f"  {number}. {step}")
    else:
        print("next: work through checklist.md, then start the stack.")
