"""`nasrtc doctor`: every check with its row, and a fix for each failure."""

from __future__ import annotations

import argparse
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir
from nasrtc.errors import usage_error
from nasrtc.i18n import N_, _, ngettext, pad, width

NAME = "doctor"
HELP = N_("check every piece, locally and from the public side, with fixes")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} doctor --dir /volume1/docker/matrixrtc
      every check, local and public
  sudo {nasrtc} doctor --local
      only what can be checked on the NAS itself
  NASRTC_ACCESS_TOKEN=syt_... nasrtc doctor
      also ask the homeserver for its RTC transports and try a real token round trip
  {nasrtc} doctor --connect-to sfu.example.org::192.168.1.10: --connect-to ...
      test the proxy before DNS is set up (curl's HOST:PORT:ADDRESS:PORT; empty
      ports: every port of that name)
  {nasrtc} doctor --public --dir ./copy-of-the-stack-folder
      from outside your network (mobile data): proves the router's forwarding
  NASRTC_ACCESS_TOKEN=syt_... nasrtc doctor --public --media --dir ./copy-of-the-stack-folder
      from outside: a real test call through your stack (UDP, TCP, TURN, sound);
      needs pip install "nasrtc[media]"
""")

# The mark at the start of each row, by status (translated where shown).
MARKS = {"pass": N_("ok"), "warn": N_("warn"), "fail": N_("FAIL"), "skipped": N_("skip")}


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Check the stack piece by piece: files, secrets, containers, proxy, "
                      "certificates, router, homeserver. Each failure says what is wrong and "
                      "how to fix it. Exit 0 when nothing fails, 1 otherwise."))
    add_dir(parser)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--local", action="store_true", help=_("skip the public-side checks"))
    scope.add_argument("--public", action="store_true",
                       help=_("only the public-side checks (e.g. from a laptop outside your "
                              "network, with a copy of the stack folder)"))
    parser.add_argument("--media", action="store_true",
                        help=_("also place a real test call through the stack (run it outside "
                               "your network; needs the LiveKit SDK: pip install "
                               "\"nasrtc[media]\")"))
    parser.add_argument("--json", action="store_true", help=_("machine-readable results"))
    parser.add_argument("--access-token", metavar="TOKEN",
                        help=_("a Matrix access token (or NASRTC_ACCESS_TOKEN) for the "
                               "homeserver checks that need one; never printed"))
    parser.add_argument("--connect-to", action="append", default=[],
                        metavar="HOST:PORT:ADDRESS:PORT",
                        help=_("connect to ADDRESS:PORT instead of HOST:PORT (like curl)"))
    parser.add_argument("--ca-file", metavar="FILE",
                        help=_("trust this CA bundle for the TLS checks (a private CA)"))
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help=_("per network call (default 5)"))
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
        raise usage_error("--timeout", _("{value} is not a number of seconds above 0 and at "
                                         "most 120; e.g. --timeout 10").format(
            value=args.timeout))
    if args.ca_file is not None:
        _check_ca_file(args.ca_file)
    if args.media:
        _check_media(args)
    ctx = make_context(args.dir, connect_to, args.ca_file, args.access_token, args.timeout)
    results = run_doctor(ctx, local_only=args.local, public_only=args.public,
                         media=args.media)
    if args.json:  # name and status stay English: what scripts match on
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print_rows(results)
    return 1 if any(r.status == FAIL for r in results) else 0


def print_rows(results: list[Any]) -> None:
    """The rows as a table in the user's language, then the count of each outcome."""
    marks = {status: _(mark) for status, mark in MARKS.items()}
    names = [_(r.name) for r in results]
    mark_width = max(width(mark) for mark in marks.values())
    name_width = max(width(name) for name in names)
    indent = " " * (2 + mark_width + 2)
    for r, name in zip(results, names):
        print(f"  {pad(marks[r.status], mark_width)}  {pad(name, name_width)}  {r.detail}")
        if r.fix and r.status in ("fail", "warn", "skipped"):
            label = _("to check it") if r.status == "skipped" else _("fix")
            print(f"{indent}{' ' * name_width}  {label}: {r.fix}")
    count = {status: sum(r.status == status for r in results) for status in MARKS}
    failed = ngettext("{count} failed", "{count} failed", count["fail"])
    warnings = ngettext("{count} warning", "{count} warnings", count["warn"])
    passed = ngettext("{count} passed", "{count} passed", count["pass"])
    print("\n" + _("nasrtc doctor: {failed}, {warnings}, {passed}.").format(
        failed=failed.format(count=count["fail"]), warnings=warnings.format(count=count["warn"]),
        passed=passed.format(count=count["pass"])))


def _check_media(args: argparse.Namespace) -> None:
    """--media places a call as a caller does: by the public names, with the SDK."""
    from nasrtc.errors import NasrtcError
    from nasrtc.media.probe import sdk_missing

    if args.local:
        raise usage_error("--media", _("the test call comes from the public side; leave out "
                                       "--local"))
    if args.connect_to:
        raise usage_error("--media", _("the test call connects by the public names, as a "
                                       "caller does, so --connect-to cannot steer it; run it "
                                       "where DNS already works, without --connect-to"))
    missing = sdk_missing()
    if missing:
        raise NasrtcError(_("the test call (--media) needs the LiveKit Python SDK, which is "
                            "not installed for this Python"),
                          _("install it: {command} (the single file and the base install "
                            "leave it out: it brings its own WebRTC library, ~30 MB)")
                          .format(command=missing))


def _check_ca_file(path: str) -> None:
    """A usage error naming the file, not a traceback at the first TLS check."""
    import ssl
    from pathlib import Path

    if not Path(path).is_file():
        raise usage_error("--ca-file", _("{path} is not a file; expected a CA bundle (PEM)")
                          .format(path=path))
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise usage_error("--ca-file", _("{path} is not a CA bundle in PEM form ({error})")
                          .format(path=path, error=exc.__class__.__name__)) from None
