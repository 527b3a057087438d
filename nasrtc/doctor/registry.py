"""Checks register themselves once, with their row name and scope; a check returns
its outcome (status, detail, fix) and the runner names the row. A check that raises
still gives a row: never a traceback, never a hang."""

from __future__ import annotations

import ssl
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable

from nasrtc.errors import NasrtcError
from nasrtc.i18n import _, ngettext

if TYPE_CHECKING:
    from nasrtc.doctor.context import Context

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skipped"
LOCAL, PUBLIC, MEDIA = "local", "public", "media"  # MEDIA: only with --media


@dataclass(frozen=True)
class Outcome:
    status: str
    detail: str
    fix: str = ""


def passed(detail: str) -> Outcome:
    return Outcome(PASS, detail)


def warned(detail: str, fix: str) -> Outcome:
    return Outcome(WARN, detail, fix)


def failed(detail: str, fix: str) -> Outcome:
    return Outcome(FAIL, detail, fix)


def skipped(detail: str, fix: str = "") -> Outcome:
    return Outcome(SKIP, detail, fix)


@dataclass
class Check:
    """One row of doctor's report."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


Probe = Callable[["Context"], Outcome]


Needs = Callable[["Context"], "tuple[str, ...]"]  # the public names a check connects to


@dataclass(frozen=True)
class Registered:
    name: str
    scope: str
    probe: Probe
    needs: Needs | None = None


REGISTRY: list[Registered] = []


def check(name: str, scope: str, needs: Needs | None = None) -> Callable[[Probe], Probe]:
    """Register a check under its row name; rows appear in registration order. A check
    that `needs` names is skipped, not failed, when the DNS row found one missing: one
    cause, one failing row."""

    def register(probe: Probe) -> Probe:
        assert all(r.name != name for r in REGISTRY), f"two checks named {name!r}"
        REGISTRY.append(Registered(name, scope, probe, needs))
        return probe

    return register


def run_one(entry: Registered, ctx: Context) -> Check:
    missing = [host for host in (entry.needs(ctx) if entry.needs else ())
               if host in ctx.unresolved]
    if missing:
        return Check(entry.name, SKIP, ngettext(
            "not checked: {names} does not resolve (see the DNS row)",
            "not checked: {names} do not resolve (see the DNS row)",
            len(missing)).format(names=", ".join(missing)))
    try:
        outcome = entry.probe(ctx)
    except NasrtcError as exc:
        outcome = failed(exc.message, exc.fix)
    except ssl.SSLCertVerificationError as exc:
        outcome = failed(_("TLS certificate not accepted: {reason}")
                         .format(reason=exc.verify_message or exc),
                         _("fix the certificate first (see the certificates row)"))
    except (OSError, ssl.SSLError, ValueError) as exc:
        outcome = failed(*network_problem(exc))
    except Exception as exc:  # any other answer (a banner, 100+ headers, JSON of another
        # shape) is the server's fault, not a reason to stop: it becomes this row
        outcome = failed(_("unexpected answer: {error}: {detail}")
                         .format(error=exc.__class__.__name__,
                                 detail=str(exc)[:120] or _("no detail")),
                         _("something else than the expected service answers there; check "
                           "the proxy row and what runs at its destination"))
    return Check(entry.name, outcome.status, outcome.detail, outcome.fix)


def network_problem(exc: BaseException) -> tuple[str, str]:
    """A failed connection in words a NAS owner can act on."""
    import socket

    if isinstance(exc, socket.gaierror):
        return (_("the name does not resolve"),
                _("create the DNS record (checklist.md, section DNS), or test the proxy before "
                  "DNS with --connect-to NAME::NAS-ADDRESS: (README, Checking with doctor)"))
    if isinstance(exc, ConnectionRefusedError):
        return (_("connection refused: nothing listens there"),
                _("is the reverse proxy running and is port 443 forwarded to the NAS?"))
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return (_("no answer within the timeout") if "time allowed" not in str(exc)
                else _("the answer did not arrive within the time allowed (--timeout)"),
                _("a firewall (router or NAS) drops the connection, or the service hangs"))
    return (f"{exc.__class__.__name__}: {exc}", _("see the detail"))
