"""Stack -> one container spec per service: what `docker compose` would create.
Pure but for reading the mounted files' bytes (for nasrtc 0.1's hash, still accepted as
"unchanged"; a file changed since the container started restarts it instead),
unit-tested without an engine.

Containers carry Compose v2's names and labels (so `docker compose ps`,
Container Manager and Portainer see one project), with Compose's own config hash (so
`docker compose up -d` finds nothing to change), plus our own label.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from nasrtc.engine import compose_hash
from nasrtc.engine.labels import (
    CONFIG_HASH,
    IMAGE_LABEL,
    ONEOFF,
    OURS,
    PORTS_LABEL,
    PROJECT,
    SERVICE,
    STOP_TIMEOUT,
    VERSION_LABEL,
    WORKING_DIR,
)
from nasrtc.i18n import _
from nasrtc.services import container_name
from nasrtc.stack import Mount, PortRule, Service, Stack

__all__ = ["CONFIG_HASH", "IMAGE_LABEL", "OURS", "PORTS_LABEL", "PROJECT", "SERVICE",
           "STOP_TIMEOUT", "WORKING_DIR", "ContainerSpec", "held_ports", "make_data_folders",
           "mount_source", "network_name", "read_at_start", "specs", "unusable_mounts"]


def _seconds(value: str) -> int:
    """'10s' / '1m' -> nanoseconds, the engine's unit."""
    units = {"s": 1, "m": 60, "h": 3600}
    return int(float(value[:-1]) * units[value[-1]] * 1_000_000_000)


@dataclass(frozen=True)
class ContainerSpec:
    """Everything the engine needs to create one service's container."""

    service: str
    name: str
    image: str
    command: list[str] | None
    environment: list[str]
    binds: list[str]
    ports: dict[str, list[tuple[str, int]]]  # "8080/tcp" -> [(host_ip, host_port)]
    network_mode: str  # "host" or the project network's name
    extra_hosts: list[str]
    restart: str
    healthcheck: dict[str, Any] | None
    labels: dict[str, str] = field(default_factory=dict)
    host_ports: tuple[PortRule, ...] = ()  # the host ports this container holds
    # Config hashes meaning "made from the current compose.yaml": Compose's in each dialect
    # (by whichever release made it) and nasrtc 0.1's own.
    accepted: frozenset[str] = frozenset()
    mounted: tuple[Path, ...] = ()  # host files the container reads at start

    def create_body(self, labels: dict[str, str]) -> dict[str, Any]:
        """The engine's POST /containers/create body (what the Docker SDK would send for
        these settings: tests/unit/test_spec.py holds it to that)."""
        host_config: dict[str, Any] = {
            "Binds": self.binds, "NetworkMode": self.network_mode,
            "RestartPolicy": {"Name": self.restart, "MaximumRetryCount": 0}}
        if self.ports:
            host_config["PortBindings"] = {
                port: [{"HostIp": host_ip, "HostPort": str(host_port)}
                       for host_ip, host_port in bindings]
                for port, bindings in self.ports.items()}
        if self.extra_hosts:
            host_config["ExtraHosts"] = self.extra_hosts
        body: dict[str, Any] = {
            "Image": self.image, "Env": self.environment, "Labels": labels,
            "HostConfig": host_config, "StopTimeout": STOP_TIMEOUT, "Tty": False,
            "OpenStdin": False, "AttachStdin": False, "AttachStdout": False,
            "AttachStderr": False}
        if self.command:
            body["Cmd"] = self.command
        if self.healthcheck:
            body["Healthcheck"] = self.healthcheck
        if self.ports:
            body["ExposedPorts"] = {port: {} for port in self.ports}
        if self.network_mode != "host":
            body["NetworkingConfig"] = {"EndpointsConfig": {
                self.network_mode: {"Aliases": [self.service]}}}
        return body


def held_ports(labels: dict[str, str]) -> set[tuple[str, int]] | None:
    """The (protocol, port) pairs a container's PORTS_LABEL names; None without the label
    (made by nasrtc 0.1 or by Compose)."""
    if PORTS_LABEL not in labels:
        return None
    found: set[tuple[str, int]] = set()
    for item in labels[PORTS_LABEL].split():
        protocol, _slash, numbers = item.partition("/")
        start, _dash, end = numbers.partition("-")
        found.update((protocol, n) for n in range(int(start), int(end or start) + 1))
    return found


def network_name(stack: Stack) -> str:
    return f"{stack.project}_default"


def file_digest(path: Path) -> str:
    try:  # LiveKit reads its config at start only: a changed file needs a new container
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def mount_source(folder: Path, mount: Mount) -> Path:
    """The host path a bind mount reads (compose resolves ./ against the stack folder). A
    data folder the container writes is never reached through a link: its own path."""
    if mount.folder:
        return Path(os.path.normpath(folder / mount.source))
    return (folder / mount.source).resolve() if mount.source.startswith(".") \
        else Path(mount.source)


def read_at_start(folder: Path, service: Service) -> list[Path]:
    """The host files a service reads when it starts (a changed one needs a restart); a
    data folder it writes itself is not one of them."""
    return [mount_source(folder, mount) for mount in service.volumes if not mount.folder]


def _is_empty(folder: Path) -> bool:
    try:
        return not any(folder.iterdir())
    except OSError:
        return False


def _link_on_the_way(folder: Path, path: Path) -> bool:
    """A symbolic link at path or between the stack folder and it (a planted link would
    hand a root-run container any folder of the host, writable)."""
    current = folder
    for part in path.relative_to(folder).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def make_data_folders(stack: Stack, stack_dir: Path) -> None:
    """The folders services keep their data in (Redis's), made where missing: private to
    root (the service's own entrypoint hands it to its user), never through a link."""
    from nasrtc.files import ensure_folder

    folder = stack_dir.resolve()
    for service in stack.services:
        for mount in service.volumes:
            source = mount_source(folder, mount)
            if mount.folder and folder in source.parents \
                    and not _link_on_the_way(folder, source) and not source.exists():
                ensure_folder(folder, source, mode=0o700)


def unusable_mounts(stack: Stack, stack_dir: Path) -> list[tuple[str, str]]:
    """Every mounted host path that is not a file (or, for a data folder, not a folder):
    (what is wrong, the fix). Docker would create a root-owned empty folder where a path is
    missing, and the service would fail later with an error far from the cause."""
    folder = stack_dir.resolve()
    problems = []
    for service in stack.services:
        for mount in service.volumes:
            source = mount_source(folder, mount)
            if mount.folder:  # missing is fine: `up` makes it
                linked = _link_on_the_way(folder, source)
                if linked or (source.exists() and not source.is_dir()):
                    what = (_("{service} keeps its data in {path}, which is a symbolic link, "
                              "not a folder") if linked else
                            _("{service} keeps its data in {path}, which is not a folder"))
                    problems.append((what.format(service=service.name, path=source),
                                     _("move it away (`mv {path} {path}.old`); `{nasrtc} up` "
                                       "makes the folder").format(path=source)))
                continue
            try:
                mode = source.stat().st_mode
            except FileNotFoundError:
                mode = 0
            except OSError as exc:  # e.g. a folder on the way this user cannot enter
                problems.append((_("{service} reads {path}, which cannot be read here "
                                   "({reason})").format(service=service.name, path=source,
                                                        reason=exc.strerror),
                                 _("run nasrtc with sudo")))
                continue
            if stat.S_ISREG(mode):
                continue
            what = (_("{service} reads {path}, which is a folder (a file is needed)")
                    if stat.S_ISDIR(mode) else
                    _("{service} reads {path}, which does not exist (a file is needed)")
                    if not mode else
                    _("{service} reads {path}, which is not a regular file (a file is needed)"))
            fix = (_("set {key} in nasrtc.yaml to the file's real path and run `{nasrtc} "
                     "render`").format(key=mount.key) if mount.key
                   else _("run `{nasrtc} render` to write it again"))
            if stat.S_ISDIR(mode) and _is_empty(source):
                fix = (_("remove the empty folder (Docker makes one where a mounted file is "
                         "missing: `sudo rmdir {path}`), then {fix}").format(path=source, fix=fix)
                       if mount.key else  # the person's own file: theirs to put back
                       _("run `{nasrtc} up`: it removes the empty folder Docker made where "
                         "the file was missing and writes the file again"))
            problems.append((what.format(service=service.name, path=source), fix))
    return problems


def specs(stack: Stack, stack_dir: Path,
          digest_of: Callable[[Path], str] = file_digest,
          dialect: str = compose_hash.NEWEST, compose_version: str = "") -> list[ContainerSpec]:
    """One spec per service, labelled with Compose's config hash in `dialect`."""
    folder = stack_dir.resolve()
    out = []
    for service in stack.services:
        binds = [f"{mount_source(folder, mount)}:{mount.target}"
                 f"{':ro' if mount.read_only else ''}" for mount in service.volumes]
        files = [mount for mount in service.volumes if not mount.folder]
        mounted = read_at_start(folder, service)  # in the order of files
        file_hashes = {mount.target: digest_of(path) for mount, path in zip(files, mounted)}
        ports: dict[str, list[tuple[str, int]]] = {}
        for port in service.ports:
            ports.setdefault(f"{port.container_port}/{port.protocol}", []).append(
                (port.host_ip, port.host_port))
        health = None
        if service.healthcheck:
            check = service.healthcheck
            health = {"Test": list(check.test), "Interval": _seconds(check.interval),
                      "Timeout": _seconds(check.timeout), "Retries": check.retries,
                      "StartPeriod": _seconds(check.start_period)}
        host_mode = service.network_mode == "host"
        # Published (bridge) or listened on (host): the ports the stack gives this service.
        held = stack.ports_of(service.name)
        spec = ContainerSpec(
            service=service.name, name=container_name(stack.project, service.name),
            image=service.image,
            command=list(service.command) or None,
            environment=[f"{k}={v}" for k, v in service.environment], binds=binds, ports=ports,
            network_mode="host" if host_mode else network_name(stack),
            extra_hosts=[f"{host}:{address}" for host, address in service.extra_hosts],
            restart=service.restart, healthcheck=health, host_ports=held)
        # nasrtc 0.1's hash, as it computed it: its containers are not recreated for nothing.
        hashed = {**spec.__dict__, "host_ports": [(rule.protocol, number) for rule in held
                                                  for number in rule.numbers]}
        legacy = hashlib.sha256(json.dumps(
            {"spec": hashed, "files": file_hashes}, sort_keys=True, default=str,
        ).encode()).hexdigest()
        labels = {
            PROJECT: stack.project, SERVICE: service.name,
            "com.docker.compose.container-number": "1",
            ONEOFF: "False",
            # Compose's form, service:condition:restart (pkg/compose/create.go)
            "com.docker.compose.depends_on": ",".join(
                f"{name}:service_healthy:false" for name in service.depends_on),
            CONFIG_HASH: compose_hash.compose_hash(stack, service, folder, dialect),
            WORKING_DIR: str(folder),
            "com.docker.compose.project.config_files": str(folder / "compose.yaml"),
            OURS: stack.project,
            PORTS_LABEL: " ".join(f"{rule.protocol}/{rule.label}" for rule in held),
        }
        if compose_version:
            labels[VERSION_LABEL] = compose_version
        accepted = frozenset(compose_hash.all_hashes(stack, service, folder) | {legacy})
        out.append(ContainerSpec(**{**spec.__dict__, "labels": labels, "accepted": accepted,
                                    "mounted": tuple(mounted)}))
    return out
