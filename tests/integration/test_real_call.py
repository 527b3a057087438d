"""Real calls through a stack nasrtc made, from outside a home, across its router.

The real LiveKit SFU (built from the Go module proxy) runs from the generated
livekit.yaml in the NAS's own Docker engine, started by `nasrtc up`; the auth service is
the stand-in written from upstream's 0.7 source (tests/lab/auth_standin.py: lk-jwt-service
cannot be installed here); Synapse and nginx are the real ones, nginx with the generated
files. Two WebRTC callers (the LiveKit Python SDK, libwebrtc) sit behind their carrier's
symmetric NAT on the lab's internet and get their tokens as Element Call does. The router
forwards exactly what `nasrtc checklist` lists (tests/lab/router.py).

Each test asserts what a user hears (the tone arrives) and how it travelled (the ICE
candidate pair libwebrtc selected). The lab is built in network namespaces with no link
to this machine's own (tests/lab/topology.py)."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS
from tests.lab import router, upnp_router
from tests.lab.home import CallResult, Home, running_home
from tests.lab.topology import ADDRESSES

LAB_TOOLS = {"ip": "iproute2", "nft": "nftables", "nsenter": "util-linux",
             "dnsmasq": "dnsmasq-base", "turnserver": "coturn", "nginx": "nginx",
             "dockerd": "docker.io", "certutil": "libnss3-tools", "chromium": "chromium",
             "node": "nodejs"}
MISSING = [f"{tool} ({package})" for tool, package in LAB_TOOLS.items()
           if not shutil.which(tool)]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(bool(MISSING) and not REQUIRE_TOOLS,
                       reason=f"the lab needs {', '.join(MISSING)}: tests/run.sh installs them"),
    pytest.mark.skipif(os.geteuid() != 0 and not REQUIRE_TOOLS,
                       reason="the lab makes network namespaces: run as root"),
]

WAN = ADDRESSES.router_wan
DOCKER_RANGES = ipaddress.ip_network("172.16.0.0/12")


@pytest.fixture(scope="module")
def home(client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with running_home(tmp_path_factory.mktemp("home"), client) as made:
        yield made


def forwarded(home: Home) -> str:
    """What the checklist lists against what the router does, for failure messages."""
    listed = home.current.forwards if home.current else []
    missing = [str(f) for f in listed if f not in home.forwards]
    return (f"the checklist lists {', '.join(str(f) for f in listed)}; the router forwards "
            f"{', '.join(str(f) for f in home.forwards) or 'nothing'}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + f"; {home.switches}")


def assert_call(result: CallResult, home: Home, *, protocol: str, ports: range | None = None,
                candidate_type: str | None = None) -> dict[str, Any]:
    """The tone arrived, over `protocol` to one of `ports` on the public address."""
    assert result.ok, (f"no call: {result.data.get('error')} ({forwarded(home)})\n"
                       f"{result.explain(home)}")
    assert result.data["track_subscribed"], result.explain(home)
    assert result.data["frames_received"] >= 100, result.explain(home)
    assert result.data["tone_strength"] > 0.5, f"no tone, only noise: {result.data}"
    pair = result.pair()
    remote = pair.get("remote") or {}
    where = f"{remote.get('protocol')} {remote.get('address')}:{remote.get('port')}"
    assert remote.get("protocol") == protocol, \
        f"the media went over {where}, not {protocol} ({forwarded(home)})"
    if candidate_type != "RELAY":
        assert remote.get("address") == WAN, f"media to {where}, not to {WAN}"
    if ports is not None:
        assert remote.get("port") in ports, f"media to {where}, expected a port in {ports}"
    if candidate_type == "RELAY":  # libwebrtc may call the relayed side prflx, with its url
        local = pair.get("local") or {}
        assert local.get("relay_protocol") and str(local.get("url")).startswith("turn"), \
            f"the caller's side of the pair is {local}, not relayed"
    assert pair["bytes_received"] > 10_000, pair
    if candidate_type != "RELAY":  # and LiveKit's own account of the participants' path
        said = re.findall(r'"connectionType": "(\w+)"', home.logs("livekit", tail="all"))
        assert protocol in said, f"LiveKit logged connection types {said}, not {protocol}"
    return pair


def placed(home: Home, protocol: str, tries: int = 3, **how: Any) -> CallResult:
    """A call, placed again (up to `tries` calls) while ICE settles on another protocol:
    under load libwebrtc may nominate the TCP pair before the UDP one answers (CI saw it
    twice in a row on a busy box). A path that does not work fails every time; the earlier
    tries' pairs are kept in the result for the message."""
    earlier: list[Any] = []
    for _attempt in range(tries):
        result = home.call(**how)
        if not result.ok or (result.pair().get("remote") or {}).get("protocol") == protocol:
            break
        earlier.append(result.pair().get("remote"))
    if earlier:
        result.data["earlier_tries"] = earlier
    return result


def no_bridge_candidates(result: CallResult) -> list[str]:
    """Candidates the SFU offered the caller on Docker's bridge ranges (livekit #4437)."""
    offered = result.pair().get("offered", []) + result.pair("publisher").get("offered", [])
    found = []
    for line in offered:
        address = line.split()[1].rsplit(":", 1)[0] if len(line.split()) > 1 else line
        try:
            if ipaddress.ip_address(address) in DOCKER_RANGES:
                found.append(line)
        except ValueError:
            continue
    return found


# ------------------------------------------------------------------ the lab itself


def test_the_lab_is_sealed_from_this_machine(home: Home) -> None:
    assert home.lab.sealed() == []


# ------------------------------------------------------------------ calls


@pytest.mark.parametrize("public_ip", ["stun", WAN])
def test_a_call_goes_over_udp_to_the_forwarded_mux_port(home: Home, public_ip: str) -> None:
    """Generic profile, defaults: host networking, one UDP mux port; the public address
    from the lab's STUN server or written as network.public_ip."""
    stack = home.stack({"network": {"public_ip": public_ip}})
    assert [str(f) for f in stack.forwards] == ["TCP 443", "TCP 80", "TCP 7881", "UDP 7882"]
    assert_call(placed(home, "udp"), home, protocol="udp", ports=range(7882, 7883))


def test_with_udp_blocked_the_call_falls_back_to_tcp(home: Home) -> None:
    home.stack({"network": {"public_ip": WAN}}, switches=router.Switches(block_udp=True))
    assert_call(home.call(), home, protocol="tcp", ports=range(7881, 7882))


def test_a_udp_range_carries_the_call(home: Home) -> None:
    stack = home.stack({"ports": {"rtc_udp": None, "rtc_udp_range": "50000-50099"}})
    assert "UDP 50000-50099" in [str(f) for f in stack.forwards]
    assert_call(placed(home, "udp"), home, protocol="udp", ports=range(50000, 50100))


def test_a_video_call_of_four_everyone_sees_and_hears_everyone(home: Home) -> None:
    """Four people in one room, each with a camera and a microphone: each receives the
    six tracks of the other three, and nothing is lost on the way (the defaults)."""
    home.stack()
    report = home.group_call(4, video=True, seconds=4)
    assert report.get("ok"), f"{report}\n{home.diagnostics()}"
    assert report["subscribed_tracks"] == report["expected_tracks"] == 24, report
    window = report["window"]
    assert window["audio_received"] > 4 * 3 * 4 * 40, report  # 50 packets/s per track
    assert window["video_received"] > 4 * 3 * 4 * 15, report  # at least a packet a frame
    lost = window["audio_lost"] + window["video_lost"]
    assert lost <= 0.01 * (window["audio_received"] + window["video_received"]), report


@pytest.mark.parametrize("lan_ip", [ADDRESSES.nas, None], ids=["lan_ip", "no-lan_ip"])
@pytest.mark.parametrize("public_ip", ["stun", WAN])
def test_the_sfu_offers_no_docker_bridge_address(home: Home, lan_ip: str | None,
                                                 public_ip: str) -> None:
    """A NAS runs other containers on Docker bridges; LiveKit in host mode sees their
    addresses and would hand them to callers (livekit #4437), and with a fixed public
    address it answered from a bridge's socket, so UDP failed and the call fell back to
    TCP. nasrtc's rtc.ips keeps them out, with and without network.lan_ip."""
    with home.other_bridges():
        home.stack({"network": {"lan_ip": lan_ip, "public_ip": public_ip}})
        result = placed(home, "udp")
        assert_call(result, home, protocol="udp", ports=range(7882, 7883))
        assert no_bridge_candidates(result) == [], result.data
        home.remove_stack()


# ------------------------------------------------------------------ what breaks a call


def test_a_port_the_router_does_not_forward_is_named(home: Home) -> None:
    """Drop the UDP mux port from the router: the call can only limp over TCP, and the
    failure names the port the checklist listed and the router lacks."""
    stack = home.stack({"network": {"public_ip": WAN}}, start=False)
    home.route([f for f in stack.forwards if f.protocol != "udp"])
    home.nasrtc("up", "--dir", str(stack.folder))
    with pytest.raises(AssertionError, match=r"forwards TCP 443, TCP 80, TCP 7881 \(missing: UDP 7882\)"):
        assert_call(placed(home, "udp"), home, protocol="udp")


# ------------------------------------------------------------------ TURN


TURN = {"turn": {"enabled": True, "udp_port": 3478, "relay_range": "30000-30009"}}


def test_embedded_turn_over_udp_relays_the_call(home: Home) -> None:
    """The callers may use only relayed paths: TURN/UDP on the forwarded port, the relay
    talking to the SFU through the public address (NAT loopback on the router)."""
    stack = home.stack(TURN)
    listed = [str(f) for f in stack.forwards]
    assert "UDP 3478" in listed and "UDP 30000-30009" in listed, listed
    pair = assert_call(home.call(relay_only=True), home, protocol="udp",
                       candidate_type="RELAY")
    assert pair["local"]["url"].startswith(f"turn:{WAN}:3478"), pair


def test_turn_needs_nat_loopback_on_the_router(home: Home) -> None:
    """The checklist's claim, proven: LiveKit's TURN relay reaches the SFU through the
    public address (node IP), so without NAT loopback a relayed call gets no media."""
    home.stack(TURN, switches=router.Switches(nat_loopback=False))
    result = home.call(relay_only=True, timeout=45)
    assert not result.ok or result.data.get("frames_received", 0) < 50, result.data


def test_turn_over_tls_relays_callers_who_may_use_only_https(home: Home) -> None:
    """Callers behind a firewall that lets only TCP 443 out: TURN over TLS to
    turns:turn.<domain>:443, through the generated SNI step (nginx-stream.conf), to
    LiveKit's TURN listener with turn.<domain>'s certificate; the media is relayed.

    The caller here is Chromium with livekit-client (Element Call's SDK): libwebrtc in the
    Python SDK checks TURN certificates against its built-in roots only, never a test
    CA's, while Chromium trusts the lab's CA through its NSS database."""
    certs = home.certs.folder / "turn.example.org"
    stack = home.stack(deep({**TURN}, {"turn": {
        "tls_port": 5349, "cert_file": str(certs / "fullchain.pem"),
        "key_file": str(certs / "privkey.pem")}}), callers_only_443=True)
    assert (stack.folder / "reverse-proxy" / "nginx-stream.conf").exists()
    result = home.browser_call(relay_only=True)
    assert result.get("ok") and result.get("subscribed"), f"{result}\n{home.diagnostics()}"
    assert result["audio_packets"] > 100, result
    for pair in result["pairs"]:
        assert pair["local"]["relay_protocol"] == "tls", pair
        assert pair["local"]["url"] == "turns:turn.example.org:443?transport=tcp", pair
        assert max(pair["bytes_received"], pair["bytes_sent"]) > 10_000, pair


def deep(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    from tests.lab.home import deep_merge

    return deep_merge(base, extra)


# ------------------------------------------------------------------ other setups


def test_bridge_mode_carries_the_call(home: Home) -> None:
    """network.livekit_mode: bridge: Docker publishes every port; LiveKit in its own
    container advertises the public address."""
    home.stack({"network": {"livekit_mode": "bridge"}})
    assert_call(placed(home, "udp"), home, protocol="udp", ports=range(7882, 7883))


def test_the_synology_profile_with_the_dsm_rows_it_prints(home: Home) -> None:
    """The DSM reverse-proxy rows from reverse-proxy.md, done as DSM does them (nginx
    server blocks of exactly those rows: DSM's own nginx cannot run here)."""
    from tests.lab import dsm_proxy

    stack = home.stack({"profile": "synology"},
                       proxy=lambda folder: dsm_proxy.server_blocks(folder, home.certs.folder))
    assert len(dsm_proxy.rows((stack.folder / "reverse-proxy.md").read_text())) == 2
    assert_call(placed(home, "udp"), home, protocol="udp", ports=range(7882, 7883))


def test_without_the_websocket_header_the_dsm_row_breaks_the_call(home: Home) -> None:
    """The one row a Synology user most often gets wrong: the SFU's row without Custom
    Header › WebSocket. The call cannot even join, and the failure says where."""
    from tests.lab import dsm_proxy

    def without_websocket(folder: Any) -> str:
        return dsm_proxy.server_blocks(folder, home.certs.folder).replace(
            "        proxy_set_header Upgrade $http_upgrade;\n", "")

    home.stack({"profile": "synology"}, proxy=without_websocket)
    result = home.call(timeout=45)
    assert not result.ok and "joined:0" not in result.data.get("steps", []), result.data
    # the signalling WebSocket's handshake is refused (LiveKit answers a plain GET of /rtc)
    assert "handshake error" in result.data["error"], result.data


@pytest.mark.parametrize("domain_here", [True, False])
def test_without_nat_loopback_the_auth_service_still_reaches_the_homeserver(
        home: Home, domain_here: bool) -> None:
    """A router without NAT loopback: the auth service (in a container on the NAS) must
    still verify the callers at the homeserver. With network.domain_here it reaches the
    domain's well-known through this host (extra_hosts); without, the domain is served
    elsewhere on the internet, as the answer says."""
    with home.domain_elsewhere(not domain_here):
        home.stack({"network": {"domain_here": domain_here}},
                   switches=router.Switches(nat_loopback=False))
        assert_call(placed(home, "udp"), home, protocol="udp", ports=range(7882, 7883))


def test_a_wrong_domain_here_answer_fails_the_call_at_the_token(home: Home) -> None:
    """The answer that matters without NAT loopback: the domain IS served on this NAS but
    network.domain_here says no, so the auth service looks it up publicly, lands on the
    router's own address, and cannot verify anyone: the call stops at /get_token."""
    home.stack({"network": {"domain_here": False}},
               switches=router.Switches(nat_loopback=False))
    result = home.call()
    assert not result.ok and "get_token" in result.data.get("error", ""), result.data
    assert "401" in result.data["error"], result.data


# ------------------------------------------------------------------ Redis, upgrade, restart


def test_with_redis_across_an_upgrade_and_a_livekit_restart(home: Home) -> None:
    """Redis on; the stack made with an earlier nasrtc's auth service pin, upgraded by
    `nasrtc upgrade`; LiveKit restarted: a new call works after each."""
    from nasrtc.versions import EARLIER, JWT_IMAGE

    earlier = EARLIER[0]["jwt"]
    home.tag(JWT_IMAGE, earlier)
    stack = home.stack({"redis": {"enabled": True}, "images": {"jwt": earlier}})
    assert_call(placed(home, "udp"), home, protocol="udp")
    upgraded = home.nasrtc("upgrade", "--yes", "--dir", str(stack.folder), timeout=600)
    assert JWT_IMAGE in upgraded.stdout, upgraded.stdout
    assert_call(placed(home, "udp"), home, protocol="udp")
    home.restart("livekit")
    assert_call(placed(home, "udp"), home, protocol="udp")


# ------------------------------------------------------------------ nasrtc opens the router


def test_a_call_through_the_mappings_nasrtc_router_open_made(home: Home) -> None:
    """No rule typed into the router: it speaks UPnP (Debian's miniupnpd), `nasrtc router
    open` maps the checklist's ports, and the call goes over UDP to the mapped mux port;
    `nasrtc router close` takes the mappings away again."""
    upnp_router.start(home.lab)
    try:
        made = home.stack(forwards=[])
        opened = json.loads(home.nasrtc("router", "open", "--dir", str(made.folder),
                                        "--json").stdout)
        assert opened["method"] == "upnp", opened
        mapped = {(m["protocol"], m["port"]) for m in opened["mappings"]
                  if m["state"] == "mapped"}
        assert {(f.protocol, f.start) for f in made.forwards} <= mapped, opened
        assert_call(placed(home, "udp"), home, protocol="udp",
                    ports=range(made.answers.get("ports", {}).get("rtc_udp", 7882),
                                made.answers.get("ports", {}).get("rtc_udp", 7882) + 1))
        down = home.nasrtc("down", "--close-router", "--dir", str(made.folder))
        assert "removed" in down.stdout and "TCP 7881" in down.stdout, down.stdout
        assert not (made.folder / "router-mappings.json").exists()
        assert "7882" not in upnp_router.dnat_rules(home.lab)
        home.nasrtc("up", "--dir", str(made.folder), timeout=600)
        assert not home.call(timeout=30).ok, "a call after the mappings were closed"
        # remove takes them too, while nasrtc.yaml still names them
        home.nasrtc("router", "open", "--dir", str(made.folder))
        assert "7882" in upnp_router.dnat_rules(home.lab)
        removed = home.nasrtc("remove", "--yes", "--dir", str(made.folder))
        assert "delete nasrtc's router mappings" in removed.stdout, removed.stdout
        assert "7882" not in upnp_router.dnat_rules(home.lab)
    finally:
        upnp_router.stop(home.lab)
