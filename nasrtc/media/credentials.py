"""How the test calls' participants get in: two per call, each call in a room of its own
(two calls in one room would hear each other's tone; one identity twice is thrown out).

With an access token, as Element Call does: the homeserver's RTC transports (MSC4143),
else the well-known file's rtc_foci; an OpenID token; the auth service's /get_token, once
per participant (two members of the same user). Without one, the way `nasrtc token` does
it: the room created on LiveKit over the public SFU name, tokens signed with the stack's
key (needs the stack folder's secrets/, so run on the NAS or with a copy of the folder).
Tokens stay in memory; none is printed."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nasrtc.doctor.clients import TRANSPORTS, create_room, matrix, matrix_request
from nasrtc.errors import NasrtcError
from nasrtc.i18n import _

if TYPE_CHECKING:
    from nasrtc.doctor.context import Context

BY_AUTH_SERVICE, BY_STACK_KEY = "auth service", "stack key"


@dataclass
class Credentials:
    how: str  # BY_AUTH_SERVICE or BY_STACK_KEY
    url: str  # the LiveKit URL the participants join
    calls: list[list[str]] = field(repr=False)  # two tokens per call; never printed
    rooms: list[str]
    user: str = ""  # the Matrix user, with an access token
    service: str = ""  # the auth service's URL the homeserver names
    cleanup: Any = field(default=None, repr=False)  # deletes the room made with the key


class Refused(NasrtcError):
    """The auth service (or LiveKit) refused to let the test call in: a row of its own."""

    def __init__(self, message: str, fix: str, status: int = 0, answer: str = "") -> None:
        super().__init__(message, fix)
        self.status, self.answer = status, answer


def service_url(ctx: Context) -> str:
    """The auth service the homeserver names (MSC4143), else the well-known's rtc_foci:
    the order Element Call asks in."""
    answer = matrix_request(ctx, "GET", TRANSPORTS)
    if answer.status == 200:
        for transport in json.loads(answer.body).get("rtc_transports", []) or []:
            if isinstance(transport, dict) and transport.get("type") == "livekit" \
                    and isinstance(transport.get("livekit_service_url"), str):
                return str(transport["livekit_service_url"])
    well_known = ctx.net.request("GET", f"https://{ctx.stack.domain}/.well-known/matrix/client")
    if well_known.status == 200:
        try:
            foci = json.loads(well_known.body).get("org.matrix.msc4143.rtc_foci") or []
        except (ValueError, AttributeError):
            foci = []
        for focus in foci if isinstance(foci, list) else []:
            if isinstance(focus, dict) and focus.get("type") == "livekit" \
                    and isinstance(focus.get("livekit_service_url"), str):
                return str(focus["livekit_service_url"])
    raise Refused(_("MISSING_MATRIX_RTC_TRANSPORT (Element Call: \"Call is not supported\"): "
                    "neither the homeserver's RTC transports nor "
                    "https://{domain}/.well-known/matrix/client name a LiveKit service")
                  .format(domain=ctx.stack.domain),
                  _("see the rows 'RTC transports' and 'well-known' above"))


def through_auth_service(ctx: Context, calls: int) -> Credentials:
    whoami = matrix(ctx, "GET", "/_matrix/client/v3/account/whoami")
    user, device = str(whoami["user_id"]), str(whoami.get("device_id") or "NASRTCDOCTOR")
    service = service_url(ctx).rstrip("/")
    rooms = [f"!nasrtc-media-{uuid.uuid4().hex[:12]}:{ctx.stack.domain}" for _ in range(calls)]
    tokens: list[list[str]] = []
    url = ""
    for room_id in rooms:
        pair = []
        for member in ("a", "b"):
            jwt, url = _get_token(ctx, service, room_id, user, device, member)
            pair.append(jwt)
        tokens.append(pair)
    return Credentials(BY_AUTH_SERVICE, url, tokens, rooms, user=user, service=service)


def _get_token(ctx: Context, service: str, room_id: str, user: str, device: str,
               member: str) -> tuple[str, str]:
    """One participant's (jwt, LiveKit URL), as Element Call asks: a fresh OpenID token,
    a member id of its own."""
    openid = matrix(ctx, "POST", f"/_matrix/client/v3/user/{quote(user)}/openid/request_token",
                    {})
    answer = ctx.net.request("POST", f"{service}/get_token", headers={
        "Content-Type": "application/json"}, body=json.dumps({
            "room_id": room_id, "slot_id": "m.call#ROOM", "openid_token": openid,
            "member": {"id": f"nasrtc-media-{member}-{uuid.uuid4().hex[:6]}",
                       "claimed_user_id": user, "claimed_device_id": device},
        }).encode())
    if answer.status != 200:
        raise Refused(_("{service}/get_token answered {status}").format(
            service=service, status=answer.status), "", answer.status, answer.text()[:200])
    reply = json.loads(answer.body)
    if not isinstance(reply, dict) or not isinstance(reply.get("jwt"), str) \
            or not isinstance(reply.get("url"), str):
        raise Refused(_("{service}/get_token gave no url and jwt").format(service=service),
                      _("something else than the auth service answers there; check the "
                        "proxy row for {jwt_host}").format(jwt_host=ctx.stack.jwt_host))
    return reply["jwt"], reply["url"]


def with_stack_key(ctx: Context, calls: int) -> Credentials:
    """The rooms made on LiveKit over the public name (the room service's Twirp API, as
    the SFU WebSocket row does), deleted again by `cleanup`."""
    from nasrtc.tokens import mint

    stack = ctx.stack
    base = f"https://{stack.sfu_host}"
    rooms: list[str] = []

    def cleanup() -> None:
        for room in rooms:
            admin = mint(stack.api_key, stack.api_secret, "nasrtc", room, ttl=120, admin=True)
            ctx.net.request("POST", f"{base}/twirp/livekit.RoomService/DeleteRoom", headers={
                "Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
                body=json.dumps({"room": room}).encode())

    for _call in range(calls):
        room = f"nasrtc-media-{uuid.uuid4().hex[:8]}"
        created = create_room(ctx.net, stack, base, room, 60)
        if created.status != 200:
            with contextlib.suppress(OSError):
                cleanup()
            raise Refused(_("creating the test room at {base} answered {status}").format(
                base=base, status=created.status),
                _("the SFU row must pass every path (and POST) to LiveKit; check that the API "
                  "key in livekit.yaml matches secrets/ (see the row 'SFU WebSocket')"))
        rooms.append(room)
    tokens = [[mint(stack.api_key, stack.api_secret, f"nasrtc-media-{who}", room, ttl=300)
               for who in ("a", "b")] for room in rooms]
    return Credentials(BY_STACK_KEY, stack.livekit_url, tokens, rooms, cleanup=cleanup)


def credentials(ctx: Context, calls: int = 1) -> Credentials:
    """Tokens for `calls` test calls, each in a room of its own."""
    return through_auth_service(ctx, calls) if ctx.access_token else with_stack_key(ctx, calls)
