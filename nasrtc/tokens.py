"""LiveKit access tokens: HS256 JWTs signed with the stack's API key and secret.

Written out (a dozen lines) instead of adding a JWT library: LiveKit's format is
a plain HS256 JWT with a `video` grant."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from nasrtc.i18n import _


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(key: str, secret: str, identity: str, room: str, ttl: int = 3600,
         admin: bool = False, now: int | None = None) -> str:
    issued = int(time.time() if now is None else now)
    grant: dict[str, Any] = {"room": room, "roomJoin": True, "canPublish": True,
                             "canSubscribe": True, "canPublishData": True}
    if admin:
        grant = {"room": room, "roomCreate": True, "roomAdmin": True, "roomList": True}
    claims = {"iss": key, "sub": identity, "nbf": issued, "exp": issued + ttl,
              "name": identity, "video": grant}
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def decode(token: str, secret: str | None = None) -> dict[str, Any]:
    """The claims; with a secret, the signature must match (ValueError otherwise)."""
    try:
        header, body, signature = token.split(".")
        claims = json.loads(_unb64(body))
    except ValueError as exc:
        raise ValueError(_("not a JWT: {reason}").format(reason=exc)) from None
    if secret is not None:
        expected = hmac.new(secret.encode(), f"{header}.{body}".encode(),
                            hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise ValueError(_("signature does not match this stack's API secret"))
    if not isinstance(claims, dict):
        raise ValueError(_("claims are not an object"))
    return claims


MAX_TTL = 30 * 86400


def parse_ttl(text: str) -> int:
    """'3600', '90m', '6h', '1d' -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    if not number.isdigit() or int(number) <= 0 or len(number) > 9:
        raise ValueError(_("{text!r} is not a duration; expected e.g. 3600, 90m, 6h or 1d")
                         .format(text=text[:20]))
    seconds = int(number) * units[unit]
    if seconds > MAX_TTL:
        raise ValueError(_("{text!r} is longer than 30 days; a test token needs hours at most")
                         .format(text=text))
    return seconds
