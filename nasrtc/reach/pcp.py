"""PCP (RFC 6887) MAP requests to the default gateway on UDP 5351. A mapping is bound to a
nonce: only the nonce that made it can renew or delete it, so nasrtc keeps each one."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

from nasrtc.reach.wire import exchange

PORT = 5351
VERSION, OP_ANNOUNCE, OP_MAP = 2, 0, 1
PROTOCOLS = {"tcp": 6, "udp": 17}
RESULTS = {1: "unsupported version", 2: "not authorized", 3: "malformed request",
           4: "unsupported opcode", 5: "unsupported option", 6: "malformed option",
           7: "network failure", 8: "no resources", 9: "unsupported protocol",
           10: "user exceeded quota", 11: "cannot provide external port",
           12: "address mismatch", 13: "excessive remote peers"}
NO_RESOURCES = 8
# A port no service of the stack uses: its delete request maps nothing, and routers that
# fill in their external address even in an error answer tell it without any side effect.
PROBE_PORT = 9


class PcpError(Exception):
    def __init__(self, code: int, external: str | None = None) -> None:
        super().__init__(RESULTS.get(code, f"result code {code}"))
        self.code = code
        self.external = external


@dataclass(frozen=True)
class Mapped:
    protocol: str
    internal_port: int
    external_port: int
    external_address: str
    lifetime: int
    nonce: str  # hex


def _mapped_v4(address: str) -> bytes:
    return b"\x00" * 10 + b"\xff\xff" + socket.inet_aton(address)


def _header(opcode: int, lifetime: int, client: str) -> bytes:
    return struct.pack("!BBHI", VERSION, opcode, 0, lifetime) + _mapped_v4(client)


def _external(raw: bytes) -> str | None:
    address = ipaddress.IPv6Address(raw)
    v4 = address.ipv4_mapped
    if v4 is None or int(v4) == 0:
        return None
    return str(v4)


def announce(gateway: str, client: str) -> int | None:
    """The PCP server's epoch (seconds since its mappings began: smaller than expected after
    a restart that lost them), or None when no PCP server answers. ANNOUNCE changes nothing."""
    data = exchange((gateway, PORT), _header(OP_ANNOUNCE, 0, client),
                    lambda d: len(d) >= 24 and d[0] == VERSION and d[1] == 0x80 + OP_ANNOUNCE,
                    source=client)
    if data is None or data[3] != 0:
        return None
    return int(struct.unpack("!I", data[8:12])[0])


def map_port(gateway: str, client: str, protocol: str, internal: int, external: int,
             lifetime: int, nonce: bytes | None = None) -> Mapped | None:
    """MAP: create (lifetime > 0) or delete (0, with the nonce that made it)."""
    nonce = nonce or os.urandom(12)
    request = (_header(OP_MAP, lifetime, client) + nonce
               + struct.pack("!B3xHH", PROTOCOLS[protocol], internal, external)
               + _mapped_v4("0.0.0.0"))

    def ours(data: bytes) -> bool:
        return (len(data) >= 60 and data[0] == VERSION and data[1] == 0x80 + OP_MAP
                and data[24:36] == nonce)

    data = exchange((gateway, PORT), request, ours, source=client)
    if data is None:
        return None
    code, got_lifetime = data[3], struct.unpack("!I", data[4:8])[0]
    got_internal, got_external = struct.unpack("!HH", data[40:44])
    address = _external(data[44:60])
    if code:
        raise PcpError(code, address)
    if got_internal != internal or address is None:
        return None
    return Mapped(protocol, internal, got_external, address, got_lifetime, nonce.hex())


def external_address(gateway: str, client: str) -> str | None:
    """The router's external IPv4 address from a MAP request that maps nothing (lifetime 0
    for an unused port), or None when the router does not tell."""
    try:
        mapped = map_port(gateway, client, "udp", PROBE_PORT, PROBE_PORT, 0)
    except PcpError as error:
        return error.external
    return mapped.external_address if mapped else None
