"""A real call into a DS-Lite home, over IPv6 alone.

The home's IPv4 leaves through the provider's AFTR (the lab's front box, which forwards
nothing in), so no IPv4 forward can ever carry a call; the home has routed global IPv6
(2001:db8:1::/64), and the public names have AAAA records only. With `network.ipv6: true`
the stack nasrtc writes offers callers the NAS's IPv6 address, the router's IPv6 firewall
opens exactly what the checklist's IPv6 table lists, and the tone arrives over UDP to the
NAS's own IPv6 address. Without those pinholes no call gets through, and nasrtc's own
checks say what the line is (ds-lite) and that the AAAA records are right.

Same lab as tests/integration/test_real_call.py (real LiveKit, real Synapse and nginx,
libwebrtc callers behind their carrier), built with a front box and IPv6."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_real_call import pytestmark as real_call_marks
from tests.lab import router, upnp_router
from tests.lab.home import CallResult, Home, running_home, set_public_names
from tests.lab.topology import ADDRESSES

pytestmark = real_call_marks


@pytest.fixture(scope="module")
def home(client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with running_home(tmp_path_factory.mktemp("home6"), client, front="ds-lite",
                      ipv6=True) as made:
        set_public_names(made.lab, {}, "only")
        upnp_router.start(made.lab)  # the home router speaks UPnP, NAT-PMP and PCP
        yield made


def tone_over_ipv6(result: CallResult, home: Home) -> dict[str, Any]:
    assert result.ok, f"no call: {result.data.get('error')}\n{result.explain(home)}"
    assert result.data["frames_received"] >= 100, result.explain(home)
    assert result.data["tone_strength"] > 0.5, f"no tone, only noise: {result.data}"
    remote = result.pair().get("remote") or {}
    assert remote.get("address") == ADDRESSES.nas_ipv6, \
        f"media went to {remote}, not to the NAS's IPv6 address\n{result.explain(home)}"
    return remote


def test_a_ds_lite_home_takes_a_call_over_ipv6_alone(home: Home) -> None:
    made = home.stack({"network": {"ipv6": True}})
    opened = router.pinholes_from_checklist(made.checklist)
    assert {(f.protocol, f.start) for f in opened} >= {("tcp", 443), ("tcp", 7881),
                                                     ("udp", 7882)}, made.checklist
    livekit_yaml = (made.folder / "livekit" / "livekit.yaml").read_text()
    assert '"2000::/3"' in livekit_yaml, livekit_yaml

    first = home.call()
    remote = tone_over_ipv6(first, home)
    if remote.get("protocol") != "udp":  # libwebrtc may nominate TCP first under load
        remote = tone_over_ipv6(home.call(), home)
    assert remote.get("protocol") == "udp" and remote.get("port") == 7882, remote

    # nasrtc's own view from the NAS: a DS-Lite line, the AAAA records right
    rows = {row["name"]: row for row in json.loads(home.nasrtc(
        "doctor", "--dir", str(made.folder), "--json", "--timeout", "3", check=False).stdout)}
    assert rows["internet line"]["status"] == "fail", rows["internet line"]
    assert "DS-Lite" in rows["internet line"]["detail"], rows["internet line"]
    assert rows["IPv6 (AAAA)"]["status"] == "pass", rows["IPv6 (AAAA)"]
    assert ADDRESSES.nas_ipv6 in rows["IPv6 (AAAA)"]["detail"]


def test_without_network_ipv6_the_sfu_offers_no_way_in_and_doctor_says_why(
        home: Home) -> None:
    """The same home and names, but network.ipv6 left false: signalling still reaches the
    NAS over IPv6, yet LiveKit offers callers only IPv4 addresses, which on a DS-Lite line
    lead to the provider's AFTR: the call never gets media. doctor names the cause."""
    made = home.stack()
    livekit_yaml = (made.folder / "livekit" / "livekit.yaml").read_text()
    assert "2000::/3" not in livekit_yaml
    result = home.call(timeout=40)
    assert not result.ok, f"a call without IPv6 candidates: {result.data}"
    offered = result.pair().get("offered", []) + result.pair("publisher").get("offered", [])
    assert not any(ADDRESSES.nas_ipv6 in line for line in offered), offered
    rows = {row["name"]: row for row in json.loads(home.nasrtc(
        "doctor", "--dir", str(made.folder), "--json", "--timeout", "3", check=False).stdout)}
    aaaa = rows["IPv6 (AAAA)"]
    assert aaaa["status"] == "warn" and "network.ipv6 is false" in aaaa["detail"], aaaa
    assert "network.ipv6: true" in aaaa["fix"], aaaa
