"""`doctor --media`: the rows of one real test call through the stack (nasrtc.media),
placed once per run and read by each row."""

from __future__ import annotations

from nasrtc.doctor.context import Context
from nasrtc.doctor.registry import MEDIA, Outcome, Probe, check
from nasrtc.media import diagnose as rows


def _row(name: str) -> Probe:
    def probe(ctx: Context) -> Outcome:
        return ctx.media()[name]

    return probe


def _needs(ctx: Context) -> tuple[str, ...]:
    return (ctx.stack.sfu_host,)


for _name in rows.ROWS:
    check(_name, MEDIA, needs=_needs)(_row(_name))
