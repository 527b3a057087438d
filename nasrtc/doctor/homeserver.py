"""Checks of the homeserver's side of calls: the well-known file, the features and
transports it announces, and the OpenID -> LiveKit token exchange a client makes."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from nasrtc.doctor.clients import TRANSPORTS, matrix, matrix_error, matrix_request
from nasrtc.doctor.context import Context
from nasrtc.doctor.registry import PUBLIC, Outcome, check, failed, passed, skipped


def _homeserver(ctx: Context) -> tuple[str, ...]:
    return (ctx.stack.homeserver_host,)


@check('well-known', PUBLIC, needs=lambda ctx: (ctx.stack.domain,))
def check_well_known(ctx: Context) -> Outcome:
    url = f"https://{ctx.stack.domain}/.well-known/matrix/client"
    answer = ctx.net.request("GET", url)
    if answer.status != 200:
        return failed(f"{url} answered {answer.status}",
                     "serve matrix/well-known-client.json there (README, Serving the "
                     "well-known file)")
    problems = []
    origins = answer.header_values("Access-Control-Allow-Origin")
    if origins != ["*"]:
        problems.append("Access-Control-Allow-Origin: * is missing (web clients cannot read "
                        "the file)" if not origins else
                        f"Access-Control-Allow-Origin is {origins}, not one '*'")
    if "json" not in (answer.headers.get("Content-Type") or ""):
        problems.append(f"served as {answer.headers.get('Content-Type') or 'no type'}, "
                        "not application/json")
    try:
        data = json.loads(answer.body)
    except ValueError:
        return failed(f"{url} is not JSON",
                     "serve matrix/well-known-client.json as application/json")
    if "m.homeserver" not in data:
        problems.append("m.homeserver is missing")
    foci = data.get("org.matrix.msc4143.rtc_foci") or []
    if not any(f.get("livekit_service_url") == ctx.stack.jwt_url for f in foci
               if isinstance(f, dict)):
        problems.append(f"org.matrix.msc4143.rtc_foci does not list {ctx.stack.jwt_url}")
    if problems:
        return failed("; ".join(problems),
                     "serve matrix/well-known-client.json merged into your file, as "
                     "application/json with the header Access-Control-Allow-Origin: * "
                     "(README, Serving the well-known file)")
    return passed(f"JSON, CORS *, m.homeserver and rtc_foci -> "
                 f"{ctx.stack.jwt_url}")


@check('homeserver features', PUBLIC, needs=_homeserver)
def check_versions(ctx: Context) -> Outcome:
    url = f"{ctx.stack.homeserver_url}/_matrix/client/versions"
    answer = ctx.net.request("GET", url)
    if answer.status != 200:
        return failed(f"{url} answered {answer.status}",
                     "is homeserver_url in nasrtc.yaml right?")
    features = json.loads(answer.body).get("unstable_features", {})
    missing = [f for f in ("org.matrix.msc4140", "org.matrix.msc4143") if not features.get(f)]
    if missing:
        return failed(f"not enabled: {', '.join(missing)}",
                     "add matrix/homeserver.yaml's settings (max_event_delay_duration, "
                     "msc4143_enabled) to homeserver.yaml and restart Synapse")
    return passed("delayed events (MSC4140) and MatrixRTC "
                 "transports (MSC4143) enabled")


@check('RTC transports', PUBLIC, needs=_homeserver)
def check_transports(ctx: Context) -> Outcome:
    if not ctx.access_token:
        return skipped("needs an access token",
                     "run with --access-token (or NASRTC_ACCESS_TOKEN)")
    answer = matrix_request(ctx, "GET", TRANSPORTS)
    if answer.status in (400, 404):
        return failed("the homeserver does not offer RTC transport "
                     f"discovery ({answer.status}); Element Call 0.24+ finds no transport",
                     "add matrix/homeserver.yaml's settings (msc4143_enabled and the "
                     "matrix_rtc block) to homeserver.yaml and restart Synapse")
    if answer.status != 200:
        raise matrix_error(ctx, "GET", TRANSPORTS, answer.status)
    data = json.loads(answer.body)
    urls = [t.get("livekit_service_url") for t in data.get("rtc_transports", [])
            if isinstance(t, dict)]
    if ctx.stack.jwt_url in urls:
        return passed(f"the homeserver lists {ctx.stack.jwt_url}")
    if not data:
        return failed("the homeserver answers {} (msc4143 is on but "
                     "matrix_rtc.transports is missing); clients then find no transport",
                     "add the matrix_rtc block of matrix/homeserver.yaml to homeserver.yaml "
                     "and restart Synapse")
    return failed(f"listed: {urls or data}",
                 f"set matrix_rtc.transports to {ctx.stack.jwt_url} (matrix/homeserver.yaml)")


def _token_refused(ctx: Context, status: int, text: str) -> Outcome:
    """The auth service's own error answers (lk-jwt-service handler) in user terms."""
    stack = ctx.stack
    if status == 401:
        detail, fix = ("the auth service could not confirm the OpenID token with the "
                       "homeserver", f"it asks https://{stack.domain}/_matrix/federation/v1/"
                       "openid/userinfo (federation discovery: .well-known/matrix/server or "
                       "port 8448): the homeserver needs a listener with the 'federation' or "
                       "'openid' resource that the container can reach")
    elif status == 500 and "create room" in text:
        detail, fix = (f"the auth service cannot create rooms on LiveKit at "
                       f"{stack.livekit_url}", f"the container must reach {stack.sfu_host} "
                       "(compose.yaml's extra_hosts maps it to this host) and the proxy must "
                       "answer there; see `docker logs <project>-jwt-1`")
    elif status in (400, 404):
        detail, fix = (f"the auth service does not understand /get_token ({status})",
                       "use the pinned auth service image (images.jwt in nasrtc.yaml), "
                       "then `nasrtc up`")
    else:
        detail, fix = (f"/get_token answered {status}",
                       "see the auth service's log (`docker logs <project>-jwt-1`)")
    return failed(f"{detail} ({status}: {text[:100].strip()})", fix)


@check('token round trip', PUBLIC,
       needs=lambda ctx: (ctx.stack.homeserver_host, ctx.stack.jwt_host))
def check_round_trip(ctx: Context) -> Outcome:
    """What Element Call does to join: OpenID token -> /get_token -> LiveKit URL + JWT."""
    from nasrtc.tokens import decode

    if not ctx.access_token:
        return skipped("needs an access token",
                     "run with --access-token (or NASRTC_ACCESS_TOKEN)")
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
        return _token_refused(ctx, answer.status, answer.text())
    reply = json.loads(answer.body)
    try:
        claims = decode(str(reply.get("jwt", "")), ctx.stack.api_secret)
    except ValueError as exc:
        return failed(f"the LiveKit token does not verify: {exc}",
                     "the auth service runs with other keys than livekit.yaml: run "
                     "`nasrtc up` (it recreates containers whose secrets changed)")
    problems = []
    if reply.get("url") != ctx.stack.livekit_url:
        problems.append(f"url is {reply.get('url')!r}, not {ctx.stack.livekit_url}")
    if not (claims.get("video") or {}).get("room"):
        problems.append("the LiveKit token names no room")
    if problems:
        return failed("; ".join(problems),
                     "LIVEKIT_URL in compose.yaml must be the public wss:// URL; run "
                     "`nasrtc render` and `nasrtc up`")
    return passed(f"OpenID token for {user} -> LiveKit token for "
                 f"room {claims['video']['room']!r} at {reply['url']}")
