"""`nasrtc router open|status|close`: the port mappings of nasrtc's router checklist, made
on the router by UPnP IGD, NAT-PMP or PCP when the user asks, listed, and deleted (only
nasrtc's own)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from nasrtc.commands._common import FORMATTER, add_dir
from nasrtc.errors import NasrtcError
from nasrtc.i18n import N_, _

NAME = "router"
HELP = N_("open the router's ports for calls by UPnP, NAT-PMP or PCP (open, status, close)")
EXAMPLES = N_("""\
examples:
  sudo {nasrtc} router open
      map the checklist's ports to this NAS (nasrtc's mappings, named 'nasrtc ...')
  sudo {nasrtc} router status
      each mapping nasrtc made: there, expired, or gone (a router restart forgets them)
  sudo {nasrtc} router close
      delete nasrtc's mappings (no other mapping is touched)
""")
# A state in words (translated where shown); the JSON keeps the key.
STATES = {
    "mapped": N_("mapped"), "kept": N_("renewed"),
    "already": N_("already forwarded to this NAS by another rule, left as it is"),
    "conflict": N_("taken by something else, left alone"), "refused": N_("refused"),
    "removed": N_("removed"), "gone": N_("gone"), "expired": N_("expired"),
    "changed": N_("now someone else's, left alone"), "present": N_("in place"),
    "interrupted": N_("asked for by a `router open` that was interrupted")}
GOOD = {"mapped", "kept", "already", "removed", "present"}


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help=_(HELP), epilog=_(EXAMPLES), formatter_class=FORMATTER,
        description=_("Makes the port mappings nasrtc's router checklist lists, to this NAS's "
                      "LAN address, through whichever of UPnP IGD, NAT-PMP and PCP the router "
                      "answers; lists them with their leases; deletes them. Only mappings "
                      "nasrtc made (recorded in the stack folder, described as nasrtc's) are "
                      "renewed or deleted."))
    parser.add_argument("action", choices=("open", "status", "close"),
                        help=_("open, status or close"))
    add_dir(parser)
    parser.add_argument("--via", choices=("auto", "upnp", "nat-pmp", "pcp"), default="auto",
                        help=_("the protocol to use (default: the first the router answers: "
                               "UPnP, then NAT-PMP, then PCP)"))
    parser.add_argument("--json", action="store_true", help=_("machine-readable output"))
    return parser


def lease_words(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds == 0:
        return _("permanent")
    hours, minutes = divmod(seconds // 60, 60)
    return _("{hours} h {minutes} min left").format(hours=hours, minutes=minutes)


def _lan_for_discovery(stack: Any) -> str:
    """The LAN address the router is asked from; an error when it is not known or
    discovery is off."""
    from nasrtc.reach import local
    from nasrtc.reach.line import lan_address_of

    lan = lan_address_of(stack)
    if not lan:
        raise NasrtcError(_("this host's LAN address is not known"),
                          _("set network.lan_ip in nasrtc.yaml, then `{nasrtc} render`"))
    if not local.discovery_enabled():
        raise NasrtcError(_("discovery is off (NASRTC_DISCOVERY=off): nasrtc sends nothing to "
                            "the router"), _("unset NASRTC_DISCOVERY"))
    return lan


def run(args: argparse.Namespace) -> int:
    from nasrtc.reach import mappings
    from nasrtc.stack import load_stack

    _answers, stack = load_stack(args.dir, secrets="none")
    record = mappings.read_state(args.dir)
    if args.action != "open" and not record:
        print(_("nasrtc: nasrtc has made no router mapping for this stack (`{nasrtc} router "
                "open` makes them)"))
        return 0
    if args.action != "open":
        return _each_method(args, stack, record)
    router = mappings.find_router(_lan_for_discovery(stack), args.via)
    if router is None:
        raise NasrtcError(
            _("no router answered (UPnP IGD, NAT-PMP and PCP are off, or it has none of "
              "them); nothing was changed"),
            _("switch UPnP or NAT-PMP on in the router, or forward the ports by hand "
              "(`{nasrtc} checklist`, section Router)"))
    want, wide = mappings.wanted(stack)
    # Recorded before the router is asked: killed in between, `router close` still finds
    # (and `router open` finishes) what the router may have made.
    record = mappings.intend(router, stack.project, want, record)
    mappings.write_state(args.dir, record)
    rows, record = mappings.open_ports(router, stack.project, want, record)
    mappings.write_state(args.dir, record)
    return _report(args, stack, router, rows, wide)


def _each_method(args: argparse.Namespace, stack: Any, record: list[Any]) -> int:
    """status and close ask the router by the protocol each mapping was made with (only
    that one can renew or delete it)."""
    from nasrtc.reach import mappings

    rows: list[Any] = []
    kept: list[Any] = []
    router = None
    try:
        lan = _lan_for_discovery(stack)
    except NasrtcError as exc:
        if args.action != "status":
            raise
        # Without the router, nasrtc's record still says what it made and, above all,
        # what an interrupted `router open` may have left.
        return _report(args, stack, None, mappings.status(None, record), [], unasked=exc)
    for asked, mine in mappings.by_method(lan, record, args.via):
        router = asked or router
        if args.action == "status":
            rows += mappings.status(asked, mine)
        else:
            done, left = mappings.close_ports(asked, mine)
            rows += done
            kept += left
    if args.action == "close":
        mappings.write_state(args.dir, kept)
    return _report(args, stack, router, rows, [])


def close_recorded(stack_dir: Any) -> int:
    """For down --close-router and remove: delete the mappings nasrtc made for this stack
    (none recorded: nothing to do)."""
    from nasrtc.reach import mappings
    from nasrtc.stack import load_stack

    record = mappings.read_state(stack_dir)
    if not record:
        return 0
    _answers, stack = load_stack(stack_dir, secrets="none")
    args = argparse.Namespace(action="close", dir=stack_dir, via="auto", json=False)
    try:
        return _each_method(args, stack, record)
    except NasrtcError as exc:  # discovery off, no LAN address: say it, keep the record
        print(_("nasrtc: the router mappings stay ({error}); run `{nasrtc} router close` "
                "later").format(error=exc.message))
        return 1


def _report(args: argparse.Namespace, stack: Any, router: Any, rows: list[Any],
            wide: list[str], unasked: NasrtcError | None = None) -> int:
    """`unasked`: why the router was not asked (the rows are nasrtc's record alone)."""
    from nasrtc.invocation import command

    # Closing, a mapping the router no longer has is what was wanted.
    good = GOOD | {"gone"} if args.action == "close" else GOOD
    ok = all(row.state in good for row in rows)
    if args.json:
        print(json.dumps({"method": router.method if router else None,
                          "router": (router.upnp.name if router and router.upnp else
                                     router.gateway if router else None),
                          "mappings": [asdict(row) for row in rows],
                          "router_not_asked": unasked.message if unasked else None,
                          "too_wide": wide}, indent=2))
        return 0 if ok else 1
    via = (router.method if router else
           _("the router was not asked: {reason}").format(reason=unasked.message) if unasked else
           _("no router answered"))
    print(_("nasrtc: router mappings of {project} ({via}):").format(project=stack.project,
                                                                   via=via))
    for row in rows:
        detail = ", ".join(part for part in (row.detail, lease_words(row.lease)) if part)
        print(f"  {row.protocol.upper()} {row.port}: {_(STATES.get(row.state, row.state))}"
              + (f" ({detail})" if detail else ""))
    if unasked and unasked.fix:
        print(_("note: these rows are nasrtc's record; to ask the router: {fix}")
              .format(fix=unasked.fix))
    for item in wide:
        print("  " + _("{ports}: too many ports to map one by one; forward this range by hand")
              .format(ports=item))
    again = command(f"router open --dir {args.dir.resolve()}", stack.profile.sudo)
    if any(row.state == "interrupted" for row in rows):
        print(_("fix: an interrupted `router open` may have made these: run `{command}` to "
                "finish it, or `{close}` to delete them").format(
                    command=again, close=command(f"router close --dir {args.dir.resolve()}",
                                                 stack.profile.sudo)))
    elif args.action != "close" and any(row.state in ("gone", "expired") for row in rows):
        print(_("fix: the router forgot them (a restart does that): run `{command}`")
              .format(command=again))
    elif any(row.state in ("conflict", "refused") for row in rows):
        print(_("fix: forward the rows left by hand (`{nasrtc} checklist`, section Router), or "
                "free those ports on the router and run `{command}`").format(command=again))
    finite = [row.lease for row in rows if row.state in ("mapped", "kept") and row.lease]
    if args.action == "open" and finite:
        print(_("note: the router gave leases of {hours} h at most; run `{command}` daily to "
                "renew them (DSM: Control Panel > Task Scheduler; elsewhere a cron line), and "
                "doctor says when they are gone").format(hours=min(finite) // 3600,
                                                        command=again))
    if stack.profile.name == "synology" and args.action == "open":
        print(_("note: DSM can manage the router itself (Control Panel > External Access > "
                "Router Configuration); use one of the two, not both"))
    return 0 if ok else 1
