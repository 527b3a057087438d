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

MAIN_EXAMPLES = """\
examples:
  nasrtc init --dir /volume1/docker/matrixrtc --answers answers.yaml
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
    _add_dir(init)
    init.add_argument("--answers", type=Path, metavar="FILE",
                      help="answers file (YAML, see README); without it the wizard asks")
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
    return parser


def _print_result(result: object, verb: str) -> None:
    from nasrtc.generate import GenerateResult

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
    print("next: work through checklist.md (DNS, router, firewall, certificates, reverse proxy,"
          " homeserver), then start the stack.")


def _cmd_init(args: argparse.Namespace) -> int:
    from nasrtc.generate import init_stack

    if args.answers is None:
        if not sys.stdin.isatty():
            raise InputError(
                [Problem("--answers", "is needed when there is no terminal to ask questions in; "
                         "run `nasrtc init --dir DIR --answers FILE` (see README for the file)")],
                source="the command line")
        raise NasrtcError(
            "the interactive wizard is not in this version yet",
            "write an answers file (one line is enough: `domain: example.org`) and run "
            "`nasrtc init --dir DIR --answers FILE`",
        )
    result = init_stack(args.dir, args.answers, force=args.force,
                        rotate_secrets=args.rotate_secrets)
    _print_result(result, "wrote")
    return 0


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
