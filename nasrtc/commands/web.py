"""`nasrtc web`: the wizard in the browser, then the stack's buttons (DSM without SSH)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasrtc.commands._common import FORMATTER
from nasrtc.i18n import N_, _

NAME = "web"
HELP = N_("the wizard and the stack's buttons as a web page (no terminal needed)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} web --dir /volume1/docker/matrixrtc
      serve the page on this NAS's LAN address, port 8765; open the link it prints
  sudo {nasrtc} web --listen 127.0.0.1:8765
      only from this machine (e.g. through an SSH tunnel)

The page asks the wizard's questions, writes the same files as `{nasrtc} init`, then
starts, checks and stops the stack. Only the printed link opens it (once, in one browser).
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("The setup wizard as a web page on the NAS, for setting up without a "
                      "terminal (Synology Container Manager starts it: see the README)."))
    parser.add_argument("--listen", metavar="ADDRESS:PORT",
                        help=_("where to serve the page (default: the LAN address, port "
                               "8765)"))
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help=_("stack folder (default: the page asks)"))
    parser.add_argument("--name", action="append", default=[], metavar="NAME",
                        help=_("another name of this NAS the browser may use for the page "
                               "(its host name and <host name>.local always work)"))
    parser.add_argument("--idle-minutes", type=float, default=30.0, metavar="N",
                        help=_("stop N minutes after the stack is up with nobody on the page "
                               "(default 30; 0: only Done stops it)"))
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.cli import check_host_path
    from nasrtc.errors import usage_error
    from nasrtc.web.server import serve

    if args.idle_minutes < 0:
        raise usage_error("--idle-minutes", _("{value} is not a number of minutes; expected "
                                              "0 or more").format(value=args.idle_minutes))
    for name in args.name:
        if not name or len(name) > 253 or not all(c.isalnum() or c in ".-" for c in name):
            raise usage_error("--name", _("{value} is not a host name (letters, digits, dots "
                                          "and hyphens), e.g. --name nas.home.arpa").format(
                                              value=name))
    folder = args.dir
    if folder is not None:
        if not folder.is_absolute():
            folder = folder.resolve()
        check_host_path(folder)
    return int(serve(args.listen, folder, args.idle_minutes, list(args.name)))
