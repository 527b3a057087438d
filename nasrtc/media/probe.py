"""The media probe's run: credentials, a look at what the SFU offers, then the test call
(and, with TURN on, a relay-only call beside it), each in a child process with a deadline.
Everything seen goes into one MediaReport; diagnose.py reads it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasrtc.media.credentials import Credentials, Refused, credentials
from nasrtc.media.signal import Offer, peek

if TYPE_CHECKING:
    from nasrtc.doctor.context import Context

CALL_SECONDS = 4.0  # of tone, once the first frame arrived
MAX_REPORT = 1_000_000  # bytes of the child's report read


@dataclass
class MediaReport:
    credentials: Credentials | None = None
    refused: Refused | None = None
    offer: Offer | None = None
    call: dict[str, Any] = field(default_factory=dict)
    relay: dict[str, Any] | None = None  # None: TURN is off, no relay-only call
    sfu_addresses: list[str] = field(default_factory=list)  # where callers reach the SFU
    tcp_answers: bool | None = None  # does the RTC TCP port accept a connection


def sdk_missing() -> str:
    """What to install for the test call, or '' when the LiveKit SDK is importable."""
    import importlib.util

    try:
        if importlib.util.find_spec("livekit") and importlib.util.find_spec("livekit.rtc"):
            return ""
    except (ImportError, ValueError):
        pass
    return 'pip install "nasrtc[media]"' if sys.version_info >= (3, 9) else \
        'Python 3.9 or newer, then pip install "nasrtc[media]"'


def connect_timeout(ctx: Context) -> float:
    return min(30.0, max(10.0, 3 * ctx.net.timeout))


def run_call(creds: Credentials, ctx: Context, relay_only: bool = False) -> dict[str, Any]:
    """One test call in a child process; its report, or what stopped it. The relay-only
    call has the second room and its tokens."""
    wait = connect_timeout(ctx)
    orders = {"url": creds.url, "tokens": creds.calls[1 if relay_only else 0],
              "seconds": CALL_SECONDS,
              "connect_timeout": wait, "relay_only": relay_only}
    deadline = wait * 3 + CALL_SECONDS + 20  # the child's own budget, and some
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # where nasrtc is (a folder, or the .pyz)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("RUST_LOG", "error")
    ca_file = ctx.net.ca_file
    if ca_file:  # the SDK's TLS reads the CA bundle from here
        env["SSL_CERT_FILE"] = ca_file
    try:
        done = subprocess.run([sys.executable, "-m", "nasrtc.media.call"],
                              input=json.dumps(orders), capture_output=True, text=True,
                              env=env, timeout=deadline)
    except subprocess.TimeoutExpired:
        return {"ok": False, "stage": "hung",
                "error": f"the test call did not end within {deadline:.0f} s"}
    lines = done.stdout[-MAX_REPORT:].strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        return {"ok": False, "stage": "crashed",
                "error": f"the test call ended without a report (exit {done.returncode}): "
                         f"{done.stderr.strip()[-300:]}"}
    return report


def refusal(exc: Exception) -> Refused:
    """A failure on the way to the tokens (a network error, the homeserver's refusal, an
    answer of another shape) as the tokens row: the probe ends there, and every row of the
    test call reads that one outcome instead of trying again."""
    from nasrtc.doctor.registry import network_problem
    from nasrtc.errors import NasrtcError
    from nasrtc.i18n import _

    if isinstance(exc, NasrtcError):
        return Refused(exc.message, exc.fix)
    if isinstance(exc, OSError):
        return Refused(*network_problem(exc))
    return Refused(_("unexpected answer: {error}: {detail}").format(
        error=exc.__class__.__name__, detail=str(exc)[:120] or _("no detail")),
        _("something else than the expected service answers there; check the proxy row and "
          "what runs at its destination"))


def probe(ctx: Context) -> MediaReport:
    stack = ctx.stack
    report = MediaReport(sfu_addresses=ctx.net.resolve(stack.sfu_host)
                         + (ctx.net.resolve6(stack.sfu_host) or []))
    relay = stack.livekit.turn_enabled
    try:
        creds = credentials(ctx, calls=2 if relay else 1)
    except Refused as exc:
        report.refused = exc
        return report
    except Exception as exc:  # whatever answered: one row says it, once
        report.refused = refusal(exc)
        return report
    report.credentials = creds
    try:
        report.offer = peek(ctx.net, creds.url, creds.calls[0][0], connect_timeout(ctx) / 2)
        calls: dict[str, dict[str, Any]] = {}

        def place(kind: str) -> None:
            calls[kind] = run_call(creds, ctx, relay_only=kind == "relay")

        kinds = ["call"] + (["relay"] if relay else [])
        threads = [threading.Thread(target=place, args=(kind,), daemon=True) for kind in kinds]
        for thread in threads:
            thread.start()
        report.tcp_answers = ctx.net.tcp_open(stack.sfu_host, stack.livekit.rtc_tcp)
        for thread in threads:
            thread.join()
        report.call = calls.get("call", {})
        report.relay = calls.get("relay")
    finally:
        if creds.cleanup:
            with contextlib.suppress(OSError):  # else LiveKit closes the empty room itself
                creds.cleanup()
    return report
