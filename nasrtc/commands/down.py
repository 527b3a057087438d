"""`nasrtc down`: stop and remove this stack's containers and network."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, known_project
from nasrtc.i18n import N_, _

NAME = "down"
HELP = N_("stop and remove the stack's containers")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} down --dir /volume1/docker/matrixrtc
      stop and remove this stack's containers; the folder, answers and secrets stay
  sudo {nasrtc} down --close-router
      the same, and delete the port mappings `{nasrtc} router open` made
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Stop and remove the containers and network nasrtc created for this "
                      "stack. Never touches other containers, the folder, answers or secrets."))
    add_dir(parser)
    parser.add_argument("--close-router", action="store_true",
                        help=_("also delete the router mappings `{nasrtc} router open` made"))
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.engine.stop import down

    project = known_project(args.dir)
    result = down(project)
    closed = 0
    if getattr(args, "close_router", False):
        from nasrtc.commands.router import close_recorded

        closed = close_recorded(args.dir)
    if not result.removed:
        print(_("nasrtc: {project} is not running; nothing to stop.").format(project=project))
        return closed
    for name in result.removed:
        print("  " + _("stopped and removed {name}").format(name=name))
    for name in result.networks:
        print("  " + _("removed network {name}").format(name=name))
    print(_("nasrtc: {project} is down; {folder} (answers, secrets) is untouched.").format(
        project=project, folder=args.dir.resolve()))
    return closed
