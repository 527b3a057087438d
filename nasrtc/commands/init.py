"""`nasrtc init`: the wizard at a terminal, or an answers file, or every default
(--yes); then the plan of what changes, and the files on the user's OK."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nasrtc.commands._common import FORMATTER, add_force, file_state, print_result
from nasrtc.errors import Interrupted, NasrtcError, usage_error
from nasrtc.i18n import N_, _, pad

NAME = "init"
HELP = N_("write the stack (compose.yaml, livekit.yaml, proxy, checklist, ...)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} init
      the guided wizard: asks, shows what it will write, and writes on your OK
  {nasrtc} init --yes --domain example.org --dir /volume1/docker/matrixrtc
      accept every default without asking
  {nasrtc} init --dir /volume1/docker/matrixrtc --answers answers.yaml
      write the stack from an answers file, no questions asked
  {nasrtc} init --dir . --answers nasrtc.yaml --force
      regenerate, keeping hand-edited files as <file>.bak
  {nasrtc} init --dir . --answers nasrtc.yaml --rotate-secrets
      new LiveKit key and secret (restart the running stack afterwards)

The smallest answers file is one line, `domain: example.org`; every other key
takes the profile's default. See the README for all keys.
""")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Write the whole stack into DIR from an answers file. Secrets are "
                      "generated on the first run and kept afterwards."))
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help=_("stack folder (the wizard asks; otherwise the current folder)"))
    parser.add_argument("--answers", type=Path, metavar="FILE",
                        help=_("answers file (YAML, see README); without it the wizard asks"))
    parser.add_argument("--yes", action="store_true",
                        help=_("accept every default without asking (needs a domain)"))
    parser.add_argument("--domain", metavar="NAME",
                        help=_("Matrix server name, e.g. example.org (the wizard's default)"))
    add_force(parser)
    parser.add_argument("--rotate-secrets", action="store_true",
                        help=_("generate a new LiveKit API key and secret"))
    return parser


def run(args: argparse.Namespace) -> int:
    if args.answers is not None:
        for given, option in ((args.domain, "--domain"), (args.yes, "--yes")):
            if given:  # the file decides every answer: never drop an option silently
                raise usage_error(option, _(
                    "has no effect with --answers; put the value in the answers file (e.g. "
                    "`domain: example.org`), or drop --answers to use it"))
        return _from_file(args)
    if args.yes:
        return _with_defaults(args)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise usage_error("--answers", _(
            "or --yes is needed when there is no terminal to ask questions in: run `{nasrtc} init "
            "--dir DIR --answers FILE` (see README) or `{nasrtc} init --dir DIR --yes --domain "
            "example.org`"))
    return _wizard(args)


def _from_file(args: argparse.Namespace) -> int:
    from nasrtc.answers import ANSWERS_FILE, load_answers, read_yaml_mapping, resolve
    from nasrtc.output.plan import apply_plan, check_stack_dir, plan_files

    stack_dir: Path = args.dir or Path(".")
    check_stack_dir(stack_dir)
    target = stack_dir / ANSWERS_FILE
    # The user's own nasrtc.yaml is the source: never rewrite it under them.
    own_file = target.exists() and target.resolve() == args.answers.resolve()
    answers = (load_answers(args.answers) if own_file else
               resolve(in_this_language(read_yaml_mapping(args.answers)),
                       source=str(args.answers)))
    plan = plan_files(stack_dir, answers, write_answers_file=not own_file, secrets="new",
                      rotate=args.rotate_secrets)
    _show_line(plan.stack)
    _wrote(apply_plan(plan, force=args.force, command="nasrtc init"))
    return 0


def in_this_language(raw: dict[str, Any]) -> dict[str, Any]:
    """The stack's pages (checklist.md, ...) in the language init runs in, unless the
    answers name one: nasrtc.yaml keeps it, so later runs write the same pages."""
    from nasrtc.i18n import active_language

    language = active_language()
    if "language" in raw or language == "en":
        return raw
    return {**raw, "language": language}


def _wrote(result: Any) -> None:
    """What init wrote, and the folder later commands use without --dir."""
    from nasrtc.locate import remember

    remember(result.stack_dir)
    print_result(result, wrote=True, steps=True)


def _with_defaults(args: argparse.Namespace) -> int:
    """--yes: the stack's previous answers (if any), the domain, the detected platform;
    every other key resolves to the same default the wizard offers."""
    from nasrtc.answers import ANSWERS_FILE, read_yaml_mapping, resolve
    from nasrtc.host.platform import this_platform
    from nasrtc.output.plan import apply_plan, plan_files

    stack_dir: Path = args.dir or Path(".")
    raw: dict[str, Any] = {}
    if (stack_dir / ANSWERS_FILE).is_file():
        raw = read_yaml_mapping(stack_dir / ANSWERS_FILE)
    if args.domain:
        raw["domain"] = args.domain
    if "domain" not in raw:  # the one answer without a default: say which option gives it
        raise usage_error("--domain", _("is needed with --yes (there is no earlier "
                                        "nasrtc.yaml to take it from): e.g. --yes --domain "
                                        "example.org"))
    raw.setdefault("profile", this_platform().profile)
    plan = plan_files(stack_dir, resolve(in_this_language(raw)), write_answers_file=True,
                      secrets="new", rotate=args.rotate_secrets)
    _show_line(plan.stack)
    _wrote(apply_plan(plan, force=args.force, command="nasrtc init"))
    return 0


def _show_line(stack: Any, wizard: bool = False) -> Any:
    """The verdict on the internet line, before anything is written (when discovery is
    off, the wizard says so and scripts hear nothing)."""
    from nasrtc.reach.advice import show_line

    return show_line(stack, say_when_off=wizard)


def _wizard(args: argparse.Namespace) -> int:
    from nasrtc.wizard.prompt import run_wizard

    answers = run_wizard(args.dir, args.domain)
    try:
        if args.dir is None:  # the folder was asked: hold its lock only now
            from nasrtc.lock import stack_lock

            with stack_lock(answers.stack_dir):
                return _write_wizard_answers(args, answers)
        return _write_wizard_answers(args, answers)
    except Interrupted:
        raise  # Ctrl-C at the last question: nothing is written, as at any other
    except NasrtcError as exc:
        # Nothing typed is lost: the answers stay, and are the defaults of the next run.
        kept = keep_answers(answers.stack_dir, answers.raw)
        exc.fix = (f"{exc.fix}; " if exc.fix else "") + _(
            "your answers are kept in {file}: after the fix, run `{nasrtc} init --dir {folder}` "
            "again (they are its defaults)").format(file=kept, folder=answers.stack_dir)
        raise


def keep_answers(stack_dir: Path, raw: dict[str, Any]) -> Path:
    """The wizard's answers on disk: nasrtc.yaml, unless the user edited that one by hand
    (then nasrtc.yaml.wizard beside it)."""
    import yaml

    from nasrtc.answers import ANSWERS_FILE, dump_answers, resolve
    from nasrtc.errors import InputError
    from nasrtc.output.render import PUBLIC, Artifact
    from nasrtc.output.writer import atomic_write, hand_edited, write_artifacts

    try:
        text = dump_answers(resolve(raw))
    except InputError:
        text = yaml.safe_dump(raw, sort_keys=False)
    artifact = {ANSWERS_FILE: Artifact(text, PUBLIC, N_("your answers"))}
    if not hand_edited(stack_dir, artifact):
        write_artifacts(stack_dir, artifact, force=True, partial=True)
        return stack_dir / ANSWERS_FILE
    aside = stack_dir / (ANSWERS_FILE + ".wizard")
    atomic_write(aside, text.encode("utf-8"), PUBLIC)
    return aside


def _write_wizard_answers(args: argparse.Namespace, answers: Any) -> int:
    from nasrtc.answers import ANSWERS_FILE, resolve
    from nasrtc.output.plan import apply_plan, plan_files
    from nasrtc.output.writer import edit_error
    from nasrtc.wizard.prompt import confirm

    plan = plan_files(answers.stack_dir, resolve(in_this_language(answers.raw)),
                      write_answers_file=True,
                      secrets="new", rotate=args.rotate_secrets)
    status = plan.status()
    print("\n" + _("Summary for {domain} ({profile})").format(domain=plan.stack.domain,
                                                             profile=plan.stack.profile.title))
    for line in _answer_lines(plan.stack):
        print(f"  {line}")
    print("\n" + _("Files in {folder}:").format(folder=answers.stack_dir.resolve()))
    for rel, state in status.items():
        note = ""
        if state == "edited":
            note = "  " + (_("(edited by hand: kept as .bak)") if rel == ANSWERS_FILE
                           or args.force else _("(edited by hand)"))
        print(f"  {pad(file_state(state), 9)}  {rel}{note}")
    blocked = [rel for rel, state in status.items() if state == "edited" and rel != ANSWERS_FILE]
    if blocked and not args.force:
        raise edit_error(answers.stack_dir, blocked, "nasrtc init")
    if all(state == "unchanged" for state in status.values()) and not plan.pending_secrets:
        if not plan.recorded():  # only nasrtc's own record is behind (a killed run)
            apply_plan(plan, force=args.force, force_files=frozenset({ANSWERS_FILE}),
                       command="nasrtc init")
        print("\n" + _("Everything is up to date; nothing to write."))
        return 0
    print()
    line = _show_line(plan.stack, wizard=True)
    open_router = False
    if line is not None and line.router and line.forwarding_works is not False:
        dsm = plan.stack.profile.name == "synology"
        open_router = confirm(
            (_("DSM can manage the router itself (Control Panel > External Access > Router "
               "Configuration); use one of the two. ") if dsm else "")
            + _("Open {ports} on the router now ({via}; the mappings are named as nasrtc's "
                "and `{nasrtc} router close` deletes them)?").format(
                    ports=plan.stack.forwarded_summary(), via=line.router[0]),
            default=False)
    if not confirm(_("Write these files?")):
        print(_("nasrtc: nothing was written."))
        return 1
    result = apply_plan(plan, force=args.force, force_files=frozenset({ANSWERS_FILE}),
                        command="nasrtc init")
    print()
    _wrote(result)
    if open_router:
        return _open_router(answers.stack_dir)
    return 0


def _open_router(stack_dir: Path) -> int:
    """The wizard's yes to opening the router: `nasrtc router open` for the new stack."""
    import argparse as _argparse

    from nasrtc.commands import router

    print()
    return router.run(_argparse.Namespace(action="open", dir=stack_dir, via="auto",
                                          json=False))


def _answer_lines(stack: Any) -> list[str]:
    from nasrtc.i18n import columns
    from nasrtc.output.summary import answer_rows

    return columns(answer_rows(stack), gap=2)
