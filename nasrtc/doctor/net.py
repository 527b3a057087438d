"""Network probes for doctor: HTTP(S), TLS certificates, a WebSocket handshake and
a TCP connect, each with a short timeout, through an optional --connect-to map
(curl's HOST:PORT:ADDRESS:PORT; an empty PORT means any port, the same port),
which is also how tests reach servers on loopback without touching /etc/hosts."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from nasrtc.i18n import _

MAX_BODY = 1_000_000  # bytes of an answer doctor reads; the rest is not needed

# (host, port or None for any port) -> (address, port or None for the same port)
ConnectTo = Dict[Tuple[str, Optional[int]], Tuple[str, Optional[int]]]


def parse_connect_to(items: list[str]) -> ConnectTo:
    mapping: ConnectTo = {}
    for item in items:
        parts = item.split(":")
        if (len(parts) != 4 or not parts[0] or not parts[2]
                or not all(p == "" or p.isdigit() for p in (parts[1], parts[3]))):
            raise ValueError(_("{item!r}: expected HOST:PORT:ADDRESS:PORT, e.g. "
                               "sfu.example.org:443:192.168.1.10:443 (an empty PORT: every "
                               "port, e.g. sfu.example.org::192.168.1.10:)").format(item=item))
        mapping[(parts[0].lower(), int(parts[1]) if parts[1] else None)] = (
            parts[2], int(parts[3]) if parts[3] else None)
    return mapping


@dataclass
class Response:
    status: int
    headers: Any  # http.client.HTTPMessage: get_all() shows duplicated headers
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return list(self.headers.get_all(name) or [])

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Net:
    def __init__(self, connect_to: ConnectTo | None = None, ca_file: str | None = None,
                 timeout: float = 5.0) -> None:
        self.connect_to = connect_to or {}
        self.timeout = timeout
        self.ca_file = ca_file or os.environ.get("NASRTC_CA_FILE") or None
        self.context = ssl.create_default_context(cafile=self.ca_file)

    def address(self, host: str, port: int) -> tuple[str, int]:
        target = (self.connect_to.get((host.lower(), port))
                  or self.connect_to.get((host.lower(), None)))
        if target is None:
            return host, port
        return target[0], target[1] if target[1] is not None else port

    def resolve(self, host: str) -> list[str]:
        """Addresses for host ([] when it does not resolve)."""
        mapped = [addr for (name, _), (addr, _) in self.connect_to.items()
                  if name == host.lower()]
        if mapped:
            return sorted(set(mapped))
        try:
            return sorted({str(i[4][0]) for i in socket.getaddrinfo(host, 443,
                                                                   proto=socket.IPPROTO_TCP)})
        except OSError:
            return []

    def resolve6(self, host: str) -> list[str] | None:
        """The name's IPv6 addresses (AAAA); None when --connect-to decides where it leads."""
        if any(name == host.lower() for name, _port in self.connect_to):
            return None
        try:
            infos = socket.getaddrinfo(host, 443, socket.AF_INET6, socket.SOCK_STREAM)
        except OSError:
            return []
        return sorted({str(info[4][0]) for info in infos})

    def _socket(self, host: str, port: int, tls: bool) -> socket.socket:
        raw = socket.create_connection(self.address(host, port), timeout=self.timeout)
        if not tls:
            return raw
        try:
            return self.context.wrap_socket(raw, server_hostname=host)
        except Exception:
            raw.close()
            raise

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Response:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        net = self

        class Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = net._socket(host, port, tls)

        connection = Connection(host, port, timeout=self.timeout)
        # One request may take a few socket timeouts (connect, TLS, headers, body), never
        # more: the whole answer is due within this deadline.
        deadline = time.monotonic() + 3 * self.timeout
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            connection.request(method, path, body=body, headers={
                "Host": parts.netloc, "User-Agent": "nasrtc-doctor", **(headers or {})})
            answer = connection.getresponse()
            data = b"" if answer.status == 101 else self._read(answer, deadline)
            return Response(answer.status, answer.msg, data)
        finally:
            connection.close()

    def _read(self, answer: Any, deadline: float) -> bytes:
        """The body, at most MAX_BODY bytes, within the request's deadline: a server that
        drips one byte a second still ends in time (each read has its own timeout)."""
        chunks: list[bytes] = []
        size = 0
        while size < MAX_BODY:
            if time.monotonic() > deadline:
                raise socket.timeout("the answer did not arrive within the time allowed")
            chunk = answer.read1(min(65536, MAX_BODY - size)) if hasattr(answer, "read1") \
                else answer.read(min(65536, MAX_BODY - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def certificate(self, host: str, port: int = 443) -> dict[str, Any]:
        """The verified peer certificate (raises ssl.SSLCertVerificationError)."""
        with self._socket(host, port, tls=True) as tls_socket:
            cert = tls_socket.getpeercert()  # type: ignore[attr-defined]
            return dict(cert or {})

    def websocket(self, url: str) -> Response:
        key = base64.b64encode(os.urandom(16)).decode()
        return self.request("GET", url, headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13"})

    def tcp_open(self, host: str, port: int) -> bool:
        try:
            with socket.create_connection(self.address(host, port), timeout=self.timeout):
                return True
        except OSError:
            return False
