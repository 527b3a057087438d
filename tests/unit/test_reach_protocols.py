"""The router and internet probes of nasrtc.reach against servers these tests run on
127.0.0.1: STUN, NAT-PMP and PCP over UDP, UPnP IGD over HTTP, and the port mappings made
through UPnP. A right answer is read; a wrong, hostile, slow or absent one gives nothing
(or a named error) within a few seconds, and a mapping nasrtc did not make is never
touched. No packet leaves loopback: SSDP search, the default gateway and the real STUN
servers are never asked."""

from __future__ import annotations

import http.server
import json
import socket
import struct
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Callable, Iterator, List, NamedTuple, cast
from xml.sax.saxutils import escape

import pytest

from nasrtc.reach import mappings, natpmp, pcp, stun, upnp

LOOPBACK = "127.0.0.1"
POLL = 0.05              # s: how often a server thread looks at its stop flag
SERVER_LIFETIME = 30.0   # s: a server thread ends by then, whatever the test does
MAX_LOOPS = 5000         # a server thread's turns at most (polls plus requests)
MAX_SENT = 1000          # datagrams a UDP server sends for one request at most
DRIP_FOR = 5.0           # s: a slow server drips this long at most
DRIP_EVERY = 0.05        # s between two dripped bytes

PUBLIC = "198.51.100.20"          # the router's WAN address in the answers (TEST-NET-2)
SEEN = ("203.0.113.7", 40000)     # what the STUN server sees (TEST-NET-3)
TRANSACTION = b"0123456789ab"

# The time the clients may take when nothing useful answers. NAT-PMP and PCP wait
# 0.25 + 0.5 + 1 s (three tries); "a few seconds" leaves room for a loaded machine.
UDP_BOUND = 4.0
HTTP_BOUND = 3.0  # with the HTTP timeout cut to SHORT_TIMEOUT (twice that for the body)
SHORT_TIMEOUT = 0.5

WANIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
WANIP2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
WANPPP1 = "urn:schemas-upnp-org:service:WANPPPConnection:1"


# ------------------------------------------------------------------ UDP servers

Answer = Callable[[bytes], List[bytes]]


class UdpServer:
    """Answers each datagram to 127.0.0.1:port with the datagrams `answer` gives for it
    (from another port when `other_port`), and keeps what it received."""

    def __init__(self, answer: Answer, other_port: bool = False) -> None:
        self.answer = answer
        self.received: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.settimeout(POLL)
        self.port = int(self.sock.getsockname()[1])
        self.out = self.sock
        if other_port:
            self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.out.bind((LOOPBACK, 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        deadline = time.monotonic() + SERVER_LIFETIME
        for _ in range(MAX_LOOPS):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except ConnectionError:
                continue
            except OSError:
                return
            self.received.append(data)
            for reply in self.answer(data)[:MAX_SENT]:
                try:
                    self.out.sendto(reply, peer)
                except OSError:
                    break

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
        if self.out is not self.sock:
            self.out.close()


@pytest.fixture
def udp() -> Iterator[Callable[..., UdpServer]]:
    servers: list[UdpServer] = []

    def start(answer: Answer, other_port: bool = False) -> UdpServer:
        server = UdpServer(answer, other_port)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.close()


@pytest.fixture
def gateway_udp(udp: Callable[..., UdpServer],
                monkeypatch: pytest.MonkeyPatch) -> Callable[..., UdpServer]:
    """A UDP server standing in for the router's NAT-PMP/PCP port (5351)."""

    def start(answer: Answer, other_port: bool = False) -> UdpServer:
        server = udp(answer, other_port)
        monkeypatch.setattr(natpmp, "PORT", server.port)
        monkeypatch.setattr(pcp, "PORT", server.port)
        return server

    return start


def silent(_request: bytes) -> list[bytes]:
    return []


def always(*replies: bytes) -> Answer:
    return lambda _request: list(replies)


# ------------------------------------------------------------------ STUN

COOKIE = 0x2112A442


def stun_attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * (-len(value) % 4)


def xor_mapped(transaction: bytes, address: str = SEEN[0], port: int = SEEN[1],
               family: int = 1) -> bytes:
    raw = socket.inet_pton(socket.AF_INET if family == 1 else socket.AF_INET6, address)
    key = struct.pack("!I", COOKIE) + transaction
    value = (struct.pack("!BBH", 0, family, port ^ (COOKIE >> 16))
             + bytes(b ^ k for b, k in zip(raw, key)))
    return stun_attribute(0x0020, value)


def mapped(address: str, port: int = SEEN[1]) -> bytes:
    return stun_attribute(0x0001, struct.pack("!BBH", 0, 1, port) + socket.inet_aton(address))


def binding(attributes: bytes, transaction: bytes, kind: int = 0x0101, cookie: int = COOKIE,
            length: int | None = None) -> bytes:
    size = len(attributes) if length is None else length
    return struct.pack("!HHI", kind, size, cookie) + transaction + attributes


def other(transaction: bytes) -> bytes:
    return bytes([transaction[0] ^ 0xFF]) + transaction[1:]


STUN_GOOD: dict[str, Callable[[bytes], bytes]] = {
    "xor-mapped-address": lambda t: binding(xor_mapped(t), t),
    "after-a-padded-software-attribute":
        lambda t: binding(stun_attribute(0x8022, b"coturn 4.6") + xor_mapped(t), t),
    "mapped-address-only": lambda t: binding(mapped(SEEN[0]), t),
    "xor-preferred-over-mapped": lambda t: binding(mapped("192.0.2.99") + xor_mapped(t), t),
}

STUN_BAD: dict[str, Callable[[bytes], bytes]] = {
    "wrong-transaction": lambda t: binding(xor_mapped(other(t)), other(t)),
    "wrong-cookie": lambda t: binding(xor_mapped(t), t, cookie=COOKIE ^ 1),
    "error-response-type": lambda t: binding(xor_mapped(t), t, kind=0x0111),
    "the-request-echoed": lambda t: binding(b"", t, kind=0x0001),
    "truncated-attribute":  # says 8 bytes of value, carries 4
        lambda t: binding(struct.pack("!HH", 0x0020, 8) + b"\x00\x01\x9c\x42", t),
    "length-says-more": lambda t: binding(xor_mapped(t), t, length=len(xor_mapped(t)) + 4),
    "length-says-less": lambda t: binding(xor_mapped(t), t, length=len(xor_mapped(t)) - 4),
    "length-not-a-multiple-of-4": lambda t: binding(xor_mapped(t) + b"\x00\x00", t),
    "cut-short": lambda t: binding(xor_mapped(t), t)[:-3],
    "address-of-wrong-size":
        lambda t: binding(stun_attribute(0x0020, b"\x00\x01\x9c\x42\x01\x02"), t),
    "ipv6-family": lambda t: binding(xor_mapped(t, "2001:db8::7", family=2), t),
    "garbage": lambda t: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),
    "header-only-19-bytes": lambda t: binding(b"", t)[:19],
    "empty": lambda t: b"",
}


def stun_server(udp: Callable[..., UdpServer], make: Callable[[bytes], bytes]) -> UdpServer:
    return udp(lambda request: [make(request[8:20])] if len(request) >= 20 else [])


@pytest.mark.parametrize("case", sorted(STUN_GOOD))
def test_stun_parse_binding_reads_the_mapped_address(case: str) -> None:
    assert stun.parse_binding(STUN_GOOD[case](TRANSACTION), TRANSACTION) == SEEN


@pytest.mark.parametrize("case", sorted(set(STUN_BAD) - {"ipv6-family"}))
def test_stun_parse_binding_refuses_a_bad_answer(case: str) -> None:
    assert stun.parse_binding(STUN_BAD[case](TRANSACTION), TRANSACTION) is None


@pytest.mark.parametrize("case", sorted(STUN_GOOD))
def test_stun_seen_address_from_a_right_answer(udp: Callable[..., UdpServer],
                                               case: str) -> None:
    server = stun_server(udp, STUN_GOOD[case])
    assert stun.seen_address(f"{LOOPBACK}:{server.port}", timeout=0.6) == SEEN[0]
    request = server.received[0]
    assert len(request) == 20 and request[:8] == struct.pack("!HHI", 0x0001, 0, COOKIE)


@pytest.mark.parametrize("case", sorted(STUN_BAD))
def test_stun_seen_address_is_none_for_a_bad_answer(udp: Callable[..., UdpServer],
                                                    case: str) -> None:
    """Every bad answer is dropped; the client ends at its own bound. An IPv6 family
    answer is no IPv4 address: seen_address promises the IPv4 one the server sees."""
    server = stun_server(udp, STUN_BAD[case])
    start = time.monotonic()
    assert stun.seen_address(f"{LOOPBACK}:{server.port}", timeout=0.3) is None
    assert time.monotonic() - start < 2.0
    assert server.received, "the request reached the server, its answer was refused"


def test_stun_silence_gives_none_in_bounded_time(udp: Callable[..., UdpServer]) -> None:
    server = udp(silent)
    start = time.monotonic()
    assert stun.seen_address(f"{LOOPBACK}:{server.port}") is None  # timeout 1 s
    assert time.monotonic() - start < 3.0
    assert len(server.received) == 2  # one resend, no more


@pytest.mark.parametrize("server", ["127.0.0.1", "127.0.0.1:port", "127.0.0.1:99999"])
def test_stun_malformed_server_name_gives_none(server: str) -> None:
    assert stun.seen_address(server, timeout=0.3) is None


# ------------------------------------------------------------------ NAT-PMP


def pmp_address(result: int = 0, epoch: int = 4242, address: str = PUBLIC,
                version: int = 0, opcode: int = 0) -> bytes:
    return struct.pack("!BBHI", version, 128 + opcode, result, epoch) + socket.inet_aton(address)


def pmp_map(result: int = 0, internal: int | None = None, external: int | None = None,
            lifetime: int = 7200) -> Answer:
    def answer(request: bytes) -> list[bytes]:
        if len(request) != 12:
            return []
        _, opcode, _, asked_internal, asked_external, _ = struct.unpack("!BBHHHI", request)
        return [struct.pack("!BBHIHHI", 0, 128 + opcode, result, 4242,
                            asked_internal if internal is None else internal,
                            asked_external if external is None else external, lifetime)]
    return answer


def test_natpmp_address_and_epoch(gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(always(pmp_address()))
    assert natpmp.ask_address(LOOPBACK) == (PUBLIC, 4242)
    assert natpmp.public_address(LOOPBACK) == PUBLIC
    assert server.received[0] == b"\x00\x00"


def test_natpmp_network_failure_raises_its_code_and_epoch(
        gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(always(pmp_address(result=3, epoch=99, address="0.0.0.0")))
    with pytest.raises(natpmp.NatPmpError) as raised:
        natpmp.ask_address(LOOPBACK)
    assert raised.value.code == 3 and raised.value.epoch == 99
    assert "no public address" in str(raised.value)


@pytest.mark.parametrize("reply", [
    pytest.param(pmp_address(opcode=1) + bytes(4), id="a-map-answer"),
    pytest.param(pmp_address()[:11], id="too-short"),
    pytest.param(pmp_address(version=1), id="version-1"),
    pytest.param(b"\x00\x00", id="the-request-echoed"),
])
def test_natpmp_wrong_answer_is_ignored(gateway_udp: Callable[..., UdpServer],
                                        reply: bytes) -> None:
    server = gateway_udp(always(reply))
    start = time.monotonic()
    assert natpmp.ask_address(LOOPBACK) is None
    assert time.monotonic() - start < UDP_BOUND
    assert len(server.received) == 3  # every try was answered, wrongly


def test_natpmp_silence_gives_none_in_bounded_time(
        gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(silent)
    start = time.monotonic()
    assert natpmp.ask_address(LOOPBACK) is None
    assert time.monotonic() - start < UDP_BOUND
    assert len(server.received) == 3


def test_natpmp_a_flood_of_wrong_datagrams_does_not_hold_the_client(
        gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(always(*[b"\xff" * 12] * 500))
    start = time.monotonic()
    assert natpmp.ask_address(LOOPBACK) is None
    assert time.monotonic() - start < UDP_BOUND
    assert server.received


def test_natpmp_wrong_datagrams_before_the_answer_are_skipped(
        gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(always(*[b"\xff" * 12] * 10, pmp_address()))
    start = time.monotonic()
    assert natpmp.ask_address(LOOPBACK) == (PUBLIC, 4242)
    assert time.monotonic() - start < 1.0


def test_natpmp_an_answer_from_another_port_is_not_trusted(
        gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(always(pmp_address()), other_port=True)
    assert natpmp.ask_address(LOOPBACK) is None
    assert len(server.received) == 3


@pytest.mark.parametrize("protocol, opcode", [("udp", 1), ("tcp", 2)])
def test_natpmp_map_port(gateway_udp: Callable[..., UdpServer], protocol: str,
                         opcode: int) -> None:
    server = gateway_udp(pmp_map(lifetime=7200))
    got = natpmp.map_port(LOOPBACK, protocol, 7882, 7882, 604800)
    assert got == natpmp.Mapped(protocol, 7882, 7882, 7200)
    assert struct.unpack("!BBHHHI", server.received[0]) == (0, opcode, 0, 7882, 7882, 604800)


def test_natpmp_map_answer_for_another_port_gives_none(
        gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(pmp_map(internal=7883))
    assert natpmp.map_port(LOOPBACK, "udp", 7882, 7882, 3600) is None


def test_natpmp_map_refused_raises_the_code(gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(pmp_map(result=2))
    with pytest.raises(natpmp.NatPmpError) as raised:
        natpmp.map_port(LOOPBACK, "tcp", 443, 443, 3600)
    assert raised.value.code == 2


# ------------------------------------------------------------------ PCP


def v4_mapped(address: str) -> bytes:
    return b"\x00" * 10 + b"\xff\xff" + socket.inet_aton(address)


def pcp_answer(result: int = 0, lifetime: int = 7200, nonce: bytes | None = None,
               address: bytes = v4_mapped(PUBLIC), epoch: int = 8888) -> Answer:
    def answer(request: bytes) -> list[bytes]:
        if len(request) < 24:
            return []
        opcode = request[1]
        head = struct.pack("!BBBBII", 2, 0x80 | opcode, 0, result, lifetime, epoch) + bytes(12)
        if opcode == 0 or len(request) < 60:
            return [head]
        internal, external = struct.unpack("!HH", request[40:44])
        return [head + (request[24:36] if nonce is None else nonce)
                + struct.pack("!B3xHH", request[36], internal, external) + address]
    return answer


def test_pcp_map_port(gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(pcp_answer(lifetime=7200))
    got = pcp.map_port(LOOPBACK, LOOPBACK, "udp", 7882, 7882, 604800)
    request = server.received[0]
    assert got == pcp.Mapped("udp", 7882, 7882, PUBLIC, 7200, request[24:36].hex())
    assert len(request) == 60 and request[:2] == b"\x02\x01"
    assert struct.unpack("!I", request[4:8])[0] == 604800
    assert request[8:24] == v4_mapped(LOOPBACK)
    assert request[36] == 17 and struct.unpack("!HH", request[40:44]) == (7882, 7882)


def test_pcp_delete_sends_the_nonce_that_made_the_mapping(
        gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(pcp_answer(lifetime=0))
    nonce = bytes(range(1, 13))
    got = pcp.map_port(LOOPBACK, LOOPBACK, "tcp", 443, 0, 0, nonce)
    assert got is not None and got.nonce == nonce.hex() and got.lifetime == 0
    assert server.received[0][24:36] == nonce and server.received[0][36] == 6


def test_pcp_answer_with_another_nonce_is_ignored(
        gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(pcp_answer(nonce=b"\xee" * 12))
    start = time.monotonic()
    assert pcp.map_port(LOOPBACK, LOOPBACK, "udp", 7882, 7882, 3600) is None
    assert time.monotonic() - start < UDP_BOUND
    assert len(server.received) == 3


def test_pcp_error_answer_still_tells_the_external_address(
        gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(pcp_answer(result=8, lifetime=0))
    assert pcp.external_address(LOOPBACK, LOOPBACK) == PUBLIC
    request = server.received[0]  # the probe maps nothing: port 9, lifetime 0
    assert struct.unpack("!I", request[4:8])[0] == 0
    assert struct.unpack("!HH", request[40:44]) == (pcp.PROBE_PORT, pcp.PROBE_PORT)


@pytest.mark.parametrize("address", [
    pytest.param(bytes(16), id="all-zeros"),
    pytest.param(v4_mapped("0.0.0.0"), id="mapped-zero"),
])
def test_pcp_error_answer_without_an_address_gives_none(
        gateway_udp: Callable[..., UdpServer], address: bytes) -> None:
    gateway_udp(pcp_answer(result=8, lifetime=0, address=address))
    assert pcp.external_address(LOOPBACK, LOOPBACK) is None


def test_pcp_external_address_from_a_success_answer(
        gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(pcp_answer(lifetime=0))
    assert pcp.external_address(LOOPBACK, LOOPBACK) == PUBLIC


def test_pcp_map_refused_raises_code_and_address(
        gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(pcp_answer(result=11))
    with pytest.raises(pcp.PcpError) as raised:
        pcp.map_port(LOOPBACK, LOOPBACK, "tcp", 443, 443, 3600)
    assert raised.value.code == 11 and raised.value.external == PUBLIC


def test_pcp_announce_gives_the_epoch(gateway_udp: Callable[..., UdpServer]) -> None:
    server = gateway_udp(pcp_answer(lifetime=0, epoch=31337))
    assert pcp.announce(LOOPBACK, LOOPBACK) == 31337
    assert len(server.received[0]) == 24 and server.received[0][:2] == b"\x02\x00"


def test_pcp_announce_refused_gives_none(gateway_udp: Callable[..., UdpServer]) -> None:
    gateway_udp(pcp_answer(result=1, lifetime=0))
    assert pcp.announce(LOOPBACK, LOOPBACK) is None


# ------------------------------------------------------------------ HTTP servers


class Request(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Callable[["Handler", bytes], None]


class Site:
    """What the HTTP server answers (a route per path) and what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.stopped = threading.Event()
        self.base = ""


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    timeout = POLL

    def __init__(self, site: Site) -> None:
        super().__init__((LOOPBACK, 0), Handler)
        self.site = site


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5.0  # a client that stalls does not hold a handler thread long

    def _dispatch(self) -> None:
        site = cast(SiteServer, self.server).site
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(length) if length > 0 else b""
        path = self.path.split("?")[0]
        site.requests.append(Request(self.command, path, dict(self.headers.items()), body))
        route = site.routes.get(path)
        if route is None:
            send(self, 404, b"not here", "text/plain")
        else:
            route(self, body)

    do_GET = _dispatch
    do_POST = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        pass


def send(handler: Handler, status: int, body: bytes,
         content_type: str = 'text/xml; charset="utf-8"') -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except OSError:
        pass  # the client gave up (an answer too large for it, say)


def canned(status: int, body: bytes) -> Route:
    return lambda handler, _request: send(handler, status, body)


def _serve(server: SiteServer, stop: threading.Event) -> None:
    deadline = time.monotonic() + SERVER_LIFETIME
    for _ in range(MAX_LOOPS):
        if stop.is_set() or time.monotonic() > deadline:
            return
        server.handle_request()  # waits POLL at most


@pytest.fixture
def site() -> Iterator[Site]:
    here = Site()
    server = SiteServer(here)
    here.base = f"http://{LOOPBACK}:{server.server_port}"
    thread = threading.Thread(target=_serve, args=(server, here.stopped), daemon=True)
    thread.start()
    try:
        yield here
    finally:
        here.stopped.set()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def short_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """upnp's HTTP timeout cut to SHORT_TIMEOUT, so the slow-server tests take a second."""
    real = upnp._http

    def quick(method: str, url: str, body: bytes | None = None,
              headers: dict[str, str] | None = None, timeout: float = 3.0) -> tuple[int, bytes]:
        return real(method, url, body, headers, SHORT_TIMEOUT)

    monkeypatch.setattr(upnp, "_http", quick)


# ------------------------------------------------------------------ UPnP: description


def service(kind: str, control: str, name: str) -> str:
    return (f"<service><serviceType>{kind}</serviceType>"
            f"<serviceId>urn:upnp-org:serviceId:{name}</serviceId>"
            f"<SCPDURL>/{name}.xml</SCPDURL><controlURL>{control}</controlURL>"
            f"<eventSubURL>/evt/{name}</eventSubURL></service>")


WAN_IP = service(WANIP1, "/ctl/IPConn", "WANIPConn1")


def igd(connection: str = WAN_IP, url_base: str = "", padding: int = 0,
        prolog: str = "", friendly: str = "Home Router") -> str:
    """An IGDv1 description as miniupnpd writes it: the WAN connection service sits in
    the WANConnectionDevice inside the WANDevice inside the gateway."""
    base = f"<URLBase>{url_base}</URLBase>" if url_base else ""
    pad = f"<!-- {'x' * padding} -->" if padding else ""
    common = service("urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
                     "/ctl/CmnIfCfg", "WANCommonIFC1")
    layer3 = service("urn:schemas-upnp-org:service:Layer3Forwarding:1", "/ctl/L3F", "L3F")
    return f"""<?xml version="1.0"?>
{prolog}<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>{base}{pad}
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>{friendly}</friendlyName>
<manufacturer>Example Networks</manufacturer>
<manufacturerURL>http://www.example.com/</manufacturerURL>
<modelDescription>Wireless router</modelDescription>
<modelName>HR-1000</modelName><modelNumber>1</modelNumber>
<serialNumber>00000001</serialNumber>
<UDN>uuid:4d696e69-5550-6e50-2044-657669636500</UDN>
<serviceList>{layer3}</serviceList>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<friendlyName>WANDevice</friendlyName>
<UDN>uuid:4d696e69-5550-6e50-2044-657669636501</UDN>
<serviceList>{common}</serviceList>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<friendlyName>WANConnectionDevice</friendlyName>
<UDN>uuid:4d696e69-5550-6e50-2044-657669636502</UDN>
<serviceList>{connection}</serviceList>
</device></deviceList>
</device></deviceList>
<presentationURL>/</presentationURL>
</device>
</root>
"""


MEDIA_SERVER = f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>
<friendlyName>DiskStation</friendlyName>
<manufacturer>Example NAS</manufacturer>
<modelName>DS-1</modelName>
<UDN>uuid:73796e6f-6473-6d00-0000-001132000001</UDN>
<serviceList>
{service("urn:schemas-upnp-org:service:ContentDirectory:1", "/ctl/ContentDir", "ContentDirectory")}
{service("urn:schemas-upnp-org:service:ConnectionManager:1", "/ctl/ConnMgr", "ConnectionManager")}
</serviceList>
</device>
</root>
"""


def laughs(levels: int = 9) -> str:
    lines = ['<!ENTITY lol0 "lol">']
    lines += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return "<!DOCTYPE root [\n" + "\n".join(lines) + "\n]>\n"


def describe_at(site: Site, body: bytes, path: str = "/rootDesc.xml",
                status: int = 200) -> upnp.Gateway | None:
    site.routes[path] = canned(status, body)
    return upnp.describe(site.base + path)


def test_igd_description_gives_the_gateway(site: Site) -> None:
    gateway = describe_at(site, igd().encode())
    assert gateway == upnp.Gateway(site.base + "/rootDesc.xml", site.base + "/ctl/IPConn",
                                   WANIP1, "Home Router")
    assert gateway.version == 1


@pytest.mark.parametrize("connection, expected", [
    pytest.param(service(WANIP1, "/ctl/IP1", "WANIPConn1") + service(WANIP2, "/ctl/IP2",
                                                                    "WANIPConn2"),
                 (WANIP2, "/ctl/IP2"), id="v2-before-v1"),
    pytest.param(service(WANPPP1, "/ctl/PPP", "WANPPPConn1"), (WANPPP1, "/ctl/PPP"),
                 id="ppp-of-a-dsl-router"),
])
def test_igd_service_preference(site: Site, connection: str,
                                expected: tuple[str, str]) -> None:
    gateway = describe_at(site, igd(connection).encode())
    assert gateway is not None
    assert (gateway.service, gateway.control_url) == (expected[0], site.base + expected[1])


def test_igd_control_url_relative_to_the_description(site: Site) -> None:
    body = igd(service(WANIP1, "ctl/IPConn", "WANIPConn1")).encode()
    gateway = describe_at(site, body, path="/desc/root.xml")
    assert gateway is not None and gateway.control_url == site.base + "/desc/ctl/IPConn"


def test_igd_url_base_on_the_same_device(site: Site) -> None:
    body = igd(service(WANIP1, "ctl", "WANIPConn1"), url_base=site.base + "/upnp/").encode()
    gateway = describe_at(site, body)
    assert gateway is not None and gateway.control_url == site.base + "/upnp/ctl"


def test_a_media_server_is_not_a_router(site: Site) -> None:
    assert describe_at(site, MEDIA_SERVER.encode()) is None
    assert site.requests[0].method == "GET"


@pytest.mark.parametrize("body", [
    pytest.param(igd(prolog=laughs(), friendly="&lol9;").encode(), id="billion-laughs"),
    pytest.param(igd(prolog='<!DOCTYPE root SYSTEM "http://192.0.2.1/evil.dtd">\n').encode(),
                 id="external-dtd"),
    pytest.param(igd(prolog=f"<!-- {'x' * 5000} -->\n" + laughs(2), friendly="&lol2;").encode(),
                 id="dtd-after-a-long-comment"),
    pytest.param(igd(prolog=laughs(2), friendly="&lol2;").replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
        id="dtd-in-utf-16"),
])
def test_a_description_with_a_dtd_is_refused(site: Site, body: bytes) -> None:
    with pytest.raises(upnp.BadReply):
        describe_at(site, body)


def test_a_description_over_max_xml_is_refused(site: Site) -> None:
    small = igd(padding=upnp.MAX_XML - 8192).encode()
    assert len(small) < upnp.MAX_XML
    assert describe_at(site, small, path="/small.xml") is not None  # the size alone decides
    large = igd(padding=upnp.MAX_XML).encode()
    with pytest.raises(upnp.BadReply, match="KiB"):
        describe_at(site, large, path="/large.xml")


@pytest.mark.parametrize("connection, url_base", [
    pytest.param(service(WANIP1, "http://192.0.2.1:5000/ctl/IPConn", "c"), "",
                 id="another-host"),
    pytest.param(service(WANIP1, "//192.0.2.1:5000/ctl/IPConn", "c"), "",
                 id="another-host-scheme-relative"),
    pytest.param(service(WANIP1, "http://127.0.0.1:1/ctl/IPConn", "c"), "",
                 id="another-port"),
    pytest.param(service(WANIP1, "https://127.0.0.1/ctl/IPConn", "c"), "", id="https"),
    pytest.param(WAN_IP, "http://192.0.2.1:5000/", id="url-base-on-another-host"),
    pytest.param(service(WANIP1, "http://127.0.0.1:99999/ctl/IPConn", "c"), "",
                 id="port-out-of-range"),
    pytest.param(WAN_IP, "http://[::1/", id="url-base-not-a-url"),
])
def test_a_control_url_off_the_device_is_refused(site: Site, connection: str,
                                                 url_base: str) -> None:
    """Refused before any request: describe only compares the URLs."""
    with pytest.raises(upnp.BadReply):
        describe_at(site, igd(connection, url_base=url_base).encode())
    assert [r.path for r in site.requests] == ["/rootDesc.xml"]


@pytest.mark.parametrize("body, status", [
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(200), 200, id="binary"),
    pytest.param(b"<html><body>Router login<br></body>", 200, id="html"),
    pytest.param(b"", 200, id="empty"),
    pytest.param(igd().encode(), 404, id="http-404"),
])
def test_a_description_that_is_not_one_is_refused(site: Site, body: bytes,
                                                  status: int) -> None:
    with pytest.raises(upnp.BadReply):
        describe_at(site, body, status=status)


def test_nothing_listening_is_a_bad_reply() -> None:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    with pytest.raises(upnp.BadReply):
        upnp.describe(f"http://{LOOPBACK}:{port}/rootDesc.xml")


def drip(handler: Handler, first: bytes, site: Site) -> None:
    """Send `first`, then one byte every DRIP_EVERY for DRIP_FOR at most."""
    try:
        handler.wfile.write(first)
        for _ in range(int(DRIP_FOR / DRIP_EVERY)):
            if site.stopped.wait(DRIP_EVERY):
                return
            handler.wfile.write(b"a")
    except OSError:
        return


def slow_route(kind: str, site: Site) -> Route:
    def route(handler: Handler, _request: bytes) -> None:
        if kind == "silent":
            site.stopped.wait(DRIP_FOR)
        elif kind == "drip-body":
            drip(handler, b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n"
                          b"Content-Length: 100000\r\n\r\n<root>", site)
        else:  # drip-headers: the status line, then a header line that never ends
            drip(handler, b"HTTP/1.0 200 OK\r\nX-Slow: ", site)
    return route


@pytest.mark.usefixtures("short_http")
@pytest.mark.parametrize("kind", ["silent", "drip-body", "drip-headers"])
def test_a_slow_server_ends_in_bounded_time(site: Site, kind: str) -> None:
    site.routes["/rootDesc.xml"] = slow_route(kind, site)
    start = time.monotonic()
    with pytest.raises(upnp.BadReply):
        upnp.describe(site.base + "/rootDesc.xml")
    assert time.monotonic() - start < HTTP_BOUND


# ------------------------------------------------------------------ UPnP: SOAP

ENVELOPE = ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            "{}</s:Body></s:Envelope>\r\n")


def soap_ok(action: str, values: dict[str, str], kind: str = WANIP1) -> bytes:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in values.items())
    return ENVELOPE.format(f'<u:{action}Response xmlns:u="{kind}">{inner}'
                           f"</u:{action}Response>").encode()


def soap_fault(code: str | None, description: str = "") -> bytes:
    detail = ("" if code is None else
              '<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">'
              f"<errorCode>{code}</errorCode><errorDescription>{description}"
              "</errorDescription></UPnPError></detail>")
    return ENVELOPE.format("<s:Fault><faultcode>s:Client</faultcode>"
                           f"<faultstring>UPnPError</faultstring>{detail}</s:Fault>").encode()


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def soap_request(body: bytes) -> tuple[str, dict[str, str]]:
    """The action and arguments of a SOAP request, as a router reads them."""
    root = ElementTree.fromstring(body)
    for element in root.iter():
        if local_name(element.tag) == "Body" and len(element):
            action = element[0]
            return local_name(action.tag), {local_name(c.tag): c.text or "" for c in action}
    raise AssertionError(f"no SOAP action in {body[:200]!r}")


def gateway_of(site: Site, kind: str = WANIP1) -> upnp.Gateway:
    return upnp.Gateway(site.base + "/rootDesc.xml", site.base + "/ctl/IPConn", kind,
                        "Home Router")


def test_soap_external_address(site: Site) -> None:
    site.routes["/ctl/IPConn"] = canned(200, soap_ok("GetExternalIPAddress",
                                                     {"NewExternalIPAddress": PUBLIC}))
    assert upnp.external_address(gateway_of(site)) == PUBLIC
    sent = site.requests[0]
    assert sent.method == "POST" and sent.path == "/ctl/IPConn"
    assert sent.headers["SOAPAction"] == f'"{WANIP1}#GetExternalIPAddress"'
    assert soap_request(sent.body) == ("GetExternalIPAddress", {})


@pytest.mark.parametrize("text", ["", "0.0.0.0", "garbage", "198.51.100.300"])
def test_soap_withheld_external_address_gives_none(site: Site, text: str) -> None:
    site.routes["/ctl/IPConn"] = canned(200, soap_ok("GetExternalIPAddress",
                                                     {"NewExternalIPAddress": text}))
    assert upnp.external_address(gateway_of(site)) is None


def test_soap_error_code_raises_upnp_error(site: Site) -> None:
    site.routes["/ctl/IPConn"] = canned(500, soap_fault("501", "Action Failed"))
    with pytest.raises(upnp.UpnpError) as raised:
        upnp.call(gateway_of(site), "GetExternalIPAddress")
    assert raised.value.code == 501 and raised.value.description == "Action Failed"


@pytest.mark.parametrize("status, body", [
    pytest.param(500, soap_fault(None), id="fault-without-code"),
    pytest.param(500, soap_fault("not-a-number"), id="code-not-a-number"),
    pytest.param(500, b"<html><body>Internal Server Error</body></html>", id="html-500"),
    pytest.param(500, b"", id="empty-500"),
    pytest.param(200, ENVELOPE.format("<u:Other xmlns:u='x'/>").encode(), id="no-response"),
    pytest.param(200, b"\x00\x01garbage", id="garbage-200"),
])
def test_soap_answer_without_sense_is_a_bad_reply(site: Site, status: int,
                                                  body: bytes) -> None:
    site.routes["/ctl/IPConn"] = canned(status, body)
    with pytest.raises(upnp.BadReply):
        upnp.call(gateway_of(site), "GetExternalIPAddress")


def test_soap_arguments_arrive_intact(site: Site) -> None:
    site.routes["/ctl/IPConn"] = canned(200, soap_ok("AddPortMapping", {}))
    granted = upnp.add_mapping(gateway_of(site), "udp", 7882, "192.168.1.20",
                               "nasrtc a&b <c>", 0)
    assert granted == 0
    action, arguments = soap_request(site.requests[0].body)
    assert action == "AddPortMapping"
    assert arguments == {"NewRemoteHost": "", "NewExternalPort": "7882", "NewProtocol": "UDP",
                         "NewInternalPort": "7882", "NewInternalClient": "192.168.1.20",
                         "NewEnabled": "1", "NewPortMappingDescription": "nasrtc a&b <c>",
                         "NewLeaseDuration": "0"}


def test_soap_only_permanent_lease_is_retried_permanent(site: Site) -> None:
    answers = iter([(500, soap_fault("725", "OnlyPermanentLeasesSupported")),
                    (200, soap_ok("AddPortMapping", {}, WANIP2))])

    def route(handler: Handler, _request: bytes) -> None:
        send(handler, *next(answers, (500, soap_fault("501", "Action Failed"))))

    site.routes["/ctl/IPConn"] = route
    assert upnp.add_mapping(gateway_of(site, WANIP2), "tcp", 443, LOOPBACK, "x", 604800) == 0
    leases = [soap_request(r.body)[1]["NewLeaseDuration"] for r in site.requests]
    assert leases == ["604800", "0"]


def test_soap_mapping_entry(site: Site) -> None:
    site.routes["/ctl/IPConn"] = canned(200, soap_ok("GetSpecificPortMappingEntry", {
        "NewInternalPort": "7881", "NewInternalClient": "192.168.1.20", "NewEnabled": "1",
        "NewPortMappingDescription": "DSM", "NewLeaseDuration": "3600"}))
    assert upnp.mapping(gateway_of(site), "tcp", 7881) == upnp.Entry(
        "tcp", 7881, "192.168.1.20", 7881, "DSM", 3600, True)
    assert soap_request(site.requests[0].body)[1] == {
        "NewRemoteHost": "", "NewExternalPort": "7881", "NewProtocol": "TCP"}


@pytest.mark.parametrize("code", ["714", "402"])
def test_soap_no_mapping_entry_gives_none(site: Site, code: str) -> None:
    site.routes["/ctl/IPConn"] = canned(500, soap_fault(code, "NoSuchEntryInArray"))
    assert upnp.mapping(gateway_of(site), "udp", 7882) is None


def test_soap_mapping_entry_other_errors_raise(site: Site) -> None:
    site.routes["/ctl/IPConn"] = canned(500, soap_fault("606", "Action not authorized"))
    with pytest.raises(upnp.UpnpError) as raised:
        upnp.mapping(gateway_of(site), "udp", 7882)
    assert raised.value.code == 606


def test_soap_mapping_entry_with_a_word_for_a_port_is_a_bad_reply(site: Site) -> None:
    site.routes["/ctl/IPConn"] = canned(200, soap_ok("GetSpecificPortMappingEntry", {
        "NewInternalPort": "seven", "NewInternalClient": "192.168.1.20"}))
    with pytest.raises(upnp.BadReply):
        upnp.mapping(gateway_of(site), "udp", 7882)


# ------------------------------------------------------------------ UPnP: SSDP answers

SSDP_HEAD = ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
             "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
             "USN: uuid:4d696e69-5550-6e50-2044-657669636500::"
             "urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
             "EXT:\r\nSERVER: Linux/5.4 UPnP/1.1 MiniUPnPd/2.3.3\r\n")
ROUTER = "192.168.1.1"


def ssdp(location: str, head: str = SSDP_HEAD, header: str = "LOCATION") -> bytes:
    return f"{head}{header}: {location}\r\n\r\n".encode()


@pytest.mark.parametrize("header", ["LOCATION", "Location", "location"])
def test_ssdp_location_on_the_sender_is_accepted(header: str) -> None:
    url = f"http://{ROUTER}:5000/rootDesc.xml"
    assert upnp._location(ssdp(url, header=header), ROUTER) == url


@pytest.mark.parametrize("data", [
    pytest.param(ssdp("http://192.168.1.66:5000/rootDesc.xml"), id="another-host"),
    pytest.param(ssdp(f"https://{ROUTER}:5000/rootDesc.xml"), id="https"),
    pytest.param(ssdp(f"http://{ROUTER}:5000/rootDesc.xml",
                      SSDP_HEAD.replace("200 OK", "404 Not Found")), id="status-404"),
    pytest.param(ssdp(f"http://{ROUTER}:5000/rootDesc.xml",
                      SSDP_HEAD.replace("HTTP/1.1 200 OK", "NOTIFY * HTTP/1.1")),
                 id="a-notify-not-an-answer"),
    pytest.param(ssdp(f"http://{ROUTER}:5000@192.168.1.66:80/rootDesc.xml"),
                 id="userinfo-trick"),
    pytest.param(ssdp(f"http://{ROUTER}:99999/rootDesc.xml"), id="port-out-of-range"),
    pytest.param(ssdp(f"http://[{ROUTER}:5000/rootDesc.xml"), id="broken-ipv6-literal"),
    pytest.param(SSDP_HEAD.encode() + b"\r\n", id="no-location"),
    pytest.param(b"\xff\xfe garbage", id="garbage"),
])
def test_ssdp_location_elsewhere_is_refused(data: bytes) -> None:
    assert upnp._location(data, ROUTER) is None


# ------------------------------------------------------------------ mappings via UPnP


class FakeIgd:
    """The WAN connection service of a router: a port mapping table, and every SOAP
    action it was sent, in order."""

    def __init__(self, site: Site, kind: str = WANIP1) -> None:
        self.table: dict[tuple[str, int], dict[str, str]] = {}
        self.actions: list[tuple[str, dict[str, str]]] = []
        self.only_permanent = False
        self.broken = False
        self.lock = threading.Lock()
        self.gateway = gateway_of(site, kind)
        site.routes["/ctl/IPConn"] = self.route

    def put(self, protocol: str, port: int, client: str, internal: int, description: str,
            lease: int = 0) -> None:
        self.table[(protocol, port)] = {
            "NewInternalPort": str(internal), "NewInternalClient": client, "NewEnabled": "1",
            "NewPortMappingDescription": description, "NewLeaseDuration": str(lease)}

    def sent(self, action: str) -> list[tuple[str, str]]:
        return [(a["NewProtocol"], a["NewExternalPort"]) for name, a in self.actions
                if name == action]

    def route(self, handler: Handler, body: bytes) -> None:
        action, arguments = soap_request(body)
        with self.lock:
            self.actions.append((action, arguments))
            status, answer = self._answer(action, arguments)
        send(handler, status, answer)

    def _answer(self, action: str, arguments: dict[str, str]) -> tuple[int, bytes]:
        if self.broken:
            return 500, soap_fault("501", "Action Failed")
        key = (arguments.get("NewProtocol", ""), int(arguments.get("NewExternalPort") or 0))
        if action == "GetSpecificPortMappingEntry":
            if key not in self.table:
                return 500, soap_fault("714", "NoSuchEntryInArray")
            return 200, soap_ok(action, self.table[key], self.gateway.service)
        if action == "AddPortMapping":
            if self.only_permanent and arguments["NewLeaseDuration"] != "0":
                return 500, soap_fault("725", "OnlyPermanentLeasesSupported")
            held = self.table.get(key)
            if held and held["NewInternalClient"] != arguments["NewInternalClient"]:
                return 500, soap_fault("718", "ConflictInMappingEntry")
            self.put(key[0], key[1], arguments["NewInternalClient"],
                     int(arguments["NewInternalPort"]), arguments["NewPortMappingDescription"],
                     int(arguments["NewLeaseDuration"]))
            return 200, soap_ok(action, {}, self.gateway.service)
        if action == "DeletePortMapping":
            if self.table.pop(key, None) is None:
                return 500, soap_fault("714", "NoSuchEntryInArray")
            return 200, soap_ok(action, {}, self.gateway.service)
        return 500, soap_fault("401", "Invalid Action")


@pytest.fixture
def fake_igd(site: Site) -> FakeIgd:
    return FakeIgd(site)


def router_of(fake: FakeIgd) -> mappings.Router:
    return mappings.Router(method="upnp", gateway=LOOPBACK, lan_ip=LOOPBACK,
                           upnp=fake.gateway)


def made(protocol: str, port: int, project: str = "calls") -> mappings.Made:
    return mappings.Made(protocol, port, "upnp", mappings.description(project, protocol, port),
                         0, time.time())


def states(rows: list[mappings.Row]) -> dict[tuple[str, int], str]:
    return {(row.protocol, row.port): row.state for row in rows}


def test_open_ports_maps_only_the_free_ports(fake_igd: FakeIgd) -> None:
    fake_igd.put("TCP", 443, "192.168.1.77", 443, "Other NAS HTTPS")
    fake_igd.put("TCP", 7881, LOOPBACK, 7881, "DSM: LiveKit TCP")
    fake_igd.put("UDP", 3478, LOOPBACK, 13478, "Game server")  # this NAS, another port
    want = [mappings.Wanted("tcp", 443, "https"), mappings.Wanted("tcp", 7881, "rtc tcp"),
            mappings.Wanted("udp", 3478, "turn"), mappings.Wanted("udp", 7882, "rtc udp")]
    rows, record = mappings.open_ports(router_of(fake_igd), "calls", want, [])
    assert states(rows) == {("tcp", 443): "conflict", ("tcp", 7881): "already",
                            ("udp", 3478): "conflict", ("udp", 7882): "mapped"}
    conflict = next(row for row in rows if row.port == 443)
    assert "192.168.1.77:443" in conflict.detail and "Other NAS HTTPS" in conflict.detail
    assert fake_igd.sent("AddPortMapping") == [("UDP", "7882")]
    added = next(a for name, a in fake_igd.actions if name == "AddPortMapping")
    assert added["NewPortMappingDescription"].startswith("nasrtc ")
    assert added["NewPortMappingDescription"] == "nasrtc calls UDP 7882"
    assert (added["NewInternalClient"], added["NewInternalPort"]) == (LOOPBACK, "7882")
    assert added["NewLeaseDuration"] == "0"  # IGDv1: permanent
    assert fake_igd.table[("TCP", 443)]["NewPortMappingDescription"] == "Other NAS HTTPS"
    assert fake_igd.table[("TCP", 7881)]["NewPortMappingDescription"] == "DSM: LiveKit TCP"
    assert [(m.protocol, m.port, m.method, m.description) for m in record] == [
        ("udp", 7882, "upnp", "nasrtc calls UDP 7882")]


def test_open_ports_again_renews_its_own_mapping(fake_igd: FakeIgd) -> None:
    fake_igd.put("UDP", 7882, LOOPBACK, 7882, "nasrtc calls UDP 7882")
    rows, record = mappings.open_ports(router_of(fake_igd), "calls",
                                       [mappings.Wanted("udp", 7882, "rtc udp")],
                                       [made("udp", 7882)])
    assert states(rows) == {("udp", 7882): "kept"}
    assert fake_igd.sent("AddPortMapping") == [("UDP", "7882")]
    assert len(record) == 1


def test_open_ports_on_igd2_that_takes_only_permanent_leases(site: Site) -> None:
    fake = FakeIgd(site, WANIP2)
    fake.only_permanent = True
    rows, record = mappings.open_ports(router_of(fake), "calls",
                                       [mappings.Wanted("tcp", 443, "https")], [])
    assert states(rows) == {("tcp", 443): "mapped"} and rows[0].lease == 0
    leases = [a["NewLeaseDuration"] for name, a in fake.actions if name == "AddPortMapping"]
    assert leases == [str(mappings.UPNP_V2_LEASE), "0"]
    assert record[0].lease == 0


def test_open_ports_refused_by_the_router_records_nothing(fake_igd: FakeIgd) -> None:
    fake_igd.broken = True
    rows, record = mappings.open_ports(router_of(fake_igd), "calls",
                                       [mappings.Wanted("tcp", 443, "https")], [])
    assert states(rows) == {("tcp", 443): "refused"} and "501" in rows[0].detail
    assert record == [] and fake_igd.sent("AddPortMapping") == []


def test_close_ports_deletes_only_what_is_still_nasrtcs(fake_igd: FakeIgd) -> None:
    fake_igd.put("TCP", 443, LOOPBACK, 443, "nasrtc calls TCP 443")
    fake_igd.put("UDP", 7882, LOOPBACK, 7882, "Plex")  # another program took the port over
    fake_igd.put("TCP", 7881, "192.168.1.99", 7881, "nasrtc calls TCP 7881")  # another host
    record = [made("tcp", 443), made("udp", 7882), made("udp", 7883), made("tcp", 7881)]
    rows, left = mappings.close_ports(router_of(fake_igd), record)
    assert states(rows) == {("tcp", 443): "removed", ("udp", 7882): "changed",
                            ("udp", 7883): "gone", ("tcp", 7881): "changed"}
    assert fake_igd.sent("DeletePortMapping") == [("TCP", "443")]
    assert ("TCP", 443) not in fake_igd.table
    assert fake_igd.table[("UDP", 7882)]["NewPortMappingDescription"] == "Plex"
    assert fake_igd.table[("TCP", 7881)]["NewInternalClient"] == "192.168.1.99"
    assert left == []  # what changed hands is forgotten, not deleted


def test_close_ports_keeps_the_record_when_the_router_refuses(fake_igd: FakeIgd) -> None:
    fake_igd.put("TCP", 443, LOOPBACK, 443, "nasrtc calls TCP 443")
    fake_igd.broken = True
    record = [made("tcp", 443)]
    rows, left = mappings.close_ports(router_of(fake_igd), record)
    assert states(rows) == {("tcp", 443): "refused"} and left == record
    assert fake_igd.sent("DeletePortMapping") == []


def test_close_ports_without_a_router_keeps_the_record() -> None:
    record = [made("tcp", 443)]
    rows, left = mappings.close_ports(None, record)
    assert states(rows) == {("tcp", 443): "refused"} and left == record


def test_status_reports_present_changed_and_gone(fake_igd: FakeIgd) -> None:
    fake_igd.put("TCP", 443, LOOPBACK, 443, "nasrtc calls TCP 443", lease=3000)
    fake_igd.put("UDP", 7882, LOOPBACK, 7882, "Plex")
    record = [made("tcp", 443), made("udp", 7882), made("udp", 7883)]
    rows = mappings.status(router_of(fake_igd), record)
    assert states(rows) == {("tcp", 443): "present", ("udp", 7882): "changed",
                            ("udp", 7883): "gone"}
    assert rows[0].lease == 3000
    assert {name for name, _ in fake_igd.actions} == {"GetSpecificPortMappingEntry"}


# ------------------------------------------------------------------ the record


def record_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"protocol": "udp", "port": 7882, "method": "upnp",
                            "description": "nasrtc calls UDP 7882", "lease": 0,
                            "made_at": 1700000000.0, "epoch": -1, "nonce": ""}
    item.update(changes)
    return item


def test_read_state_reads_a_good_record(tmp_path: Path) -> None:
    (tmp_path / mappings.STATE_FILE).write_text(json.dumps([record_item()]))
    assert mappings.read_state(tmp_path) == [
        mappings.Made("udp", 7882, "upnp", "nasrtc calls UDP 7882", 0, 1700000000.0)]


DAMAGED: dict[str, bytes] = {
    "cut-json": json.dumps([record_item()]).encode()[:40],
    "empty": b"",
    "not-utf-8": b"\xff\xfe\x00[\x00",
    "an-object": json.dumps(record_item()).encode(),
    "a-list-of-words": b'["udp 7882"]',
    "null": b"null",
    "a-field-missing": json.dumps([{k: v for k, v in record_item().items()
                                    if k != "method"}]).encode(),
    "port-a-word": json.dumps([record_item(port="7882")]).encode(),
    "port-out-of-range": json.dumps([record_item(port=70000)]).encode(),
    "unknown-method": json.dumps([record_item(method="telnet")]).encode(),
    "lease-a-word": json.dumps([record_item(lease="a week")]).encode(),
    "deeply-nested": b"[" * 60000,
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_read_state_of_a_damaged_record_is_empty(tmp_path: Path, case: str) -> None:
    (tmp_path / mappings.STATE_FILE).write_bytes(DAMAGED[case])
    assert len(DAMAGED[case]) <= mappings.MAX_STATE
    assert mappings.read_state(tmp_path) == []


def test_read_state_of_an_oversize_record_is_empty(tmp_path: Path) -> None:
    big = json.dumps([record_item(description="x" * (mappings.MAX_STATE + 1))])
    (tmp_path / mappings.STATE_FILE).write_text(big)
    assert mappings.read_state(tmp_path) == []


def test_read_state_of_a_symlinked_record_is_empty(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps([record_item()]))
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / mappings.STATE_FILE).symlink_to(target)
    assert mappings.read_state(stack) == []
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / mappings.STATE_FILE).write_bytes(target.read_bytes())
    assert len(mappings.read_state(plain)) == 1  # the same record, not a link: read


def test_read_state_of_a_directory_is_empty(tmp_path: Path) -> None:
    (tmp_path / mappings.STATE_FILE).mkdir()
    assert mappings.read_state(tmp_path) == []


def test_a_resolver_that_never_answers_holds_the_stun_probe_only_briefly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A NAS whose DNS hangs: the seen address is simply unknown, within the bound."""
    import threading as _threading

    from nasrtc.reach import stun

    release = _threading.Event()

    def hang(*_args: object, **_kwargs: object) -> object:
        release.wait(10)
        raise OSError("no resolver")

    monkeypatch.setattr(stun.socket, "getaddrinfo", hang)
    monkeypatch.setattr(stun, "RESOLVE_TIMEOUT", 0.3)
    started = time.monotonic()
    try:
        assert stun.seen_address("stun.example.org:3478") is None
        assert time.monotonic() - started < 2.0
    finally:
        release.set()


# ------------------------------------------------------------------ `router` without the router


def test_router_status_with_discovery_off_still_names_an_interrupted_open(
        cli: Any, tmp_path: Path) -> None:
    """Discovery off (tests/conftest.py), nothing is sent: `router status` still shows
    nasrtc's record, names what an interrupted `router open` may have left, says the
    router was not asked and how to ask it; `router close` refuses and keeps the record."""
    from dataclasses import replace

    from tests.helpers import write_answers

    stack = tmp_path / "stack"
    answers = write_answers(tmp_path, {"domain": "example.org", "project": "calls",
                                       "network": {"lan_ip": "192.168.1.10"}})
    assert cli("init", "--dir", str(stack), "--answers", str(answers)).code == 0
    record = [made("tcp", 443), replace(made("udp", 7882), pending=True)]
    mappings.write_state(stack, record)

    said = cli("router", "status", "--dir", str(stack))
    assert said.code == 1, said.out + said.err
    assert "the router was not asked: discovery is off" in said.out
    assert "TCP 443: in place (not confirmed)" in said.out
    assert "UDP 7882: asked for by a `router open` that was interrupted" in said.out
    assert "to ask the router: unset NASRTC_DISCOVERY" in said.out
    assert "router close --dir" in said.out  # how to undo it, once the router is asked

    shown = json.loads(cli("router", "status", "--dir", str(stack), "--json").out)
    assert shown["router_not_asked"].startswith("discovery is off")
    assert {(row["port"], row["state"]) for row in shown["mappings"]} == {
        (443, "present"), (7882, "interrupted")}

    refused = cli("router", "close", "--dir", str(stack))
    assert refused.code == 1 and "discovery is off" in refused.err, refused.out + refused.err
    assert mappings.read_state(stack) == record
