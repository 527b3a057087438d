"""UPnP IGD (v1 and v2): find the router by SSDP on the LAN address's interface, read its
description, call its WAN connection service by SOAP. Every reply is hostile until
checked: sizes and times are bounded, XML with a DTD is refused (no entity tricks), the
description and control URLs must stay on the device that answered, and a device
without a WAN connection service is not a router."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import threading
import time
import xml.etree.ElementTree as ElementTree
import xml.parsers.expat
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import escape

from nasrtc.reach.wire import receive

SSDP = ("239.255.255.250", 1900)
SEARCH_TARGETS = ("urn:schemas-upnp-org:device:InternetGatewayDevice:2",
                  "urn:schemas-upnp-org:device:InternetGatewayDevice:1")
# Preferred first: IGDv2's service, then v1's, then the PPP one of DSL routers.
SERVICES = ("urn:schemas-upnp-org:service:WANIPConnection:2",
            "urn:schemas-upnp-org:service:WANIPConnection:1",
            "urn:schemas-upnp-org:service:WANPPPConnection:1")
MAX_REPLIES = 16
MAX_XML = 256 * 1024
NO_SUCH_ENTRY = 714
ONLY_PERMANENT = 725
MAX_LISTED = 256  # GetGenericPortMappingEntry indexes asked at most


class UpnpError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"UPnP error {code}: {description}")
        self.code = code
        self.description = description


class BadReply(Exception):
    """An answer that is not what a router would say (too large, not XML, elsewhere)."""


@dataclass(frozen=True)
class Gateway:
    location: str
    control_url: str
    service: str
    name: str  # the device's friendlyName, for people

    @property
    def version(self) -> int:
        return 2 if self.service.endswith(":2") else 1


@dataclass(frozen=True)
class Entry:
    protocol: str
    external_port: int
    internal_client: str
    internal_port: int
    description: str
    lease: int  # seconds left; 0 = permanent
    enabled: bool


def search(lan_ip: str, wait: float = 2.0) -> list[tuple[str, str]]:
    """(location, responder address) of devices answering an IGD search, sent from the LAN
    address (so on its interface only)."""
    found: dict[str, str] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(lan_ip))
        sock.bind((lan_ip, 0))
        for target in SEARCH_TARGETS:
            message = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                       'MAN: "ssdp:discover"\r\nMX: 1\r\n'
                       f"ST: {target}\r\n\r\n").encode()
            try:
                sock.sendto(message, SSDP)
            except OSError:
                return []
        try:
            for data, sender in receive(sock, time.monotonic() + wait, MAX_REPLIES):
                location = _location(data, sender[0])
                if location:
                    found.setdefault(location, sender[0])
        except OSError:
            pass  # what answered so far is all there is
    return list(found.items())


def _location(data: bytes, sender: str) -> str | None:
    """The LOCATION of an SSDP answer if it is an http URL on the answering device."""
    lines = data.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.") or " 200" not in lines[0]:
        return None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "location":
            value = value.strip()
            try:
                parts = urlsplit(value)
                if parts.scheme == "http" and parts.hostname == sender and parts.port is not None:
                    return value
            except ValueError:  # a broken IPv6 literal, a port out of range
                return None
    return None


def _http(method: str, url: str, body: bytes | None = None,
          headers: dict[str, str] | None = None, timeout: float = 3.0) -> tuple[int, bytes]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise BadReply(f"not an http URL: {url[:80]}")
    try:
        port = parts.port or 80
    except ValueError:
        raise BadReply(f"not an http URL: {url[:80]}") from None
    connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    deadline = time.monotonic() + 2 * timeout
    # Each read has its own timeout; a device that drips its headers byte by byte is cut
    # off at the deadline by closing the socket under it.
    guard = threading.Timer(2 * timeout, _cut, (connection,))
    guard.daemon = True
    guard.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise BadReply("the answer took too long")
            chunk = answer.read1(65536) if hasattr(answer, "read1") else answer.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_XML:
                raise BadReply(f"an answer of over {MAX_XML // 1024} KiB")
            chunks.append(chunk)
        return answer.status, b"".join(chunks)
    except (OSError, http.client.HTTPException, ValueError) as error:
        if time.monotonic() > deadline:
            raise BadReply("the answer took too long") from None
        raise BadReply(f"{error.__class__.__name__}: {error}") from None
    finally:
        guard.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing left to cut
            sock.shutdown(socket.SHUT_RDWR)


def _xml(data: bytes) -> ElementTree.Element:
    """Parsed XML; a DTD (entity expansion, external entities) is refused by the parser
    itself, whatever the encoding, and the bytes must be UTF-8 as UPnP's are."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadReply("XML that is not UTF-8") from None
    expat = xml.parsers.expat.ParserCreate(namespace_separator="}")
    builder = ElementTree.TreeBuilder()

    def refuse(*_args: object) -> Any:
        raise BadReply("XML with a DTD")

    expat.StartDoctypeDeclHandler = refuse
    expat.EntityDeclHandler = refuse
    expat.ExternalEntityRefHandler = refuse
    expat.StartElementHandler = builder.start
    expat.EndElementHandler = builder.end
    expat.CharacterDataHandler = builder.data
    try:
        expat.Parse(data, True)
        return builder.close()
    except (xml.parsers.expat.ExpatError, AssertionError, IndexError) as error:
        raise BadReply(f"not XML: {error}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ElementTree.Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def describe(location: str) -> Gateway | None:
    """The router behind a description URL; None for a device that is not one."""
    status, body = _http("GET", location)
    if status != 200:
        raise BadReply(f"HTTP {status} for the description")
    root = _xml(body)
    offered: dict[str, str] = {}
    name = ""
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "friendlyName" and not name:
            name = (element.text or "").strip()[:80]
        if tag == "service":
            kind = _child_text(element, "serviceType")
            if kind in SERVICES and kind not in offered:
                offered[kind] = _child_text(element, "controlURL")
    base = _child_text(root, "URLBase") or location
    for kind in SERVICES:
        if offered.get(kind):
            try:
                control = urljoin(base, offered[kind])
                here, there = urlsplit(location), urlsplit(control)
                same = (there.scheme, there.hostname, there.port) == (
                    here.scheme, here.hostname, here.port)
            except ValueError:  # a port out of range, a broken IPv6 literal
                raise BadReply("its control URL is not a URL") from None
            if not same:
                raise BadReply("its control URL points to another host")
            return Gateway(location, control, kind, name)
    return None


def discover(lan_ip: str, wait: float = 2.0) -> tuple[Gateway | None, list[str]]:
    """The first router that answers, and what was wrong with the others (for a row)."""
    problems = []
    for location, _sender in search(lan_ip, wait):
        try:
            gateway = describe(location)
        except BadReply as error:
            problems.append(f"{location}: {error}")
            continue
        if gateway:
            return gateway, problems
        problems.append(f"{location}: a UPnP device that is not a router")
    return None, problems


def call(gateway: Gateway, action: str, arguments: dict[str, str] | None = None,
         timeout: float = 3.0) -> dict[str, str]:
    """One SOAP action; its out arguments; UpnpError for the router's refusal."""
    args = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in (arguments or {}).items())
    body = ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            f'<u:{action} xmlns:u="{gateway.service}">{args}</u:{action}></s:Body>'
            "</s:Envelope>\r\n").encode()
    status, answer = _http("POST", gateway.control_url, body, {
        "Content-Type": 'text/xml; charset="utf-8"',
        "SOAPAction": f'"{gateway.service}#{action}"'}, timeout)
    root = _xml(answer)
    if status != 200:
        code = next((e.text for e in root.iter() if _local(e.tag) == "errorCode"), None)
        text = next((e.text for e in root.iter() if _local(e.tag) == "errorDescription"), "")
        try:
            raise UpnpError(int((code or "").strip()), (text or "").strip()[:120])
        except ValueError:
            raise BadReply(f"HTTP {status} without a UPnP error code") from None
    for element in root.iter():
        if _local(element.tag) == f"{action}Response":
            return {_local(child.tag): (child.text or "").strip()[:256] for child in element}
    raise BadReply(f"no {action}Response in the answer")


def external_address(gateway: Gateway) -> str | None:
    """The WAN address the router reports, or None when it withholds it (miniupnpd does
    for a reserved address: its own CGNAT detection)."""
    text = call(gateway, "GetExternalIPAddress").get("NewExternalIPAddress", "")
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    return None if int(address) == 0 else str(address)


def _entry(values: dict[str, str], protocol: str, external: int) -> Entry:
    try:
        return Entry(protocol, external, values.get("NewInternalClient", ""),
                     int(values.get("NewInternalPort") or 0),
                     values.get("NewPortMappingDescription", ""),
                     int(values.get("NewLeaseDuration") or 0),
                     values.get("NewEnabled", "1") in ("1", "true"))
    except ValueError:
        raise BadReply("a mapping entry with a non-number port or lease") from None


def mapping(gateway: Gateway, protocol: str, external: int) -> Entry | None:
    try:
        values = call(gateway, "GetSpecificPortMappingEntry", {
            "NewRemoteHost": "", "NewExternalPort": str(external),
            "NewProtocol": protocol.upper()})
    except UpnpError as error:
        if error.code == NO_SUCH_ENTRY or error.code == 402:
            return None
        raise
    return _entry(values, protocol, external)


def add_mapping(gateway: Gateway, protocol: str, port: int, client: str, description: str,
                lease: int = 0) -> int:
    """Map external `port` to client:port; returns the lease granted (0 = permanent)."""
    arguments = {"NewRemoteHost": "", "NewExternalPort": str(port),
                 "NewProtocol": protocol.upper(), "NewInternalPort": str(port),
                 "NewInternalClient": client, "NewEnabled": "1",
                 "NewPortMappingDescription": description, "NewLeaseDuration": str(lease)}
    try:
        call(gateway, "AddPortMapping", arguments)
    except UpnpError as error:
        if error.code != ONLY_PERMANENT or lease == 0:
            raise
        arguments["NewLeaseDuration"] = "0"
        call(gateway, "AddPortMapping", arguments)
        return 0
    return lease


def delete_mapping(gateway: Gateway, protocol: str, port: int) -> None:
    call(gateway, "DeletePortMapping", {"NewRemoteHost": "", "NewExternalPort": str(port),
                                        "NewProtocol": protocol.upper()})
