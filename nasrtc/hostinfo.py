"""What this host can tell the wizard: busy ports, its LAN address, its public
address. Every probe is bounded in time and tolerates failure (returns None)."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket

# Tests point this at a server on loopback; users get a public what-is-my-IP service.
PUBLIC_IP_URL_ENV = "NASRTC_PUBLIC_IP_URL"
DEFAULT_PUBLIC_IP_URL = "https://api.ipify.org"


def port_in_use(protocol: str, port: int) -> bool:
    """True when something on this host already holds the port."""
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if protocol == "tcp":
            # As servers do: connections in TIME_WAIT must not count as "in use".
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def process_port_owner(protocol: str, port: int, proc: str = "/proc") -> str | None:
    """'program (pid N)' holding the port, from /proc (needs root for other users'
    processes; None when it cannot tell)."""
    inodes = set()
    for table in (f"{protocol}", f"{protocol}6"):
        try:
            with open(f"{proc}/net/{table}", encoding="ascii") as rows:
                next(rows, None)
                for row in rows:
                    fields = row.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    listening = protocol == "udp" or fields[3] == "0A"
                    if local_port == port and listening:
                        inodes.add(fields[9])
        except (OSError, ValueError, IndexError):
            continue
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid in (entry for entry in os.listdir(proc) if entry.isdigit()):
        try:
            for fd in os.listdir(f"{proc}/{pid}/fd"):
                if os.readlink(f"{proc}/{pid}/fd/{fd}") in targets:
                    with open(f"{proc}/{pid}/comm", encoding="utf-8") as comm:
                        return f"{comm.read().strip()} (pid {pid})"
        except OSError:
            continue
    return None


def port_owner(protocol: str, port: int) -> str | None:
    """Who holds the port: a container by name, else a process, else 'another program';
    None when the port is free."""
    if not port_in_use(protocol, port):
        return None
    return (docker_port_owner(protocol, port) or process_port_owner(protocol, port)
            or "another program")


def docker_port_owner(protocol: str, port: int) -> str | None:
    """Name of a container publishing the port, if a Docker engine answers quickly."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        for container in client.containers.list():
            ports = container.attrs.get("NetworkSettings", {}).get("Ports") or {}
            for spec, bindings in ports.items():
                if spec == f"{port}/{protocol}" or any(
                        str(b.get("HostPort")) == str(port) for b in (bindings or [])
                        if spec.endswith(f"/{protocol}")):
                    return f"container {container.name}"
    except Exception:  # no engine, no permission, old API: the probe just has no answer
        return None
    return None


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
