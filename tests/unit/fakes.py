"""A fake network for doctor's checks: canned answers per (method, url), so each
check runs in milliseconds. The real servers are in tests/integration."""

from __future__ import annotations

import json
import socket
import ssl
from email.message import Message
from pathlib import Path
from typing import Any, Callable, Dict, Union

from nasrtc.answers import resolve
from nasrtc.doctor.context import Context
from nasrtc.doctor.net import Response
from nasrtc.secret_store import Secrets
from nasrtc.stack import build_stack
from tests.helpers import FIXED_KEY, FIXED_SECRET

Reply = Union[Response, Callable[[Dict[str, str], "bytes | None"], Response], BaseException]


def reply(status: int, body: Any = b"", **headers: Any) -> Response:
    """An HTTP answer; a dict or list body is sent as JSON. A header given as a
    list is sent once per item (to test duplicated headers)."""
    message = Message()
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        message["Content-Type"] = "application/json"
    for name, value in headers.items():
        for item in value if isinstance(value, list) else [value]:
            message[name.replace("_", "-")] = item
    return Response(status, message, body if isinstance(body, bytes) else str(body).encode())


class FakeNet:
    def __init__(self) -> None:
        self.timeout = 5.0
        self.replies: dict[tuple[str, str], Reply] = {}
        self.addresses: dict[str, list[str]] = {}
        self.certificates: dict[str, Any] = {}
        self.open_ports: set[tuple[str, int]] = set()
        self.sent: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def on(self, method: str, url: str, answer: Reply) -> FakeNet:
        self.replies[(method, url)] = answer
        return self

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Response:
        self.sent.append((method, url, headers or {}, body))
        answer = self.replies.get((method, url.split("?")[0]))
        if answer is None:
            raise ConnectionRefusedError(f"nothing answers {method} {url}")
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(headers or {}, body)
        return answer

    def websocket(self, url: str) -> Response:
        return self.request("UPGRADE", url)

    def resolve(self, host: str) -> list[str]:
        return self.addresses.get(host, [])

    def resolve6(self, host: str) -> list[str] | None:
        return [a for a in self.addresses.get(host, []) if ":" in a]

    def certificate(self, host: str, port: int = 443) -> dict[str, Any]:
        found = self.certificates.get(host)
        if found is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if isinstance(found, BaseException):
            raise found
        return dict(found)

    def tcp_open(self, host: str, port: int) -> bool:
        return (host, port) in self.open_ports


def cert_error(message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, message)
    error.verify_message = message
    return error


def context(tmp_path: Path, net: FakeNet, token: str | None = None,
            **answers: Any) -> Context:
    resolved = resolve({"domain": "example.org", **answers})
    stack = build_stack(resolved, Secrets(FIXED_KEY, FIXED_SECRET))
    return Context(stack, resolved, tmp_path, net, token)  # type: ignore[arg-type]
