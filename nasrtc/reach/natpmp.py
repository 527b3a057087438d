"""NAT-PMP (RFC 6886) to the default gateway on UDP 5351: the router's public address and
port mappings. Answers are checked for version, opcode and length; result codes named."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from nasrtc.reach.wire import exchange

PORT = 5351
OP_ADDRESS, OP_UDP, OP_TCP = 0, 1, 2
RESULTS = {1: "unsupported version", 2: "not authorized (NAT-PMP switched off or refused)",
           3: "network failure (the router has no public address)", 4: "out of resources",
           5: "unsupported opcode"}


class NatPmpError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(RESULTS.get(code, f"result code {code}"))
        self.code = code
        self.epoch: int | None = None


@dataclass(frozen=True)
class Mapped:
    protocol: str
    internal_port: int
    external_port: int
    lifetime: int  # seconds; 0 = deleted


def _answer(data: bytes, opcode: int, size: int) -> bool:
    return len(data) >= size and data[0] == 0 and data[1] == 128 + opcode


def _result(data: bytes) -> None:
    code = struct.unpack("!H", data[2:4])[0]
    if code:
        raise NatPmpError(code)


def epoch(data: bytes) -> int:
    """Seconds since the router's mapping table started: a smaller one than expected means
    it restarted and forgot every mapping (RFC 6886, 3.6)."""
    return int(struct.unpack("!I", data[4:8])[0])


def ask_address(gateway: str, source: str = "") -> tuple[str, int] | None:
    """(the router's public IPv4 address, its epoch); None when nothing answers;
    NatPmpError (with .epoch) when the router answers no."""
    data = exchange((gateway, PORT), b"\x00\x00", lambda d: _answer(d, OP_ADDRESS, 12),
                    source=source)
    if data is None:
        return None
    try:
        _result(data)
    except NatPmpError as error:
        error.epoch = epoch(data)
        raise
    return socket.inet_ntoa(data[8:12]), epoch(data)


def public_address(gateway: str, source: str = "") -> str | None:
    answer = ask_address(gateway, source)
    return answer[0] if answer else None


def map_port(gateway: str, protocol: str, internal: int, external: int, lifetime: int,
             source: str = "") -> Mapped | None:
    """Create (lifetime > 0) or delete (0) a mapping; the router's answer, None if silent."""
    opcode = OP_UDP if protocol == "udp" else OP_TCP
    request = struct.pack("!BBHHHI", 0, opcode, 0, internal, external, lifetime)
    data = exchange((gateway, PORT), request, lambda d: _answer(d, opcode, 16), source=source)
    if data is None:
        return None
    _result(data)
    got_internal, got_external, got_lifetime = struct.unpack("!HHI", data[8:16])
    if got_internal != internal:
        return None  # an answer to another request
    return Mapped(protocol, internal, got_external, got_lifetime)
