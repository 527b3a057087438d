"""`nasrtc logs`: the stack's container logs, each line prefixed with its service."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, project_of
from nasrtc.errors import usage_error
from nasrtc.i18n import N_, _

NAME = "logs"
HELP = N_("show the containers' logs (--follow to keep watching)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} logs
      both services' logs, merged in time order, each line prefixed with its service
  sudo {nasrtc} logs livekit --since 10m
      LiveKit's lines of the last ten minutes
  sudo {nasrtc} logs --follow --tail 20
      the last 20 lines of each, then new lines as they come (Ctrl-C ends it)
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Show the logs of the stack's containers through the Docker engine, "
                      "like `docker compose logs`."))
    add_dir(parser)
    parser.add_argument("service", nargs="?", choices=("livekit", "jwt"),
                        help=_("only this service (default: both)"))
    parser.add_argument("--follow", "-f", action="store_true",
                        help=_("keep printing new lines until Ctrl-C"))
    parser.add_argument("--tail", type=int, metavar="N",
                        help=_("only the last N lines of each service"))
    parser.add_argument("--since", metavar="T",
                        help=_("only lines newer than T: seconds or 10m, 6h, 1d ago"))
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from nasrtc.engine import lifecycle
    from nasrtc.services import JWT_SERVICE, LIVEKIT_SERVICE
    from nasrtc.tokens import parse_ttl

    if args.tail is not None and args.tail < 0:
        raise usage_error("--tail", _("{tail} is not a number of lines; expected 0 or more")
                                    .format(tail=args.tail))
    since = None
    if args.since is not None:
        try:
            since = int(time.time()) - parse_ttl(args.since)
        except ValueError as exc:
            raise usage_error("--since", str(exc)) from None
    services = (args.service,) if args.service else (LIVEKIT_SERVICE, JWT_SERVICE)

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        lifecycle.logs(project_of(args.dir), services, write, follow=args.follow,
                       tail=args.tail, since=since)
    except KeyboardInterrupt:
        return 0  # the usual way to stop --follow: not an error
    return 0
