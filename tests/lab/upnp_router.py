"""Debian's miniupnpd (nftables backend) on the lab's home router: UPnP IGD, NAT-PMP and
PCP, as most home routers speak them. Debian's nft_init.sh is broken (it sources a
missing miniupnpd_functions.sh), so the chains it needs are made here: `table inet
filter` with a forward base chain that jumps to `miniupnpd`, and `table inet nat` with
its own prerouting and postrouting base chains."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from tests.lab.topology import ADDRESSES, Lab, LabError

HTTP_PORT = 5000
CHAINS = """
table inet filter
delete table inet filter
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
}
table inet nat
delete table inet nat
table inet nat {
  chain prerouting_miniupnpd {
    type nat hook prerouting priority dstnat;
  }
  chain postrouting_miniupnpd {
    type nat hook postrouting priority srcnat;
  }
}
"""


def available() -> bool:
    return shutil.which("miniupnpd") is not None


def config(upnp: bool = True, natpmp: bool = True) -> str:
    a = ADDRESSES
    lan = a.router_lan.rsplit(".", 1)[0] + ".0"
    return f"""ext_ifname=wan
listening_ip=lan
http_port={HTTP_PORT}
enable_upnp={'yes' if upnp else 'no'}
enable_natpmp={'yes' if natpmp else 'no'}
secure_mode=yes
system_uptime=no
friendly_name=Lab home router
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
upnp_table_name=filter
upnp_nat_table_name=nat
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1-65535 {lan}/{a.lan_prefix} 1-65535
deny 0-65535 0.0.0.0/0 0-65535
"""


def start(lab: Lab, upnp: bool = True, natpmp: bool = True) -> subprocess.Popen[Any]:
    """miniupnpd in the foreground on the router (stop() or the lab's close ends it)."""
    router = lab.spaces["router"]
    router.run("nft", "-f", "-", input=CHAINS)
    path = lab.root / "miniupnpd.conf"
    path.write_text(config(upnp, natpmp))
    proc = lab.popen(router, ["miniupnpd", "-f", str(path), "-d"], "miniupnpd")
    for _ in range(50):  # up to 5 s for its sockets
        if upnp and _listening(lab, HTTP_PORT):
            return proc
        if not upnp and "Listening for NAT-PMP" in lab.log("miniupnpd"):
            return proc
        if proc.poll() is not None:
            break
        subprocess.run(["sleep", "0.1"], check=False)
    raise LabError(f"miniupnpd did not start:\n{lab.log('miniupnpd')[-2000:]}")


def _listening(lab: Lab, port: int) -> bool:
    shown = lab.spaces["router"].run("ss", "-Hltn", f"sport = :{port}", check=False)
    return bool(shown.stdout.strip())


def stop(lab: Lab) -> None:
    """The router restarts: miniupnpd ends and its mappings are gone with its rules."""
    proc = lab.by_log.get("miniupnpd")
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    lab.spaces["router"].run("nft", "-f", "-", input=CHAINS)  # no rule survives a reboot


def dnat_rules(lab: Lab) -> str:
    return lab.spaces["router"].run("nft", "list", "table", "inet", "nat").stdout
