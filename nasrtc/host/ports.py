"""Which host ports are taken, and by whom. The one answer to "is this port busy"
for the wizard, `up` and doctor; every probe tolerates failure."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable

from nasrtc.answers.rules import PortRule
from nasrtc.i18n import _

Owner = Callable[[str, int], "str | None"]  # (protocol, port) -> who holds it, or None


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
            or _("another program") + _unseen_note())


def _unseen_note() -> str:
    """In nasrtc's container the host's programs are out of sight without --pid host, and
    their sockets without SYS_PTRACE (host processes hold capabilities the container lacks)."""
    from nasrtc.host.container import in_container

    if not in_container():
        return ""
    return "; " + _("nasrtc's container may not see the host's programs: with --pid host "
                    "--cap-add SYS_PTRACE it names the one holding the port")


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
                    return _("container {name}").format(name=container.name)
    except Exception:  # no engine, no permission, old API: the probe just has no answer
        return None
    return None


@dataclass(frozen=True)
class Busy:
    """A port of a rule that something else holds."""

    rule: PortRule
    port: int
    owner: str

    def describe(self) -> str:
        return _("{protocol} port {port} is already in use on this host ({owner})").format(
            protocol=self.rule.protocol.upper(), port=self.port, owner=self.owner)


def busy(rules: Iterable[PortRule], owner: Owner | None = None,
         first_only: bool = False) -> list[Busy]:
    """Every port of these rules that something holds (the first one per rule
    with first_only: a taken range is reported once)."""
    owner = owner or port_owner
    found = []
    for rule in rules:
        for number in rule.numbers:
            holder = owner(rule.protocol, number)
            if holder:
                found.append(Busy(rule, number, holder))
                if first_only:
                    break
    return found
