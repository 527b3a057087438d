"""`nasrtc status`: each service's container, state, health, uptime, image, ports."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, known_project

NAME = "status"
HELP = "show each service's container, health, image, ports and uptime"
EXAMPLES = """\
examples:
  sudo nasrtc status --dir /volume1/docker/matrixrtc
  sudo nasrtc status --json | jq '.[] | {service, state, health}'
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=HELP, epilog=EXAMPLES, formatter_class=FORMATTER,
        description="Show the state of the stack's containers.")
    add_dir(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run(args: argparse.Namespace) -> int:
    import json

    from nasrtc.engine.status import status
    from nasrtc.services import STACK_SERVICES
    from nasrtc.versions import VERSION_SET

    rows = status(known_project(args.dir), STACK_SERVICES)
    older = _older_than_tested(rows)
    if args.json:
        print(json.dumps([{**row.as_dict(), "tested_image": VERSION_SET[row.service],
                           "older_than_tested": row.service in older} for row in rows],
                         indent=2))
        return 0
    print(f"{'SERVICE':<8}  {'STATE':<11}  {'HEALTH':<9}  {'UPTIME':<8}  {'IMAGE':<42}  PORTS")
    for row in rows:
        uptime = duration(row.uptime_seconds) if row.uptime_seconds is not None else "-"
        print(f"{row.service:<8}  {row.state:<11}  {row.health or '-':<9}  {uptime:<8}  "
              f"{row.image or '-':<42}  {', '.join(row.ports) or '-'}")
    for service in older:
        print(f"note: {service} runs an image older than the set this nasrtc was tested with "
              f"({VERSION_SET[service]}): `nasrtc upgrade` moves it")
    return 0


def _older_than_tested(rows: list[Any]) -> list[str]:
    """Services running an earlier nasrtc's pin (not the user's own, not the current)."""
    from nasrtc.versions import VERSION_SET, nasrtc_pin

    return [row.service for row in rows if row.image and row.image != VERSION_SET[row.service]
            and nasrtc_pin(row.service, row.image)]


def duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
