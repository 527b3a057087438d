"""`nasrtc down`: stop and remove this stack's containers and network."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, known_project

NAME = "down"
HELP = "stop and remove the stack's containers"
EXAMPLES = """\
examples:
  sudo nasrtc down --dir /volume1/docker/matrixrtc
      stop and remove this stack's containers; the folder, answers and secrets stay
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=HELP, epilog=EXAMPLES, formatter_class=FORMATTER,
        description="Stop and remove the containers and network nasrtc created for this "
                    "stack. Never touches other containers, the folder, answers or secrets.")
    add_dir(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.engine.stop import down

    project = known_project(args.dir)
    result = down(project)
    if not result.removed:
        print(f"nasrtc: {project} is not running; nothing to stop.")
        return 0
    for name in result.removed:
        print(f"  stopped and removed {name}")
    for name in result.networks:
        print(f"  removed network {name}")
    print(f"nasrtc: {project} is down; {args.dir.resolve()} (answers, secrets) is untouched.")
    return 0
