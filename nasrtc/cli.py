"""Command line. The only module that prints errors and picks exit codes.

Heavy libraries (yaml, jinja2, docker, questionary) are imported inside the
commands, so `nasrtc --help` stays fast on a small NAS CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

from nasrtc import __version__
from nasrtc.errors import InputError, NasrtcError, Problem

EXIT_USAGE = 2

INIT_EXAMPLES = """\
examples:
  sudo nasrtc init
      the guided wizard: asks, shows what it will write, and writes on your OK
  nasrtc init --yes --domain example.org --dir /volume1/docker/matrixrtc
      accept every default without asking
  nasrtc init --dir /volume1/docker/matrixrtc --answers answers.yaml
      write the stack from an answers file, no questions asked
  nasrtc init --dir . --answers nasrtc.yaml --force
      regenerate, keeping hand-edited files as <file>.bak
  nasrtc init --dir . --answers nasrtc.yaml --rotate-secrets
      new LiveKit key and secret (restart the running stack afterwards)

The smallest answers file is one line, `domain: example.org`; every other key
takes the profile's default. See the README for all keys.
"""

RENDER_EXAMPLES = """\
examples:
  nasrtc render --dir /volume1/docker/matrixrtc
      rebuild every file after editing nasrtc.yaml
  nasrtc render --force
      also overwrite files edited by hand (kept as <file>.bak)
"""

UP_EXAMPLES = """\
examples:
  sudo nasrtc up --dir /volume1/docker/matrixrtc
      create or update the containers and wait until they are healthy
  sudo nasrtc up --force
      first re-render compose.yaml/livekit.yaml you edited by hand (kept as .bak)
"""

DOWN_EXAMPLES = """\
examples:
  sudo nasrtc down --dir /volume1/docker/matrixrtc
      stop and remove this stack's containers; the folder, answers and secrets stay
"""

STATUS_EXAMPLES = """\
examples:
  sudo nasrtc status --dir /volume1/docker/matrixrtc
  sudo nasrtc status --json | jq '.[] | {service, state, health}'
"""

MAIN_EXAMPLES = """\
examples:
  sudo nasrtc init
  sudo nasrtc up
  nasrtc render --dir /volume1/docker/matrixrtc

Run `nasrtc COMMAND --help` for a command's options.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with a hint, in our format."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"nasrtc: error: {message}\n  fix: see `{self.prog} --help`", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=Path("."), metavar="DIR",
                        help="stack folder (default: the current folder)")


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="overwrite files edited by hand, keeping them as <file>.bak")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="nasrtc",
        description="Set up Matrix voice and video calls (LiveKit SFU + MatrixRTC auth "
                    "service) on a NAS or Docker host.",
        epilog=MAIN_EXAMPLES, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"nasrtc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    init = commands.add_parser(
        "init", help="write the stack (compose.yaml, livekit.yaml, proxy, checklist, ...)",
        description="Write the whole stack into DIR from an answers file. Secrets are "
                    "generated on the first run and kept afterwards.",
        epilog=INIT_EXAMPLES, formatter_class=fmt)
    init.add_argument("--dir", type=Path, default=None, metavar="DIR",
                      help="stack folder (the wizard asks; otherwise the current folder)")
    init.add_argument("--answers", type=Path, metavar="FILE",
                      help="answers file (YAML, see README); without it the wizard asks")
    init.add_argument("--yes", action="store_true",
                      help="accept every default without asking (needs a domain)")
    init.add_argument("--domain", metavar="NAME",
                      help="Matrix server name, e.g. example.org (the wizard's default)")
    _add_force(init)
    init.add_argument("--rotate-secrets", action="store_true",
                      help="generate a new LiveKit API key and secret")
    init.set_defaults(handler=_cmd_init)

    render = commands.add_parser(
        "render", help="rebuild every generated file from DIR/nasrtc.yaml",
        description="Rebuild every generated file from DIR/nasrtc.yaml and the stored "
                    "secrets. A file edited by hand is not overwritten without --force.",
        epilog=RENDER_EXAMPLES, formatter_class=fmt)
    _add_dir(render)
    _add_force(render)
    render.set_defaults(handler=_cmd_render)

    up = commands.add_parser(
        "up", help="start the stack (create or update the containers)",
        description="Create what compose.yaml describes through the Docker engine, recreate "
                    "only containers whose settings changed, and wait until they are running "
                    "and healthy.", epilog=UP_EXAMPLES, formatter_class=fmt)
    _add_dir(up)
    up.add_argument("--force", action="store_true",
                    help="re-render hand-edited compose.yaml/.env/livekit.yaml (kept as .bak)")
    up.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                    help="how long to wait for healthy containers (default 120)")
    up.add_argument("--no-wait", action="store_true",
                    help="return once the containers are started (like `docker compose up -d`)")
    up.set_defaults(handler=_cmd_up)

    down = commands.add_parser(
        "down", help="stop and remove the stack's containers",
        description="Stop and remove the containers and network nasrtc created for this "
                    "stack. Never touches other containers, the folder, answers or secrets.",
        epilog=DOWN_EXAMPLES, formatter_class=fmt)
    _add_dir(down)
    down.set_defaults(handler=_cmd_down)

    status = commands.add_parser(
        "status", help="show each service's container, health, image, ports and uptime",
        description="Show the state of the stack's containers.", epilog=STATUS_EXAMPLES,
        formatter_class=fmt)
    _add_dir(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_cmd_status)

    checklist = commands.add_parser(
        "checklist", help="every setup step in order, to tick off (text, Markdown or HTML)",
        description="The setup checklist with this stack's values: DNS, router, firewall, "
                    "reverse proxy, homeserver, start. HTML is a self-contained page made for "
                    "printing.", epilog=CHECKLIST_EXAMPLES, formatter_class=fmt)
    _add_dir(checklist)
    checklist.add_argument("--format", choices=("text", "md", "html"), default="text",
                           help="text (default), md or html")
    checklist.add_argument("--output", type=Path, metavar="FILE",
                           help="write to FILE instead of the terminal")
    checklist.add_argument("--offline", action="store_true",
                           help="do not look up DNS names or this host's LAN address")
    checklist.add_argument("--force", action="store_true",
                           help="replace an --output file that nasrtc did not write")
    checklist.set_defaults(handler=_cmd_checklist)

    doctor = commands.add_parser(
        "doctor", help="check every piece, locally and from the public side, with fixes",
        description="Check the stack piece by piece: files, secrets, containers, proxy, "
                    "certificates, router, homeserver. Each failure says what is wrong and "
                    "how to fix it. Exit 0 when nothing fails, 1 otherwise.",
        epilog=DOCTOR_EXAMPLES, formatter_class=fmt)
    _add_dir(doctor)
    scope = doctor.add_mutually_exclusive_group()
    scope.add_argument("--local", action="store_true", help="skip the public-side checks")
    scope.add_argument("--public", action="store_true",
                       help="only the public-side checks (e.g. from a laptop outside your "
                            "network, with a copy of the stack folder)")
    doctor.add_argument("--json", action="store_true", help="machine-readable results")
    doctor.add_argument("--access-token", metavar="TOKEN",
                        help="a Matrix access token (or NASRTC_ACCESS_TOKEN) for the "
                             "homeserver checks that need one; never printed")
    doctor.add_argument("--connect-to", action="append", default=[],
                        metavar="HOST:PORT:ADDRESS:PORT",
                        help="connect to ADDRESS:PORT instead of HOST:PORT (like curl)")
    doctor.add_argument("--ca-file", metavar="FILE",
                        help="trust this CA bundle for the TLS checks (a private CA)")
    doctor.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="per network call (default 5)")
    doctor.set_defaults(handler=_cmd_doctor)

    token = commands.add_parser(
        "token", help="mint a LiveKit token (for LiveKit's connection tester)",
        description="Print a LiveKit access token signed with this stack's key, and the SFU "
                    "URL. The token is printed because you asked for it; treat it as a "
                    "password for that room until it expires.", epilog=TOKEN_EXAMPLES,
        formatter_class=fmt)
    _add_dir(token)
    token.add_argument("--room", required=True, help="LiveKit room name")
    token.add_argument("--identity", required=True, help="participant identity")
    token.add_argument("--ttl", default="1h", help="lifetime: seconds or 10m, 6h, 1d (1h)")
    token.set_defaults(handler=_cmd_token)
    return parser


def _print_result(result: object, verb: str, steps: bool = False) -> None:
    from nasrtc.generate import GenerateResult
    from nasrtc.summary import next_steps

    assert isinstance(result, GenerateResult)
    stack, report = result.stack, result.report
    print(f"nasrtc: {verb} the call stack for {stack.domain} in {result.stack_dir.resolve()}"
          f" ({stack.profile.title})")
    width = max(len(rel) for rel in result.artifacts)
    for rel, artifact in result.artifacts.items():
        state = "written" if rel in report.written else "unchanged"
        print(f"  {state:<9}  {rel:<{width}}  {artifact.purpose}")
    for backup in report.backed_up:
        print(f"  kept your edited copy as {backup}")
    for rel in report.stale:
        print(f"  no longer generated: {rel} (delete it if nothing uses it)")
    if result.secrets_created:
        print(f"  secrets: created {', '.join(result.secrets_created)} in secrets/ (mode 0600)")
    else:
        print("  secrets: kept the existing ones in secrets/")
    if steps:
        print("\nNext steps (every detail, with checkboxes: checklist.md):")
        for number, step in enumerate(next_steps(stack, result.stack_dir), 1):
            print(f"  {number}. {step}")
    else:
        print("next: work through checklist.md, then start the stack.")


def _cmd_init(args: argparse.Namespace) -> int:
    from nasrtc.generate import apply_plan, init_stack, plan_from_raw

    if args.answers is not None:
        result = init_stack(args.dir or Path("."), args.answers, force=args.force,
                            rotate_secrets=args.rotate_secrets)
        _print_result(result, "wrote", steps=True)
        return 0
    if args.yes:
        stack_dir = args.dir or Path(".")
        plan = plan_from_raw(stack_dir, _defaults_raw(stack_dir, args.domain),
                             args.rotate_secrets)
        _print_result(apply_plan(plan, force=args.force), "wrote", steps=True)
        return 0
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError(
            [Problem("--answers", "or --yes is needed when there is no terminal to ask "
                     "questions in: run `nasrtc init --dir DIR --answers FILE` (see README) or "
                     "`nasrtc init --dir DIR --yes --domain example.org`")],
            source="the command line")
    return _wizard(args)


def _defaults_raw(stack_dir: Path, domain: str | None) -> dict[str, object]:
    """--yes: the stack's previous answers (if any), the domain, the detected platform."""
    from nasrtc.answers import ANSWERS_FILE, read_yaml_mapping
    from nasrtc.wizard import platform

    raw: dict[str, object] = {}
    if (stack_dir / ANSWERS_FILE).is_file():
        raw = read_yaml_mapping(stack_dir / ANSWERS_FILE)
    if domain:
        raw["domain"] = domain
    raw.setdefault("profile", platform().profile)
    return raw


def _wizard(args: argparse.Namespace) -> int:
    from nasrtc.answers import ANSWERS_FILE
    from nasrtc.errors import HandEditedError
    from nasrtc.generate import apply_plan, plan_from_raw
    from nasrtc.wizard import confirm, run_wizard

    answers = run_wizard(args.dir, args.domain)
    plan = plan_from_raw(answers.stack_dir, answers.raw, args.rotate_secrets)
    status = plan.status()
    print(f"\nSummary for {plan.stack.domain} ({plan.stack.profile.title})")
    for line in _answer_lines(plan):
        print(f"  {line}")
    print(f"\nFiles in {answers.stack_dir.resolve()}:")
    for rel, state in status.items():
        note = ""
        if state == "edited":
            note = ("  (edited by hand: kept as .bak)" if rel == ANSWERS_FILE or args.force
                    else "  (edited by hand)")
        print(f"  {state:<9}  {rel}{note}")
    blocked = [rel for rel, state in status.items() if state == "edited" and rel != ANSWERS_FILE]
    if blocked and not args.force:
        raise HandEditedError(
            "these files were changed by hand since nasrtc wrote them; nothing was written:\n"
            + "\n".join(f"  - {answers.stack_dir / rel}" for rel in blocked),
            "run `nasrtc init --force` to overwrite them (each edited copy is kept as .bak), "
            "or undo the edits")
    if all(state == "unchanged" for state in status.values()) and not plan.pending_secrets:
        print("\nEverything is up to date; nothing to write.")
        return 0
    if not confirm("Write these files?"):
        print("nasrtc: nothing was written.")
        return 1
    result = apply_plan(plan, force=args.force, force_files=frozenset({ANSWERS_FILE}))
    print()
    _print_result(result, "wrote", steps=True)
    return 0


def _answer_lines(plan: object) -> list[str]:
    from nasrtc.generate import Plan

    assert isinstance(plan, Plan)
    stack = plan.stack
    media = ", ".join(f"{r.protocol.upper()} {r.label}" for r in stack.forwarded_ports)
    public = "discovered with STUN" if stack.livekit.use_external_ip else stack.livekit.node_ip
    return [
        f"Matrix server name  {stack.domain}",
        f"Homeserver          {stack.homeserver_url}",
        f"Auth service        {stack.jwt_url} -> port {stack.jwt_route.upstream_port}",
        f"SFU                 {stack.livekit_url} -> port {stack.sfu_route.upstream_port}",
        f"Router forwards     {media}",
        f"TURN                {'on' if stack.livekit.turn_enabled else 'off'}",
        f"Public address      {public}",
        f"NAS LAN address     {stack.lan_ip or '(fill in by hand)'}",
    ]


CHECKLIST_EXAMPLES = """\
examples:
  nasrtc checklist --dir /volume1/docker/matrixrtc
      print the steps in the terminal, with the names' current DNS answers
  nasrtc checklist --format html --output checklist.html
      a page to print (A4 or US Letter), with boxes to tick
  nasrtc checklist --format md --offline
      Markdown, without looking anything up
"""


def _cmd_checklist(args: argparse.Namespace) -> int:
    from nasrtc import hostinfo
    from nasrtc.checklist import Facts
    from nasrtc.generate import stack_for_display
    from nasrtc.render import render_checklist
    from nasrtc.writer import atomic_write

    stack = stack_for_display(args.dir)
    facts = None
    if not args.offline:
        facts = Facts(lan_ip=hostinfo.lan_address(),
                      dns=hostinfo.resolve_names([stack.jwt_host, stack.sfu_host]))
    text = render_checklist(stack, args.format, facts)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    target: Path = args.output
    if target.exists() and "Generated by nasrtc" not in target.read_text(errors="replace") \
            and not args.force:
        raise NasrtcError(f"{target} exists and was not written by nasrtc; nothing was written",
                          "choose another --output, or add --force to replace it")
    atomic_write(target, text.encode("utf-8"), 0o644)
    print(f"nasrtc: wrote {target} ({args.format})"
          + ("; open it in a browser and print it" if args.format == "html" else ""))
    return 0


DOCTOR_EXAMPLES = """\
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

TOKEN_EXAMPLES = """\
examples:
  nasrtc token --room test --identity me
      a LiveKit token for LiveKit's connection tester (livekit.io/connection-test)
  nasrtc token --room test --identity me --ttl 10m
"""

MARKS = {"pass": "ok  ", "warn": "warn", "fail": "FAIL", "skipped": "skip"}


def _cmd_doctor(args: argparse.Namespace) -> int:
    import json

    from nasrtc.doctor import FAIL, make_context, run_doctor
    from nasrtc.probe import parse_connect_to

    try:
        connect_to = parse_connect_to(args.connect_to)
    except ValueError as exc:
        raise InputError([Problem("--connect-to", str(exc))], source="the command line") \
            from None
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
        failed = sum(r.status == FAIL for r in results)
        print(f"\nnasrtc doctor: {failed} failed, "
              f"{sum(r.status == 'warn' for r in results)} warnings, "
              f"{sum(r.status == 'pass' for r in results)} passed.")
    return 1 if any(r.status == FAIL for r in results) else 0


def _cmd_token(args: argparse.Namespace) -> int:
    from nasrtc.doctor import make_context
    from nasrtc.tokens import mint, parse_ttl

    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise InputError([Problem("--ttl", str(exc))], source="the command line") from None
    ctx = make_context(args.dir, None, None, None)
    print(f"url:   {ctx.stack.livekit_url}")
    print(f"token: {mint(ctx.stack.api_key, ctx.stack.api_secret, args.identity, args.room, ttl)}")
    print(f"(valid {ttl} s for room {args.room!r}; anyone holding it can join that room)",
          file=sys.stderr)
    return 0


def _project(stack_dir: Path) -> str:
    """down/status need only the project name: no secrets, no rendering."""
    from nasrtc.answers import load_stack_answers

    return str(load_stack_answers(stack_dir)["project"])


def _cmd_up(args: argparse.Namespace) -> int:
    from nasrtc import engine
    from nasrtc.generate import prepare_up
    from nasrtc.progress import PullProgress

    plan, rendered = prepare_up(args.dir, force=args.force)
    stack = plan.stack
    for rel in rendered:
        print(f"nasrtc: rendered {rel} from nasrtc.yaml first")
    result = engine.up(stack, args.dir, PullProgress(), print, timeout=args.timeout,
                       wait=not args.no_wait)
    if not result.changed:
        print(f"nasrtc: {stack.project} is up to date: nothing was recreated.")
    for item in result.services:
        health = f", {item.health}" if item.health else ""
        print(f"  {item.service:<8} {item.action:<9} ({item.state}{health})")
    print("\nWhere it answers:")
    print(f"  LiveKit SFU   {stack.sfu_route.upstream} on this host; "
          f"public {stack.livekit_url} through the reverse proxy")
    print(f"  Auth service  {stack.jwt_route.upstream}/healthz on this host; "
          f"public {stack.jwt_url}/healthz")
    print("next: finish checklist.md if you have not, then make a test call "
          "(one phone on mobile data).")
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    from nasrtc import engine

    project = _project(args.dir)
    result = engine.down(project)
    if not result.removed:
        print(f"nasrtc: {project} is not running; nothing to stop.")
        return 0
    for name in result.removed:
        print(f"  stopped and removed {name}")
    for name in result.networks:
        print(f"  removed network {name}")
    print(f"nasrtc: {project} is down; {args.dir.resolve()} (answers, secrets) is untouched.")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    import json

    from nasrtc import engine
    from nasrtc.model import JWT_SERVICE, LIVEKIT_SERVICE

    project = _project(args.dir)
    rows = engine.status(project, (LIVEKIT_SERVICE, JWT_SERVICE))
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], indent=2))
        return 0
    print(f"{'SERVICE':<8}  {'STATE':<11}  {'HEALTH':<9}  {'UPTIME':<8}  {'IMAGE':<42}  PORTS")
    for row in rows:
        uptime = _duration(row.uptime_seconds) if row.uptime_seconds is not None else "-"
        print(f"{row.service:<8}  {row.state:<11}  {row.health or '-':<9}  {uptime:<8}  "
              f"{row.image or '-':<42}  {', '.join(row.ports) or '-'}")
    return 0


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _cmd_render(args: argparse.Namespace) -> int:
    from nasrtc.generate import render_stack

    _print_result(render_stack(args.dir, force=args.force), "rendered")
    return 0


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Name the subcommand's help in the hint, not the top-level one.
        command_parser = _subparsers(parser).get(args.command or "", parser)
        command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except NasrtcError as exc:
        print(f"nasrtc: error: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `nasrtc status | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("\nnasrtc: interrupted; nothing more was written.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: short message, traceback only on request
        if os.environ.get("NASRTC_DEBUG"):
            raise
        print(f"nasrtc: internal error: {exc.__class__.__name__}: {exc}\n"
              "  fix: run again with NASRTC_DEBUG=1 to see the traceback, and report it",
              file=sys.stderr)
        return 70
