"""`nasrtc token`: a LiveKit access token for LiveKit's connection tester."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir
from nasrtc.errors import usage_error
from nasrtc.i18n import N_, _

NAME = "token"
HELP = N_("mint a LiveKit token (for LiveKit's connection tester)")
EXAMPLES = N_("""\
examples:
  {nasrtc} token --room test --identity me
      a LiveKit token for LiveKit's connection tester (livekit.io/connection-test)
  {nasrtc} token --room test --identity me --ttl 10m
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Create the room on this host's LiveKit and print an access token for "
                      "it, signed with this stack's key, and the SFU URL. The token is printed "
                      "because you asked for it; treat it as a password for that room until it "
                      "expires."))
    add_dir(parser)
    parser.add_argument("--room", required=True, help=_("LiveKit room name"))
    parser.add_argument("--identity", required=True, help=_("participant identity"))
    parser.add_argument("--ttl", default="1h", help=_("lifetime: seconds or 10m, 6h, 1d (1h)"))
    return parser


# How long the room waits for someone to join (LiveKit closes an empty room after it).
ROOM_WAITS = 600


def run(args: argparse.Namespace) -> int:
    from nasrtc.stack import load_stack
    from nasrtc.tokens import mint, parse_ttl

    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise usage_error("--ttl", str(exc)) from None
    _answers, stack = load_stack(args.dir)
    _create_room(stack, args.room, args.dir)
    print(f"url:   {stack.livekit_url}")
    print(f"token: {mint(stack.api_key, stack.api_secret, args.identity, args.room, ttl)}")
    print(_("(valid {seconds} s for room {room!r}, which waits {minutes} minutes for someone "
            "to join; anyone holding the token can join it)").format(
        seconds=ttl, room=args.room, minutes=ROOM_WAITS // 60), file=sys.stderr)
    return 0


def _create_room(stack: Any, room: str, stack_dir: Any) -> None:
    """LiveKit refuses to join a room that does not exist (room.auto_create is off, so only
    authorised callers get rooms): create it first, on this host's LiveKit."""
    from nasrtc.doctor.clients import create_room
    from nasrtc.doctor.net import Net
    from nasrtc.errors import NasrtcError
    from nasrtc.invocation import command

    base = stack.sfu_route.upstream
    why = _("LiveKit only lets a token join a room that exists (livekit.yaml: "
            "room.auto_create: false)")
    try:
        answer = create_room(Net(timeout=5), stack, base, room, ROOM_WAITS)
    except OSError as exc:
        raise NasrtcError(
            _("could not create the room {room!r}: LiveKit does not answer at {base} "
              "({error}); {why}").format(room=room, base=base, error=exc.__class__.__name__,
                                         why=why),
            _("start the stack (`{command}`) and run `{nasrtc} token` on the NAS itself").format(
                command=command(f"up --dir {stack_dir}", stack.profile.sudo))) from None
    if answer.status != 200:
        raise NasrtcError(
            _("LiveKit at {base} refused to create the room {room!r} ({status}: {answer}); {why}")
            .format(base=base, room=room, status=answer.status, answer=answer.text()[:100].strip(),
                    why=why),
            _("livekit.yaml's keys must match secrets/: run `{nasrtc} render` and `{nasrtc} up`"))
