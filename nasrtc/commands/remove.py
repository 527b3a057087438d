"""`nasrtc remove`: stop the stack, then delete the files nasrtc wrote for it. The
answers, the secrets and the services' data (Redis's folder) go only with --purge;
nothing nasrtc did not write, nothing edited by hand since, and no other container is
ever touched."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir, project_of
from nasrtc.errors import NasrtcError, usage_error
from nasrtc.i18n import N_, _

NAME = "remove"
HELP = N_("stop the stack and delete the files nasrtc wrote (answers, secrets: --purge)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} remove --dir /volume1/docker/matrixrtc
      shows what goes, asks, stops the containers and deletes the generated files;
      nasrtc.yaml, secrets/ and Redis's data stay, so `{nasrtc} init` can bring it all back
  sudo {nasrtc} remove --purge --yes
      also the answers, the secrets and Redis's data, without asking
""")
# The stack's own records and answers: kept unless --purge.
KEPT = ("nasrtc.yaml",)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Stop and remove the stack's containers and network, then delete the "
                      "files nasrtc generated in the stack folder. Files edited by hand since "
                      "and files nasrtc did not write stay."))
    add_dir(parser)
    parser.add_argument("--purge", action="store_true",
                        help=_("also delete nasrtc.yaml, the secrets and Redis's data "
                               "(cannot be undone)"))
    parser.add_argument("--yes", action="store_true", help=_("do not ask"))
    return parser


def run(args: argparse.Namespace) -> int:
    from nasrtc.engine.stop import down

    stack_dir: Path = args.dir
    project = project_of(stack_dir)
    going, edited = _what_goes(stack_dir, args.purge)
    data, linked = _data_folders(stack_dir)
    print(_("nasrtc: removing the {project} stack in {folder}:").format(
        project=project, folder=stack_dir.resolve()))
    print("  " + _("the containers and network of this stack (no other container)"))
    for rel in going:
        print("  " + _("delete {file}").format(file=rel))
    for rel in edited:
        print("  " + _("keep   {file} (edited by hand since nasrtc wrote it)").format(file=rel))
    for rel in linked:
        print("  " + _("keep   {folder}/ (a symbolic link: what it points to is not nasrtc's)")
              .format(folder=rel))
    if args.purge:
        for rel in data:
            print("  " + _("delete {folder}/ ({service}'s data)").format(
                folder=rel, service=data[rel]))
    else:
        print("  " + _("keep   nasrtc.yaml and secrets/ (add --purge to delete them too)"))
        for rel in data:
            print("  " + _("keep   {folder}/ ({service}'s data; --purge deletes it)").format(
                folder=rel, service=data[rel]))
    from nasrtc.reach.mappings import read_state

    mapped = read_state(stack_dir)
    if mapped:
        print("  " + _("delete nasrtc's router mappings: {mappings}").format(
            mappings=", ".join(f"{m.protocol.upper()} {m.port}" for m in mapped)))
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise usage_error("--yes", _("is needed when there is no terminal to ask in"))
        from nasrtc.wizard.prompt import confirm

        if not confirm(_("Remove these?")):
            print(_("nasrtc: nothing was removed."))
            return 1
    result = down(project)
    for name in result.removed:
        print("  " + _("stopped and removed {name}").format(name=name))
    if mapped:  # while nasrtc.yaml still says which ports and project they are
        from nasrtc.commands.router import close_recorded

        close_recorded(stack_dir)
    _delete(stack_dir, going, args.purge, list(data) if args.purge else [])
    print((_("nasrtc: {project} is removed.") if args.purge else
           _("nasrtc: {project} is removed; `{nasrtc} init` in this folder brings it back."))
          .format(project=project))
    return 0


def _what_goes(stack_dir: Path, purge: bool) -> tuple[list[str], list[str]]:
    """(files to delete, generated files kept because they were edited by hand)."""
    from nasrtc.output.writer import MANIFEST, digest, read_manifest
    from nasrtc.secret_store import (
        API_KEY_FILE,
        API_SECRET_FILE,
        SECRETS_DIR,
        TURN_AUTH_SECRETS,
    )

    going, edited = [], []
    for rel, recorded in sorted(read_manifest(stack_dir).items()):
        path = stack_dir / rel
        if (rel in KEPT and not purge) or not path.is_file() or path.is_symlink():
            continue
        if digest(path.read_bytes()) == recorded or rel in KEPT:
            going.append(rel)
        else:
            edited.append(rel)
    if purge:
        secrets = [API_KEY_FILE, API_SECRET_FILE,
                   *(name for name, _env, _what in TURN_AUTH_SECRETS.values())]
        going += [f"{SECRETS_DIR}/{name}" for name in secrets
                  if (stack_dir / SECRETS_DIR / name).is_file()]
        # The answers even when the record no longer names them (a purge killed after it).
        going += [rel for rel in (*KEPT, MANIFEST) if rel not in going
                  and (stack_dir / rel).is_file() and not (stack_dir / rel).is_symlink()]
    return going, edited


def _data_folders(stack_dir: Path) -> tuple[dict[str, str], list[str]]:
    """({folder: service} for the services' data folders present, [those that are links])."""
    from nasrtc.services import DATA_FOLDERS

    data, linked = {}, []
    for service, rel in DATA_FOLDERS.items():
        path = stack_dir / rel
        if path.is_symlink():
            linked.append(rel)  # `up` refuses it too; never followed, never deleted
        elif path.is_dir():
            data[rel] = service
    return data, linked


def _delete_data(stack_dir: Path, folders: list[str]) -> None:
    """The services' data folders, with what is in them. rmtree refuses a link at the top
    and removes links inside without following them (it works on file descriptors)."""
    import shutil

    from nasrtc.failpoint import step

    for rel in folders:
        path = stack_dir / rel
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
                step("file")
        except OSError as exc:  # e.g. swapped for a link meanwhile: rmtree stops, unfollowed
            raise NasrtcError(_("could not delete {path}: {reason}").format(
                path=path, reason=exc.strerror or exc),
                _("look at what is there now (`ls -la {path}`) and delete it by hand if it "
                  "is the service's data").format(path=path)) from None


def _delete(stack_dir: Path, going: list[str], purge: bool, data: list[str]) -> None:
    """The files, then (purge) the services' data, then (purge) the record of files and
    the answers: while nasrtc.yaml is there, a purge killed half-way is finished by the
    next one (without it, nasrtc no longer knows the folder as a stack)."""
    from nasrtc.engine.state import STATE_FILE
    from nasrtc.failpoint import step
    from nasrtc.output.writer import MANIFEST, forget, read_manifest

    last = [rel for rel in (MANIFEST, *KEPT) if rel in going] if purge else []
    for rel in going:
        if rel not in last:
            (stack_dir / rel).unlink(missing_ok=True)
            step("file")
    (stack_dir / STATE_FILE).unlink(missing_ok=True)  # the record of what ran: gone with it
    step("file")
    if not purge:
        # also the records of files already gone: a remove killed before this point
        vanished = [rel for rel in read_manifest(stack_dir) if not (stack_dir / rel).exists()]
        forget(stack_dir, [rel for rel in {*going, *vanished} if rel != MANIFEST])
    _delete_data(stack_dir, data)
    for folder in sorted({(stack_dir / rel).parent for rel in going}, reverse=True):
        if folder != stack_dir and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # only folders left empty; anything of the user's stays
    for rel in last:
        (stack_dir / rel).unlink(missing_ok=True)
        step("file")
