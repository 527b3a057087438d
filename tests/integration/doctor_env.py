"""Real servers on loopback for doctor's public-side tests.

- certificates from a private test CA (trustme), one per name, plus expired and
  wrong-name ones for the fault cases;
- Debian's nginx running the nginx.conf nasrtc generated (only `listen 443` moved to a
  loopback port), plus the server blocks a user already has for the well-known file and
  the homeserver;
- a real Synapse (its own venv: Synapse needs Python >= 3.10) with a user registered
  through the shared secret;
- stand-ins for LiveKit and the auth service, configured from the files nasrtc wrote
  (livekit.yaml's port and keys, compose.yaml's LIVEKIT_URL and secret files). They
  behave like the real programs on the paths doctor uses; their token checks are written
  here, independent of nasrtc's own token code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.helpers import (
    REPO,
    Run,
    doctor_rows,
    free_port,
    free_ports,
    run_subprocess,
    write_answers,
)

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65"


def wait_for_port(port: int, what: str, proc: subprocess.Popen[Any] | None = None,
                  timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:.0f} s")


# ---------------------------------------------------------------- certificates


class Certificates:
    """A test CA; writes <cert_dir>/<name>/{fullchain,privkey}.pem like certbot."""

    def __init__(self, folder: Path) -> None:
        import trustme

        self.folder = folder
        self.ca = trustme.CA()
        self.ca_file = folder / "ca.pem"
        folder.mkdir(parents=True, exist_ok=True)
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def issue(self, name: str, *, for_names: tuple[str, ...] = (),
              days: tuple[int, int] = (-1, 90)) -> None:
        """A certificate served for `name`, valid for `for_names` (default: name) from
        days[0] to days[1] relative to now."""
        now = datetime.now(timezone.utc)
        names, not_before = for_names or (name,), now + timedelta(days=days[0])
        leaf = self.ca.issue_cert(*names, not_after=now + timedelta(days=days[1]))
        chain = [blob.bytes() for blob in leaf.cert_chain_pems]
        # trustme < 1.2 (the last on Python 3.8) has no not_before: sign it again with one.
        chain[0] = _with_not_before(self.ca, chain[0], not_before)
        target = self.folder / name
        target.mkdir(parents=True, exist_ok=True)
        target.joinpath("fullchain.pem").write_bytes(b"".join(chain))
        leaf.private_key_pem.write_to_path(str(target / "privkey.pem"))


# ---------------------------------------------------------------- nginx


def local_listen(generated: str, port: int) -> str:
    """nasrtc's nginx.conf with `listen 443` moved to 127.0.0.1:<port> (IPv6 dropped)."""
    lines = []
    for line in generated.splitlines():
        if line.strip() == "listen [::]:443 ssl;":
            continue
        lines.append(line.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"))
    text = "\n".join(lines) + "\n"
    assert "listen 443" not in text and f"127.0.0.1:{port}" in text, generated
    return text


def user_servers(port: int | str, cert_dir: Path, domain: str, homeserver_host: str,
                 well_known: Path, synapse_port: int, well_known_cors: int = 1) -> str:
    """What a user already serves: the well-known file on the domain (with that many CORS
    headers: 0, the usual 1, or a duplicated 2), the homeserver. `port`: a loopback port,
    or a whole listen address such as '443' (the lab's NAS)."""
    listen = f"127.0.0.1:{port}" if isinstance(port, int) else port
    cors = '\n        '.join(['add_header Access-Control-Allow-Origin "*";'] * int(well_known_cors))
    return f"""
server {{
    listen {listen} ssl;
    server_name {domain};
    ssl_certificate     {cert_dir}/{domain}/fullchain.pem;
    ssl_certificate_key {cert_dir}/{domain}/privkey.pem;
    location = /.well-known/matrix/client {{
        default_type application/json;
        {cors}
        alias {well_known};
    }}
    # federation discovery, as the auth service and other servers do it
    location = /.well-known/matrix/server {{
        default_type application/json;
        return 200 '{{"m.server": "{homeserver_host}:443"}}';
    }}
}}
server {{
    listen {listen} ssl;
    server_name {homeserver_host};
    ssl_certificate     {cert_dir}/{homeserver_host}/fullchain.pem;
    ssl_certificate_key {cert_dir}/{homeserver_host}/privkey.pem;
    location ~ ^(/_matrix|/_synapse/client) {{
        proxy_pass http://127.0.0.1:{synapse_port};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
    }}
}}
"""


STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


class Nginx:
    """Debian's nginx in the foreground with its own prefix folder."""

    def __init__(self, folder: Path, http_config: str, port: int,
                 stream_config: str | None = None) -> None:
        self.folder, self.port = folder, port
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / "temp"
        temp.mkdir(exist_ok=True)
        # As root the workers would switch to nobody, who cannot read pytest's folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temps = "".join(f"    {kind}_temp_path {temp}/{kind};\n"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        stream = ""
        if stream_config is not None:  # Debian: libnginx-mod-stream
            stream = f"stream {{\n    include {folder}/stream.conf;\n}}\n"
            user = f"load_module {STREAM_MODULE};\n{user}"
            (folder / "stream.conf").write_text(stream_config)
        (folder / "nginx.conf").write_text(
            f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            f"events {{}}\n{stream}http {{\n    access_log off;\n{temps}"
            f"    include {folder}/sites.conf;\n}}\n")
        (folder / "sites.conf").write_text(http_config)
        self.proc: subprocess.Popen[bytes] | None = None

    def test(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._command("-t"), capture_output=True, text=True)

    def _command(self, *extra: str) -> list[str]:
        return [shutil.which("nginx") or "/usr/sbin/nginx", "-e", "stderr",
                "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), *extra]

    def start(self) -> Nginx:
        checked = self.test()
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the config:\n{checked.stderr}")
        self.proc = subprocess.Popen(self._command("-g", "daemon off;"),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port, "nginx", self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


# ---------------------------------------------------------------- Synapse


def synapse_python() -> str | None:
    """The interpreter of a venv with matrix-synapse (tests/run.sh makes one)."""
    path = os.environ.get("NASRTC_SYNAPSE_PYTHON", "")
    candidates = [path] if path else []
    candidates.append(str(REPO / ".venv-test" / "synapse" / "bin" / "python"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class Synapse:
    """A real Synapse on loopback: config from --generate-config, the listener moved to
    a free port, `extra` appended as a user would append matrix/homeserver.yaml."""

    USER, PASSWORD = "doctor", "doctor-password-1"

    def __init__(self, python: str, folder: Path, server_name: str, extra: str) -> None:
        self.python, self.folder, self.server_name = python, folder, server_name
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "homeserver.yaml"
        self._run("-m", "synapse.app.homeserver", "--server-name", server_name,
                  "--config-path", str(self.config), "--generate-config",
                  "--report-stats=no", "--data-directory", str(folder / "data"))
        text = self.config.read_text()
        assert "port: 8008" in text and "    - ::1\n" in text, "generated config changed"
        text = text.replace("port: 8008", f"port: {self.port}").replace("    - ::1\n", "")
        # no key server on the internet
        text = text.replace('trusted_key_servers:\n  - server_name: "matrix.org"',
                            "trusted_key_servers: []")
        # Appended as is, like `cat snippet >> homeserver.yaml`: the generated file has no
        # final newline, so the snippet's first line joins its last comment line.
        self.config.write_text(text + extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self.access_token = ""

    def _run(self, *args: str) -> str:
        done = subprocess.run([self.python, *args], cwd=self.folder, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"synapse {args[:2]} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Synapse:
        log = open(self.folder / "console.log", "wb")  # noqa: SIM115 (closed by the process)
        self.proc = subprocess.Popen([self.python, "-m", "synapse.app.homeserver", "-c",
                                      str(self.config)], cwd=self.folder, stdout=log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, "synapse", self.proc, timeout=90)
        except RuntimeError:
            raise RuntimeError((self.folder / "console.log").read_text()[-3000:]) from None
        register = str(Path(self.python).parent / "register_new_matrix_user")
        subprocess.run([register, "-c", str(self.config), "-u", self.USER, "-p",
                        self.PASSWORD, "--no-admin", self.url], check=True,
                       capture_output=True, timeout=60)
        login = self.call("POST", "/_matrix/client/v3/login", {
            "type": "m.login.password", "password": self.PASSWORD,
            "identifier": {"type": "m.id.user", "user": self.USER}})
        self.access_token = login["access_token"]
        return self

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---------------------------------------------------------------- stand-in servers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hash_of(*parts: str) -> str:
    """lk-jwt-service helper.go: unpadded standard base64 of SHA-256 over the JSON array
    of the parts (Go's json.Marshal: no spaces; it also escapes <, > and &)."""
    text = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def livekit_room_alias(room_id: str, slot_id: str) -> str:
    """LiveKitRoomAliasFor(matrixRoom, matrixRtcSlot) in lk-jwt-service helper.go."""
    return _hash_of(room_id, slot_id)


def livekit_identity(user_id: str, device_id: str, member_id: str) -> str:
    """LiveKitIdentityFor(matrixID, deviceId, memberID) in lk-jwt-service helper.go."""
    return _hash_of(user_id, device_id, member_id)


def join_grant(room_id: str, slot_id: str) -> dict[str, Any]:
    """getJoinToken's VideoGrant in lk-jwt-service handler.go (valid for an hour)."""
    return {"roomJoin": True, "room": livekit_room_alias(room_id, slot_id),
            "canPublish": True, "canSubscribe": True, "canUpdateOwnMetadata": True}


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def verify_hs256(token: str, keys: dict[str, str]) -> dict[str, Any] | None:
    """Claims of a LiveKit token signed with one of `keys` (None if not valid now)."""
    try:
        head, body, mac = token.split(".")
        claims = json.loads(_unb64(body))
        secret = keys[claims["iss"]]
    except (ValueError, KeyError):
        return None
    expected = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    now = time.time()
    if not hmac.compare_digest(expected, _unb64(mac)):
        return None
    if not claims.get("nbf", 0) - 60 <= now < claims.get("exp", 0):
        return None
    return dict(claims)


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1:port running `handler_class`; can restart."""

    def __init__(self, port: int, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self.port, self.handler_class = port, handler_class
        self.httpd: ThreadingHTTPServer | None = None

    def start(self) -> _Server:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler_class)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def json_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None


class StandInSFU:
    """LiveKit's HTTP side as doctor meets it: "/" answers OK; the Twirp RoomService
    creates and deletes rooms for a token with roomCreate; /rtc accepts a WebSocket
    upgrade for a valid token to an existing room, and refuses a request without the
    Upgrade headers with 400 (what LiveKit's websocket library does). RTC TCP listens."""

    def __init__(self, livekit_yaml: Path) -> None:
        config = yaml.safe_load(livekit_yaml.read_text())
        self.keys: dict[str, str] = dict(config["keys"])
        self.rooms: set[str] = set()
        sfu = self
        self.tcp = socket.create_server(("127.0.0.1", int(config["rtc"]["tcp_port"])))

        class Handler(_Handler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/":
                    return self.reply(200, b"OK")
                if url.path != "/rtc":
                    return self.reply(404)
                token = parse_qs(url.query).get("access_token", [""])[0]
                claims = verify_hs256(token, sfu.keys)
                if claims is None:
                    return self.reply(401, b"invalid token")
                if claims.get("video", {}).get("room") not in sfu.rooms:
                    return self.reply(404, b"requested room does not exist")
                if (self.headers.get("Upgrade", "").lower() != "websocket"
                        or "upgrade" not in self.headers.get("Connection", "").lower()):
                    return self.reply(400, b"Bad Request: websocket: the client is not "
                                      b"using the websocket protocol")
                accept = base64.b64encode(hashlib.sha1(
                    (self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest())
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept.decode())
                self.end_headers()
                self.close_connection = True

            def do_POST(self) -> None:
                auth = self.headers.get("Authorization", "")
                claims = verify_hs256(auth[len("Bearer "):] if auth.startswith("Bearer ") else auth, sfu.keys)
                body = self.json_body() or {}
                if claims is None or not claims.get("video", {}).get("roomCreate"):
                    return self.reply(401, b'{"code":"unauthenticated"}')
                if self.path == "/twirp/livekit.RoomService/CreateRoom":
                    sfu.rooms.add(body["name"])
                    return self.reply(200, json.dumps({"name": body["name"]}).encode(),
                                      {"Content-Type": "application/json"})
                if self.path == "/twirp/livekit.RoomService/DeleteRoom":
                    sfu.rooms.discard(body["room"])
                    return self.reply(200, b"{}", {"Content-Type": "application/json"})
                return self.reply(404)

        self.server = _Server(int(config["port"]), Handler)

    def start(self) -> StandInSFU:
        self.server.start()
        threading.Thread(target=self._accept_tcp, daemon=True).start()
        return self

    def _accept_tcp(self) -> None:
        while True:
            try:
                connection, _ = self.tcp.accept()
            except OSError:
                return
            connection.close()

    def stop(self) -> None:
        self.server.stop()
        self.tcp.close()


# the headers lk-jwt-service's corsJSON wrapper sets on every /get_token answer
AUTH_CORS = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*",
             "Access-Control-Allow-Methods": "POST",
             "Access-Control-Allow-Headers": "Accept, Content-Type, Content-Length"}


class StandInAuthService:
    """lk-jwt-service's HTTP side: /healthz; /get_token with its CORS wrapper (OPTIONS
    200, other methods than POST 405, every answer with Access-Control-Allow-Origin: *);
    POST checks the OpenID token with the homeserver's federation API and answers
    {url, jwt}. Configured from compose.yaml like the container: LIVEKIT_URL and the
    key/secret files. `homeservers` maps a server name to its federation URL (the real
    service discovers it through .well-known/matrix/server)."""

    def __init__(self, stack_dir: Path, homeservers: dict[str, str]) -> None:
        compose = yaml.safe_load((stack_dir / "compose.yaml").read_text())["services"]["jwt"]
        env = compose["environment"]
        mounts = {target: source for source, target, *_ in
                  (volume.split(":") for volume in compose["volumes"])}

        def read(container_path: str) -> str:
            return (stack_dir / mounts[container_path]).read_text().strip()

        key = read(env["LIVEKIT_KEY_FROM_FILE"])
        secret = read(env["LIVEKIT_SECRET_FROM_FILE"])
        livekit_url = env["LIVEKIT_URL"]
        port = int(compose["ports"][0].split(":")[1])
        self.requests: list[dict[str, Any]] = []
        self.homeservers = homeservers
        service = self

        class Handler(_Handler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    return self.reply(200)
                self.token_endpoint()

            do_HEAD = do_GET

            def do_OPTIONS(self) -> None:
                self.token_endpoint()

            def do_POST(self) -> None:
                self.token_endpoint()

            def token_endpoint(self) -> None:
                if self.path != "/get_token":
                    return self.reply(404)
                if self.command == "OPTIONS":
                    return self.reply(200, b"", AUTH_CORS)
                if self.command != "POST":
                    return self.reply(405, b"", AUTH_CORS)
                request = self.json_body()
                service.requests.append(request)
                status, answer = service.get_token(request)
                self.reply(status, json.dumps(answer).encode(), AUTH_CORS)

        def get_token(request: Any) -> tuple[int, dict[str, Any]]:
            try:
                room, slot = request["room_id"], request["slot_id"]
                member, openid = request["member"], request["openid_token"]
                claimed_user = member["claimed_user_id"]
                device = member["claimed_device_id"]
                server = openid["matrix_server_name"]
                access = openid["access_token"]
                assert room and slot and member["id"] and claimed_user and device
            except (TypeError, KeyError, AssertionError):
                return 400, {"errcode": "M_BAD_JSON", "error": "missing fields"}
            try:
                with urllib.request.urlopen(
                        f"{service.homeservers[server]}/_matrix/federation/v1/openid/userinfo"
                        f"?access_token={access}", timeout=5) as answer:
                    user = json.loads(answer.read())["sub"]
            except (KeyError, OSError, ValueError):
                user = None
            if user is None or user != claimed_user:
                return 401, {"errcode": "M_UNAUTHORIZED",
                             "error": "The request could not be authorised."}
            now = int(time.time())
            jwt = sign_hs256({"iss": key, "sub": livekit_identity(user, device, member["id"]),
                              "nbf": now, "exp": now + 3600, "video": join_grant(room, slot)},
                             secret)
            return 200, {"url": livekit_url, "jwt": jwt}

        self.get_token: Callable[[Any], tuple[int, dict[str, Any]]] = get_token
        self.server = _Server(port, Handler)

    def start(self) -> StandInAuthService:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


# ---------------------------------------------------------------- the whole world

DOMAIN, HOMESERVER, JWT, SFU = "example.org", "matrix.example.org", "jwt.example.org", \
    "sfu.example.org"
HOSTS = (DOMAIN, HOMESERVER, JWT, SFU)


@dataclass
class World:
    root: Path
    stack: Path
    certs: Certificates
    synapse: Synapse
    auth: StandInAuthService
    sfu: StandInSFU
    started: list[Any] = field(default_factory=list)

    @property
    def generated_nginx(self) -> str:
        return (self.stack / "reverse-proxy" / "nginx.conf").read_text()

    def proxy(self, edit: Callable[[str], str] = lambda text: text,
              well_known_cors: int = 1, synapse: Synapse | None = None,
              port: int = 0) -> int:
        """nginx with nasrtc's config (after `edit`, the fault) and the user's own blocks,
        on `port` (a free one by default; 443 for the tools that know no other)."""
        port = port or free_port()
        sites = local_listen(edit(self.generated_nginx), port) + user_servers(
            port, self.certs.folder, DOMAIN, HOMESERVER,
            self.stack / "matrix" / "well-known-client.json",
            (synapse or self.synapse).port, well_known_cors)
        nginx = Nginx(self.root / f"nginx-{port}", sites, port).start()
        self.started.append(nginx)
        return port

    def doctor(self, port: int, *extra: str, token: str | None = None) -> tuple[Run, dict[
            str, dict[str, str]]]:
        args = ["doctor", "--public", "--json", "--dir", str(self.stack), "--ca-file",
                str(self.certs.ca_file), "--timeout", "5", *connect_to(port), *extra]
        result = run_subprocess(*args, env={
            "NASRTC_ACCESS_TOKEN": self.synapse.access_token if token is None else token})
        rows = doctor_rows(result)
        assert self.synapse.access_token not in result.out + result.err
        secret = (self.stack / "secrets" / "livekit_api_secret").read_text().strip()
        assert secret not in result.out + result.err
        return result, rows


def connect_to(port: int, rtc: bool = True) -> list[str]:
    """Every name's 443 to nginx on loopback; the SFU's other ports (RTC TCP) as they are."""
    args = []
    for host in HOSTS:
        args += ["--connect-to", f"{host}:443:127.0.0.1:{port}"]
    return args + (["--connect-to", f"{SFU}::127.0.0.1:"] if rtc else [])


@contextmanager
def running_world(root: Path) -> Iterator[World]:
    """A stack for example.org with its certificates, a real Synapse with the stack's
    homeserver settings, and the LiveKit and auth service stand-ins; stopped on exit."""
    certs = Certificates(root / "certs")
    for host in HOSTS:
        certs.issue(host)
    source = write_answers(root, {
        "domain": DOMAIN,
        "ports": dict(zip(("livekit_http", "rtc_tcp", "jwt_http"), free_ports(3))),
        "proxy": {"cert_dir": str(certs.folder)}})
    stack = root / "stack"
    made = run_subprocess("init", "--dir", str(stack), "--answers", str(source))
    assert made.code == 0, made.err
    python = synapse_python()
    assert python, "tests/run.sh installs Synapse into .venv-test/synapse"
    synapse = Synapse(python, root / "synapse", DOMAIN,
                      (stack / "matrix" / "homeserver.yaml").read_text())
    started: list[Any] = []
    try:
        started.append(synapse.start())
        auth = StandInAuthService(stack, {DOMAIN: synapse.url}).start()
        started.append(auth)
        sfu = StandInSFU(stack / "livekit" / "livekit.yaml").start()
        started.append(sfu)
        yield World(root, stack, certs, synapse, auth, sfu, started)
    finally:
        for server in reversed(started):
            server.stop()


def _with_not_before(ca: Any, pem: bytes, not_before: datetime) -> bytes:
    """The certificate `pem`, signed again by `ca` with another start of validity."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    cert = x509.load_pem_x509_certificate(pem)
    builder = (x509.CertificateBuilder()
               .subject_name(cert.subject).issuer_name(cert.issuer)
               .public_key(cert.public_key()).serial_number(cert.serial_number)
               .not_valid_before(not_before)
               .not_valid_after(getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after))
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    signed = builder.sign(ca._private_key, hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.PEM)
