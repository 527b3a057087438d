"""`nasrtc upgrade`: move a running stack to the version set this nasrtc was tested with.
Shows old -> new, writes the pins into nasrtc.yaml, re-renders, pulls, recreates only
what changed; when the new containers do not become healthy it puts the previous
images back. `--rollback` does that on demand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, file_state
from nasrtc.engine.state import UPGRADE_JOURNAL as UNFINISHED  # the upgrade's journal
from nasrtc.errors import EngineError, NasrtcError, usage_error
from nasrtc.i18n import N_, _, pad

NAME = "upgrade"
HELP = N_("move the stack to the images this nasrtc was tested with (or --rollback)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} upgrade
      shows each image old -> new and the files that change, asks, then pulls, recreates
      what changed and checks it; unhealthy new containers get the old images back
  sudo {nasrtc} upgrade --yes
  sudo {nasrtc} upgrade --rollback
      back to the images before the last upgrade
""")
# The answers as they were before the last upgrade: what --rollback restores.
BEFORE = ".nasrtc-before-upgrade.yaml"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Move the stack's images to the set this nasrtc release was tested "
                      "with. Pins you set yourself (a mirror, a digest) are kept unless "
                      "--replace-own-pins."))
    add_dir(parser)
    parser.add_argument("--yes", action="store_true", help=_("do not ask"))
    parser.add_argument("--rollback", action="store_true",
                        help=_("go back to the images before the last upgrade"))
    parser.add_argument("--replace-own-pins", action="store_true",
                        help=_("also replace image pins you set yourself"))
    parser.add_argument("--force", action="store_true",
                        help=_("re-render files edited by hand (kept as .bak)"))
    parser.add_argument("--timeout", type=float, default=180.0, metavar="SECONDS",
                        help=_("how long the new containers may take to be healthy (180)"))
    return parser


def changes(stack_dir: Path, replace_own: bool, half_done: list[str] | None = None,
            ) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the answers with the new pins, lines 'image: old -> new' / 'kept: ...', the services
    whose image changes); half_done gets the containers an interrupted run left half-way."""
    from nasrtc.answers import ANSWERS_FILE, load_stack_answers, read_yaml_mapping
    from nasrtc.services import OPTIONAL_SERVICES
    from nasrtc.versions import VERSION_SET, nasrtc_pin

    answers = load_stack_answers(stack_dir)  # the one "no nasrtc.yaml" check
    raw = read_yaml_mapping(stack_dir / ANSWERS_FILE)  # as written: pins stay the user's
    images = dict(raw.get("images") or {})
    running = _running_images(str(answers["project"]), half_done)
    lines, upgrades = [], []
    for service, target in VERSION_SET.items():
        if service in OPTIONAL_SERVICES and not answers[f"{service}.enabled"]:
            continue  # not in this stack: no pin to move, none to write down
        pinned = images.get(service)
        current = running.get(service) or pinned or target
        if pinned and not nasrtc_pin(service, pinned) and not replace_own:
            lines.append(_("kept     {service}: {image} (your own pin; --replace-own-pins "
                           "replaces it)").format(service=service, image=pinned))
            continue
        images[service] = target  # written down: later upgrades know it was nasrtc's
        if current != target:
            upgrades.append(service)
            lines.append(_("upgrade  {service}: {current} -> {target}").format(
                service=service, current=current, target=target))
    return {**raw, "images": images}, lines, upgrades


def _running_images(project: str, half_done: list[str] | None = None) -> dict[str, str]:
    """The image each service's container has; half_done gets the old containers an
    upgrade (or up) killed half-way left set aside."""
    from nasrtc.engine.status import status
    from nasrtc.services import ALL_SERVICES

    aside: list[str] = []
    rows = status(project, ALL_SERVICES, set_aside=aside)
    if half_done is not None:
        half_done += aside
    return {row.service: row.image for row in rows if row.image}


def run(args: argparse.Namespace) -> int:
    stack_dir: Path = args.dir
    if args.rollback:
        return _rollback(args)
    half_done: list[str] = []
    if (stack_dir / UNFINISHED).is_file():  # an upgrade that began and did not end
        half_done.append(_("the upgrade begun before"))
    raw, lines, upgrades = changes(stack_dir, args.replace_own_pins, half_done)
    plan = _plan(stack_dir, raw)  # bad answers stop here, before anything is written
    files = [rel for rel, state in plan.status().items()
             if state in ("changes", "new") and rel != "nasrtc.yaml"]
    for line in lines:
        print(f"  {line}")
    if not upgrades and not files and not half_done:
        print(_("nasrtc: nothing to upgrade: the stack runs the set this nasrtc was tested "
                "with."))
        return 0
    if not upgrades and not files:
        # The pins are written, the containers maybe not there: an upgrade killed half-way.
        print(_("nasrtc: an interrupted upgrade left the stack half-way ({what}); finishing "
                "it").format(what=", ".join(sorted(set(half_done)))))
    for rel in files:
        print(f"  {pad(file_state('changes'), 8)} {rel}")
    _confirm(args.yes, _("Upgrade?"))
    before = stack_dir / BEFORE
    if _pins_move(stack_dir, raw) or not before.is_file():
        # Only answers with the old pins are what --rollback goes back to: after an upgrade
        # killed once its pins were written, the copy it saved stays.
        _copy(stack_dir / "nasrtc.yaml", before)
    # The journal of this upgrade: while it exists, the containers may be half-way, and the
    # next upgrade finishes the job (or rolls it back), whatever the pins already say.
    from nasrtc.files import atomic_write

    atomic_write(stack_dir / UNFINISHED, b"nasrtc upgrade began here and has not ended; "
                 b"`nasrtc upgrade` finishes it\n", 0o644)
    try:
        _apply_and_start(stack_dir, plan, args.force, args.timeout)
    except EngineError as exc:
        print(_("nasrtc: the upgraded stack did not start: {error}").format(error=exc.message),
              file=sys.stderr)
        print(_("nasrtc: putting the previous images back..."), file=sys.stderr)
        _restore(stack_dir, before, args.timeout)
        (stack_dir / UNFINISHED).unlink(missing_ok=True)
        raise NasrtcError(_("the upgrade was rolled back: the stack runs the previous images "
                            "again (nasrtc.yaml as before)"),
                          _("see the log lines above; `{nasrtc} logs` shows more. Report the "
                            "image that failed, or pin a working one in nasrtc.yaml")) from None
    (stack_dir / UNFINISHED).unlink(missing_ok=True)
    _local_checks(stack_dir)
    print(_("nasrtc: upgraded; `{nasrtc} upgrade --rollback` goes back."))
    return 0


def _pins_move(stack_dir: Path, raw: dict[str, Any]) -> bool:
    """Whether the new answers pin other images than nasrtc.yaml does now."""
    from nasrtc.answers import ANSWERS_FILE, read_yaml_mapping

    written = read_yaml_mapping(stack_dir / ANSWERS_FILE).get("images") or {}
    return bool(raw.get("images") != written)


def _plan(stack_dir: Path, raw: dict[str, Any]) -> Any:
    from nasrtc.answers import resolve
    from nasrtc.output.plan import plan_files

    return plan_files(stack_dir, resolve(raw, source=str(stack_dir / "nasrtc.yaml")),
                      write_answers_file=True)


def _apply_and_start(stack_dir: Path, plan: Any, force: bool, timeout: float) -> None:
    from nasrtc.engine import lifecycle
    from nasrtc.engine.fastpath import service_line
    from nasrtc.engine.progress import PullProgress
    from nasrtc.output.plan import apply_plan

    apply_plan(plan, force=force, force_files=frozenset({"nasrtc.yaml"}),
               command="nasrtc upgrade")
    result = lifecycle.up(plan.stack, stack_dir, PullProgress(), print, timeout=timeout)
    for item in result.services:
        print(service_line(item.service, item.action, (item.state, item.health)))


def _restore(stack_dir: Path, before: Path, timeout: float) -> None:
    from nasrtc.answers import read_yaml_mapping

    plan = _plan(stack_dir, read_yaml_mapping(before))
    _apply_and_start(stack_dir, plan, force=True, timeout=timeout)


def _rollback(args: argparse.Namespace) -> int:
    before = args.dir / BEFORE
    if not before.is_file():
        raise NasrtcError(_("no earlier upgrade to go back from in {folder}")
                          .format(folder=args.dir.resolve()),
                          _("rollback restores what `{nasrtc} upgrade` saved in {file}; there "
                            "is none").format(file=BEFORE))
    _confirm(args.yes, _("Go back to the images before the last upgrade?"))
    _restore(args.dir, before, args.timeout)
    print(_("nasrtc: back to the images before the last upgrade."))
    return 0


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise usage_error("--yes", _("is needed when there is no terminal to ask in"))
    from nasrtc.wizard.prompt import confirm

    if not confirm(question):
        raise NasrtcError(_("nothing was changed"), "")


def _copy(source: Path, target: Path) -> None:
    from nasrtc.output.writer import atomic_write

    atomic_write(target, source.read_bytes(), 0o644)


def _local_checks(stack_dir: Path) -> None:
    """doctor's checks of this machine, after the upgrade: only what fails is shown."""
    from nasrtc.doctor import FAIL, make_context, run_doctor

    results = run_doctor(make_context(stack_dir, None, None, None), local_only=True)
    failed = [r for r in results if r.status == FAIL]
    for row in failed:
        print("  " + _("doctor: {row}: {detail}").format(row=_(row.name), detail=row.detail)
              + "\n          " + _("fix: {fix}").format(fix=row.fix))
    if not failed:
        print("  " + _("doctor: this machine's checks pass"))
