"""For any valid answers: every livekit.yaml key is one LiveKit knows, and every
port and host agrees across compose.yaml, livekit.yaml, the proxy files and the
checklist. Each artifact is read back on its own, not from the model."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nasrtc.answers import resolve
from nasrtc.errors import InputError
from nasrtc.output.livekit_keys import unknown_keys
from nasrtc.output.render import render_all
from nasrtc.secret_store import Secrets
from nasrtc.stack import build_stack
from tests.helpers import FIXED_KEY, FIXED_SECRET

label = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
host_port = st.integers(1024, 65000)


@st.composite
def answers(draw: Any) -> dict[str, Any]:
    domain = f"{draw(label)}.{draw(st.sampled_from(['org', 'net', 'de', 'home.example']))}"
    data: dict[str, Any] = {
        "profile": draw(st.sampled_from(["synology", "generic"])),
        "domain": domain,
        "ports": {"livekit_http": draw(host_port), "rtc_tcp": draw(host_port),
                  "jwt_http": draw(host_port)},
        "network": {"livekit_mode": draw(st.sampled_from(["host", "bridge"])),
                    "public_ip": draw(st.sampled_from(["stun", "93.184.216.34"])),
                    "bind_address": draw(st.sampled_from(["127.0.0.1", "0.0.0.0",
                                                          "192.168.1.20"]))},
    }
    if draw(st.booleans()):
        data["jwt_host"] = f"{draw(label)}.{domain}"
        data["sfu_host"] = f"{draw(label)}.{domain}"
    if data["network"]["livekit_mode"] == "host" and draw(st.booleans()):
        start = draw(st.integers(10000, 60000))
        data["ports"]["rtc_udp_range"] = f"{start}-{start + draw(st.integers(9, 400))}"
    else:
        data["ports"]["rtc_udp"] = draw(host_port)
    if draw(st.booleans()):
        data["turn"] = {"enabled": True, "udp_port": draw(host_port)}
        if draw(st.booleans()):
            data["turn"].update(tls_port=draw(host_port), cert_file="/c.pem", key_file="/k.pem")
    if draw(st.booleans()):
        data["external_turn"] = {"host": "turn.example.org", "username": "u",
                                 "port": draw(host_port),
                                 "protocol": draw(st.sampled_from(["udp", "tcp", "tls"]))}
    return data


def published(compose: dict[str, Any], service: str) -> set[tuple[str, str]]:
    out = set()
    for spec in compose["services"][service].get("ports", []):
        ports, proto = spec.rsplit("/", 1)
        out.add((proto, ports.split(":")[-2]))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers())
def test_every_artifact_agrees(raw: dict[str, Any]) -> None:
    try:
        resolved = resolve(raw)
    except InputError:
        assume(False)
        raise
    stack = build_stack(resolved, Secrets(FIXED_KEY, FIXED_SECRET, "cred"))
    files = {rel: a.text for rel, a in render_all(stack).items()}

    livekit = yaml.safe_load(files["livekit/livekit.yaml"])
    compose = yaml.safe_load(files["compose.yaml"])
    homeserver = yaml.safe_load(files["matrix/homeserver.yaml"])
    well_known = json.loads(files["matrix/well-known-client.json"])

    # LiveKit would start: only known keys, room auto-creation off, webhook key is a key.
    assert unknown_keys(livekit) == []
    assert livekit["room"]["auto_create"] is False
    assert livekit["webhook"]["api_key"] in livekit["keys"]
    if "turn" in livekit:
        assert livekit["turn"]["udp_port"], "TURN enabled without explicit ports"

    # Ports that media uses, as LiveKit reads them.
    rtc = livekit["rtc"]
    lk_forward = {("tcp", str(rtc["tcp_port"]))}
    if "udp_port" in rtc:
        lk_forward.add(("udp", str(rtc["udp_port"])))
    else:
        lk_forward.add(("udp", f"{rtc['port_range_start']}-{rtc['port_range_end']}"))
    if "turn" in livekit:
        turn = livekit["turn"]
        lk_forward.add(("udp", str(turn["udp_port"])))
        # The relay reaches the SFU through the public address: forwarded too.
        lk_forward.add(("udp", f"{turn['relay_range_start']}-{turn['relay_range_end']}"))
        if "tls_port" in turn:
            # Clients are told turns:<domain>:443 (LiveKit roommanager.go): never the local
            # port, which only the SNI step on 443 reaches.
            stream = files["reverse-proxy/nginx-stream.conf"]
            assert re.search(rf"^    {re.escape(turn['domain'])}  127\.0\.0\.1:"
                             rf"{turn['tls_port']};$", stream, re.M)
            assert "listen 443;" in stream
            assert "listen 443 ssl" not in files["reverse-proxy/nginx.conf"]
    assert ("reverse-proxy/nginx-stream.conf" in files) == ("tls_port" in livekit.get("turn", {}))

    # The checklist's router table.
    rows = re.findall(r"^\| \[ \] \| (TCP|UDP) \| ([\d-]+) \| [^|]+ \| ([\d-]+) \|",
                      files["checklist.md"], re.M)
    assert all(external == internal for _, external, internal in rows), "no port translation"
    router = {(proto.lower(), ext) for proto, ext, _ in rows} - {("tcp", "443"), ("tcp", "80")}
    assert router == lk_forward

    # compose.yaml: same ports, same hosts.
    jwt = compose["services"]["jwt"]
    lk_service = compose["services"]["livekit"]
    if lk_service.get("network_mode") == "host":
        assert "ports" not in lk_service, "host networking publishes nothing"
        assert rtc.get("port_range_start") is None or resolved["network.livekit_mode"] == "host"
    else:
        singles = {(proto, str(n)) for proto, ports in lk_forward
                   for n in range(int(ports.split("-")[0]), int(ports.split("-")[-1]) + 1)}
        assert singles <= published(compose, "livekit"), "bridge mode must publish media"
        assert ("tcp", str(livekit["port"])) in published(compose, "livekit")
        assert all("-" not in port for _, port in published(compose, "livekit")), \
            "a UDP range must never be published through the bridge"
    assert jwt["environment"]["LIVEKIT_URL"] == f"wss://{stack.sfu_host}"
    assert f"{stack.sfu_host}:host-gateway" in jwt["extra_hosts"]
    assert "LIVEKIT_JWT_BIND" not in jwt["environment"]
    assert "LIVEKIT_FULL_ACCESS_HOMESERVERS" in jwt["environment"]
    jwt_port = {port for proto, port in published(compose, "jwt")}
    assert jwt_port == {str(resolved["ports.jwt_http"])}

    # The proxy table and the proxy configs point at those same ports.
    table = dict(re.findall(r"^\| `https://([^:`]+):443` \| `http://[\d.]+:(\d+)` \|",
                            files["reverse-proxy.md"], re.M))
    assert table == {stack.jwt_host: jwt_port.pop(), stack.sfu_host: str(livekit["port"])}
    if "reverse-proxy/nginx.conf" in files:
        upstreams = re.findall(r"server_name (\S+);.*?proxy_pass http://[\d.]+:(\d+);",
                               files["reverse-proxy/nginx.conf"], re.S)
        assert dict(upstreams) == table
        caddy = re.findall(r"^(\S+) \{\n\treverse_proxy [\d.]+:(\d+)",
                           files["reverse-proxy/Caddyfile"], re.M)
        assert dict(caddy) == table

    # Homeserver and well-known advertise the auth service's public URL.
    url = f"https://{stack.jwt_host}"
    assert homeserver["matrix_rtc"]["transports"][0]["livekit_service_url"] == url
    assert homeserver["experimental_features"]["msc4143_enabled"] is True
    # A no-op since Synapse 1.153 (room summaries are stable): not written as a setting.
    assert "msc3266_enabled" not in homeserver["experimental_features"]
    assert well_known["org.matrix.msc4143.rtc_foci"][0]["livekit_service_url"] == url
    assert well_known["m.homeserver"]["base_url"] == stack.homeserver_url
    # Both sources, the same list entry for entry: older Element Web merges them without
    # removing duplicates, older embedded Element Call reads only the well-known, Element
    # Call 0.24 only the homeserver's (docs/upstream-facts.md).
    assert well_known["org.matrix.msc4143.rtc_foci"] == homeserver["matrix_rtc"]["transports"]

    # The secret is only where it must be.
    for rel, text in files.items():
        if rel != "livekit/livekit.yaml":
            assert FIXED_SECRET not in text, rel
