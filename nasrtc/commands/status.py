"""`nasrtc status`: each service's container, state, health, uptime, image, ports."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, known_project
from nasrtc.i18n import N_, _

NAME = "status"
HELP = N_("show each service's container, health, image, ports and uptime")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} status --dir /volume1/docker/matrixrtc
  sudo {nasrtc} status --json | jq '.[] | {service, state, health}'
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Show the state of the stack's containers."))
    add_dir(parser)
    parser.add_argument("--json", action="store_true", help=_("machine-readable output"))
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.engine.status import print_rows, status

    left: list[str] = []
    print_rows(status(known_project(args.dir), set_aside=left, stack_dir=str(args.dir)),
               args.json)
    if left and not args.json:
        print(_("note: an interrupted `{nasrtc} up` left {names} aside (stopped); "
                "`{nasrtc} up` puts it right, `{nasrtc} down` removes it").format(
            names=", ".join(left)))
    from nasrtc.engine.state import UPGRADE_JOURNAL

    if (args.dir / UPGRADE_JOURNAL).is_file() and not args.json:
        print(_("note: an interrupted `{nasrtc} upgrade` began here and did not end; "
                "`{nasrtc} upgrade` finishes it (or rolls it back)"))
    return 0
