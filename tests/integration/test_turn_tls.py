"""TURN over TLS as LiveKit really does it: clients are told turns:<turn.domain>:443
(livekit pkg/service/roommanager.go, iceServersForParticipant), so the generated SNI
step must hand that name, on 443, to LiveKit's TURN listener, and every other name to
the HTTPS server blocks. Checked with Debian's nginx running the generated files."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from nasrtc.doctor.net import Net
from tests.helpers import REQUIRE_TOOLS, free_ports, needs, write_answers
from tests.integration.doctor_env import STREAM_MODULE, Nginx, StandInSFU

pytestmark = [
    needs("nginx", "nginx"),
    pytest.mark.skipif(not Path(STREAM_MODULE).exists() and not REQUIRE_TOOLS,
                       reason="nginx's stream module is missing (apt-get install "
                              "libnginx-mod-stream; tests/run.sh does)"),
]


def ice_urls(livekit: dict[str, Any], node_ip: str) -> list[str]:
    """The TURN URLs LiveKit v1.13.5 hands a participant, written from roommanager.go
    (not from nasrtc): UDP on the node IP and udp_port, TLS always on <domain>:443."""
    turn = livekit.get("turn") or {}
    urls = []
    if turn.get("enabled"):
        if turn.get("udp_port"):
            urls.append(f"turn:{node_ip}:{turn['udp_port']}?transport=udp")
        if turn.get("tls_port"):
            urls.append(f"turns:{turn['domain']}:443?transport=tcp")
    return urls


class TurnTlsListener:
    """LiveKit's TURN/TLS socket: TLS with the turn certificate from livekit.yaml's
    cert_file/key_file (here: the host files compose.yaml mounts there)."""

    def __init__(self, port: int, cert: Path, key: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server = context.wrap_socket(socket.create_server(("127.0.0.1", port)),
                                          server_side=True)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"livekit-turn")

    def close(self) -> None:
        self.server.close()


def test_turn_name_reaches_livekit_and_other_names_the_https_blocks(cli: Any,
                                                                    tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    certs = tmp_path / "certs"
    for host in ("jwt.example.org", "sfu.example.org", "turn.example.org"):
        (certs / host).mkdir(parents=True)
        issued = ca.issue_cert(host)
        issued.cert_chain_pems[0].write_to_path(str(certs / host / "fullchain.pem"))
        issued.private_key_pem.write_to_path(str(certs / host / "privkey.pem"))
    turn_dir = certs / "turn.example.org"
    livekit_http, rtc_tcp, jwt_http, tls_port, backend, public = free_ports(6)
    source = write_answers(tmp_path, {
        "profile": "generic", "domain": "example.org",
        "ports": {"livekit_http": livekit_http, "rtc_tcp": rtc_tcp, "jwt_http": jwt_http},
        "turn": {"enabled": True, "tls_port": tls_port,
                 "cert_file": str(turn_dir / "fullchain.pem"),
                 "key_file": str(turn_dir / "privkey.pem")},
        "proxy": {"cert_dir": str(certs), "https_backend_port": backend},
        "network": {"public_ip": "93.184.216.34"}})
    stack = tmp_path / "stack"
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    livekit = yaml.safe_load((stack / "livekit" / "livekit.yaml").read_text())

    # What clients are told: never the local TLS port, always <turn.domain>:443.
    assert ice_urls(livekit, "93.184.216.34") == [
        "turn:93.184.216.34:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"]
    compose = yaml.safe_load((stack / "compose.yaml").read_text())
    mounts = compose["services"]["livekit"]["volumes"]
    assert f"{turn_dir / 'fullchain.pem'}:{livekit['turn']['cert_file']}:ro" in mounts

    # `public` stands for port 443
    stream = (stack / "reverse-proxy" / "nginx-stream.conf").read_text()
    assert "    listen 443;\n" in stream
    stream = stream.replace("    listen 443;\n", f"    listen 127.0.0.1:{public};\n") \
        .replace("    listen [::]:443;\n", "")
    turn = TurnTlsListener(livekit["turn"]["tls_port"], turn_dir / "fullchain.pem",
                           turn_dir / "privkey.pem")
    sfu = StandInSFU(stack / "livekit" / "livekit.yaml").start()
    nginx = Nginx(tmp_path / "nginx", (stack / "reverse-proxy" / "nginx.conf").read_text(),
                  public, stream_config=stream).start()
    try:
        context = ssl.create_default_context(cafile=str(ca_file))
        with socket.create_connection(("127.0.0.1", public), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname="turn.example.org") as tls:
            assert tls.recv(100) == b"livekit-turn"
        net = Net({("sfu.example.org", 443): ("127.0.0.1", public)}, str(ca_file))
        answer = net.request("GET", "https://sfu.example.org/")
        assert (answer.status, answer.text()) == (200, "OK")
    finally:
        nginx.stop()
        sfu.stop()
        turn.close()
