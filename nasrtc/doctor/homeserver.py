"""Checks of the homeserver's side of calls: the well-known file, the features and
transports it announces, and the OpenID -> LiveKit token exchange a client makes."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote

from nasrtc.doctor.clients import TRANSPORTS, matrix, matrix_error, matrix_request
from nasrtc.doctor.context import Context
from nasrtc.doctor.registry import PUBLIC, Outcome, check, failed, passed, skipped
from nasrtc.i18n import N_, _

if TYPE_CHECKING:
    from nasrtc.stack import Stack


def _homeserver(ctx: Context) -> tuple[str, ...]:
    return (ctx.stack.homeserver_host,)


@check(N_('well-known'), PUBLIC, needs=lambda ctx: (ctx.stack.domain,))
def check_well_known(ctx: Context) -> Outcome:
    url = f"https://{ctx.stack.domain}/.well-known/matrix/client"
    answer = ctx.net.request("GET", url)
    if answer.status != 200:
        return failed(_("{url} answered {status}").format(url=url, status=answer.status),
                     _("serve matrix/well-known-client.json there (README, Serving the "
                       "well-known file)"))
    problems = []
    origins = answer.header_values("Access-Control-Allow-Origin")
    if origins != ["*"]:
        problems.append(_("Access-Control-Allow-Origin: * is missing (web clients cannot "
                          "read the file)") if not origins else
                        _("Access-Control-Allow-Origin is {origins}, not one '*'").format(
                            origins=origins))
    if "json" not in (answer.headers.get("Content-Type") or ""):
        problems.append(_("served as {type}, not application/json")
                        .format(type=answer.headers.get('Content-Type') or _('no type')))
    try:
        data = json.loads(answer.body)
    except ValueError:
        return failed(_("{url} is not JSON").format(url=url),
                     _("serve matrix/well-known-client.json as application/json"))
    if "m.homeserver" not in data:
        problems.append(_("m.homeserver is missing"))
    foci = data.get("org.matrix.msc4143.rtc_foci") or []
    if not any(f.get("livekit_service_url") == ctx.stack.jwt_url for f in foci
               if isinstance(f, dict)):
        problems.append(_("org.matrix.msc4143.rtc_foci does not list {jwt_url}")
                        .format(jwt_url=ctx.stack.jwt_url))
    if problems:
        return failed("; ".join(problems),
                     _("serve matrix/well-known-client.json merged into your file, as "
                       "application/json with the header Access-Control-Allow-Origin: * "
                       "(README, Serving the well-known file)"))
    return passed(_("JSON, CORS *, m.homeserver and rtc_foci -> {jwt_url}")
                  .format(jwt_url=ctx.stack.jwt_url))


@check(N_('homeserver features'), PUBLIC, needs=_homeserver)
def check_versions(ctx: Context) -> Outcome:
    url = f"{ctx.stack.homeserver_url}/_matrix/client/versions"
    answer = ctx.net.request("GET", url)
    if answer.status != 200:
        return failed(_("{url} answered {status}").format(url=url, status=answer.status),
                     _("is homeserver_url in nasrtc.yaml right?"))
    features = json.loads(answer.body).get("unstable_features", {})
    missing = [f for f in ("org.matrix.msc4140", "org.matrix.msc4143") if not features.get(f)]
    if missing:
        return failed(_("not enabled: {features}").format(features=', '.join(missing)),
                     _("add matrix/homeserver.yaml's settings (max_event_delay_duration, "
                       "msc4143_enabled) to homeserver.yaml and restart Synapse"))
    return passed(_("delayed events (MSC4140) and MatrixRTC "
                    "transports (MSC4143) enabled"))


@check(N_('RTC transports'), PUBLIC, needs=_homeserver)
def check_transports(ctx: Context) -> Outcome:
    if not ctx.access_token:
        return skipped(_("needs an access token"),
                     _("run with --access-token (or NASRTC_ACCESS_TOKEN)"))
    answer = matrix_request(ctx, "GET", TRANSPORTS)
    if answer.status in (400, 404):
        return failed(_("the homeserver does not offer RTC transport discovery ({status}); "
                        "Element Call 0.24+ finds no transport").format(status=answer.status),
                     _("add matrix/homeserver.yaml's settings (msc4143_enabled and the "
                       "matrix_rtc block) to homeserver.yaml and restart Synapse"))
    if answer.status != 200:
        raise matrix_error(ctx, "GET", TRANSPORTS, answer.status)
    data = json.loads(answer.body)
    urls = [t.get("livekit_service_url") for t in data.get("rtc_transports", [])
            if isinstance(t, dict)]
    if ctx.stack.jwt_url in urls:
        return passed(_("the homeserver lists {jwt_url}").format(jwt_url=ctx.stack.jwt_url))
    if not data:
        return failed(_("the homeserver answers {} (msc4143 is on but "
                        "matrix_rtc.transports is missing); clients then find no transport"),
                     _("add the matrix_rtc block of matrix/homeserver.yaml to homeserver.yaml "
                       "and restart Synapse"))
    return failed(_("listed: {urls}").format(urls=urls or data),
                 _("set matrix_rtc.transports to {jwt_url} (matrix/homeserver.yaml)")
                 .format(jwt_url=ctx.stack.jwt_url))


def token_refused(stack: Stack, status: int, text: str) -> Outcome:
    """The auth service's own error answers (lk-jwt-service handler) in user terms (also
    the test call's, nasrtc.media.diagnose)."""
    if status == 401:
        detail = _("the auth service could not confirm the OpenID token with the homeserver")
        fix = _("it asks https://{domain}/_matrix/federation/v1/openid/userinfo (federation "
                "discovery: .well-known/matrix/server or port 8448): the homeserver needs a "
                "listener with the 'federation' or 'openid' resource that the container can "
                "reach").format(domain=stack.domain)
    elif status == 500 and "create room" in text:
        detail = _("the auth service cannot create rooms on LiveKit at {livekit_url}").format(
            livekit_url=stack.livekit_url)
        fix = _("the container must reach {sfu_host} (compose.yaml's extra_hosts maps it to "
                "this host) and the proxy must answer there; see `docker logs "
                "<project>-jwt-1`").format(sfu_host=stack.sfu_host)
    elif status in (400, 404):
        detail = _("the auth service does not understand /get_token ({status})").format(
            status=status)
        fix = _("use the pinned auth service image (images.jwt in nasrtc.yaml), then "
                "`{nasrtc} up`")
    else:
        detail = _("/get_token answered {status}").format(status=status)
        fix = _("see the auth service's log (`docker logs <project>-jwt-1`)")
    return failed(_("{detail} ({status}: {answer})")
                  .format(detail=detail, status=status, answer=text[:100].strip()), fix)


@check(N_('token round trip'), PUBLIC,
       needs=lambda ctx: (ctx.stack.homeserver_host, ctx.stack.jwt_host))
def check_round_trip(ctx: Context) -> Outcome:
    """What Element Call does to join: OpenID token -> /get_token -> LiveKit URL + JWT."""
    from nasrtc.tokens import decode

    if not ctx.access_token:
        return skipped(_("needs an access token"),
                     _("run with --access-token (or NASRTC_ACCESS_TOKEN)"))
    user = matrix(ctx, "GET", "/_matrix/client/v3/account/whoami")["user_id"]
    openid = matrix(ctx, "POST",
                     f"/_matrix/client/v3/user/{quote(user)}/openid/request_token", {})
    answer = ctx.net.request("POST", f"{ctx.stack.jwt_url}/get_token", headers={
        "Content-Type": "application/json"}, body=json.dumps({
            "room_id": f"!nasrtc-doctor:{ctx.stack.domain}", "slot_id": "m.call#ROOM",
            "openid_token": openid,
            "member": {"id": f"nasrtc-doctor-{uuid.uuid4().hex[:8]}",
                       "claimed_user_id": user, "claimed_device_id": "NASRTCDOCTOR"},
        }).encode())
    if answer.status != 200:
        return token_refused(ctx.stack, answer.status, answer.text())
    reply = json.loads(answer.body)
    try:
        claims = decode(str(reply.get("jwt", "")), ctx.stack.api_secret)
    except ValueError as exc:
        return failed(_("the LiveKit token does not verify: {reason}").format(reason=exc),
                     _("the auth service runs with other keys than livekit.yaml: run "
                       "`{nasrtc} up` (it recreates containers whose secrets changed)"))
    problems = []
    if reply.get("url") != ctx.stack.livekit_url:
        problems.append(_("url is {url!r}, not {livekit_url}")
                        .format(url=reply.get('url'), livekit_url=ctx.stack.livekit_url))
    if not (claims.get("video") or {}).get("room"):
        problems.append(_("the LiveKit token names no room"))
    if problems:
        return failed("; ".join(problems),
                     _("LIVEKIT_URL in compose.yaml must be the public wss:// URL; run "
                       "`{nasrtc} render` and `{nasrtc} up`"))
    return passed(_("OpenID token for {user} -> LiveKit token for room {room!r} at {url}")
                  .format(user=user, room=claims['video']['room'], url=reply['url']))
