"""`nasrtc token`: a LiveKit access token for LiveKit's connection tester."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir
from nasrtc.errors import usage_error

NAME = "token"
HELP = "mint a LiveKit token (for LiveKit's connection tester)"
EXAMPLES = """\
examples:
  nasrtc token --room test --identity me
      a LiveKit token for LiveKit's connection tester (livekit.io/connection-test)
  nasrtc token --room test --identity me --ttl 10m
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=HELP, epilog=EXAMPLES, formatter_class=FORMATTER,
        description="Print a LiveKit access token signed with this stack's key, and the SFU "
                    "URL. The token is printed because you asked for it; treat it as a "
                    "password for that room until it expires.")
    add_dir(parser)
    parser.add_argument("--room", required=True, help="LiveKit room name")
    parser.add_argument("--identity", required=True, help="participant identity")
    parser.add_argument("--ttl", default="1h", help="lifetime: seconds or 10m, 6h, 1d (1h)")
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.stack import load_stack
    from nasrtc.tokens import mint, parse_ttl

    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise usage_error("--ttl", str(exc)) from None
    _, stack = load_stack(args.dir)
    print(f"url:   {stack.livekit_url}")
    print(f"token: {mint(stack.api_key, stack.api_secret, args.identity, args.room, ttl)}")
    print(f"(valid {ttl} s for room {args.room!r}; anyone holding it can join that room)",
          file=sys.stderr)
    return 0
