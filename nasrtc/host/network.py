"""What this host can tell about its network: its LAN address, its public address,
current DNS answers. Every probe is bounded in time and tolerates failure."""

from __future__ import annotations

import ipaddress
import os
import socket

# Tests point this at a server on loopback; users get a public what-is-my-IP service.
PUBLIC_IP_URL_ENV = "NASRTC_PUBLIC_IP_URL"
DEFAULT_PUBLIC_IP_URL = "https://api.ipify.org"


def lan_address() -> str | None:
    """This host's LAN address: the source address of a route to a private
    network. A UDP connect sends no packet."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 9))
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    parsed = ipaddress.IPv4Address(address)
    return address if parsed.is_private and not parsed.is_loopback else None


def public_address(timeout: float = 3.0) -> tuple[str, str] | None:
    """(address, where it came from), or None without network."""
    url = os.environ.get(PUBLIC_IP_URL_ENV, DEFAULT_PUBLIC_IP_URL)
    try:
        import requests

        answer = requests.get(url, timeout=timeout).text.strip()
        address = ipaddress.IPv4Address(answer)
    except Exception:  # offline, blocked, or not an address: offer STUN only
        return None
    return (str(address), url.split("://", 1)[-1].split("/", 1)[0]) if address.is_global \
        else None


def resolve_names(hosts: list[str], timeout: float = 2.0) -> dict[str, list[str]]:
    """Current DNS answers per host ([] = does not resolve); hosts that time out are left
    out (unknown). Lookups run in parallel, so the whole call is bounded by timeout."""
    from concurrent.futures import ThreadPoolExecutor, wait

    def lookup(host: str) -> list[str] | None:
        try:
            infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            # Only "no such name" is an answer; no DNS server reachable means unknown.
            return [] if exc.errno == socket.EAI_NONAME else None
        except OSError:
            return None
        return sorted({str(info[4][0]) for info in infos})

    pool = ThreadPoolExecutor(max_workers=max(1, len(hosts)))
    futures = {host: pool.submit(lookup, host) for host in hosts}
    wait(list(futures.values()), timeout=timeout)
    pool.shutdown(wait=False)
    found = {host: f.result() for host, f in futures.items() if f.done()}
    return {host: addresses for host, addresses in found.items() if addresses is not None}
