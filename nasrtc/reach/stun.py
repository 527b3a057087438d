"""The address the internet sees: a STUN Binding request (RFC 5389), its answer checked
field by field (type, cookie, transaction, attribute lengths)."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import threading

from nasrtc.reach.wire import exchange

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST, BINDING_SUCCESS = 0x0001, 0x0101
MAPPED_ADDRESS, XOR_MAPPED_ADDRESS = 0x0001, 0x0020
# LiveKit's own choice when rtc.stun_servers is empty: the same servers see the same address.
DEFAULT_SERVERS = ("stun.l.google.com:19302", "stun1.l.google.com:19302")


def parse_binding(data: bytes, transaction: bytes) -> tuple[str, int] | None:
    """(address, port) from a Binding success answer to `transaction`, else None."""
    if len(data) < 20:
        return None
    kind, length, cookie = struct.unpack("!HHI", data[:8])
    if kind != BINDING_SUCCESS or cookie != MAGIC_COOKIE or data[8:20] != transaction:
        return None
    if length % 4 or length != len(data) - 20:
        return None
    found: dict[int, tuple[str, int]] = {}
    offset = 20
    while offset + 4 <= len(data):
        attribute, size = struct.unpack("!HH", data[offset:offset + 4])
        value = data[offset + 4:offset + 4 + size]
        if len(value) != size:
            return None
        if attribute in (MAPPED_ADDRESS, XOR_MAPPED_ADDRESS) and attribute not in found:
            address = _address(value, attribute == XOR_MAPPED_ADDRESS, transaction)
            if address:
                found[attribute] = address
        offset += 4 + size + (-size % 4)
    return found.get(XOR_MAPPED_ADDRESS) or found.get(MAPPED_ADDRESS)


def _address(value: bytes, xored: bool, transaction: bytes) -> tuple[str, int] | None:
    if len(value) not in (8, 20) or value[0] != 0:
        return None
    family, port = value[1], struct.unpack("!H", value[2:4])[0]
    raw = value[4:]
    if (family, len(raw)) not in ((1, 4), (2, 16)):
        return None
    if xored:
        port ^= MAGIC_COOKIE >> 16
        key = struct.pack("!I", MAGIC_COOKIE) + transaction
        raw = bytes(b ^ k for b, k in zip(raw, key))
    return str(ipaddress.ip_address(raw)), port


RESOLVE_TIMEOUT = 3.0  # seconds for the STUN server's name (a NAS with a dead resolver)


def _resolve(host: str, port: int, timeout: float | None = None) -> tuple[str, int] | None:
    """The server's first IPv4 address, within `timeout`: the lookup runs in a daemon
    thread, so a resolver that never answers holds neither the caller nor the exit."""
    found: list[tuple[str, int]] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)
            found.append((str(infos[0][4][0]), int(infos[0][4][1])))
        except (OSError, ValueError, IndexError, UnicodeError):
            pass
        finally:
            done.set()

    threading.Thread(target=lookup, daemon=True, name="stun-resolve").start()
    done.wait(RESOLVE_TIMEOUT if timeout is None else timeout)
    return found[0] if found else None


def seen_address(server: str, source: str = "", timeout: float = 1.0) -> str | None:
    """The IPv4 address `server` ('host:port') sees this host's packets come from."""
    host, _, port = server.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        return None
    peer = _resolve(host.strip("[]"), number)
    if peer is None:
        return None
    transaction = os.urandom(12)
    request = struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC_COOKIE) + transaction
    answer = exchange(peer, request, lambda data: parse_binding(data, transaction) is not None,
                      source=source, first_wait=timeout / 3, tries=2)
    found = parse_binding(answer, transaction) if answer else None
    if not found or ":" in found[0]:
        return None  # asked over IPv4: an IPv6 answer is not about this line
    return found[0]
