"""The two APIs doctor talks to besides plain HTTP: the homeserver's client-server
API (with the user's access token) and LiveKit's Twirp room service (with an
admin token minted from the stack's key)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nasrtc.doctor.net import Net, Response
from nasrtc.errors import NasrtcError
from nasrtc.i18n import _

if TYPE_CHECKING:
    from nasrtc.doctor.context import Context
    from nasrtc.stack import Stack

TRANSPORTS = "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports"


# ---------------------------------------------------------------- Matrix


def matrix_request(ctx: Context, method: str, path: str, body: Any = None) -> Response:
    """A client-server API call with the user's access token."""
    return ctx.net.request(method, f"{ctx.stack.homeserver_url}{path}", headers={
        "Authorization": f"Bearer {ctx.access_token}", "Content-Type": "application/json"},
        body=None if body is None else json.dumps(body).encode())


def matrix(ctx: Context, method: str, path: str, body: Any = None) -> Any:
    """The JSON answer of a call that must succeed (else a NasrtcError with the fix)."""
    answer = matrix_request(ctx, method, path, body)
    if answer.status != 200:
        raise matrix_error(ctx, method, path, answer.status)
    return json.loads(answer.body)


def matrix_error(ctx: Context, method: str, path: str, status: int) -> NasrtcError:
    if status == 401:
        return NasrtcError(_("{method} {path}: the homeserver does not accept the access "
                             "token").format(method=method, path=path),
                           _("copy a current one (Element: Settings › Help & About › Access "
                             "token) into --access-token or NASRTC_ACCESS_TOKEN"))
    return NasrtcError(_("{method} {path} answered {status}")
                       .format(method=method, path=path, status=status),
                       _("is homeserver_url ({homeserver_url}) right, and does the proxy pass "
                         "/_matrix to the homeserver?")
                       .format(homeserver_url=ctx.stack.homeserver_url))


# ---------------------------------------------------------------- LiveKit


def create_room(net: Net, stack: Stack, base: str, room: str, empty_timeout: int) -> Response:
    """LiveKit's Twirp CreateRoom with an admin token. Needed before anyone can join: the
    auth service creates rooms for callers, and livekit.yaml has room.auto_create off."""
    from nasrtc.tokens import mint

    admin = mint(stack.api_key, stack.api_secret, "nasrtc", room, ttl=120, admin=True)
    return net.request("POST", f"{base}/twirp/livekit.RoomService/CreateRoom", headers={
        "Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        body=json.dumps({"name": room, "empty_timeout": empty_timeout}).encode())


@contextmanager
def livekit_test_room(net: Net, stack: Stack, base: str,
                      empty_timeout: int = 30) -> Iterator[tuple[str, Response]]:
    """A throw-away room on LiveKit, deleted on the way out. Yields (room name,
    CreateRoom's answer)."""
    from nasrtc.tokens import mint

    room = f"nasrtc-doctor-{uuid.uuid4().hex[:8]}"
    created = create_room(net, stack, base, room, empty_timeout)
    try:
        yield room, created
    finally:
        if created.status == 200:
            admin = mint(stack.api_key, stack.api_secret, "nasrtc", room, ttl=120, admin=True)
            net.request("POST", f"{base}/twirp/livekit.RoomService/DeleteRoom", headers={
                "Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
                body=json.dumps({"room": room}).encode())
