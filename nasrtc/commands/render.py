"""`nasrtc render`: rebuild every generated file from DIR/nasrtc.yaml and the stored
secrets; a file edited by hand is not overwritten without --force."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, add_force, print_result
from nasrtc.i18n import N_, _

NAME = "render"
HELP = N_("rebuild every generated file from DIR/nasrtc.yaml")
EXAMPLES = N_("""\
examples:
  {nasrtc} render --dir /volume1/docker/matrixrtc
      rebuild every file after editing nasrtc.yaml
  {nasrtc} render --force
      also overwrite files edited by hand (kept as <file>.bak)
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Rebuild every generated file from DIR/nasrtc.yaml and the stored "
                      "secrets. A file edited by hand is not overwritten without --force."))
    add_dir(parser)
    add_force(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.answers import load_stack_answers
    from nasrtc.output.plan import apply_plan, check_stack_dir, plan_files

    check_stack_dir(args.dir)
    plan = plan_files(args.dir, load_stack_answers(args.dir), write_answers_file=False)
    print_result(apply_plan(plan, force=args.force), wrote=False)
    return 0
