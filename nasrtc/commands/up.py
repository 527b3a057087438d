"""`nasrtc up`: bring the files the containers read up to date, then create or
update the containers and wait until they are healthy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, add_force
from nasrtc.i18n import N_, _

NAME = "up"
HELP = N_("start the stack (create or update the containers)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} up --dir /volume1/docker/matrixrtc
      create or update the containers and wait until they are healthy
  sudo {nasrtc} up --force
      first re-render compose.yaml/livekit.yaml you edited by hand (kept as .bak)
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Create what compose.yaml describes through the Docker engine, recreate "
                      "only containers whose settings changed, and wait until they are running "
                      "and healthy."))
    add_dir(parser)
    add_force(parser, _("re-render hand-edited compose.yaml/.env/livekit.yaml (kept as .bak)"))
    parser.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                        help=_("how long to wait for healthy containers (default 120)"))
    parser.add_argument("--replace-old", action="store_true",
                        help=_("after `project:` in nasrtc.yaml was changed: stop and remove the "
                               "stack's containers still running under the earlier name "
                               "(asked when run in a terminal)"))
    parser.add_argument("--no-wait", action="store_true",
                        help=_("return once the containers are started (like `docker compose up "
                               "-d`)"))
    return parser


def prepare(stack_dir: Path, force: bool = False) -> tuple[Any, list[str]]:
    """The Stack to run, with the files the containers read brought up to date.

    A hand-edited compose.yaml, .env or livekit.yaml stops here (unless force,
    which keeps the edit as .bak): `up` never runs something other than the
    files the user sees. Files merely out of date are rendered, and named.
    When no input changed since the last successful `up` (engine/state.py's stamp
    covers nasrtc.yaml, the secrets, the three files, the templates and nasrtc
    itself), that `up`'s check still holds: the files are not rendered again."""
    from nasrtc.engine.state import current_state

    if not force and current_state(str(stack_dir)) is not None:
        from nasrtc.stack import load_stack

        return load_stack(stack_dir)[1], []
    from nasrtc.answers import load_stack_answers
    from nasrtc.output.plan import plan_files
    from nasrtc.output.writer import (
        clear_docker_folders,
        edit_error,
        hand_edited,
        write_artifacts,
    )

    plan = plan_files(stack_dir, load_stack_answers(stack_dir), write_answers_file=False,
                      runtime_only=True)
    for rel in clear_docker_folders(stack_dir, plan.artifacts):
        print(_("nasrtc: removed the empty folder Docker had made where {file} belongs (the "
                "file was missing when a container started); writing the file again")
              .format(file=rel))
    edited = hand_edited(stack_dir, plan.artifacts)
    if edited and not force:
        raise edit_error(stack_dir, edited, "nasrtc up", _("nothing was started"))
    stale = plan.stale_runtime_files()
    if stale:
        write_artifacts(stack_dir, plan.artifacts, force=True, partial=True)
    return plan.stack, stale


def run(args: argparse.Namespace) -> int:
    if not (args.force or args.replace_old):
        from nasrtc.engine.fastpath import already_up

        quick = already_up(str(args.dir), wait=not args.no_wait)  # known in milliseconds
        if quick is not None:
            print("\n".join(quick))
            return 0
    return _full(args)


def _full(args: argparse.Namespace) -> int:
    from nasrtc.engine import lifecycle
    from nasrtc.engine.fastpath import addresses_of, record_up, service_line, where_it_answers
    from nasrtc.engine.progress import PullProgress

    stack, rendered = prepare(args.dir, force=args.force)
    for rel in rendered:
        print(_("nasrtc: rendered {file} from nasrtc.yaml first").format(file=rel))

    def start(replace_old: bool) -> Any:
        return lifecycle.up(stack, args.dir, PullProgress(), print, timeout=args.timeout,
                            wait=not args.no_wait, replace_old=replace_old)

    try:
        result = start(args.replace_old)
    except lifecycle.OldCopiesFound as found:
        if not _may_ask() or not _confirm_replace(found):
            raise
        result = start(True)
    if not result.changed:
        print(_("nasrtc: {project} is up to date: nothing was recreated.").format(
            project=stack.project))
    for item in result.services:
        # --no-wait does not look at the state again: nothing to put in brackets then.
        print(service_line(item.service, item.action, (item.state, item.health)))
    print("\n".join(where_it_answers(addresses_of(stack))))
    # The next `up` checks it against the engine; `status` believes the health checks up
    # saw pass until the engine's own first one has run.
    record_up(args.dir, stack, {item.service for item in result.services
                                if item.health == "healthy"})
    return 0


def _may_ask() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm_replace(found: Any) -> bool:
    from nasrtc.wizard.prompt import confirm

    print(f"nasrtc: {found.message}")
    return bool(confirm(_("Stop and remove {names} and start the stack under its new name?")
                        .format(names=", ".join(found.names)), default=False))
