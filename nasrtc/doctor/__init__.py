"""`nasrtc doctor`: each piece checked in order, from the NAS and from the public
side; every failure says what is wrong and the exact fix. Returns rows; the
command prints them. Network calls are short and bounded; no secret is printed.

Checks live in local.py, line.py, public.py and homeserver.py, each registered once with
its row name (registry.check); CHECK_MODULES fixes the order of the rows.
"""

from __future__ import annotations

import importlib

from nasrtc.doctor.context import Context, make_context
from nasrtc.doctor.registry import (
    FAIL,
    LOCAL,
    MEDIA,
    PASS,
    PUBLIC,
    REGISTRY,
    SKIP,
    WARN,
    Check,
    run_one,
)
from nasrtc.i18n import N_, _

# Rows appear in this order: this machine, then what a caller meets, then the homeserver.
CHECK_MODULES = ("local", "line", "public", "homeserver", "media")
for _module in CHECK_MODULES:
    importlib.import_module(f"nasrtc.doctor.{_module}")

__all__ = ["FAIL", "PASS", "SKIP", "WARN", "Check", "Context", "make_context", "run_doctor"]


# The whole run stays bounded: after this many --timeout's, the rows left are skipped.
RUN_BUDGET = 24


def run_doctor(ctx: Context, local_only: bool = False, public_only: bool = False,
               media: bool = False) -> list[Check]:
    import time

    scopes = {LOCAL, PUBLIC} - ({PUBLIC} if local_only else set()) \
        - ({LOCAL} if public_only else set()) | ({MEDIA} if media else set())
    deadline = time.monotonic() + RUN_BUDGET * ctx.net.timeout
    results = []
    for entry in (e for e in REGISTRY if e.scope in scopes):
        # the test call keeps its own deadlines (nasrtc.media.probe)
        if entry.scope != MEDIA and time.monotonic() > deadline:
            detail = _("not checked: doctor's time for this run ({budget} x --timeout) was "
                       "spent on the rows above").format(budget=RUN_BUDGET)
            results.append(Check(entry.name, SKIP, detail,
                                 _("fix those first, or give a larger --timeout")))
            continue
        results.append(run_one(entry, ctx))
    if local_only:
        results.append(Check(N_("public side"), SKIP, _("--local given"), ""))
    if public_only:
        results.insert(0, Check(N_("this machine"), SKIP, _("--public given"), ""))
    return results
