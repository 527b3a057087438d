"""Checks of the line itself, from the NAS: can the internet reach this home at all
(the router's WAN address against what the internet sees), and are the router mappings
nasrtc made still there."""

from __future__ import annotations

from nasrtc.doctor.context import Context
from nasrtc.doctor.registry import LOCAL, Outcome, check, failed, passed, skipped, warned
from nasrtc.i18n import N_, _
from nasrtc.reach.line import CGNAT, DOUBLE_NAT, DS_LITE, PUBLIC, lan_address_of


@check(N_("internet line"), LOCAL)
def check_internet_line(ctx: Context) -> Outcome:
    from nasrtc.reach.advice import advise

    line = ctx.line()
    advice = advise(line, ctx.stack.forwarded_summary())
    fix = "; ".join(advice.steps)
    if not line.discovery or line.verdict not in (PUBLIC, CGNAT, DS_LITE, DOUBLE_NAT):
        return skipped(advice.headline, fix)
    if line.verdict == PUBLIC:
        return passed(advice.headline)
    if line.verdict == DOUBLE_NAT:
        return warned(advice.headline, fix)
    return failed(advice.headline, fix)


@check(N_("router mappings"), LOCAL)
def check_router_mappings(ctx: Context) -> Outcome:
    from nasrtc.invocation import command
    from nasrtc.reach import local, mappings

    record = mappings.read_state(ctx.stack_dir)
    if not record:
        return skipped(_("nasrtc made none (`{nasrtc} router open` makes them; or forward by "
                         "hand)"))
    if not local.discovery_enabled():
        return skipped(_("not checked: discovery is off (NASRTC_DISCOVERY=off)"))
    lan = lan_address_of(ctx.stack)
    rows: list[mappings.Row] = []
    answered: list[str] = []
    for router, mine in (mappings.by_method(lan, record) if lan else ()):
        rows += mappings.status(router, mine)
        answered += [router.method] if router else []
    methods = ", ".join(dict.fromkeys(m.method for m in record))
    again = command(f"router open --dir {ctx.stack_dir.resolve()}", ctx.stack.profile.sudo)
    lost = [f"{r.protocol.upper()} {r.port}" for r in rows if r.state in ("gone", "expired")]
    if not answered or lost:
        what = ", ".join(lost) if lost else ", ".join(f"{m.protocol.upper()} {m.port}"
                                                      for m in record)
        return failed(_("gone from the router: {mappings} ({method})").format(
                          mappings=what, method=methods)
                      if lost else _("the router no longer answers {method}; not confirmed: "
                                     "{mappings}").format(method=methods, mappings=what),
                      _("the router forgot them (a restart does that): run `{command}`")
                      .format(command=again))
    others = [f"{r.protocol.upper()} {r.port}: {r.detail}" for r in rows
              if r.state not in ("present",)]
    if others:
        return warned(", ".join(others), _("run `{command}` to see each one")
                      .format(command=command(f"router status --dir "
                                              f"{ctx.stack_dir.resolve()}",
                                              ctx.stack.profile.sudo)))
    return passed(_("{mappings} in place ({method})").format(
        mappings=", ".join(f"{r.protocol.upper()} {r.port}" for r in rows),
        method=methods))
