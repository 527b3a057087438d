"""Can the internet reach the NAS? nasrtc's verdict on each kind of line, and the router
mappings it makes, against the real peers: Debian's miniupnpd on the lab's home router
(UPnP IGD, NAT-PMP and PCP), coturn as the STUN server on the lab's internet, and one
topology per line: a public IPv4 WAN, carrier-grade NAT (a CGN with a 100.64 WAN before
the router), double NAT (a provider's box before it), DS-Lite (the router's IPv4 leaves
through an AFTR over 192.0.0.2; the LAN has global IPv6), and a router without UPnP.

nasrtc runs in the NAS's namespace, whose only way out is the lab router: discovery
(SSDP, NAT-PMP/PCP to the gateway, STUN) is switched on there alone; everywhere else the
tests keep it off (NASRTC_DISCOVERY=off, tests/conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO, REQUIRE_TOOLS
from tests.integration.test_wizard import Wizard, defaults_through_turn
from tests.lab import router, topology, upnp_router
from tests.lab.home import DOMAIN, start_internet
from tests.lab.topology import ADDRESSES, Lab

TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base",
         "turnserver": "coturn", "miniupnpd": "miniupnpd-nftables", "upnpc": "miniupnpc"}
MISSING = [f"{tool} ({package})" for tool, package in TOOLS.items() if not shutil.which(tool)]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(bool(MISSING) and not REQUIRE_TOOLS,
                       reason=f"the reach lab needs {', '.join(MISSING)}: tests/run.sh "
                              "installs them"),
    pytest.mark.skipif(os.geteuid() != 0 and not REQUIRE_TOOLS,
                       reason="the lab makes network namespaces: run as root"),
]


@dataclass
class Line:
    lab: Lab
    folder: Path  # a stack nasrtc init wrote for example.org

    def nasrtc(self, *args: str, check: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """nasrtc on the NAS, discovery on: its packets can only reach the lab."""
        env = {**os.environ, "NASRTC_LANG": "en", "PYTHONPATH": str(REPO),
               "NASRTC_DISCOVERY": "on", "NASRTC_PUBLIC_IP_URL": "http://127.0.0.1:9/",
               **(env or {})}
        done = subprocess.run([*self.lab.spaces["nas"].exec_prefix(), sys.executable, "-m",
                               "nasrtc", *args], capture_output=True, text=True, env=env,
                              timeout=120, stdin=subprocess.DEVNULL)
        if check and done.returncode not in (0, 1):
            raise AssertionError(f"nasrtc {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return done

    def reach(self) -> dict[str, Any]:
        return dict(json.loads(self.nasrtc("reach", "--dir", str(self.folder), "--json")
                               .stdout))

    def doctor_row(self, name: str) -> dict[str, str]:
        rows = json.loads(self.nasrtc("doctor", "--dir", str(self.folder), "--local",
                                      "--json", "--timeout", "2").stdout)
        rows = rows["checks"] if isinstance(rows, dict) else rows
        return next(row for row in rows if row["name"] == name)

    def router_cmd(self, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
        return self.nasrtc("router", *args, "--dir", str(self.folder), **options)


@contextmanager
def line_lab(tmp: Path, front: str | None = None, upnp: bool = True) -> Iterator[Line]:
    tmp.mkdir(parents=True, exist_ok=True)
    lab = topology.build(uuid.uuid4().hex[:6], tmp, front)
    try:
        start_internet(lab)
        router.apply(lab.spaces["router"], [])  # the home router's NAT, no forward yet
        if upnp:
            upnp_router.start(lab)
        answers = tmp / "answers.yaml"
        answers.write_text(yaml.safe_dump({
            "domain": DOMAIN, "language": "en",
            "network": {"lan_ip": ADDRESSES.nas,
                        "stun_servers": [f"{ADDRESSES.stun}:3478"]}}))
        made = Line(lab, tmp / "stack")
        init = made.nasrtc("init", "--dir", str(made.folder), "--answers", str(answers))
        assert init.returncode == 0, init.stderr
        made.init_output = init.stdout + init.stderr  # type: ignore[attr-defined]
        yield made
    finally:
        lab.close()


VERDICTS = [
    # front, upnp, verdict, the router's WAN as nasrtc must report it, how it was learnt
    (None, True, "public", ADDRESSES.router_wan, "upnp"),
    ("cgnat", True, "cgnat", "100.64.0.2", "pcp"),
    ("double-nat", True, "double-nat", "192.168.0.2", "pcp"),
    ("ds-lite", True, "ds-lite", "192.0.0.2", "pcp"),
    (None, False, "unknown", None, None),
]
HEADLINES = {"public": "port forwarding works", "cgnat": "Carrier-grade NAT",
             "double-nat": "Double NAT", "ds-lite": "DS-Lite",
             "unknown": "the router did not answer"}
DOCTOR_STATUS = {"public": "pass", "cgnat": "fail", "double-nat": "warn", "ds-lite": "fail",
                 "unknown": "skipped"}


@pytest.mark.parametrize(("front", "upnp", "verdict", "wan", "source"), VERDICTS,
                         ids=[v[2] for v in VERDICTS])
def test_each_line_gets_its_verdict_in_reach_doctor_checklist_and_init(
        tmp_path: Path, front: str | None, upnp: bool, verdict: str, wan: str | None,
        source: str | None) -> None:
    with line_lab(tmp_path, front, upnp) as line:
        found = line.reach()
        assert found["verdict"] == verdict, found
        assert found["wan_address"] == wan and found["wan_source"] == source, found
        # Every line leaves through the home's one public address: STUN sees it.
        assert found["seen_address"] == ADDRESSES.router_wan, found
        assert found["seen_source"] == f"stun {ADDRESSES.stun}:3478"
        assert found["lan_address"] == ADDRESSES.nas
        assert (ADDRESSES.nas_ipv6 in found["ipv6"]) == (front == "ds-lite"), found
        assert set(found["router"]) == ({"upnp", "nat-pmp", "pcp"} if upnp else set())
        assert (found["forwarding_works"] is False) == (verdict in ("cgnat", "ds-lite"))
        headline = HEADLINES[verdict]
        assert headline in found["headline"]

        row = line.doctor_row("internet line")
        assert row["status"] == DOCTOR_STATUS[verdict], row
        assert headline in row["detail"], row

        checklist = line.nasrtc("checklist", "--dir", str(line.folder)).stdout
        assert headline in checklist, checklist
        rows = router.forwards_from_checklist(checklist)
        if verdict in ("cgnat", "ds-lite"):
            # No table of forwards that cannot work: what does instead.
            assert rows == [], checklist
            assert "ask your provider for a public ipv4 address" in checklist.lower()
            assert ("Use IPv6: this NAS has " + ADDRESSES.nas_ipv6 in checklist) == (
                verdict == "ds-lite"), checklist
        else:
            assert router.Forward("udp", 7882, 7882) in rows, checklist
        assert headline in line.init_output  # type: ignore[attr-defined]


def test_discovery_off_sends_nothing_and_says_so(tmp_path: Path) -> None:
    with line_lab(tmp_path) as line:
        before = line.lab.log("miniupnpd")
        env = {**os.environ, "NASRTC_LANG": "en", "PYTHONPATH": str(REPO),
               "NASRTC_DISCOVERY": "off"}
        done = subprocess.run([*line.lab.spaces["nas"].exec_prefix(), sys.executable, "-m",
                               "nasrtc", "reach", "--dir", str(line.folder), "--json"],
                              capture_output=True, text=True, env=env, timeout=60)
        found = json.loads(done.stdout)
        assert found["verdict"] == "unknown" and found["discovery"] is False
        assert "discovery is off" in found["headline"]
        assert line.lab.log("miniupnpd") == before  # not one packet reached the router


def connects(line: Line, protocol: str, port: int) -> bool:
    """Whether a packet from the internet side reaches the NAS's port through the router's
    public address: a listener on the NAS answers, a caller on the internet asks."""
    nas, callers = line.lab.spaces["nas"], line.lab.spaces["callers"]
    server = ("import socket,sys\n"
              f"s=socket.socket(socket.AF_INET,socket.SOCK_{'STREAM' if protocol == 'tcp' else 'DGRAM'})\n"
              "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
              f"s.bind(('0.0.0.0',{port})); s.settimeout(6)\n"
              + ("s.listen(1); c,_=s.accept(); c.sendall(b'nas')\n" if protocol == "tcp" else
                 "d,a=s.recvfrom(64); s.sendto(b'nas',a)\n"))
    client = ("import socket\n"
              f"s=socket.socket(socket.AF_INET,socket.SOCK_{'STREAM' if protocol == 'tcp' else 'DGRAM'})\n"
              "s.settimeout(2)\n"
              + (f"s.connect(('{ADDRESSES.router_wan}',{port})); print(s.recv(8).decode())\n"
                 if protocol == "tcp" else
                 f"s.sendto(b'hi',('{ADDRESSES.router_wan}',{port})); "
                 "print(s.recvfrom(8)[0].decode())\n"))
    listener = subprocess.Popen([*nas.exec_prefix(), sys.executable, "-c", server],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(20):  # until the listener is bound
            shown = nas.run("ss", "-Hln", f"sport = :{port}", check=False).stdout
            if shown.strip():
                break
            subprocess.run(["sleep", "0.1"], check=False)
        asked = callers.run(sys.executable, "-c", client, check=False, timeout=10)
        return asked.stdout.strip() == "nas"
    finally:
        listener.kill()
        listener.wait(5)


@pytest.mark.parametrize("via", ["upnp", "nat-pmp", "pcp"])
def test_router_open_status_close_with_each_protocol(tmp_path: Path, via: str) -> None:
    with line_lab(tmp_path) as line:
        assert not connects(line, "tcp", 7881)  # nothing forwarded yet
        opened = line.router_cmd("open", "--via", via, "--json")
        assert opened.returncode == 0, opened.stdout + opened.stderr
        result = json.loads(opened.stdout)
        assert result["method"] == via
        states = {(m["protocol"], m["port"]): m["state"] for m in result["mappings"]}
        assert states[("tcp", 7881)] == "mapped" and states[("udp", 7882)] == "mapped", result
        assert connects(line, "tcp", 7881) and connects(line, "udp", 7882)
        listed = line.lab.spaces["nas"].run("upnpc", "-l", check=False).stdout
        if via == "upnp":  # the router's own table names them as nasrtc's
            assert "nasrtc" in listed and "7881" in listed, listed

        status = line.router_cmd("status", "--json")
        assert status.returncode == 0, status.stdout
        shown = json.loads(status.stdout)["mappings"]
        assert {m["state"] for m in shown} == {"present"}, shown
        for m in shown:  # the lease the router gave: IGDv2's week at most, NAT-PMP/PCP's
            assert m["lease"] is not None and 0 < m["lease"] <= 7 * 24 * 3600, shown

        closed = line.router_cmd("close", "--json")
        assert closed.returncode == 0, closed.stdout
        assert {m["state"] for m in json.loads(closed.stdout)["mappings"]} == {"removed"}
        assert not connects(line, "tcp", 7881)
        assert "7881" not in upnp_router.dnat_rules(line.lab)
        assert not (line.folder / "router-mappings.json").exists()


def test_a_mapping_of_someone_elses_is_left_alone(tmp_path: Path) -> None:
    with line_lab(tmp_path) as line:
        nas = line.lab.spaces["nas"]
        nas.run("upnpc", "-e", "game console", "-a", ADDRESSES.nas, "7881", "7881", "TCP")
        opened = line.router_cmd("open", "--via", "upnp", "--json")
        states = {(m["protocol"], m["port"]): m for m in json.loads(opened.stdout)["mappings"]}
        assert states[("tcp", 7881)]["state"] == "already", states
        assert "game console" in states[("tcp", 7881)]["detail"]
        closed = line.router_cmd("close", "--json")
        assert ("tcp", 7881) not in {(m["protocol"], m["port"])
                                     for m in json.loads(closed.stdout)["mappings"]}
        assert "game console" in nas.run("upnpc", "-l", check=False).stdout


@pytest.mark.parametrize("via", ["upnp", "nat-pmp"])
def test_a_router_restart_forgets_the_mappings_and_doctor_says_what_to_run(
        tmp_path: Path, via: str) -> None:
    with line_lab(tmp_path) as line:
        assert line.router_cmd("open", "--via", via).returncode == 0
        assert line.doctor_row("router mappings")["status"] == "pass"
        # The router has been up a while when it restarts: NAT-PMP's epoch then falls back
        # by more than clocks drift (RFC 6886 3.6), which is how nasrtc knows.
        time.sleep(5)
        upnp_router.stop(line.lab)
        upnp_router.start(line.lab)
        status = line.router_cmd("status")
        assert status.returncode == 1, status.stdout
        assert "gone" in status.stdout and "router open" in status.stdout, status.stdout
        row = line.doctor_row("router mappings")
        assert row["status"] == "fail" and "router open" in row["fix"], row
        assert not connects(line, "tcp", 7881)
        assert line.router_cmd("open", "--via", via).returncode == 0
        assert connects(line, "tcp", 7881)
        assert line.doctor_row("router mappings")["status"] == "pass"


def wizard_on_the_nas(line: Line, tmp_path: Path, folder: Path) -> Wizard:
    """The wizard in a pty in the NAS's namespace (discovery on), answered with its
    defaults up to the public address question."""
    w = Wizard(tmp_path, "--dir", str(folder), prefix=tuple(
        line.lab.spaces["nas"].exec_prefix()), env={
        "NASRTC_DISCOVERY": "on", "PYTHONPATH": str(REPO), "NASRTC_LANG": "en"})
    w.child.timeout = 60
    defaults_through_turn(w)
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    return w


def test_the_wizard_shows_the_line_before_it_writes_and_opens_the_router_on_yes(
        tmp_path: Path) -> None:
    with line_lab(tmp_path / "lab") as line:
        folder = tmp_path / "wizard-stack"
        w = wizard_on_the_nas(line, tmp_path, folder)
        w.text("The NAS's LAN address")  # the wizard found 192.168.1.10
        w.confirm("on the router now", True)
        before_writing = w.output
        assert f"Public IPv4 on the router ({ADDRESSES.router_wan})" in before_writing
        assert not folder.joinpath("nasrtc.yaml").exists()  # shown before anything is written
        w.confirm("Write these files", True)
        assert w.finish() == 0, w.output
        assert "router mappings of" in w.output and "UDP 7882: mapped" in w.output, w.output
        assert "7882" in upnp_router.dnat_rules(line.lab)
        assert connects(line, "udp", 7882)


@pytest.mark.parametrize(("front", "upnp", "verdict", "wan", "source"), VERDICTS[1:],
                         ids=[v[2] for v in VERDICTS[1:]])
def test_the_wizard_shows_each_line_and_offers_mappings_only_where_they_can_work(
        tmp_path: Path, front: str | None, upnp: bool, verdict: str, wan: str | None,
        source: str | None) -> None:
    with line_lab(tmp_path / "lab", front, upnp) as line:
        w = wizard_on_the_nas(line, tmp_path, tmp_path / "wizard-stack")
        if front == "ds-lite":  # the NAS has global IPv6: the wizard asks to offer it
            w.confirm("Offer callers this NAS's IPv6 address too", True)
        w.text("The NAS's LAN address")
        offered = verdict == "double-nat"  # a router answers and forwarding may work
        if offered:
            w.confirm("on the router now", False)
        w.confirm("Write these files", True)
        assert w.finish() == 0, w.output
        shown = w.output.split("Write these files")[0]
        assert "your internet line: " in shown and HEADLINES[verdict] in shown, w.output
        assert ("on the router now" in w.output) == offered, w.output
        if upnp:
            assert "7882" not in upnp_router.dnat_rules(line.lab)  # nothing was mapped
        answers = (tmp_path / "wizard-stack" / "nasrtc.yaml").read_text()
        assert ("ipv6: true" in answers) == (front == "ds-lite"), answers
