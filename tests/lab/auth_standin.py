#!/usr/bin/env python3
"""The MatrixRTC auth service's stand-in for the lab, run in a container the way the real
one is (env and secret files from compose.yaml, port 8080, its own health check).

lk-jwt-service cannot be installed here: its Go module path is the bare `lk-jwt-service`
(no domain, so `go install` cannot fetch it), and its images and binaries exist only on
GitHub's registries. So this is written from its 0.7 source (the Rust rewrite,
element-hq/lk-jwt-service branch johannes/rust, commit be38f75; src/handler.rs,
src/helper.rs, src/requests.rs, src/config.rs), standard library only:

- POST /get_token: validation in upstream's order and with its error bodies; the OpenID
  token checked at the caller's homeserver over federation, found as upstream finds it
  (explicit port: https://name; else /.well-known/matrix/server, ':8448' added without a
  port; else name:8448), certificates verified; `claimed_user_id` must equal `sub`.
  Full-access users (LIVEKIT_FULL_ACCESS_HOMESERVERS, '*' alone for any) get the room
  created on LiveKit first (Twirp CreateRoom at LIVEKIT_URL with http(s), EmptyTimeout
  300, DepartureTimeout 20); then a token: HS256, iss = key, sub = identity, one hour,
  grant join/publish/subscribe/publish data/update own metadata, roomCreate false.
- GET|HEAD /healthz; POST /sfu_webhook (LiveKit's signed callbacks; always 200).
- LIVEKIT_REDIS_URL: pinged at start; the service exits when Redis does not answer.

Runs on Debian 12's python3 (3.11)."""

import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers":
            "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token"}
MAX_BODY = 1 << 20
EMPTY_TIMEOUT, DEPARTURE_TIMEOUT = 300, 20
TOKEN_TTL = 3600


def log(message):
    print(f"auth stand-in: {message}", flush=True)


def env_secret(name):
    if os.environ.get(f"{name}_FROM_FILE"):
        with open(os.environ[f"{name}_FROM_FILE"], encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get(name, "").strip()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hash_of(*parts):
    """Unpadded standard base64 of SHA-256 over the JSON array (serde_json's compact form)."""
    text = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def sign(claims, secret):
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def verified(token, key, secret):
    try:
        head, body, mac = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    expected = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    if not hmac.compare_digest(expected, given) or claims.get("iss") != key:
        return None
    return claims


class Config:
    def __init__(self):
        self.url = os.environ.get("LIVEKIT_URL", "")
        self.key = env_secret("LIVEKIT_KEY")
        self.secret = env_secret("LIVEKIT_SECRET")
        full = os.environ.get("LIVEKIT_FULL_ACCESS_HOMESERVERS")
        missing = [name for name, value in (("LIVEKIT_URL", self.url), ("LIVEKIT_KEY",
                   self.key), ("LIVEKIT_SECRET", self.secret),
                   ("LIVEKIT_FULL_ACCESS_HOMESERVERS", full)) if not value]
        if missing:
            sys.exit(f"auth stand-in: missing {', '.join(missing)}")
        self.full_access = [s for s in full.replace(",", " ").split() if s]
        bind = os.environ.get("LIVEKIT_JWT_BIND", ":8080")
        self.port = int(bind.rsplit(":", 1)[1])
        self.redis = os.environ.get("LIVEKIT_REDIS_URL", "")

    def is_full_access(self, server_name):
        if self.full_access == ["*"]:
            return True
        return server_name in self.full_access

    def http_url(self):
        if self.url.startswith("wss://"):
            return "https://" + self.url[len("wss://"):]
        if self.url.startswith("ws://"):
            return "http://" + self.url[len("ws://"):]
        return self.url


def ping_redis(url):
    where = urllib.parse.urlsplit(url)
    with socket.create_connection((where.hostname, where.port or 6379), timeout=3) as conn:
        conn.sendall(b"PING\r\n")
        if not conn.recv(64).startswith(b"+PONG"):
            raise OSError("no PONG")


def fetch_json(url, timeout):
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read(MAX_BODY))


def federation_base(server_name):
    """upstream's resolve_federation_base_url: explicit port, well-known, then :8448."""
    if ":" in server_name.rsplit("]", 1)[-1]:
        return f"https://{server_name}"
    try:
        delegated = fetch_json(f"https://{server_name}/.well-known/matrix/server", 10)
        target = str(delegated.get("m.server") or "")
    except (OSError, ValueError, AttributeError):
        target = ""
    if target:
        return f"https://{target}" if ":" in target.rsplit("]", 1)[-1] else \
            f"https://{target}:8448"
    return f"https://{server_name}:8448"


def openid_user(server_name, access_token):
    base = federation_base(server_name)
    query = urllib.parse.urlencode({"access_token": access_token})
    answer = fetch_json(f"{base}/_matrix/federation/v1/openid/userinfo?{query}", 30)
    return str(answer["sub"])


def create_room(config, name):
    now = int(time.time())
    admin = sign({"iss": config.key, "nbf": now, "exp": now + 600, "sub": "",
                  "video": {"roomCreate": True}}, config.secret)
    body = json.dumps({"name": name, "empty_timeout": EMPTY_TIMEOUT,
                       "departure_timeout": DEPARTURE_TIMEOUT,
                       "max_participants": 0}).encode()
    request = urllib.request.Request(
        config.http_url() + "/twirp/livekit.RoomService/CreateRoom", data=body,
        method="POST", headers={"Content-Type": "application/json",
                                "Authorization": f"Bearer {admin}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def matrix_error(status, errcode, error):
    return status, {"errcode": errcode, "error": error}


def get_token(config, raw):
    try:
        request = json.loads(raw)
        room, slot = request.get("room_id", ""), request.get("slot_id", "")
        openid, member = request.get("openid_token") or {}, request.get("member") or {}
        assert isinstance(openid, dict) and isinstance(member, dict)
    except (ValueError, AssertionError, AttributeError):
        return matrix_error(400, "M_NOT_JSON", "Error reading request")
    if not room or not slot:
        return matrix_error(400, "M_BAD_JSON",
                            "The request body is missing `room_id` or `slot_id`")
    if not all(member.get(k) for k in ("id", "claimed_user_id", "claimed_device_id")):
        return matrix_error(400, "M_BAD_JSON", "The request body `member` is missing a `id`, "
                            "`claimed_user_id` or `claimed_device_id`")
    server, access = openid.get("matrix_server_name", ""), openid.get("access_token", "")
    if not server or not access:
        return matrix_error(400, "M_BAD_JSON", "The request body `openid_token` is missing "
                            "a `access_token` or `matrix_server_name`")
    try:
        user = openid_user(server, access)
    except (OSError, ValueError, KeyError, ssl.SSLError) as exc:
        log(f"OpenID check at {server} failed: {exc.__class__.__name__}: {exc}")
        user = None
    if user is None or user != member["claimed_user_id"]:
        return matrix_error(401, "M_UNAUTHORIZED", "The request could not be authorised.")
    alias = hash_of(room, slot)
    identity = hash_of(user, member["claimed_device_id"], member["id"])
    if config.is_full_access(server):
        try:
            create_room(config, alias)
        except (OSError, ValueError) as exc:
            log(f"CreateRoom at {config.http_url()} failed: {exc.__class__.__name__}: {exc}")
            return matrix_error(500, "M_UNKNOWN", "Unable to create room on SFU")
        log(f"room ready for {user} (full access)")
    now = int(time.time())
    jwt = sign({"iss": config.key, "sub": identity, "name": "", "nbf": now,
                "exp": now + TOKEN_TTL,
                "video": {"roomJoin": True, "roomCreate": False, "room": alias,
                          "canPublish": True, "canSubscribe": True, "canPublishData": True,
                          "canUpdateOwnMetadata": True}}, config.secret)
    return 200, {"url": config.url, "jwt": jwt}


def handler_for(config):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            log(f"{self.command} {self.path.split('?')[0]} -> {args[1] if len(args) > 1 else ''}")

        def reply(self, status, body=None, headers=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in {**({"Content-Type": "application/json"} if body is not None
                                   else {}), **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, MAX_BODY))

        def route(self):
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                return self.reply(200 if self.command in ("GET", "HEAD") else 405)
            if path == "/sfu_webhook" and self.command == "POST":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                event = json.loads(self.body() or b"{}")
                ok = verified(token, config.key, config.secret) is not None
                log(f"webhook {event.get('event')} ({'signed' if ok else 'NOT signed'})")
                return self.reply(200)
            if path != "/get_token":
                return self.reply(404, {"errcode": "M_NOT_FOUND", "error": "Not found"})
            if self.command == "OPTIONS":
                return self.reply(200, None, CORS)
            if self.command != "POST":
                return self.reply(405, None, CORS)
            status, answer = get_token(config, self.body())
            return self.reply(status, answer, CORS)

        do_GET = do_HEAD = do_POST = do_OPTIONS = do_PUT = do_DELETE = route

    return Handler


def healthcheck():
    port = os.environ.get("LIVEKIT_JWT_BIND", "8080").rsplit(":", 1)[-1]
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/healthz", timeout=3) as answer:
            sys.exit(0 if answer.status == 200 else 1)
    except OSError:
        sys.exit(1)


def main():
    if sys.argv[1:] == ["--healthcheck"]:
        healthcheck()
    config = Config()
    if config.redis:
        try:
            ping_redis(config.redis)
        except OSError as exc:
            sys.exit(f"auth stand-in: Redis ping failed at {config.redis}: {exc}")
        log(f"connected to Redis at {config.redis}")
    server = ThreadingHTTPServer(("0.0.0.0", config.port), handler_for(config))
    log(f"listening on {config.port}, LIVEKIT_URL {config.url}")
    server.serve_forever()


if __name__ == "__main__":
    main()
