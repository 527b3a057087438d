"""Command line: parse, dispatch to nasrtc/commands/, print errors, pick exit codes.

The commands import their heavy libraries (yaml, jinja2, docker, questionary)
inside run(), so `nasrtc --help` stays fast on a small NAS CPU.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from nasrtc import __version__
from nasrtc.commands import COMMANDS
from nasrtc.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, NasrtcError
from nasrtc.i18n import LANGUAGES, N_, _
from nasrtc.language import environment_refusal, speak
from nasrtc.language import option as language_option

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

EXIT_BUG = 70  # EX_SOFTWARE
# Commands that write in the stack folder or change its containers, and export, which must
# not read secrets another run is rewriting: one at a time.
LOCKED = frozenset({"init", "render", "up", "down", "upgrade", "remove", "export", "router"})

MAIN_EXAMPLES = N_("""\
examples:
  sudo {nasrtc} init
  sudo {nasrtc} up
  {nasrtc} render --dir /volume1/docker/matrixrtc

Run `nasrtc COMMAND --help` for a command's options.
""")


def help_width() -> int:
    """The width argparse would get from shutil.get_terminal_size() (COLUMNS, else the
    terminal, else 80), less 2 as argparse takes it; without importing shutil, which
    brings the compression modules: a tenth of `nasrtc --help`'s time."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns if columns > 0 else 80) - 2


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; the width found without shutil; Chinese help
    wrapped by display width (argparse counts characters, each of which takes two columns)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or help_width())

    def _split_lines(self, text: str, width: int) -> list[str]:
        from nasrtc.i18n import has_wide, wrap

        return wrap(text, width) if has_wide(text) else super()._split_lines(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        from nasrtc.i18n import has_wide, wrap

        if "\n" in text or not has_wide(text):  # examples, and what the terminal wraps
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap(text, width))


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with a hint, in our format."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(_("nasrtc: error: {message}").format(message=message) + "\n  "
              + _("fix: see `{command} --help`").format(command=self.prog), file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen command's module is imported (the others are listed
    by name and help line), so no run pays for building every command's options."""
    parser = _Parser(
        prog="nasrtc",
        description=_("Set up Matrix voice and video calls (LiveKit SFU + MatrixRTC auth "
                      "service) on a NAS or Docker host."),
        epilog=_(MAIN_EXAMPLES), formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"nasrtc {__version__}",
                        help=_("show program's version number and exit"))
    parser.add_argument("--lang", type=language_option, metavar="LANG",
                        help=_("the language nasrtc speaks: {languages} (default: "
                               "NASRTC_LANG, then the locale; English otherwise)").format(
                            languages=", ".join(LANGUAGES)))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_line in COMMANDS.items():
        if chosen is None or name == chosen:
            module = importlib.import_module(f"nasrtc.commands.{name}")
            module.add_parser(commands).set_defaults(handler=module.run)
        else:
            commands.add_parser(name, help=_(help_line), formatter_class=HelpFormatter)
    return parser


def _leading(argv: Sequence[str]) -> tuple[str, str | None]:
    """(the command named on the command line, '' when none: top-level help or an error;
    --lang's value), read before the parser is built: only the command's module is loaded,
    and help and errors are already in that language."""
    language = None
    words = iter(argv)
    for word in words:
        if word == "--lang":
            language = next(words, None)  # its value is the next word
        elif word.startswith("--lang="):
            language = word.partition("=")[2]
        elif not word.startswith("-"):
            return (word if word in COMMANDS else ""), language
    return "", language


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def check_host_path(folder: Path) -> None:
    """In nasrtc's container image: the stack folder must be the host's, at the same path."""
    from nasrtc.host.container import check_same_path, in_container

    if in_container():
        from nasrtc.engine.client import connect

        check_same_path(folder, connect(timeout=10))


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command, language = _leading(words)
    speak(language)
    parser = build_parser(command)
    refused = environment_refusal()
    if refused:
        parser.error(refused)
    args, extra = parser.parse_known_args(words)
    if extra:
        # Name the subcommand's help in the hint, not the top-level one.
        command_parser = _subparsers(parser).get(args.command or "", parser)
        command_parser.error(_("unrecognized arguments: %s") % " ".join(extra))
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "find_stack", False) and args.dir is None:
        from nasrtc.locate import find_stack_dir

        args.dir = find_stack_dir()
    try:
        if args.command in LOCKED and args.dir is not None:
            from nasrtc.lock import stack_lock

            check_host_path(args.dir)

            with stack_lock(args.dir):
                return handler(args)
        return handler(args)
    except NasrtcError as exc:
        print(_("nasrtc: error: {message}").format(message=exc.render()), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `nasrtc status | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("\n" + _("nasrtc: interrupted; nothing more was written."), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: short message, traceback only on request
        if os.environ.get("NASRTC_DEBUG"):
            raise
        print(_("nasrtc: internal error: {error}").format(
            error=f"{exc.__class__.__name__}: {exc}") + "\n  " + _(
            "fix: run again with NASRTC_DEBUG=1 to see the traceback, and report it"),
              file=sys.stderr)
        return EXIT_BUG
