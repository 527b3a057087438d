"""Port mappings on the router, made only when the user asks (`nasrtc router open`):
the ports of nasrtc's router checklist, to the NAS's LAN address, through UPnP IGD,
NAT-PMP or PCP. What nasrtc made is recorded in the stack folder; only those mappings
are ever renewed or deleted, and a UPnP mapping only while its description is still
nasrtc's and it still points at this NAS. The record is written before the router is
asked too (each new mapping `pending`, with the PCP nonce it will be made with), so a
`router open` killed half-way leaves nothing on the router that `router close` cannot
find and delete."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from nasrtc.failpoint import step
from nasrtc.reach import local, natpmp, pcp, upnp

STATE_FILE = "router-mappings.json"
METHODS = ("upnp", "nat-pmp", "pcp")
LIFETIME = 7 * 24 * 3600  # asked of NAT-PMP and PCP (routers may give less)
UPNP_V2_LEASE = 604800    # IGDv2's longest; v1 routers get a permanent (0) lease
MAX_RANGE = 16            # wider port ranges are left to the user: one mapping per port
MAX_STATE = 64 * 1024     # bytes of the record read back
EPOCH_SLACK = 2           # seconds, as RFC 6886 3.6 allows in its epoch check

MAPPED, KEPT, ALREADY, CONFLICT, REFUSED, TOO_WIDE = \
    "mapped", "kept", "already", "conflict", "refused", "too-wide"
REMOVED, GONE, EXPIRED, CHANGED, PRESENT = "removed", "gone", "expired", "changed", "present"
INTERRUPTED = "interrupted"  # asked for by a `router open` that did not end
# PCP answers to a delete that mean "no mapping of yours here": NOT_AUTHORIZED (another's,
# not to be touched) and NO_RESOURCES (none at all, in miniupnpd's words).
NOT_THERE = {"pcp": (2, 8)}


@dataclass(frozen=True)
class Wanted:
    protocol: str
    port: int
    purpose: str


@dataclass
class Made:
    protocol: str
    port: int
    method: str
    description: str
    lease: int          # granted, seconds; 0 = permanent
    made_at: float      # unix time
    epoch: int = -1     # NAT-PMP/PCP epoch when made
    nonce: str = ""     # PCP
    pending: bool = False  # about to be asked for: the router may or may not have it

    @property
    def expires(self) -> float:
        return self.made_at + self.lease if self.lease else 0.0


@dataclass
class Row:
    protocol: str
    port: int
    state: str
    detail: str = ""
    lease: int | None = None  # seconds left, 0 = permanent, None = not known


@dataclass
class Router:
    """The router that answered, by the first protocol that works (or the one asked)."""

    method: str
    gateway: str
    lan_ip: str
    upnp: upnp.Gateway | None = None
    epoch: int = -1
    problems: list[str] = field(default_factory=list)


def description(project: str, protocol: str, port: int) -> str:
    return f"nasrtc {project} {protocol.upper()} {port}"


def wanted(stack: Any) -> tuple[list[Wanted], list[str]]:
    """The checklist's rows as single ports; rows wider than MAX_RANGE are named instead."""
    out: list[Wanted] = []
    wide: list[str] = []
    for rule in stack.router_rules:
        start, _, end = rule.ports.partition("-")
        first, last = int(start), int(end or start)
        if last - first + 1 > MAX_RANGE:
            wide.append(f"{rule.protocol.upper()} {rule.ports}")
            continue
        out += [Wanted(rule.protocol, port, rule.purpose) for port in range(first, last + 1)]
    return out, wide


def find_router(lan_ip: str, method: str = "auto") -> Router | None:
    if not local.discovery_enabled():
        return None
    gateway = local.default_gateway() or ""
    problems: list[str] = []
    for name in (METHODS if method == "auto" else (method,)):
        if name == "upnp":
            found, problems = upnp.discover(lan_ip)
            if found:
                return Router("upnp", gateway, lan_ip, upnp=found, problems=problems)
        elif name == "nat-pmp" and gateway:
            try:
                answer = natpmp.ask_address(gateway, lan_ip)
            except natpmp.NatPmpError as error:
                answer = ("", error.epoch if error.epoch is not None else -1)
            if answer is not None:
                return Router("nat-pmp", gateway, lan_ip, epoch=answer[1], problems=problems)
        elif name == "pcp" and gateway:
            epoch = pcp.announce(gateway, lan_ip)
            if epoch is not None:
                return Router("pcp", gateway, lan_ip, epoch=epoch, problems=problems)
    return None


def by_method(lan_ip: str, record: list[Made], via: str = "auto",
              ) -> Iterator[tuple[Router | None, list[Made]]]:
    """The record's mappings per protocol they were made with, each with the router as
    that protocol answers (None: it does not), since only it can renew or delete them."""
    for method in dict.fromkeys(m.method for m in record):
        router = find_router(lan_ip, method if via == "auto" else via)
        mine = [m for m in record if m.method == method]
        yield (router if router is not None and router.method == method else None), mine


# ------------------------------------------------------------------ the record


def read_state(stack_dir: Path) -> list[Made]:
    """What nasrtc mapped, from its record; a damaged record counts as none (the router's
    own table is then the truth, and nothing is deleted on the record's word)."""
    path = stack_dir / STATE_FILE
    try:
        if path.is_symlink() or path.stat().st_size > MAX_STATE:
            return []
        items = json.loads(path.read_text())
        fields = set(Made.__dataclass_fields__)
        made = [Made(**{k: v for k, v in item.items() if k in fields}) for item in items]
        return [m for m in made if _sound(m)]
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return []


def _sound(made: Made) -> bool:
    """A record entry of the types nasrtc writes (a hand-edited one is dropped)."""
    numbers = (made.port, made.lease, made.epoch)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return False
    if not isinstance(made.made_at, (int, float)) or isinstance(made.made_at, bool):
        return False
    if not isinstance(made.description, str) or not isinstance(made.nonce, str) \
            or not isinstance(made.pending, bool):
        return False
    try:
        nonce_ok = made.method != "pcp" or len(bytes.fromhex(made.nonce)) == 12
    except ValueError:
        return False
    return (made.method in METHODS and made.protocol in ("tcp", "udp")
            and 0 < made.port < 65536 and made.lease >= 0 and nonce_ok)


def write_state(stack_dir: Path, made: list[Made]) -> None:
    from nasrtc.output.writer import atomic_write

    path = stack_dir / STATE_FILE
    if not made:
        if path.exists() and not path.is_symlink():
            path.unlink()
            step("file")
        return
    atomic_write(path, (json.dumps([asdict(m) for m in made], indent=2) + "\n").encode(), 0o644)


# ------------------------------------------------------------------ open, status, close


def intend(router: Router, project: str, want: list[Wanted],
           record: list[Made]) -> list[Made]:
    """The record with each mapping about to be asked for that it lacks, as pending (for
    PCP with the nonce it will be asked with: only that nonce can delete it later)."""
    have = {(m.protocol, m.port) for m in record}
    now = time.time()
    return record + [
        Made(item.protocol, item.port, router.method,
             description(project, item.protocol, item.port), 0, now, epoch=router.epoch,
             nonce=os.urandom(12).hex() if router.method == "pcp" else "", pending=True)
        for item in want if (item.protocol, item.port) not in have]


def open_ports(router: Router, project: str, want: list[Wanted],
               record: list[Made]) -> tuple[list[Row], list[Made]]:
    """Each wanted mapping asked for; the record as it is after: what was made replaces
    what was recorded, and a pending entry the router did not take is dropped."""
    rows: list[Row] = []
    kept = {(m.protocol, m.port): m for m in record}
    for item in want:
        text = description(project, item.protocol, item.port)
        key = (item.protocol, item.port)
        try:
            row, made = _open_one(router, item, text, kept.get(key))
        except (upnp.UpnpError, upnp.BadReply, natpmp.NatPmpError, pcp.PcpError,
                OSError) as error:
            row, made = Row(item.protocol, item.port, REFUSED, str(error)), None
        rows.append(row)
        if made:
            kept[key] = made
        elif key in kept and kept[key].pending:
            del kept[key]
    return rows, list(kept.values())


def _open_one(router: Router, item: Wanted, text: str,
              before: Made | None) -> tuple[Row, Made | None]:
    now = time.time()
    renewed = KEPT if before and not before.pending else MAPPED
    if router.method == "upnp":
        assert router.upnp is not None
        entry = upnp.mapping(router.upnp, item.protocol, item.port)
        if entry is not None:
            ours = entry.description == text and entry.internal_client == router.lan_ip
            if not ours and entry.internal_client == router.lan_ip \
                    and entry.internal_port == item.port:
                return Row(item.protocol, item.port, ALREADY, entry.description,
                           entry.lease), None
            if not ours:
                return Row(item.protocol, item.port, CONFLICT,
                           f"{entry.internal_client}:{entry.internal_port} "
                           f"'{entry.description}'", entry.lease), None
        lease = UPNP_V2_LEASE if router.upnp.version == 2 else 0
        granted = upnp.add_mapping(router.upnp, item.protocol, item.port, router.lan_ip, text,
                                   lease)
        step("router")  # a change made on the router: where a test may kill
        return (Row(item.protocol, item.port, KEPT if entry else MAPPED, "", granted),
                Made(item.protocol, item.port, "upnp", text, granted, now))
    if router.method == "nat-pmp":
        got = natpmp.map_port(router.gateway, item.protocol, item.port, item.port, LIFETIME,
                              router.lan_ip)
        step("router")
        if got is None:
            return Row(item.protocol, item.port, REFUSED, "no answer"), None
        if got.external_port != item.port:
            natpmp.map_port(router.gateway, item.protocol, item.port, 0, 0, router.lan_ip)
            step("router")
            return Row(item.protocol, item.port, CONFLICT,
                       f"external port {got.external_port}"), None
        return (Row(item.protocol, item.port, renewed, "", got.lifetime),
                Made(item.protocol, item.port, "nat-pmp", text, got.lifetime, now,
                     epoch=router.epoch))
    nonce = bytes.fromhex(before.nonce) if before and before.method == "pcp" else None
    got_pcp = pcp.map_port(router.gateway, router.lan_ip, item.protocol, item.port,
                           item.port, LIFETIME, nonce)
    step("router")
    if got_pcp is None:
        return Row(item.protocol, item.port, REFUSED, "no answer"), None
    if got_pcp.external_port != item.port:
        pcp.map_port(router.gateway, router.lan_ip, item.protocol, item.port, 0, 0,
                     bytes.fromhex(got_pcp.nonce))
        step("router")
        return Row(item.protocol, item.port, CONFLICT,
                   f"external port {got_pcp.external_port}"), None
    return (Row(item.protocol, item.port, renewed, "", got_pcp.lifetime),
            Made(item.protocol, item.port, "pcp", text, got_pcp.lifetime, now,
                 epoch=router.epoch, nonce=got_pcp.nonce))


def status(router: Router | None, record: list[Made]) -> list[Row]:
    """Each recorded mapping: still there, expired, or gone (the router restarted)."""
    rows = []
    now = time.time()
    for made in record:
        if made.pending:
            rows.append(Row(made.protocol, made.port, INTERRUPTED))
            continue
        left = None if not made.lease else max(0, int(made.expires - now))
        if router is None or router.method != made.method:
            if made.lease and made.expires <= now:
                rows.append(Row(made.protocol, made.port, EXPIRED))
            else:
                rows.append(Row(made.protocol, made.port, PRESENT, "not confirmed", left))
            continue
        try:
            rows.append(_status_one(router, made, now, left))
        except (upnp.UpnpError, upnp.BadReply, OSError) as error:
            rows.append(Row(made.protocol, made.port, REFUSED, str(error)))
    return rows


def _upnp_entry(router: Router, made: Made) -> tuple[Row | None, upnp.Entry | None]:
    """The router's entry for a UPnP mapping nasrtc made, or the row saying it is gone or
    is now someone else's (then it must not be touched)."""
    assert router.upnp is not None
    entry = upnp.mapping(router.upnp, made.protocol, made.port)
    if entry is None:
        return Row(made.protocol, made.port, GONE), None
    if entry.description != made.description or entry.internal_client != router.lan_ip:
        return Row(made.protocol, made.port, CHANGED,
                   f"{entry.internal_client}:{entry.internal_port} '{entry.description}'"), None
    return None, entry


def _status_one(router: Router, made: Made, now: float, left: int | None) -> Row:
    if made.method == "upnp":
        not_ours, entry = _upnp_entry(router, made)
        if not_ours is not None or entry is None:
            return not_ours or Row(made.protocol, made.port, GONE)
        return Row(made.protocol, made.port, PRESENT, "", entry.lease)
    if made.lease and made.expires <= now:
        return Row(made.protocol, made.port, EXPIRED)
    # The router's epoch grows with time unless it restarted and lost its mappings.
    expected = made.epoch + (now - made.made_at) * 7 / 8  # RFC 6886, 3.6: clocks drift
    if made.epoch >= 0 and router.epoch >= 0 and router.epoch + EPOCH_SLACK < expected:
        return Row(made.protocol, made.port, GONE)
    return Row(made.protocol, made.port, PRESENT, "", left)


def close_ports(router: Router | None, record: list[Made]) -> tuple[list[Row], list[Made]]:
    """Delete what nasrtc made; a UPnP mapping that changed hands is left, and forgotten."""
    rows: list[Row] = []
    left: list[Made] = []
    for made in record:
        if router is None or router.method != made.method:
            rows.append(Row(made.protocol, made.port, REFUSED,
                            f"{made.method} does not answer"))
            left.append(made)
            continue
        try:
            rows.append(_close_one(router, made))
        except (natpmp.NatPmpError, pcp.PcpError) as error:
            if made.pending or error.code in NOT_THERE.get(made.method, ()):
                # The router has no such mapping of nasrtc's: never made (a killed open) or
                # deleted already (a killed close). miniupnpd answers so, where RFC 6887
                # says success.
                rows.append(Row(made.protocol, made.port, GONE, str(error)))
            else:
                rows.append(Row(made.protocol, made.port, REFUSED, str(error)))
                left.append(made)
        except (upnp.UpnpError, upnp.BadReply, OSError) as error:
            rows.append(Row(made.protocol, made.port, REFUSED, str(error)))
            left.append(made)
    return rows, left


def _close_one(router: Router, made: Made) -> Row:
    if made.method == "upnp":
        not_ours, _entry = _upnp_entry(router, made)
        if not_ours is not None:
            return not_ours
        assert router.upnp is not None
        upnp.delete_mapping(router.upnp, made.protocol, made.port)
    elif made.method == "nat-pmp":
        natpmp.map_port(router.gateway, made.protocol, made.port, 0, 0, router.lan_ip)
    else:
        pcp.map_port(router.gateway, router.lan_ip, made.protocol, made.port, 0, 0,
                     bytes.fromhex(made.nonce))
    step("router")
    return Row(made.protocol, made.port, REMOVED)
