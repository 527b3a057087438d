"""Network namespaces and veth pairs for the home-network lab.

Every interface is created directly inside its lab namespace (`ip link add ... netns`),
so no lab link ever exists in this machine's own namespace, not even for a moment. The
addresses are the lab's own, chosen in one place (ADDRESSES); the internet side uses
public-looking ones because nasrtc rightly refuses a private `network.public_ip`, and no
route leads out of the lab, so they never leave it.

    callers (10.64.0.2) -- carrier NAT -- internet (STUN, DNS) -- home router -- NAS
                         (symmetric)        bridge inet0        (forwards what
                                                                 the checklist says)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NETNS_DIR = Path("/var/run/netns")
ETC_NETNS = Path("/etc/netns")  # ip netns exec bind-mounts <ns>/resolv.conf, hosts


@dataclass(frozen=True)
class Addresses:
    """The lab's addresses, the one place they are chosen."""

    internet_prefix: int = 24
    router_wan: str = "11.0.0.1"     # the home's public address (what STUN sees)
    carrier_wan: str = "11.0.0.2"    # the callers' carrier NAT on the internet
    stun: str = "11.0.0.3"           # coturn --stun-only
    dns: str = "11.0.0.53"           # dnsmasq: the public names
    elsewhere: str = "11.0.0.80"     # a web host outside the home (domain not served here)
    lan_prefix: int = 24
    router_lan: str = "192.168.1.1"
    nas: str = "192.168.1.10"
    callers_prefix: int = 24
    carrier_lan: str = "10.64.0.1"
    callers: str = "10.64.0.2"
    # Lines that put something between the home router and the internet (FRONTS): the
    # router's WAN is then `wan` of the kind, the front box holds router_wan.
    # IPv6 (build(..., ipv6=True), and every DS-Lite line): no NAT, routed /64s
    # from the documentation prefix.
    edge_wan6: str = "2001:db8::1"        # the home's edge (router, or its front box)
    carrier_wan6: str = "2001:db8::2"
    router_lan6: str = "2001:db8:1::1"
    nas_ipv6: str = "2001:db8:1::10"
    home_net6: str = "2001:db8:1::/64"
    front_lan6: str = "2001:db8:ff::1"    # the link between front box and router
    router_wan6: str = "2001:db8:ff::2"
    carrier_lan6: str = "2001:db8:2::1"
    callers6: str = "2001:db8:2::2"
    callers_net6: str = "2001:db8:2::/64"


# kind -> (the home router's WAN address, the front's LAN address, prefix): what stands
# before the home router. cgnat: the carrier's CGN (RFC 6598); double-nat: the provider's
# box with a LAN of its own; ds-lite: the AFTR, reached over the B4 address (RFC 6333).
FRONTS = {
    "cgnat": ("100.64.0.2", "100.64.0.1", 24),
    "double-nat": ("192.168.0.2", "192.168.0.1", 24),
    "ds-lite": ("192.0.0.2", "192.0.0.1", 29),
}


ADDRESSES = Addresses()


class LabError(RuntimeError):
    pass


def run(*command: str, timeout: float = 30, check: bool = True,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout,
                          input=input)
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(command)} failed ({done.returncode}): "
                       f"{done.stderr.strip() or done.stdout.strip()}")
    return done


@dataclass
class Namespace:
    name: str  # the netns name (/var/run/netns/<name>)
    role: str  # internet, router, nas, carrier, callers

    @property
    def path(self) -> str:
        return str(NETNS_DIR / self.name)

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(self, *command: str, timeout: float = 30, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(*self.exec_prefix(), *command, timeout=timeout, check=check, input=input)

    def links(self) -> list[dict[str, Any]]:
        return list(json.loads(self.run("ip", "-j", "link", "show").stdout))

    def addresses(self) -> list[str]:
        shown = [*json.loads(self.run("ip", "-j", "-4", "addr", "show").stdout),
                 *json.loads(self.run("ip", "-j", "-6", "addr", "show").stdout)]
        return [a["local"] for link in shown for a in link.get("addr_info", ())]


@dataclass
class Lab:
    """The namespaces, links and processes of one lab; close() removes every trace."""

    tag: str
    root: Path  # a scratch folder of the test's
    spaces: dict[str, Namespace] = field(default_factory=dict)
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)
    by_log: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)  # the newest
    addresses: Addresses = ADDRESSES

    # ------------------------------------------------------------ building

    def namespace(self, role: str) -> Namespace:
        space = Namespace(f"nasrtc-{self.tag}-{role}", role)
        run("ip", "netns", "add", space.name)
        self.spaces[role] = space
        space.run("ip", "link", "set", "lo", "up")
        return space

    def veth(self, a: Namespace, a_name: str, b: Namespace, b_name: str) -> None:
        run("ip", "link", "add", a_name, "netns", a.name, "type", "veth",
            "peer", "name", b_name, "netns", b.name)
        a.run("ip", "link", "set", a_name, "up")
        b.run("ip", "link", "set", b_name, "up")

    def resolv_conf(self, space: Namespace, nameserver: str) -> Path:
        """/etc/netns/<ns>/resolv.conf: what `ip netns exec` shows programs as
        /etc/resolv.conf (the lab's DNS, never this machine's)."""
        folder = ETC_NETNS / space.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "resolv.conf"
        path.write_text(f"nameserver {nameserver}\noptions timeout:1 attempts:2\n")
        (folder / "hosts").write_text("127.0.0.1 localhost\n")
        return path

    def popen(self, space: Namespace, command: Sequence[str], log: str,
              env: dict[str, str] | None = None, cwd: Path | None = None,
              ) -> subprocess.Popen[Any]:
        """A process in `space`, its output in <root>/<log>.log, stopped by close()."""
        handle = open(self.root / f"{log}.log", "ab")  # noqa: SIM115 (owned by the process)
        proc = subprocess.Popen([*space.exec_prefix(), *command], stdout=handle,
                                stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        handle.close()
        self.processes.append(proc)
        self.by_log[log] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ------------------------------------------------------------ checks

    def sealed(self) -> list[str]:
        """What links the lab to this machine's own namespace: [] when sealed. No link of
        this machine's may lead into a lab namespace, no lab link may be of a kind that
        rides on a device outside (macvlan, vxlan, ...), and no lab namespace may have a
        route to an address of this machine's that leads anywhere."""
        problems = []
        names = {space.name for space in self.spaces.values()}
        lab_ids = {int(item["nsid"]) for item in
                   json.loads(run("ip", "-j", "netns", "list-id").stdout or "[]")
                   if item.get("name") in names}
        host_links = json.loads(run("ip", "-d", "-j", "link", "show").stdout)
        for link in host_links:
            if link.get("link_netnsid") in lab_ids:
                problems.append(f"this machine's {link['ifname']} leads into the lab")
        for space in self.spaces.values():
            for link in json.loads(space.run("ip", "-d", "-j", "link", "show").stdout):
                kind = link.get("linkinfo", {}).get("info_kind")
                if link.get("ifname") != "lo" and kind not in ("veth", "bridge"):
                    problems.append(f"{space.role}: {link['ifname']} is a {kind or 'device'}")
        host = [a["local"] for family in ("-4", "-6")
                for link in json.loads(run("ip", "-j", family, "addr").stdout)
                for a in link.get("addr_info", ())
                if not a["local"].startswith(("127.", "fe80:")) and a["local"] != "::1"]
        lab = {address for space in self.spaces.values() for address in space.addresses()}
        for space in self.spaces.values():
            for address in host:
                if address in lab:
                    continue  # the lab chose it too: inside the lab it is the lab's own
                route = space.run("ip", "route", "get", address, check=False)
                if route.returncode == 0 and not self._leads_nowhere(space, address):
                    problems.append(f"{space.role}: a route to {address}: "
                                    f"{route.stdout.strip()}")
        return problems

    def _leads_nowhere(self, space: Namespace, address: str) -> bool:
        """A host's default route ends at a lab router, which (or whose front box) has no
        route further."""
        hops = {"nas": "router", "router": "front", "callers": "carrier"}
        gateway = hops.get(space.role)
        for _ in range(len(hops)):
            if gateway is None or gateway not in self.spaces:
                return False
            route = self.spaces[gateway].run("ip", "route", "get", address, check=False)
            if route.returncode != 0:
                return True
            gateway = hops.get(gateway)
        return False

    # ------------------------------------------------------------ teardown

    def close(self) -> None:
        for proc in reversed(self.processes):
            _stop(proc)
        for space in self.spaces.values():
            pids = run("ip", "netns", "pids", space.name, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        for space in self.spaces.values():
            for _ in range(20):  # a killed process may need a moment to leave
                if run("ip", "netns", "delete", space.name, check=False).returncode == 0:
                    break
                time.sleep(0.2)
            shutil.rmtree(ETC_NETNS / space.name, ignore_errors=True)
        self.spaces.clear()


def _front(lab: Lab, kind: str, edge: Namespace, router: Namespace) -> None:
    """The box before the home router: it masquerades (as a CGN, a provider's router or an
    AFTR does) and forwards nothing in."""
    wan, front_lan, prefix = FRONTS[kind]
    lab.veth(edge, "lan", router, "wan")
    edge.run("ip", "addr", "add", f"{front_lan}/{prefix}", "dev", "lan")
    router.run("ip", "addr", "add", f"{wan}/{prefix}", "dev", "wan")
    router.run("ip", "route", "add", "default", "via", front_lan)
    edge.run("nft", "-f", "-", input="""
table ip front {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
""")


def _ipv6(lab: Lab, edge: Namespace, router: Namespace, nas: Namespace, carrier: Namespace,
          callers: Namespace, internet: Namespace, front: bool) -> None:
    """Routed IPv6, no NAT (the provider routes the home's /64 to its edge): only the home
    router's IPv6 firewall (router.apply) decides what reaches the NAS. Routes name the
    lab's prefixes only; nothing has a default route beyond its own router."""
    a = lab.addresses

    def address(space: Namespace, value: str, device: str) -> None:
        space.run("ip", "-6", "addr", "add", f"{value}/64", "dev", device, "nodad")

    address(edge, a.edge_wan6, "wan")
    address(carrier, a.carrier_wan6, "wan")
    address(router, a.router_lan6, "lan")
    address(nas, a.nas_ipv6, "eth0")
    address(carrier, a.carrier_lan6, "lan")
    address(callers, a.callers6, "eth0")
    nas.run("ip", "-6", "route", "add", "default", "via", a.router_lan6)
    callers.run("ip", "-6", "route", "add", "default", "via", a.carrier_lan6)
    carrier.run("ip", "-6", "route", "add", a.home_net6, "via", a.edge_wan6)
    if front:
        address(edge, a.front_lan6, "lan")
        address(router, a.router_wan6, "wan")
        edge.run("ip", "-6", "route", "add", a.home_net6, "via", a.router_wan6)
        edge.run("ip", "-6", "route", "add", a.callers_net6, "via", a.carrier_wan6)
        router.run("ip", "-6", "route", "add", a.callers_net6, "via", a.front_lan6)
    else:
        router.run("ip", "-6", "route", "add", a.callers_net6, "via", a.carrier_wan6)
    for space in {router.name: router, carrier.name: carrier, edge.name: edge}.values():
        space.run("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
    del internet  # a bridge: it needs no address of its own


def _stop(proc: subprocess.Popen[Any], timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def build(tag: str, root: Path, front: str | None = None, ipv6: bool | None = None) -> Lab:
    """The five namespaces, their links, addresses and routes (no services yet); with
    `front` (a FRONTS kind), a sixth box between the home router and the internet; with
    `ipv6` (the default on a DS-Lite line), routed IPv6 from the callers to the NAS too."""
    ipv6 = front == "ds-lite" if ipv6 is None else ipv6
    a = ADDRESSES
    lab = Lab(tag, root)
    try:
        internet, router, nas = (lab.namespace(r) for r in ("internet", "router", "nas"))
        edge = lab.namespace("front") if front else router  # what holds router_wan
        carrier, callers = lab.namespace("carrier"), lab.namespace("callers")
        internet.run("ip", "link", "add", "inet0", "type", "bridge")
        internet.run("ip", "link", "set", "inet0", "up")
        for address in (a.stun, a.dns, a.elsewhere):
            internet.run("ip", "addr", "add", f"{address}/{a.internet_prefix}", "dev", "inet0")
        for space, port, wan in ((edge, "to-router", a.router_wan),
                                 (carrier, "to-carrier", a.carrier_wan)):
            lab.veth(space, "wan", internet, port)
            internet.run("ip", "link", "set", port, "master", "inet0")
            space.run("ip", "addr", "add", f"{wan}/{a.internet_prefix}", "dev", "wan")
        lab.veth(router, "lan", nas, "eth0")
        router.run("ip", "addr", "add", f"{a.router_lan}/{a.lan_prefix}", "dev", "lan")
        nas.run("ip", "addr", "add", f"{a.nas}/{a.lan_prefix}", "dev", "eth0")
        nas.run("ip", "route", "add", "default", "via", a.router_lan)
        lab.veth(carrier, "lan", callers, "eth0")
        carrier.run("ip", "addr", "add", f"{a.carrier_lan}/{a.callers_prefix}", "dev", "lan")
        callers.run("ip", "addr", "add", f"{a.callers}/{a.callers_prefix}", "dev", "eth0")
        callers.run("ip", "route", "add", "default", "via", a.carrier_lan)
        for space in (router, carrier, edge):
            space.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        if front:
            _front(lab, front, edge, router)
        if ipv6:
            _ipv6(lab, edge, router, nas, carrier, callers, internet, bool(front))
        # The callers' carrier: a symmetric NAT (a new port for every destination), as on
        # mobile networks, so only ports the home router really forwards carry a call.
        carrier.run("nft", "-f", "-", input="""
table ip carrier {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade fully-random
  }
}
""")
        for space in (nas, callers, router, carrier):
            lab.resolv_conf(space, a.dns)
    except BaseException:
        lab.close()
        raise
    return lab
