"""The whole home for a real call: the lab's network with its internet services (DNS,
STUN), the NAS with its Docker engine, a real Synapse and Debian's nginx, and a stack
that nasrtc writes and starts there, with the router forwarding what nasrtc's checklist
lists. Callers outside place real calls through it (caller.py).

One Home per test session (starting it costs a few seconds of namespaces and a dockerd);
each test writes its own stack (Home.stack), and the router and nginx follow it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nasrtc.versions import JWT_IMAGE, LIVEKIT_IMAGE, REDIS_IMAGE
from tests.helpers import REPO
from tests.integration import debian_image
from tests.integration.doctor_env import (
    STREAM_MODULE,
    Certificates,
    synapse_python,
    user_servers,
)
from tests.lab import livekit_image, router, topology
from tests.lab.engine import LabEngine
from tests.lab.topology import ADDRESSES, Lab, LabError, Namespace

DOMAIN = "example.org"
HOMESERVER = f"matrix.{DOMAIN}"
NAMES = (DOMAIN, HOMESERVER, f"jwt.{DOMAIN}", f"sfu.{DOMAIN}", f"turn.{DOMAIN}")
USERS, PASSWORD = ("alice", "bob"), "lab-password-1"
SYNAPSE_PORT = 8008  # on the NAS's loopback, behind nginx
AUTH_STANDIN = Path(__file__).with_name("auth_standin.py")
CALLER = Path(__file__).with_name("caller.py")
LOAD = Path(__file__).with_name("load.py")
BROWSER_CALLER = Path(__file__).parent / "browser" / "call.mjs"
WEBRTC_PACKAGE = "livekit==1.2.1"  # PyPI: the LiveKit Python SDK with libwebrtc inside


def webrtc_python() -> str | None:
    """The interpreter of the venv with the WebRTC client (tests/run.sh makes it)."""
    path = os.environ.get("NASRTC_WEBRTC_PYTHON") or str(
        REPO / ".venv-test" / "webrtc" / "bin" / "python")
    return path if os.access(path, os.X_OK) else None


# ------------------------------------------------------------------ the internet


def set_public_names(lab: Lab, elsewhere: dict[str, str], ipv6: str = "") -> None:
    """The public DNS: every name at the home router's WAN address, but those in
    `elsewhere`; dnsmasq reads the file again on SIGHUP. `ipv6`: "also" gives every name
    an AAAA record at the NAS's IPv6 address too, "only" gives it that alone (a DS-Lite
    home, whose IPv4 address is the provider's and leads nowhere)."""
    hosts = lab.root / "public-names"
    lines = [f"{elsewhere.get(name, ADDRESSES.router_wan)} {name}\n" for name in NAMES
             if ipv6 != "only"]
    lines += [f"{ADDRESSES.nas_ipv6} {name}\n" for name in NAMES if ipv6]
    hosts.write_text("".join(lines))
    dns = lab.by_log.get("dns")
    if dns is not None and dns.poll() is None:  # `ip netns exec` became dnsmasq
        os.kill(dns.pid, signal.SIGHUP)
        time.sleep(0.3)


def start_internet(lab: Lab) -> None:
    """The public DNS (every public name points at the home router's WAN address) and a
    STUN server, both in the internet namespace."""
    a, internet = ADDRESSES, lab.spaces["internet"]
    hosts = lab.root / "public-names"
    set_public_names(lab, {})  # dnsmasq is not running yet: it reads the file at start
    lab.popen(internet, ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                         f"--addn-hosts={hosts}", f"--listen-address={a.dns}",
                         "--bind-interfaces", "--user=root", "--log-facility=-",
                         f"--pid-file={lab.root / 'dnsmasq.pid'}"], "dns")
    lab.popen(internet, ["turnserver", "--stun-only", "-n", "--no-cli", "--no-tls",
                         "--no-dtls", "-L", a.stun, "-p", "3478", "--log-file=stdout",
                         "--simple-log", "--pidfile", str(lab.root / "stun.pid")], "stun")
    for what, probe in (("dns", ["getent", "hosts", f"sfu.{DOMAIN}"]),):
        wait_until(lambda probe=probe: lab.spaces["callers"].run(*probe, check=False)
                   .returncode == 0, f"the lab's {what} server", lab)


def wait_until(ready: Any, what: str, lab: Lab, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                     for p in sorted(lab.root.glob("*.log")))
    raise LabError(f"{what} was not ready within {timeout:.0f} s\n{logs}")


# ------------------------------------------------------------------ the NAS


def listening(space: Namespace, port: int) -> bool:
    """Whether something accepts TCP connections on the namespace's loopback port."""
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"
    return space.run("python3", "-c", probe, check=False).returncode == 0


class NasSynapse:
    """A real Synapse on the NAS's loopback, reached through nginx as matrix.<domain>."""

    def __init__(self, lab: Lab, python: str, folder: Path, homeserver_yaml: str) -> None:
        self.lab, self.python, self.folder = lab, python, folder
        self.nas = lab.spaces["nas"]
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "homeserver.yaml"
        subprocess.run([python, "-m", "synapse.app.homeserver", "--server-name", DOMAIN,
                        "--config-path", str(self.config), "--generate-config",
                        "--report-stats=no", "--data-directory", str(folder / "data")],
                       cwd=folder, check=True, capture_output=True, timeout=120)
        text = self.config.read_text()
        text = text.replace("port: 8008", f"port: {SYNAPSE_PORT}").replace("    - ::1\n", "")
        text = text.replace('trusted_key_servers:\n  - server_name: "matrix.org"',
                            "trusted_key_servers: []")
        # Every test's caller logs in twice and creates a room: the lab is no place for
        # those rate limits (Synapse lets an account create 10 rooms, then one a minute).
        limits = ("rc_login:\n  address: {per_second: 100, burst_count: 1000}\n"
                  "  account: {per_second: 100, burst_count: 1000}\n"
                  "rc_room_creation: {per_second: 100, burst_count: 1000}\n")
        self.config.write_text(text + "\n" + limits + homeserver_yaml)

    def start(self) -> NasSynapse:
        self.lab.popen(self.nas, [self.python, "-m", "synapse.app.homeserver", "-c",
                                  str(self.config)], "synapse", cwd=self.folder)
        wait_until(lambda: listening(self.nas, SYNAPSE_PORT), "Synapse", self.lab,
                   timeout=120)
        register = str(Path(self.python).parent / "register_new_matrix_user")
        for user in USERS:
            self.nas.run(register, "-c", str(self.config), "-u", user, "-p", PASSWORD,
                         "--no-admin", f"http://127.0.0.1:{SYNAPSE_PORT}", timeout=90)
        return self


def user_sites(certs: Path, well_known: Path, ipv6: bool = False) -> str:
    """What the user already serves on the NAS's 443: the domain's well-known files and
    the homeserver (the generated nginx.conf adds jwt and sfu); on IPv6 too if asked."""
    sites = user_servers("443", certs, DOMAIN, HOMESERVER, well_known, SYNAPSE_PORT)
    return sites.replace("listen 443 ssl;", "listen 443 ssl;\n    listen [::]:443 ssl;") \
        if ipv6 else sites


class NasNginx:
    """Debian's nginx on the NAS with the files nasrtc generated plus the user's own
    blocks; restarted for every stack."""

    def __init__(self, lab: Lab, folder: Path) -> None:
        self.lab, self.folder = lab, folder
        self.proc: subprocess.Popen[Any] | None = None

    def start(self, sites: str, stream: str | None = None) -> None:
        self.stop()
        folder = self.folder
        (folder / "temp").mkdir(parents=True, exist_ok=True)
        temps = "".join(f"    {kind}_temp_path {folder}/temp/{kind};\n"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        modules = stream_block = ""
        if stream is not None:
            (folder / "stream.conf").write_text(stream)
            modules = f"load_module {STREAM_MODULE};\n"
            stream_block = f"stream {{\n    include {folder}/stream.conf;\n}}\n"
        (folder / "sites.conf").write_text(sites)
        (folder / "nginx.conf").write_text(
            f"{modules}user root;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            f"events {{}}\n{stream_block}"
            f"http {{\n    access_log off;\n{temps}    include {folder}/sites.conf;\n}}\n")
        command = ["nginx", "-e", "stderr", "-p", str(folder), "-c", str(folder / "nginx.conf")]
        nas = self.lab.spaces["nas"]
        checked = nas.run(*command, "-t", check=False)
        if checked.returncode != 0:
            raise LabError(f"nginx -t refused the config:\n{checked.stderr}")
        self.proc = self.lab.popen(nas, [*command, "-g", "daemon off;"], "nginx")
        wait_until(lambda: listening(nas, 443), "nginx", self.lab)

    def stop(self) -> None:
        if self.proc is not None:
            topology._stop(self.proc)
            self.lab.processes.remove(self.proc)
            self.proc = None


# ------------------------------------------------------------------ results


@dataclass
class CallResult:
    ok: bool
    data: dict[str, Any]
    stderr: str

    def pair(self, side: str = "subscriber") -> dict[str, Any]:
        return dict(self.data.get(f"{side}_pair") or {})

    def explain(self, home: Home) -> str:
        """What to read when a call fails: the call's own report and the stack's logs."""
        return (f"call: {json.dumps(self.data, indent=1)}\nstderr: {self.stderr[-2000:]}\n"
                f"{home.diagnostics()}")


@dataclass
class Stack:
    folder: Path
    answers: dict[str, Any]
    checklist: str
    forwards: list[router.Forward]
    project: str


# ------------------------------------------------------------------ the home


@dataclass
class Home:
    lab: Lab
    engine: LabEngine
    certs: Certificates
    synapse: NasSynapse
    nginx: NasNginx
    webrtc: str
    root: Path
    current: Stack | None = None
    forwards: list[router.Forward] = field(default_factory=list)  # what the router does now
    pinholes: list[router.Forward] = field(default_factory=list)  # its IPv6 firewall opens
    ipv6: bool = False  # the lab routes IPv6 to the NAS
    switches: router.Switches = field(default_factory=router.Switches)
    callers_only_443: bool = False

    @property
    def nas(self) -> Namespace:
        return self.lab.spaces["nas"]

    def nasrtc(self, *args: str, timeout: float = 300, check: bool = True,
               ) -> subprocess.CompletedProcess[str]:
        """nasrtc as a user on the NAS runs it (its network, its engine)."""
        env = {**os.environ, "DOCKER_HOST": self.engine.host, "NASRTC_LANG": "en",
               "PYTHONPATH": str(REPO),
               # the NAS's only way out is the lab router: nasrtc may look at its line here
               "NASRTC_DISCOVERY": "on", "NASRTC_PUBLIC_IP_URL": "http://127.0.0.1:9/"}
        done = subprocess.run([*self.nas.exec_prefix(), sys.executable, "-m", "nasrtc",
                               *args], capture_output=True, text=True, env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise LabError(f"nasrtc {' '.join(args)} exited {done.returncode}:\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def stack(self, answers: dict[str, Any] | None = None, *, start: bool = True,
              forwards: list[router.Forward] | None = None,
              switches: router.Switches | None = None, callers_only_443: bool = False,
              callers_no_udp: bool = False, proxy: Any = None) -> Stack:
        """A stack of nasrtc's for example.org, written by `nasrtc init`, the router set as
        its checklist says (or to `forwards`), nginx with the generated files, `nasrtc up`."""
        self.remove_stack()
        project = "lab" + uuid.uuid4().hex[:6]
        folder = self.root / "stacks" / project
        wanted = deep_merge({
            "domain": DOMAIN, "project": project, "language": "en",
            "network": {"lan_ip": ADDRESSES.nas,
                        "stun_servers": [f"{ADDRESSES.stun}:3478"]},
            "proxy": {"cert_dir": str(self.certs.folder)},
        }, answers or {})
        source = self.root / f"{project}-answers.yaml"
        source.write_text(yaml.safe_dump(wanted, sort_keys=False))
        self.nasrtc("init", "--dir", str(folder), "--answers", str(source))
        checklist = self.nasrtc("checklist", "--dir", str(folder), "--offline").stdout
        made = Stack(folder, wanted, checklist, router.forwards_from_checklist(checklist),
                     project)
        self.current = made
        self.pinholes = router.pinholes_from_checklist(checklist)
        self.route(forwards if forwards is not None else made.forwards, switches)
        self.callers_only_443 = callers_only_443
        router.restrict_callers(self.lab.spaces["carrier"], callers_only_443, callers_no_udp)
        self.serve(made, proxy)
        if start:
            self.nasrtc("up", "--dir", str(folder), timeout=600)
        return made

    def route(self, forwards: list[router.Forward],
              switches: router.Switches | None = None) -> None:
        self.switches = switches or router.Switches()
        self.forwards = list(forwards)
        router.apply(self.lab.spaces["router"], forwards, self.switches, self.pinholes)

    def serve(self, made: Stack, proxy_sites: Any = None) -> None:
        """nginx on the NAS: the generated nginx.conf, or what `proxy_sites(stack folder)`
        makes of the stack's proxy instructions (DSM's rows), plus the user's blocks."""
        proxy = made.folder / "reverse-proxy"
        stream_file = proxy / "nginx-stream.conf"
        generated = proxy_sites(made.folder) if proxy_sites else \
            (proxy / "nginx.conf").read_text()
        sites = generated + user_sites(
            self.certs.folder, made.folder / "matrix" / "well-known-client.json", self.ipv6)
        stream = stream_file.read_text() if stream_file.exists() else None
        if stream is not None:  # behind the SNI step, the user's blocks move too
            backend = made.answers.get("proxy", {}).get("https_backend_port", 8443)
            sites = sites.replace("listen 443 ssl;", f"listen 127.0.0.1:{backend} ssl;")
        self.nginx.start(sites, stream)

    def call(self, *, seconds: float = 3.0, relay_only: bool = False,
             timeout: float = 90, tokens_only: bool = False) -> CallResult:
        """Alice calls Bob from outside the home; both through the public names."""
        command = [self.webrtc, str(CALLER), "--homeserver", f"https://{HOMESERVER}",
                   "--users", *USERS, "--password", PASSWORD, "--seconds", str(seconds),
                   "--timeout", str(timeout)] + (["--relay-only"] if relay_only else []) \
            + (["--tokens-only"] if tokens_only else [])
        env = {"SSL_CERT_FILE": str(self.certs.ca_file), "PATH": os.environ["PATH"],
               "HOME": str(self.root), "RUST_LOG": "warn"}
        done = subprocess.run([*self.lab.spaces["callers"].exec_prefix(), *command],
                              capture_output=True, text=True, env=env, timeout=timeout + 30)
        try:
            data = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            data = {"ok": False, "error": f"the caller printed no result: {done.stdout[-500:]}"}
        return CallResult(bool(data.get("ok")), data, done.stderr)

    def room_tokens(self, room: str, people: int) -> tuple[str, list[str]]:
        """A LiveKit room made on the NAS (`nasrtc token` creates it), and a token per
        participant signed with the stack's key: (LiveKit URL, tokens)."""
        from nasrtc.stack import load_stack
        from nasrtc.tokens import mint

        assert self.current is not None
        folder = self.current.folder
        said = self.nasrtc("token", "--dir", str(folder), "--room", room, "--identity",
                           "load-0", "--ttl", "30m").stdout
        lines = dict(line.split(":", 1) for line in said.splitlines() if ":" in line)
        _answers, stack = load_stack(folder)
        return lines["url"].strip(), [lines["token"].strip()] + [
            mint(stack.api_key, stack.api_secret, f"load-{n}", room, ttl=1800)
            for n in range(1, people)]

    def start_load(self, people: int, *, video: bool = False, seconds: float = 5,
                   warmup: float = 8, cpu: int | None = None) -> subprocess.Popen[str]:
        """`people` in one room from outside (load.py); its JSON lines on stdout."""
        url, tokens = self.room_tokens(f"load-{uuid.uuid4().hex[:8]}", people)
        env = {"SSL_CERT_FILE": str(self.certs.ca_file), "PATH": os.environ["PATH"],
               "HOME": str(self.root), "RUST_LOG": "error"}
        pinned = ["taskset", "-c", str(cpu)] if cpu is not None else []
        process = subprocess.Popen(
            [*self.lab.spaces["callers"].exec_prefix(), *pinned, self.webrtc, str(LOAD)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env)
        assert process.stdin is not None
        process.stdin.write(json.dumps({"url": url, "tokens": tokens, "video": video,
                                        "seconds": seconds, "warmup": warmup}))
        process.stdin.close()
        return process

    def group_call(self, people: int, *, video: bool = False, seconds: float = 5,
                   ) -> dict[str, Any]:
        """A call of `people`, everyone publishing, to the end; load.py's report."""
        process = self.start_load(people, video=video, seconds=seconds, warmup=3)
        assert process.stdout is not None
        try:  # a few short lines: the pipe cannot fill while this waits
            process.wait(timeout=40 * people + seconds + 90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            return {"ok": False, "error": "the group call did not end in time"}
        out = process.stdout.read()
        for line in reversed(out.strip().splitlines()):
            with contextlib.suppress(ValueError):
                said = json.loads(line)
                if said.get("event") == "report":
                    return dict(said)
        return {"ok": False, "error": f"the group call gave no report: {out[-500:]}"}

    def access_token(self, user: str = USERS[0]) -> str:
        """A Matrix access token of a lab user, logged in from outside (the callers)."""
        done = self.outside([self.webrtc, str(CALLER), "--homeserver", f"https://{HOMESERVER}",
                             "--users", user, user, "--password", PASSWORD,
                             "--access-token-only"], timeout=60)
        return str(json.loads(done.stdout.strip().splitlines()[-1])["access_token"])

    def doctor_media(self, *args: str, access_token: str = "", timeout: float = 240,
                     ) -> tuple[int, dict[str, dict[str, str]], str]:
        """`nasrtc doctor --public --media --json` from outside, as a user on a laptop with
        mobile data runs it (the webrtc venv: nasrtc[media]); (exit status, rows by name,
        stderr)."""
        assert self.current is not None
        env = {"NASRTC_LANG": "en", "PYTHONPATH": str(REPO)}
        if access_token:
            env["NASRTC_ACCESS_TOKEN"] = access_token
        done = self.outside([self.webrtc, "-m", "nasrtc", "doctor", "--public", "--media",
                             "--json", "--dir", str(self.current.folder), "--ca-file",
                             str(self.certs.ca_file), *args], timeout=timeout, env=env)
        try:
            rows = {row["name"]: row for row in json.loads(done.stdout)}
        except ValueError:
            raise LabError(f"doctor printed no rows (exit {done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}") from None
        return done.returncode, rows, done.stderr

    def outside(self, command: list[str], timeout: float,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """A command on the callers' side of the internet, bounded in time."""
        full_env = {"SSL_CERT_FILE": str(self.certs.ca_file), "PATH": os.environ["PATH"],
                    "HOME": str(self.root), "RUST_LOG": "warn", **(env or {})}
        return subprocess.run([*self.lab.spaces["callers"].exec_prefix(), *command],
                              capture_output=True, text=True, env=full_env, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    @contextmanager
    def other_bridges(self, count: int = 2) -> Iterator[None]:
        """Other projects' bridge networks on the NAS, each with a running container (a
        bridge without one is down, and LiveKit would not see it)."""
        client = self.engine.client()
        networks, containers = [], []
        try:
            for index in range(count):
                network = client.networks.create(f"other{index}", driver="bridge")
                networks.append(network)
                containers.append(client.containers.run(
                    debian_image.DEBIAN_PYTHON, ["sleep", "900"], detach=True,
                    network=network.name, name=f"other{index}"))
            yield
        finally:
            for container in containers:
                container.remove(force=True)
            for network in networks:
                network.remove()
            client.close()

    def tag(self, image: str, as_name: str) -> None:
        client = self.engine.client()
        try:
            repository, _, tag = as_name.rpartition(":")
            client.images.get(image).tag(repository, tag)
        finally:
            client.close()

    def restart(self, service: str, timeout: float = 60) -> None:
        """docker restart of the service's container, then until it is healthy again."""
        client = self.engine.client()
        try:
            found = client.containers.list(filters={
                "label": [f"com.docker.compose.service={service}",
                          f"com.docker.compose.project={self.current.project}"]})
            assert len(found) == 1, found
            found[0].restart(timeout=10)

            def healthy() -> bool:
                found[0].reload()
                state = found[0].attrs["State"]
                return bool(state.get("Status") == "running" and
                            (state.get("Health") or {}).get("Status", "healthy") == "healthy")

            wait_until(healthy, f"{service} after its restart", self.lab, timeout)
        finally:
            client.close()

    @contextmanager
    def domain_elsewhere(self, enabled: bool = True) -> Iterator[None]:
        """The domain's .well-known files served by a web host on the internet instead of
        the NAS (the public DNS says so), for network.domain_here: false."""
        if not enabled:
            yield
            return
        a, internet = ADDRESSES, self.lab.spaces["internet"]
        folder = self.root / "elsewhere"
        folder.mkdir(exist_ok=True)
        (folder / "client.json").write_text(json.dumps(
            {"m.homeserver": {"base_url": f"https://{HOMESERVER}"}}))
        (folder / "nginx.conf").write_text(f"""user root;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    server {{
        listen {a.elsewhere}:443 ssl;
        server_name {DOMAIN};
        ssl_certificate     {self.certs.folder}/{DOMAIN}/fullchain.pem;
        ssl_certificate_key {self.certs.folder}/{DOMAIN}/privkey.pem;
        location = /.well-known/matrix/client {{
            default_type application/json;
            add_header Access-Control-Allow-Origin "*";
            alias {folder}/client.json;
        }}
        location = /.well-known/matrix/server {{
            default_type application/json;
            return 200 '{{"m.server": "{HOMESERVER}:443"}}';
        }}
    }}
}}
""")
        proc = self.lab.popen(internet, ["nginx", "-e", "stderr", "-p", str(folder), "-c",
                                         str(folder / "nginx.conf"), "-g", "daemon off;"],
                              "elsewhere")
        set_public_names(self.lab, {DOMAIN: a.elsewhere})
        try:
            yield
        finally:
            set_public_names(self.lab, {})
            topology._stop(proc)
            self.lab.processes.remove(proc)

    def browser_call(self, *, seconds: float = 3.0, relay_only: bool = False,
                     timeout: float = 90) -> dict[str, Any]:
        """The call from Chromium with livekit-client (browser/call.mjs), tokens got as
        Element Call gets them; Chromium trusts the lab's CA through its NSS database."""
        tokens = self.call(seconds=seconds, timeout=timeout, tokens_only=True)
        if not tokens.ok:
            return dict(tokens.data)
        home = self.root / "browser-home"
        nssdb = home / ".pki" / "nssdb"
        if not nssdb.exists():
            nssdb.mkdir(parents=True)
            topology.run("certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password")
            topology.run("certutil", "-A", "-d", f"sql:{nssdb}", "-n", "lab-ca", "-t", "C,,",
                         "-i", str(self.certs.ca_file))
        env = {"HOME": str(home), "PATH": os.environ["PATH"],
               "NODE_PATH": str(BROWSER_CALLER.parent / "node_modules")}
        done = subprocess.run(
            [*self.lab.spaces["callers"].exec_prefix(), "node", str(BROWSER_CALLER)],
            input=json.dumps({"tokens": tokens.data["tokens"], "relayOnly": relay_only,
                              "seconds": seconds, "timeout": timeout}),
            capture_output=True, text=True, env=env, timeout=timeout + 30,
            cwd=BROWSER_CALLER.parent)
        try:
            return dict(json.loads(done.stdout.strip().splitlines()[-1]))
        except (IndexError, ValueError):
            return {"ok": False, "error": f"no result: {done.stdout[-500:]} {done.stderr[-1500:]}"}

    def containers(self) -> list[Any]:
        client = self.engine.client()
        try:
            return list(client.containers.list(all=True))
        finally:
            client.close()

    def logs(self, service: str, tail: int | str = 80) -> str:
        client = self.engine.client()
        try:
            found = [c for c in client.containers.list(all=True)
                     if c.labels.get("com.docker.compose.service") == service]
            return "\n".join(c.logs(tail=tail).decode(errors="replace") for c in found)
        finally:
            client.close()

    def diagnostics(self) -> str:
        parts = [f"router ({self.switches}; callers only 443: {self.callers_only_443}):\n"
                 f"{router.counters(self.lab.spaces['router'])}"]
        for service in ("livekit", "jwt", "redis"):
            parts.append(f"--- {service} log:\n{self.logs(service)[-4000:]}")
        parts.append(f"--- nginx errors:\n{self.lab.log('nginx')[-1500:]}")
        return "\n".join(parts)

    def remove_stack(self) -> None:
        if self.current is None:
            return
        self.nasrtc("down", "--dir", str(self.current.folder), check=False, timeout=120)
        client = self.engine.client()
        try:  # whatever a failed test left behind
            project = {"label": f"com.docker.compose.project={self.current.project}"}
            for container in client.containers.list(all=True, filters=project):
                container.remove(force=True)
            client.networks.prune(filters=project)
        finally:
            client.close()
        self.current = None


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------ images


def auth_standin_image(engine: LabEngine, ca_file: Path) -> None:
    """The auth stand-in under the tag nasrtc pins, built in the lab's engine on the
    Debian base (python3), trusting the lab's CA."""
    import io
    import tarfile

    dockerfile = (f"FROM {debian_image.DEBIAN_PYTHON}\n"
                  "COPY lab-ca.pem /etc/ssl/lab-ca.pem\n"
                  "COPY auth_standin.py /lk-jwt-service\n"
                  "ENV SSL_CERT_FILE=/etc/ssl/lab-ca.pem PYTHONUNBUFFERED=1\n"
                  'CMD ["python3", "/lk-jwt-service"]\n'
                  # upstream: HEALTHCHECK --interval=30s --timeout=3s --retries=3
                  "HEALTHCHECK --interval=30s --timeout=3s --retries=3 "
                  'CMD ["python3", "/lk-jwt-service", "--healthcheck"]\n')
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile.encode()),
                           ("lab-ca.pem", ca_file.read_bytes()),
                           ("auth_standin.py", AUTH_STANDIN.read_bytes())):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    client = engine.client()
    try:
        client.images.build(fileobj=context, custom_context=True, tag=JWT_IMAGE, rm=True)
    finally:
        client.close()


def load_images(engine: LabEngine, host: Any, ca_file: Path) -> None:
    engine.load(host, livekit_image.local_image(host), LIVEKIT_IMAGE)
    engine.load(host, debian_image.debian_python_image(host))
    engine.load(host, debian_image.redis_image(host), REDIS_IMAGE)
    auth_standin_image(engine, ca_file)


# ------------------------------------------------------------------ all of it


@contextmanager
def running_home(root: Path, host_client: Any, front: str | None = None,
                 ipv6: bool = False) -> Iterator[Home]:
    python = synapse_python()
    webrtc = webrtc_python()
    if not python or not webrtc:
        raise LabError("tests/run.sh installs Synapse (.venv-test/synapse) and the WebRTC "
                       "client (.venv-test/webrtc)")
    root.mkdir(parents=True, exist_ok=True)
    lab = topology.build(uuid.uuid4().hex[:6], root, front, ipv6)
    engine = LabEngine(lab, lab.spaces["nas"], root / "engine")
    try:
        start_internet(lab)
        engine.start()
        certs = Certificates(root / "certs")
        for name in NAMES:
            certs.issue(name)
        load_images(engine, host_client, certs.ca_file)
        # The homeserver settings nasrtc writes are the same for every stack of the domain.
        probe = root / "probe-answers.yaml"
        probe.write_text(yaml.safe_dump({"domain": DOMAIN}))
        probe_dir = root / "probe-stack"
        # in the NAS's namespace, as every nasrtc run of the lab: whatever it looks up
        # stays in the lab
        subprocess.run([*lab.spaces["nas"].exec_prefix(), sys.executable, "-m", "nasrtc",
                        "init", "--dir", str(probe_dir), "--answers", str(probe)],
                       check=True, capture_output=True, timeout=120,
                       env={**os.environ, "NASRTC_LANG": "en", "PYTHONPATH": str(REPO)})
        synapse = NasSynapse(lab, python, root / "synapse",
                             (probe_dir / "matrix" / "homeserver.yaml").read_text())
        synapse.start()
        home = Home(lab, engine, certs, synapse, NasNginx(lab, root / "nginx"), webrtc, root,
                    ipv6=ipv6)
        try:
            yield home
        finally:
            home.remove_stack()
    finally:
        engine.stop()
        lab.close()
        engine.stop()  # its folders, now that nothing holds them
