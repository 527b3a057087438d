"""`nasrtc reach`: can the internet reach this NAS? The router's WAN address against the
address the internet sees, the verdict and what works for that line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir
from nasrtc.i18n import N_, _

NAME = "reach"
HELP = N_("can the internet reach this NAS? (public IPv4, CGNAT, DS-Lite, double NAT)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} reach
      ask the router (UPnP, NAT-PMP, PCP) and a STUN server, and say what works
  {nasrtc} reach --json | jq -r .verdict
      public, cgnat, ds-lite, double-nat or unknown
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Compares what the router says its internet (WAN) address is with the "
                      "address the internet sees, and says whether port forwarding can work "
                      "here and what to do if not. Sends packets only to the router on this "
                      "network and to the stack's STUN servers (NASRTC_DISCOVERY=off: none)."))
    add_dir(parser)
    parser.add_argument("--json", action="store_true", help=_("machine-readable output"))
    return parser


def optional_stack(stack_dir: Any) -> Any | None:
    from nasrtc.answers.file import ANSWERS_FILE
    from nasrtc.stack import load_stack

    if stack_dir is None or not (stack_dir / ANSWERS_FILE).is_file():
        return None
    return load_stack(stack_dir, secrets="none")[1]


def run(args: argparse.Namespace) -> int:
    from nasrtc.reach.advice import advise, facts
    from nasrtc.reach.line import probe_stack

    stack = optional_stack(args.dir)
    line = probe_stack(stack)
    ports = stack.forwarded_summary() if stack else "TCP 443, TCP 7881, UDP 7882"
    advice = advise(line, ports)
    if args.json:
        out = line.as_dict()
        out["headline"] = advice.headline
        out["steps"] = list(advice.steps)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(_("nasrtc: {headline}").format(headline=advice.headline))
    for label, value in facts(line):
        print(f"  {label}: {value}")
    if line.problems:
        print("  " + _("ignored: {problems}").format(problems="; ".join(line.problems[:5])))
    print(_("What to do:"))
    for step in advice.steps:
        print(f"  - {step}")
    return 0
