"""`nasrtc doctor`: every check with its row, and a fix for each failure."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir
from nasrtc.errors import usage_error

NAME = "doctor"
HELP = "check every piece, locally and from the public side, with fixes"
EXAMPLES = """\
examples:
  sudo nasrtc doctor --dir /volume1/docker/matrixrtc
      every check, local and public
  sudo nasrtc doctor --local
      only what can be checked on the NAS itself
  NASRTC_ACCESS_TOKEN=syt_... nasrtc doctor
      also ask the homeserver for its RTC transports and try a real token round trip
  nasrtc doctor --connect-to sfu.example.org::192.168.1.10: --connect-to ...
      test the proxy before DNS is set up (curl's HOST:PORT:ADDRESS:PORT; empty
      ports: every port of that name)
  nasrtc doctor --public --dir ./copy-of-the-stack-folder
      from outside your network (mobile data): proves the router's forwarding
"""

MARKS = {"pass": "ok  ", "warn": "warn", "fail": "FAIL", "skipped": "skip"}


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=HELP, epilog=EXAMPLES, formatter_class=FORMATTER,
        description="Check the stack piece by piece: files, secrets, containers, proxy, "
                    "certificates, router, homeserver. Each failure says what is wrong and "
                    "how to fix it. Exit 0 when nothing fails, 1 otherwise.")
    add_dir(parser)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--local", action="store_true", help="skip the public-side checks")
    scope.add_argument("--public", action="store_true",
                       help="only the public-side checks (e.g. from a laptop outside your "
                            "network, with a copy of the stack folder)")
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    parser.add_argument("--access-token", metavar="TOKEN",
                        help="a Matrix access token (or NASRTC_ACCESS_TOKEN) for the "
                             "homeserver checks that need one; never printed")
    parser.add_argument("--connect-to", action="append", default=[],
                        metavar="HOST:PORT:ADDRESS:PORT",
                        help="connect to ADDRESS:PORT instead of HOST:PORT (like curl)")
    parser.add_argument("--ca-file", metavar="FILE",
                        help="trust this CA bundle for the TLS checks (a private CA)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="per network call (default 5)")
    return parser


def run(args: argparse.Namespace) -> int:
    import json

    from nasrtc.doctor import FAIL, make_context, run_doctor
    from nasrtc.doctor.net import parse_connect_to

    try:
        connect_to = parse_connect_to(args.connect_to)
    except ValueError as exc:
        raise usage_error("--connect-to", str(exc)) from None
    if not 0 < args.timeout <= 120:
        raise usage_error("--timeout", f"{args.timeout} is not a number of seconds above 0 "
                          "and at most 120; e.g. --timeout 10")
    if args.ca_file is not None:
        _check_ca_file(args.ca_file)
    ctx = make_context(args.dir, connect_to, args.ca_file, args.access_token, args.timeout)
    results = run_doctor(ctx, local_only=args.local, public_only=args.public)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"  {MARKS[r.status]}  {r.name:<{width}}  {r.detail}")
            if r.fix and r.status in ("fail", "warn", "skipped"):
                label = "to check it" if r.status == "skipped" else "fix"
                print(f"        {'':<{width}}  {label}: {r.fix}")
        print(f"\nnasrtc doctor: {sum(r.status == FAIL for r in results)} failed, "
              f"{sum(r.status == 'warn' for r in results)} warnings, "
              f"{sum(r.status == 'pass' for r in results)} passed.")
    return 1 if any(r.status == FAIL for r in results) else 0


def _check_ca_file(path: str) -> None:
    """A usage error naming the file, not a traceback at the first TLS check."""
    import ssl
    from pathlib import Path

    if not Path(path).is_file():
        raise usage_error("--ca-file", f"{path} is not a file; expected a CA bundle (PEM)")
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise usage_error("--ca-file", f"{path} is not a CA bundle in PEM form "
                          f"({exc.__class__.__name__})") from None
