"""`doctor --media`: the rows of one real test call through the stack (nasrtc.media),
placed once per run and read by each row."""

from __future__ import annotations

from nasrtc.doctor.context import Context
from nasrtc.doctor.registry import MEDIA, Outcome, Probe, check
from nasrtc.media import diagnose as rows


def test_call(ctx: Context) -> dict[str, Outcome]:
    """The test call's rows, the call placed once per doctor run."""
    if "media" not in ctx.shared:
        from nasrtc.media.probe import probe

        ctx.shared["media"] = rows.diagnose(probe(ctx), ctx.stack)
    return dict(ctx.shared["media"])


def _row(name: str) -> Probe:
    def read(ctx: Context) -> Outcome:
        return test_call(ctx)[name]

    return read


def _needs(ctx: Context) -> tuple[str, ...]:
    return (ctx.stack.sfu_host,)


for _name in rows.ROWS:
    check(_name, MEDIA, needs=_needs)(_row(_name))
