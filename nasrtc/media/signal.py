"""What the SFU offers a caller, read off LiveKit's signalling WebSocket without a WebRTC
stack: the HTTP answer to the upgrade, the join (server version, TURN servers) and the
ICE candidates it trickles for the subscriber connection, which it sends right after the
join without waiting for the caller (see docs/upstream-facts.md, "LiveKit's signalling").

Written out instead of adding a WebSocket and a protobuf library: only a handful of
fields of three messages are read, from a server that is treated as hostile (every
length bounded, every read within the deadline)."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from nasrtc.doctor.net import Net

PROTOCOL = 16  # the signalling protocol livekit-client (Element Call's SDK) sends; 3+ gets the
# subscriber offer and its candidates right after the join
MAX_HEADERS = 16 * 1024
MAX_MESSAGE = 1 << 20
QUIET = 1.0  # seconds without a new candidate after which the list is taken as complete

# livekit/protocol, protobufs/livekit_rtc.proto: field numbers read here
RESPONSE_JOIN, RESPONSE_OFFER, RESPONSE_TRICKLE, RESPONSE_LEAVE = 1, 3, 4, 8
JOIN_SERVER_VERSION, JOIN_ICE_SERVERS = 4, 5
ICE_SERVER_URLS = 1
TRICKLE_CANDIDATE, TRICKLE_FINAL = 1, 3
DESCRIPTION_SDP = 2
REQUEST_LEAVE, LEAVE_CAN_RECONNECT, LEAVE_REASON = 8, 1, 2
CLIENT_INITIATED = 1


@dataclass(frozen=True)
class Candidate:
    protocol: str  # udp | tcp
    address: str
    port: int
    kind: str  # host | srflx | prflx | relay

    def __str__(self) -> str:
        return f"{self.protocol.upper()} {self.address}:{self.port}"

    @property
    def reachable_from_outside(self) -> bool:
        try:
            return ipaddress.ip_address(self.address).is_global
        except ValueError:
            return False  # a name (mDNS) or garbage


@dataclass
class Offer:
    status: int = 0  # the HTTP status of the upgrade; 101 when it was accepted
    reason: str = ""  # the body of a refused upgrade, or what went wrong
    joined: bool = False
    server_version: str = ""
    ice_servers: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    left: bool = False  # the server sent a leave (it refused the participant)
    waited: float = 0.0


def parse_candidate(line: str) -> Candidate | None:
    """`candidate:<foundation> <component> <protocol> <priority> <address> <port> typ
    <type> ...` (RFC 8839), with or without `a=`; None for anything else."""
    text = line.strip()
    parts = (text[2:] if text.startswith("a=") else text).split()
    if len(parts) < 8 or not parts[0].startswith("candidate:") or parts[6] != "typ":
        return None
    if not parts[5].isdigit() or parts[2].lower() not in ("udp", "tcp"):
        return None
    return Candidate(parts[2].lower(), parts[4][:64], int(parts[5]), parts[7][:8])


# ---------------------------------------------------------------- protobuf, read-only


def fields(data: bytes) -> dict[int, list[Any]]:
    """A protobuf message's fields: number -> values (int for varints, bytes otherwise)."""
    found: dict[int, list[Any]] = {}
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            size, at = _varint(data, at)
            if size > len(data) - at:
                raise ValueError("a field runs past the message")
            value, at = data[at:at + size], at + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, at = data[at:at + size], at + size
        else:
            raise ValueError(f"wire type {wire}")
        found.setdefault(number, []).append(value)
    return found


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(10):
        if at >= len(data):
            raise ValueError("a varint runs past the message")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise ValueError("a varint longer than 10 bytes")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace")[:4096] if isinstance(value, bytes) else ""


def encode_leave() -> bytes:
    """SignalRequest{leave: LeaveRequest{can_reconnect: false, reason: CLIENT_INITIATED}}."""
    inner = bytes([LEAVE_CAN_RECONNECT << 3, 0, LEAVE_REASON << 3, CLIENT_INITIATED])
    return bytes([REQUEST_LEAVE << 3 | 2, len(inner)]) + inner


def read_response(message: bytes, offer: Offer) -> bool:
    """One SignalResponse into `offer`; True when the candidate list is complete."""
    top = fields(message)
    for join in top.get(RESPONSE_JOIN, []):
        inner = fields(join)
        offer.joined = True
        offer.server_version = _text((inner.get(JOIN_SERVER_VERSION) or [b""])[0])[:40]
        for server in inner.get(JOIN_ICE_SERVERS, [])[:16]:
            offer.ice_servers += [_text(u)[:200] for u in fields(server).get(ICE_SERVER_URLS,
                                                                             [])[:8]]
    for description in top.get(RESPONSE_OFFER, []):
        for line in _text((fields(description).get(DESCRIPTION_SDP) or [b""])[0]).splitlines():
            _add(offer, parse_candidate(line))
    for trickle in top.get(RESPONSE_TRICKLE, []):
        inner = fields(trickle)
        try:
            init = json.loads(_text((inner.get(TRICKLE_CANDIDATE) or [b"{}"])[0]) or "{}")
        except ValueError:
            init = {}
        if isinstance(init, dict) and isinstance(init.get("candidate"), str):
            _add(offer, parse_candidate(init["candidate"]))
        if any(inner.get(TRICKLE_FINAL, [])):
            return True
    if RESPONSE_LEAVE in top:
        offer.left = True
        return True
    return False


def _add(offer: Offer, candidate: Candidate | None) -> None:
    if candidate and candidate not in offer.candidates and len(offer.candidates) < 64:
        offer.candidates.append(candidate)


# ---------------------------------------------------------------- WebSocket, client side


class _Closed(Exception):
    pass


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 5.3: a client masks every frame)."""
    mask = os.urandom(4)
    size = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | size]) if size < 126 else
                                     bytes([0x80 | 126]) + struct.pack("!H", size))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class _Reader:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline, self.buffer = sock, deadline, b""

    def receive(self, size: int) -> None:
        """One read into the buffer, within the deadline (each wait at most a second)."""
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("deadline")
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(size)
            except socket.timeout:
                continue
            if not chunk:
                raise _Closed()
            self.buffer += chunk
            return

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.receive(65536)
            if len(self.buffer) > MAX_MESSAGE + MAX_HEADERS:
                raise ValueError("the server sends more than a signalling message")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def headers(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEADERS:
                raise ValueError("the answer's headers are too long")
            self.receive(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        return head

    def message(self) -> tuple[int, bytes]:
        """The next data message (opcode, payload), answering pings on the way."""
        parts: list[bytes] = []
        opcode = 0
        while True:
            first, second = self.exactly(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self.exactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self.exactly(8))[0]
            if size > MAX_MESSAGE or sum(map(len, parts)) + size > MAX_MESSAGE:
                raise ValueError("a message larger than 1 MB")
            mask = self.exactly(4) if second & 0x80 else b""
            payload = self.exactly(size)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            kind = first & 0x0F
            if kind == 8:
                raise _Closed()
            if kind == 9:
                self.sock.sendall(_frame(10, payload[:125]))
                continue
            if kind == 10:
                continue
            if kind:
                opcode = kind
            parts.append(payload)
            if first & 0x80:
                return opcode, b"".join(parts)


def peek(net: Net, url: str, token: str, wait: float) -> Offer:
    """Join the room on LiveKit's WebSocket for at most `wait` seconds and note what it
    says; leaves as a client does. Never raises for what the server does."""
    offer = Offer()
    started = time.monotonic()
    parts = urlsplit(url)
    tls = parts.scheme in ("wss", "https")
    host = parts.hostname or ""
    query = urlencode({"access_token": token, "protocol": PROTOCOL, "auto_subscribe": 1,
                       "sdk": "python", "version": "nasrtc"})
    path = f"{parts.path.rstrip('/')}/rtc?{query}"
    try:
        sock = net._socket(host, parts.port or (443 if tls else 80), tls)
    except (OSError, ValueError) as exc:
        offer.reason = f"{exc.__class__.__name__}: {exc}"[:200]
        return offer
    reader = _Reader(sock, started + wait)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\nUser-Agent: nasrtc-doctor\r\n\r\n")
                     .encode())
        status_line = reader.headers().split(b"\r\n", 1)[0].decode("latin-1")
        words = status_line.split(" ", 2)
        offer.status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
        if offer.status != 101:
            # LiveKit's 401 body repeats the token: never let it reach a row
            offer.reason = reader.buffer[:300].decode("utf-8", "replace").strip() \
                .replace(token, "<token>")
            if "invalid token:" in offer.reason:
                offer.reason = offer.reason.split("invalid token:", 1)[0] + "invalid token"
            return offer
        last_new = None
        while True:
            if last_new is not None:
                reader.deadline = min(started + wait, last_new + QUIET)
            count = len(offer.candidates)
            opcode, payload = reader.message()
            if opcode == 2 and read_response(payload, offer):
                break
            if len(offer.candidates) > count:
                last_new = time.monotonic()
    except socket.timeout:
        if not offer.joined:
            offer.reason = "silent"
    except _Closed:
        if not offer.joined:
            offer.reason = "closed"
    except (OSError, ValueError) as exc:
        offer.reason = f"{exc.__class__.__name__}: {exc}"[:200]
    finally:
        try:
            if offer.status == 101:
                sock.settimeout(1.0)
                sock.sendall(_frame(2, encode_leave()) + _frame(8, b"\x03\xe8"))
        except OSError:
            pass
        sock.close()
        offer.waited = round(time.monotonic() - started, 2)
    return offer
