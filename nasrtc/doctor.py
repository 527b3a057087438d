"""`nasrtc doctor`: each piece checked in order, from the NAS and from the public
side; every failure says what is wrong and the exact fix. Returns results; the
CLI prints them. Network calls are short and bounded; no secret is printed."""

from __future__ import annotations

import json
import os
import ssl
import stat
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from nasrtc.answers import Answers
from nasrtc.errors import NasrtcError
from nasrtc.model import Stack
from nasrtc.probe import Net, Response

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skipped"
CERT_DAYS = 14


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Context:
    stack: Stack
    answers: Answers  # what the stack was built from (nasrtc.yaml, read once)
    stack_dir: Path
    net: Net
    access_token: str | None
    _containers: list[Any] | None = None

    def containers(self) -> list[Any]:
        """The stack's container rows, asked of the engine once per doctor run."""
        if self._containers is None:
            from nasrtc import engine
            from nasrtc.model import JWT_SERVICE, LIVEKIT_SERVICE

            self._containers = engine.status(self.stack.project,
                                             (LIVEKIT_SERVICE, JWT_SERVICE))
        return self._containers


Probe = Callable[[Context], Check]


def _safe(name: str, probe: Probe, ctx: Context) -> Check:
    """A probe that raises still gives a row (never a traceback, never a hang)."""
    try:
        return probe(ctx)
    except NasrtcError as exc:
        return Check(name, FAIL, exc.message, exc.fix)
    except ssl.SSLCertVerificationError as exc:
        return Check(name, FAIL, f"TLS certificate not accepted: {exc.verify_message or exc}",
                     "fix the certificate first (see the certificates row)")
    except (OSError, ssl.SSLError, ValueError) as exc:
        return Check(name, FAIL, *_network_problem(exc))


def _network_problem(exc: BaseException) -> tuple[str, str]:
    """A failed connection in words a NAS owner can act on."""
    import socket

    if isinstance(exc, socket.gaierror):
        return ("the name does not resolve",
                "create the DNS record (checklist.md, section DNS), or test the proxy before "
                "DNS with --connect-to NAME::NAS-ADDRESS: (README, Checking with doctor)")
    if isinstance(exc, ConnectionRefusedError):
        return ("connection refused: nothing listens there",
                "is the reverse proxy running and is port 443 forwarded to the NAS?")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return ("no answer within the timeout",
                "a firewall (router or NAS) drops the connection, or the service hangs")
    return (f"{exc.__class__.__name__}: {exc}", "see the detail")


# ---------------------------------------------------------------- local


def check_files(ctx: Context) -> Check:
    from nasrtc.generate import plan_stack

    plan = plan_stack(ctx.stack_dir, ctx.answers, write_answers_file=False)
    status = plan.status()
    edited = [rel for rel, s in status.items() if s == "edited"]
    stale = [rel for rel, s in status.items() if s in ("changes", "new")]
    if edited:
        return Check("files", FAIL, f"edited by hand since nasrtc wrote them: {', '.join(edited)}",
                     "put the change into nasrtc.yaml and run `nasrtc render --force` "
                     "(your copies are kept as .bak)")
    if stale:
        return Check("files", WARN, f"older than nasrtc.yaml: {', '.join(stale)}",
                     "run `nasrtc render` (then `nasrtc up` to apply)")
    return Check("files", PASS, "every generated file matches nasrtc.yaml")


def check_secrets(ctx: Context) -> Check:
    folder = ctx.stack_dir / "secrets"
    problems = []
    if not folder.is_dir():
        return Check("secrets", FAIL, "secrets/ is missing", "run `nasrtc init` (keeps answers)")
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        problems.append("secrets/ is readable by others")
    for name in ("livekit_api_key", "livekit_api_secret"):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif stat.S_IMODE(path.stat().st_mode) & 0o077:
            problems.append(f"{name} is readable by others")
    livekit = ctx.stack_dir / "livekit" / "livekit.yaml"
    if livekit.is_file() and stat.S_IMODE(livekit.stat().st_mode) & 0o077:
        problems.append("livekit/livekit.yaml (holds the secret) is readable by others")
    if problems:
        return Check("secrets", FAIL, "; ".join(problems),
                     "run `nasrtc render` (it restores 0700/0600), or "
                     "`chmod 700 secrets && chmod 600 secrets/* livekit/livekit.yaml`")
    return Check("secrets", PASS, "present; folder 0700, files 0600")


def check_livekit_keys(ctx: Context) -> Check:
    import yaml

    from nasrtc.livekit_keys import unknown_keys

    path = ctx.stack_dir / "livekit" / "livekit.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return Check("livekit.yaml", FAIL, f"not valid YAML: {str(exc).splitlines()[0]}",
                     "run `nasrtc render --force` to rebuild it from nasrtc.yaml")
    unknown = unknown_keys(config)
    if unknown:
        return Check("livekit.yaml", FAIL,
                     f"keys LiveKit does not know (it will not start): {', '.join(unknown)}",
                     "remove them, or run `nasrtc render --force` to rebuild the file from "
                     "nasrtc.yaml (your copy is kept as .bak)")
    return Check("livekit.yaml", PASS, "only keys LiveKit knows")


def check_containers(ctx: Context) -> Check:
    rows = ctx.containers()
    bad = [f"{r.service}: {r.state}{'/' + r.health if r.health else ''}" for r in rows
           if r.state != "running" or r.health not in ("", "healthy")]
    if bad:
        return Check("containers", FAIL, "; ".join(bad),
                     "run `nasrtc up` (it shows the log of a container that crashes)")
    return Check("containers", PASS, "livekit and jwt running and healthy")


def check_livekit_http(ctx: Context) -> Check:
    route = ctx.stack.sfu_route
    answer = ctx.net.request("GET", f"{route.upstream}/")
    if answer.status == 200 and answer.text().strip() == "OK":
        return Check("LiveKit (local)", PASS, f"{route.upstream}/ answers OK")
    return Check("LiveKit (local)", FAIL, f"{route.upstream}/ answered {answer.status}",
                 "see `nasrtc status` and `docker logs <project>-livekit-1`")


def check_jwt_health(ctx: Context) -> Check:
    route = ctx.stack.jwt_route
    answer = ctx.net.request("GET", f"{route.upstream}/healthz")
    if answer.status == 200:
        return Check("auth service (local)", PASS, f"{route.upstream}/healthz answers 200")
    return Check("auth service (local)", FAIL, f"/healthz answered {answer.status}",
                 "see `docker logs <project>-jwt-1`")


def check_ports(ctx: Context) -> Check:
    from nasrtc import hostinfo

    try:
        rows = ctx.containers()
    except NasrtcError:
        rows = []
    if rows and all(r.state == "running" for r in rows):
        return Check("ports", PASS, "held by this stack's running containers")
    taken = []
    for rule in ctx.stack.ports:
        for number in range(rule.start, rule.end + 1):
            owner = hostinfo.port_owner(rule.protocol, number)
            if owner:
                taken.append(f"{rule.protocol.upper()} {number} ({owner})")
    if taken:
        return Check("ports", FAIL, "held by something else: " + ", ".join(taken),
                     "stop that program or choose other ports in nasrtc.yaml, then "
                     "`nasrtc render` and `nasrtc up`")
    return Check("ports", PASS, "no clash with other programs")


# ---------------------------------------------------------------- public side


def check_dns(ctx: Context) -> Check:
    stack = ctx.stack
    homeserver_host = stack.homeserver_host
    found = {host: ctx.net.resolve(host) for host in (stack.jwt_host, stack.sfu_host,
                                                      homeserver_host)}
    missing = [host for host in (stack.jwt_host, stack.sfu_host) if not found[host]]
    if missing:
        return Check("DNS", FAIL, f"does not resolve: {', '.join(missing)}",
                     "create the records (checklist.md, section DNS); new records can take "
                     "a while to appear")
    reference = set(found[homeserver_host])
    differ = [host for host in (stack.jwt_host, stack.sfu_host)
              if reference and not set(found[host]) & reference]
    detail = ", ".join(f"{h} -> {' '.join(a)}" for h, a in found.items() if a)
    if differ:
        verb = "points" if len(differ) == 1 else "point"
        return Check("DNS", WARN, f"{', '.join(differ)} {verb} elsewhere than "
                     f"{homeserver_host} ({detail})",
                     "point them where the homeserver's name points, unless the SFU really "
                     "runs on another machine")
    return Check("DNS", PASS, detail)


def _hosts(ctx: Context) -> list[str]:
    """Every name clients reach over TLS, each once, in the order a call uses them."""
    stack = ctx.stack
    return list(dict.fromkeys((stack.domain, stack.homeserver_host, stack.jwt_host,
                               stack.sfu_host)))


def _certificate_problem(host: str, exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    message = str(exc.verify_message or exc)
    if "expired" in message:
        return (f"{host}: the certificate has expired",
                f"renew the certificate for {host} (certbot renew; DSM: Control Panel › "
                "Security › Certificate › Renew) and check that renewal runs by itself")
    if "mismatch" in message.lower() or "not valid for" in message:
        return (f"{host}: the certificate is for another name",
                f"get a certificate that names {host} and assign it to {host}'s proxy row "
                "(DSM: Certificate › Settings)")
    return (f"{host}: {message}",
            "serve the full chain (fullchain.pem), or pass --ca-file for a private CA")


def check_certificates(ctx: Context) -> Check:
    problems, fixes, soon, notes = [], [], [], []
    for host in _hosts(ctx):
        try:
            cert = ctx.net.certificate(host)
        except ssl.SSLCertVerificationError as exc:
            problem, fix = _certificate_problem(host, exc)
            problems.append(problem)
            fixes.append(fix)
            continue
        except OSError as exc:
            detail, fix = _network_problem(exc)
            problems.append(f"{host}: not checked ({detail})")
            fixes.append(fix)
            continue
        expires = ssl.cert_time_to_seconds(str(cert["notAfter"]))
        days = int((expires - time.time()) // 86400)
        if days < CERT_DAYS:
            soon.append(f"{host} expires in {days} days")
        else:
            notes.append(f"{host} {days} days")
    if problems:
        return Check("certificates", FAIL, "; ".join(problems + soon),
                     "; ".join(dict.fromkeys(fixes)))
    if soon:
        return Check("certificates", WARN, "; ".join(soon),
                     f"renewal seems not to run (Let's Encrypt renews {CERT_DAYS * 2} days "
                     "ahead): check certbot's timer or DSM's automatic renewal")
    return Check("certificates", PASS, "valid: " + ", ".join(notes))


def check_jwt_public(ctx: Context) -> Check:
    url = f"{ctx.stack.jwt_url}/healthz"
    answer = ctx.net.request("GET", url)
    if answer.status == 200:
        return Check("auth service (public)", PASS, f"{url} answers 200")
    return Check("auth service (public)", FAIL, f"{url} answered {answer.status}",
                 f"the proxy row for {ctx.stack.jwt_host} must go to "
                 f"{ctx.stack.jwt_route.upstream} (reverse-proxy.md); is the container up?")


def check_cors(ctx: Context) -> Check:
    """GET answers 405 from the service itself; the preflight (OPTIONS) answers 200, which
    also shows a proxy's `add_header` that applies to successful answers only."""
    url = f"{ctx.stack.jwt_url}/get_token"
    origin = {"Origin": "https://app.element.io"}
    answer = ctx.net.request("GET", url, headers=origin)
    if answer.status != 405:
        return Check("auth service CORS", FAIL, f"GET {url} answered {answer.status}, not 405",
                     "the proxy row must pass every path to the auth service unchanged")
    preflight = ctx.net.request("OPTIONS", url, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    for label, reply in (("GET", answer), ("OPTIONS", preflight)):
        origins = reply.header_values("Access-Control-Allow-Origin")
        if len(origins) > 1:
            return Check("auth service CORS", FAIL,
                         f"Access-Control-Allow-Origin sent {len(origins)} times ({label}); "
                         "browsers then refuse the answer",
                         "remove the CORS header your reverse proxy adds for "
                         f"{ctx.stack.jwt_host}: the auth service sends its own")
        if origins != ["*"]:
            return Check("auth service CORS", FAIL,
                         f"{label} {url}: Access-Control-Allow-Origin is {origins or 'missing'}",
                         "the auth service sends '*' itself; is something else answering "
                         f"for {ctx.stack.jwt_host}, or does the proxy strip headers?")
    return Check("auth service CORS", PASS,
                 "GET 405 and preflight, each with one Access-Control-Allow-Origin: *")


def check_sfu_public(ctx: Context) -> Check:
    url = f"https://{ctx.stack.sfu_host}/"
    answer = ctx.net.request("GET", url)
    if answer.status == 200 and answer.text().strip() == "OK":
        return Check("SFU (public)", PASS, f"{url} answers OK")
    return Check("SFU (public)", FAIL, f"{url} answered {answer.status}",
                 f"the proxy row for {ctx.stack.sfu_host} must go to "
                 f"{ctx.stack.sfu_route.upstream} (reverse-proxy.md)")


def check_websocket(ctx: Context) -> Check:
    from nasrtc.tokens import mint

    stack, base = ctx.stack, f"https://{ctx.stack.sfu_host}"
    room = f"nasrtc-doctor-{uuid.uuid4().hex[:8]}"
    admin = mint(stack.api_key, stack.api_secret, "nasrtc-doctor", room, ttl=120, admin=True)
    auth = {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}
    created = ctx.net.request("POST", f"{base}/twirp/livekit.RoomService/CreateRoom",
                              headers=auth, body=json.dumps({"name": room,
                                                             "empty_timeout": 30}).encode())
    if created.status != 200:
        return Check("SFU WebSocket", FAIL, f"creating a test room answered {created.status}",
                     "the SFU row must pass every path (and POST) to LiveKit; check the "
                     "API key in livekit.yaml matches secrets/")
    try:
        token = mint(stack.api_key, stack.api_secret, "nasrtc-doctor", room, ttl=120)
        answer = ctx.net.websocket(f"{base}/rtc?access_token={quote(token)}")
    finally:
        ctx.net.request("POST", f"{base}/twirp/livekit.RoomService/DeleteRoom", headers=auth,
                        body=json.dumps({"room": room}).encode())
    if answer.status == 101:
        return Check("SFU WebSocket", PASS, "wss://.../rtc upgraded (101)")
    if answer.status in (400, 426):
        return Check("SFU WebSocket", FAIL,
                     f"the upgrade to WebSocket was refused ({answer.status}): the proxy does "
                     "not pass the Upgrade/Connection headers",
                     f"enable WebSocket on the {stack.sfu_host} row "
                     f"({'; '.join(stack.profile.reverse_proxy['websocket_steps'])})")
    if answer.status in (502, 503, 504):
        return Check("SFU WebSocket", FAIL, f"the proxy answered {answer.status}",
                     f"LiveKit is not reachable from the proxy at {stack.sfu_route.upstream}")
    if answer.status == 401:
        return Check("SFU WebSocket", FAIL, "LiveKit refused the test token (401)",
                     "livekit.yaml's keys differ from secrets/: run `nasrtc render` and "
                     "`nasrtc up`")
    return Check("SFU WebSocket", WARN, f"unexpected answer {answer.status} to the upgrade",
                 "see LiveKit's log (`docker logs <project>-livekit-1`)")


def check_rtc_tcp(ctx: Context) -> Check:
    port = ctx.stack.livekit.rtc_tcp
    if ctx.net.tcp_open(ctx.stack.sfu_host, port):
        return Check("router: RTC TCP", PASS, f"{ctx.stack.sfu_host}:{port} accepts connections")
    return Check("router: RTC TCP", FAIL, f"cannot connect to {ctx.stack.sfu_host}:{port}",
                 f"forward TCP {port} to the NAS, same port (checklist.md, section Router); "
                 "from inside your network this also needs NAT loopback on the router")


def check_udp(ctx: Context) -> Check:
    media = ", ".join(f"{r.protocol.upper()} {r.label}" for r in ctx.stack.forwarded_ports
                      if r.protocol == "udp")
    return Check("router: UDP", SKIP,
                 f"UDP ({media}) cannot be proven from inside your network",
                 "test from outside: `nasrtc token --room test --identity me` and paste the URL "
                 "and token into LiveKit's connection tester (livekit.io/connection-test)")


# ---------------------------------------------------------------- homeserver


def check_well_known(ctx: Context) -> Check:
    url = f"https://{ctx.stack.domain}/.well-known/matrix/client"
    answer = ctx.net.request("GET", url)
    if answer.status != 200:
        return Check("well-known", FAIL, f"{url} answered {answer.status}",
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
        return Check("well-known", FAIL, f"{url} is not JSON",
                     "serve matrix/well-known-client.json as application/json")
    if "m.homeserver" not in data:
        problems.append("m.homeserver is missing")
    foci = data.get("org.matrix.msc4143.rtc_foci") or []
    if not any(f.get("livekit_service_url") == ctx.stack.jwt_url for f in foci
               if isinstance(f, dict)):
        problems.append(f"org.matrix.msc4143.rtc_foci does not list {ctx.stack.jwt_url}")
    if problems:
        return Check("well-known", FAIL, "; ".join(problems),
                     "serve matrix/well-known-client.json merged into your file, as "
                     "application/json with the header Access-Control-Allow-Origin: * "
                     "(README, Serving the well-known file)")
    return Check("well-known", PASS, f"JSON, CORS *, m.homeserver and rtc_foci -> "
                 f"{ctx.stack.jwt_url}")


def check_versions(ctx: Context) -> Check:
    url = f"{ctx.stack.homeserver_url}/_matrix/client/versions"
    answer = ctx.net.request("GET", url)
    if answer.status != 200:
        return Check("homeserver features", FAIL, f"{url} answered {answer.status}",
                     "is homeserver_url in nasrtc.yaml right?")
    features = json.loads(answer.body).get("unstable_features", {})
    missing = [f for f in ("org.matrix.msc4140", "org.matrix.msc4143") if not features.get(f)]
    if missing:
        return Check("homeserver features", FAIL, f"not enabled: {', '.join(missing)}",
                     "add matrix/homeserver.yaml's settings (max_event_delay_duration, "
                     "msc4143_enabled) to homeserver.yaml and restart Synapse")
    return Check("homeserver features", PASS, "delayed events (MSC4140) and MatrixRTC "
                 "transports (MSC4143) enabled")


def _matrix_request(ctx: Context, method: str, path: str, body: Any = None) -> Response:
    """A client-server API call with the user's access token."""
    return ctx.net.request(method, f"{ctx.stack.homeserver_url}{path}", headers={
        "Authorization": f"Bearer {ctx.access_token}", "Content-Type": "application/json"},
        body=None if body is None else json.dumps(body).encode())


def _matrix(ctx: Context, method: str, path: str, body: Any = None) -> Any:
    """The JSON answer of a call that must succeed (else a NasrtcError with the fix)."""
    answer = _matrix_request(ctx, method, path, body)
    if answer.status != 200:
        raise _matrix_error(ctx, method, path, answer.status)
    return json.loads(answer.body)


def _matrix_error(ctx: Context, method: str, path: str, status: int) -> NasrtcError:
    if status == 401:
        return NasrtcError(f"{method} {path}: the homeserver does not accept the access token",
                           "copy a current one (Element: Settings › Help & About › Access "
                           "token) into --access-token or NASRTC_ACCESS_TOKEN")
    return NasrtcError(f"{method} {path} answered {status}",
                       f"is homeserver_url ({ctx.stack.homeserver_url}) right, and does "
                       "the proxy pass /_matrix to the homeserver?")


TRANSPORTS = "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports"


def check_transports(ctx: Context) -> Check:
    if not ctx.access_token:
        return Check("RTC transports", SKIP, "needs an access token",
                     "run with --access-token (or NASRTC_ACCESS_TOKEN)")
    answer = _matrix_request(ctx, "GET", TRANSPORTS)
    if answer.status in (400, 404):
        return Check("RTC transports", FAIL, "the homeserver does not offer RTC transport "
                     f"discovery ({answer.status}); Element Call 0.24+ finds no transport",
                     "add matrix/homeserver.yaml's settings (msc4143_enabled and the "
                     "matrix_rtc block) to homeserver.yaml and restart Synapse")
    if answer.status != 200:
        raise _matrix_error(ctx, "GET", TRANSPORTS, answer.status)
    data = json.loads(answer.body)
    urls = [t.get("livekit_service_url") for t in data.get("rtc_transports", [])
            if isinstance(t, dict)]
    if ctx.stack.jwt_url in urls:
        return Check("RTC transports", PASS, f"the homeserver lists {ctx.stack.jwt_url}")
    if not data:
        return Check("RTC transports", FAIL, "the homeserver answers {} (msc4143 is on but "
                     "matrix_rtc.transports is missing); clients then find no transport",
                     "add the matrix_rtc block of matrix/homeserver.yaml to homeserver.yaml "
                     "and restart Synapse")
    return Check("RTC transports", FAIL, f"listed: {urls or data}",
                 f"set matrix_rtc.transports to {ctx.stack.jwt_url} (matrix/homeserver.yaml)")


def _token_refused(ctx: Context, status: int, text: str) -> Check:
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
    return Check("token round trip", FAIL, f"{detail} ({status}: {text[:100].strip()})", fix)


def check_round_trip(ctx: Context) -> Check:
    """What Element Call does to join: OpenID token -> /get_token -> LiveKit URL + JWT."""
    from nasrtc.tokens import decode

    if not ctx.access_token:
        return Check("token round trip", SKIP, "needs an access token",
                     "run with --access-token (or NASRTC_ACCESS_TOKEN)")
    user = _matrix(ctx, "GET", "/_matrix/client/v3/account/whoami")["user_id"]
    openid = _matrix(ctx, "POST",
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
        return Check("token round trip", FAIL, f"the LiveKit token does not verify: {exc}",
                     "the auth service runs with other keys than livekit.yaml: run "
                     "`nasrtc up` (it recreates containers whose secrets changed)")
    problems = []
    if reply.get("url") != ctx.stack.livekit_url:
        problems.append(f"url is {reply.get('url')!r}, not {ctx.stack.livekit_url}")
    if not (claims.get("video") or {}).get("room"):
        problems.append("the LiveKit token names no room")
    if problems:
        return Check("token round trip", FAIL, "; ".join(problems),
                     "LIVEKIT_URL in compose.yaml must be the public wss:// URL; run "
                     "`nasrtc render` and `nasrtc up`")
    return Check("token round trip", PASS, f"OpenID token for {user} -> LiveKit token for "
                 f"room {claims['video']['room']!r} at {reply['url']}")


LOCAL: tuple[tuple[str, Probe], ...] = (
    ("files", check_files), ("secrets", check_secrets), ("livekit.yaml", check_livekit_keys),
    ("containers", check_containers), ("LiveKit (local)", check_livekit_http),
    ("auth service (local)", check_jwt_health), ("ports", check_ports))
PUBLIC: tuple[tuple[str, Probe], ...] = (
    ("DNS", check_dns), ("certificates", check_certificates),
    ("auth service (public)", check_jwt_public), ("auth service CORS", check_cors),
    ("SFU (public)", check_sfu_public), ("SFU WebSocket", check_websocket),
    ("router: RTC TCP", check_rtc_tcp), ("router: UDP", check_udp),
    ("well-known", check_well_known), ("homeserver features", check_versions),
    ("RTC transports", check_transports), ("token round trip", check_round_trip))


def run_doctor(ctx: Context, local_only: bool = False,
               public_only: bool = False) -> list[Check]:
    probes = (() if public_only else LOCAL) + (() if local_only else PUBLIC)
    results = [_safe(name, probe, ctx) for name, probe in probes]
    if local_only:
        results.append(Check("public side", SKIP, "--local given", ""))
    if public_only:
        results.insert(0, Check("this machine", SKIP, "--public given", ""))
    return results


def make_context(stack_dir: Path, connect_to: dict[Any, Any] | None, ca_file: str | None,
                 access_token: str | None, timeout: float = 5.0) -> Context:
    from nasrtc.answers import load_stack_answers
    from nasrtc.model import build_stack
    from nasrtc.profiles import load_profile
    from nasrtc.secret_store import plan_secrets, require_secrets

    answers = load_stack_answers(stack_dir)
    require_secrets(stack_dir)
    secrets, _ = plan_secrets(stack_dir)
    stack = build_stack(answers, load_profile(answers["profile"]), secrets)
    return Context(stack, answers, stack_dir, Net(connect_to, ca_file, timeout),
                   access_token or os.environ.get("NASRTC_ACCESS_TOKEN") or None)
