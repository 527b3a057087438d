"""Container specs -> Docker engine: create, recreate, start, stop and inspect the
project's containers through the Docker SDK, as `docker compose` would. nasrtc
only ever touches containers that carry both Compose's and its own label.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from nasrtc.engine import health_probe
from nasrtc.engine.calls import engine_calls, inspected, remove_idle_networks
from nasrtc.engine.client import connect, explain
from nasrtc.engine.compose_hash import dialect_for
from nasrtc.engine.compose_version import binary_version, compose_version
from nasrtc.engine.labels import ONEOFF
from nasrtc.engine.light import SET_ASIDE, by_service, written_since
from nasrtc.engine.spec import (
    CONFIG_HASH,
    IMAGE_LABEL,
    OURS,
    PORTS_LABEL,
    PROJECT,
    SERVICE,
    STOP_TIMEOUT,
    WORKING_DIR,
    ContainerSpec,
    held_ports,
    make_data_folders,
    network_name,
    specs,
    unusable_mounts,
)
from nasrtc.errors import EngineError, NasrtcError
from nasrtc.failpoint import failpoint
from nasrtc.failpoint import step as counted_step
from nasrtc.host.ports import Owner, busy
from nasrtc.i18n import N_, _
from nasrtc.invocation import command
from nasrtc.services import DATA_FOLDERS, OPTIONAL_SERVICES, container_name
from nasrtc.stack import Stack

if TYPE_CHECKING:
    from nasrtc.engine.calls import Calls

# ---------------------------------------------------------------- engine helpers


def project_containers(client: Any, project: str) -> dict[str, Any]:
    """The project's containers by service, whoever made them: nasrtc, or Compose v2 in
    the stack folder (Container Manager, Portainer, `docker compose up -d`)."""
    found = {c.id: c for c in client.containers.list(all=True, filters={"label": [
        f"{PROJECT}={project}", f"{ONEOFF}=False"]})}
    summaries = [{"Id": c.id, "Names": [c.name], "Labels": c.labels} for c in found.values()]
    return {service: found[summary["Id"]]
            for service, summary in by_service(summaries, project).items()}


@dataclass
class ServiceResult:
    service: str
    action: str  # created, recreated, started, unchanged
    state: str = ""
    health: str = ""


@dataclass
class UpResult:
    services: list[ServiceResult]
    pulled: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.pulled) or any(s.action != "unchanged" for s in self.services)


Progress = Callable[[str], None]


def _pull(client: Any, image: str, progress: Any) -> None:
    from docker.utils import parse_repository_tag

    # name:tag, name@sha256:... (the engine takes a digest where a tag goes), host:port/name
    repository, tag = parse_repository_tag(image)
    try:
        for event in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            if "error" in event:
                raise NasrtcError(str(event["error"]))
            progress(image, event)
            counted_step("pull")  # a test may kill while the engine pulls
        client.images.get(image)
    except NasrtcError as exc:
        raise _pull_failed(image, exc.message) from None
    except Exception as exc:
        raise _pull_failed(image, str(exc).splitlines()[0]) from None


def _pull_failed(image: str, reason: str) -> NasrtcError:
    return EngineError(
        _("image {image} is not on this host and could not be pulled: {reason}")
        .format(image=image, reason=reason),
        _("if the NAS is offline or the registry is blocked, load a saved copy "
          "(`docker save` elsewhere, then `docker load -i image.tar` here), or set "
          "images.livekit / images.jwt in nasrtc.yaml to a reachable mirror and run "
          "`{nasrtc} render`"))


def ensure_images(calls: Calls, stack: Stack, progress: Any) -> tuple[list[str], dict[str, str]]:
    """Pull what is missing; check the architecture. Returns (pulled, image -> id)."""
    pulled, ids = [], {}
    arch = calls.arch()  # Go's names, as images carry them (amd64, arm64, arm)
    for image in dict.fromkeys(s.image for s in stack.services):
        found = calls.image(image)
        if found is None:
            _pull(connect(), image, progress)
            pulled.append(image)
            found = calls.image(image)
            if found is None:
                raise _pull_failed(image, _("the engine does not list it after the pull"))
        image_arch = found.get("Architecture", "")
        if arch and image_arch and image_arch != arch:
            raise EngineError(
                _("image {image} is built for {image_arch}, but this host is {arch}")
                .format(image=image, image_arch=image_arch, arch=arch),
                _("use an image built for {arch} (set images.* in nasrtc.yaml), or remove it "
                  "(`docker rmi {image}`) so the right one is pulled")
                .format(arch=arch, image=image))
        ids[image] = str(found.get("Id"))
    return pulled, ids


def _ensure_network(calls: Calls, stack: Stack) -> str | None:
    """The project network; returns its ID when this call created it (else None). Two of
    the same name (left by two runs at once, before the lock) are healed to one."""
    name = network_name(stack)
    found = [n for n in calls.networks({"name": [name]}) if n.get("Name") == name]
    if not found:
        return calls.create_network(name, labels={
            PROJECT: stack.project, "com.docker.compose.network": "default", OURS: stack.project})
    if any((n.get("Labels") or {}).get(PROJECT) != stack.project for n in found):
        raise EngineError(
            _("a Docker network named {name} exists and does not belong to this project")
            .format(name=name),
            _("remove it (`docker network rm {name}`) or set project in nasrtc.yaml")
            .format(name=name))
    if len(found) > 1:
        details = [calls.inspect_network(n["Id"]) for n in found]
        keep = max(details, key=lambda n: len(n.get("Containers") or {}))
        for extra in details:
            if extra["Id"] != keep["Id"] and not extra.get("Containers"):
                calls.remove_network(extra["Id"])
    return None


def _by_name(calls: Calls, project: str) -> dict[str, dict[str, Any]]:
    """One listing without per-container inspection: name -> summary (labels, state,
    image id). Enough to decide that nothing needs to change."""
    found = calls.containers({"name": [project]})
    return {str(c["Names"][0]).lstrip("/"): c for c in found if c.get("Names")}


def _heal_interrupted(calls: Calls, stack: Stack, existing: dict[str, dict[str, Any]],
                      report: Progress) -> dict[str, dict[str, Any]]:
    """An `up` killed while it recreated a service left the old container set aside
    (stopped, renamed): when the new one exists the copy goes, else it is put back under
    its name, as that `up`'s roll-back would have done. Then `up` goes on as usual."""
    healed = False
    for name, summary in sorted(existing.items()):
        labels = summary.get("Labels") or {}
        if SET_ASIDE not in name or labels.get(PROJECT) != stack.project:
            continue
        own_name = name.split(SET_ASIDE, 1)[0]
        if own_name in existing:
            calls.remove_container(str(summary["Id"]))
            report("  " + _("{name}: an interrupted `up` had left its old container "
                            "aside; removed it").format(name=own_name))
        else:
            calls.rename(str(summary["Id"]), own_name)
            report("  " + _("{name}: an interrupted `up` had set it aside; put it back")
                   .format(name=own_name))
        healed = True
    return _by_name(calls, stack.project) if healed else existing


def _summary_is_ours(summary: dict[str, Any], stack: Stack, service: str) -> bool:
    """Made for this project and service, by nasrtc or by Compose in the stack folder."""
    labels = summary.get("Labels") or {}
    return labels.get(PROJECT) == stack.project and labels.get(SERVICE) == service


def _check_names(stack: Stack, wanted: list[ContainerSpec],
                 existing: dict[str, dict[str, Any]]) -> None:
    for spec in wanted:
        other = existing.get(spec.name)
        if other is None or _summary_is_ours(other, stack, spec.service):
            continue
        owner = (other.get("Labels") or {}).get(PROJECT)
        made_by = (_("Compose project {project}").format(project=owner) if owner
                   else _("something other than Compose"))
        raise EngineError(
            _("a container named {name} exists and is not part of this stack (made by {made_by})")
            .format(name=spec.name, made_by=made_by),
            _("if it is an old copy of this stack, remove it (`docker rm -f {name}`); "
              "otherwise set a different project in nasrtc.yaml and run `{nasrtc} render`")
            .format(name=spec.name))


class OldCopiesFound(EngineError):
    """Containers of this stack folder still run under an earlier project name."""

    def __init__(self, stack: Stack, old: list[dict[str, Any]]) -> None:
        self.names = sorted(str(c["Names"][0]).lstrip("/") for c in old)
        projects = sorted({(c.get("Labels") or {}).get(OURS, "") for c in old})
        super().__init__(
            _("this stack folder's containers still exist under the earlier project name "
              "{old} ({containers}): project in nasrtc.yaml was changed to {project}; they "
              "hold the stack's ports; nothing was changed").format(
                old=", ".join(projects), containers=", ".join(self.names),
                project=stack.project),
            _("run `{command}` to stop and remove them and start the stack as {project}, or "
              "set project back to {old} in nasrtc.yaml and run `{nasrtc} render`").format(
                command=command("up --replace-old"), project=stack.project, old=projects[0]))


def _old_copies(calls: Calls, stack: Stack, folder: Path) -> list[dict[str, Any]]:
    """nasrtc's containers made from this folder under another project name (the user
    renamed `project:`). The folder label is Compose's own, so a copy started by hand
    from another folder is never touched."""
    found = calls.containers({"label": [OURS, f"{WORKING_DIR}={folder}"]})
    return [c for c in found if (c.get("Labels") or {}).get(OURS) != stack.project
            and c.get("Names")]


def _check_ports_free(changes: list[tuple[ContainerSpec, dict[str, Any] | None]],
                      port_owner: Owner | None,
                      replaced: list[dict[str, Any]]) -> None:
    """Before anything changes: every port of every container to (re)create must be free,
    but for the ports this stack's own containers hold (they are about to be replaced)."""
    ours: set[tuple[str, int]] = set()
    for current in [current for _old, current in changes] + replaced:
        if current is not None:
            held = held_ports(current.get("Labels") or {})
            if held is None:
                return  # a container from before the label: checked after it stops
            ours |= held
    for spec, _current in changes:
        for found in busy(spec.host_ports, port_owner, first_only=True):
            if (found.rule.protocol, found.port) not in ours:
                raise EngineError(
                    _("{problem}; nothing was changed").format(problem=found.describe()),
                    _("stop that program, or choose another port in nasrtc.yaml and run "
                      "`{nasrtc} render`, then `{nasrtc} up` again"))


def _same(summary: dict[str, Any], spec: ContainerSpec, image_ids: dict[str, str]) -> bool:
    """Made from the current compose.yaml (Compose's hash in any dialect, or nasrtc 0.1's),
    holding the ports the stack gives it, from the image the tag names now (it moves
    after a pull or `docker load`)."""
    labels = summary.get("Labels") or {}
    if labels.get(CONFIG_HASH) not in spec.accepted:
        return False
    # In host mode the ports live in livekit.yaml: nasrtc's record of them must stay true.
    if PORTS_LABEL in labels and labels[PORTS_LABEL] != spec.labels[PORTS_LABEL]:
        return False
    return bool(summary.get("ImageID") == image_ids.get(spec.image))


def _files_newer(calls: Calls, container_id: str, spec: ContainerSpec) -> list[str]:
    """Mounted files written after the container started: it runs an older copy (LiveKit
    and the auth service read them at start only). A restart applies them."""
    started = (calls.inspect_container(container_id).get("State") or {}).get("StartedAt")
    try:
        return written_since([str(path) for path in spec.mounted], str(started))
    except ValueError:  # no start time to compare with: restart to be sure
        return [path.name for path in spec.mounted]


def _changes(wanted: list[ContainerSpec], existing: dict[str, dict[str, Any]],
             image_ids: dict[str, str]) -> list[tuple[ContainerSpec, dict[str, Any] | None]]:
    """The specs whose container is missing or not the same, with that container."""
    return [(spec, existing.get(spec.name)) for spec in wanted
            if existing.get(spec.name) is None
            or not _same(existing[spec.name], spec, image_ids)]


@contextmanager
def engine_errors() -> Iterator[None]:
    """Any failure from the SDK becomes a message with a fix; ours pass through."""
    try:
        yield
    except NasrtcError:
        raise
    except Exception as exc:
        raise explain(exc) from None


def up(stack: Stack, stack_dir: Path, progress: Any, report: Progress,
       timeout: float = 120.0,
       port_owner: Owner | None = None,
       wait: bool = True, replace_old: bool = False) -> UpResult:
    """replace_old: remove the stack's containers left under an earlier project name
    (else OldCopiesFound names them)."""
    with engine_errors():
        return _up(engine_calls(timeout=60), stack, stack_dir, progress, report,
                   timeout if wait else 0.0, port_owner, replace_old)


def _up(calls: Calls, stack: Stack, stack_dir: Path, progress: Any, report: Progress,
        timeout: float, port_owner: Owner | None, replace_old: bool) -> UpResult:
    make_data_folders(stack, stack_dir)
    unusable = unusable_mounts(stack, stack_dir)
    if unusable:
        raise EngineError(_("a container would mount a path that is not a file; nothing was "
                            "started:") + "\n"
                          + "\n".join(f"  - {what}: {fix}" for what, fix in unusable))
    pulled, image_ids = ensure_images(calls, stack, progress)
    existing = _heal_interrupted(calls, stack, _by_name(calls, stack.project), report)
    version = compose_version(existing, ask_binary=False)
    wanted = specs(stack, stack_dir, dialect=dialect_for(version), compose_version=version)
    _check_names(stack, wanted, existing)
    changes = _changes(wanted, existing, image_ids)
    if changes and not version:
        # Containers to create: label them for the Compose release on this host, if any
        # (asked only now: running it costs more than a no-change `up`). What counts as
        # "the same" does not depend on the dialect: the same containers change.
        version = binary_version()
        if version:
            wanted = specs(stack, stack_dir, dialect=dialect_for(version),
                           compose_version=version)
            changes = _changes(wanted, existing, image_ids)
    old = _old_copies(calls, stack, stack_dir.resolve())
    if old and not replace_old:
        raise OldCopiesFound(stack, old)
    _check_ports_free(changes, port_owner, old)
    undo = _Undo(calls)
    try:
        for copy in old:
            report("  " + _("replacing {name} (earlier project name)").format(
                name=str(copy["Names"][0]).lstrip("/")))
            undo.set_aside(copy, str(copy["Names"][0]).lstrip("/"))
        if any(spec.network_mode != "host" for spec in wanted):
            undo.network(_ensure_network(calls, stack))
        to_change = {spec.name for spec, _current in changes}

        def apply(spec: ContainerSpec) -> ServiceResult:
            return _apply(calls, undo, spec, existing.get(spec.name),
                          spec.name in to_change, image_ids, report)

        results = _in_order(calls, stack, apply, wanted, timeout or 120.0, report)
    except BaseException:
        undo.roll_back()
        raise
    failpoint("up.before-commit")  # the new ones made, the old ones still aside
    undo.commit()
    _remove_unchosen(calls, stack, existing, report)
    for project in {(c.get("Labels") or {}).get(OURS, "") for c in old}:
        remove_idle_networks(calls, project)
    if timeout > 0:
        _wait(calls, stack, results, timeout, report)
    return UpResult(results, pulled)


def _apply(calls: Calls, undo: _Undo, spec: ContainerSpec, current: dict[str, Any] | None,
           changed: bool, image_ids: dict[str, str], report: Progress) -> ServiceResult:
    """One service: its container created, replaced, started, restarted or left alone."""
    if not changed:
        assert current is not None
        if current.get("State") != "running":
            calls.start(current["Id"])
            return ServiceResult(spec.service, "started")
        newer = _files_newer(calls, current["Id"], spec)
        if not newer:
            return ServiceResult(spec.service, "unchanged")
        report("  " + _("{service}: {files} changed, restarting {container}").format(
            service=spec.service, files=", ".join(newer), container=spec.name))
        calls.restart(current["Id"], timeout=STOP_TIMEOUT)
        return ServiceResult(spec.service, "restarted")
    if current is not None:
        report("  " + _("{service}: settings changed, recreating {container}").format(
            service=spec.service, container=spec.name))
        undo.set_aside(current, spec.name)
    labels = {**spec.labels, IMAGE_LABEL: image_ids[spec.image]}
    created = calls.create_container(spec.create_body(labels), spec.name)
    undo.created(created)
    calls.start(created)
    return ServiceResult(spec.service, "recreated" if current is not None else "created")


def _in_order(calls: Calls, stack: Stack, apply: Callable[[ContainerSpec], ServiceResult],
              wanted: list[ContainerSpec], timeout: float,
              report: Progress) -> list[ServiceResult]:
    """The services nothing waits for, all at once; then the ones that wait for them
    (depends_on, condition service_healthy, as Compose does it), once those are healthy."""
    waits_for = {service.name: service.depends_on for service in stack.services}
    first = [spec for spec in wanted if not waits_for.get(spec.service)]
    later = [spec for spec in wanted if waits_for.get(spec.service)]
    results = {spec.service: result
               for spec, result in zip(first, _each_at_once(apply, first))}
    if later:
        needed = sorted({name for spec in later for name in waits_for[spec.service]})
        _wait(calls, stack, [results.get(name) or ServiceResult(name, "unchanged")
                             for name in needed], timeout, report)
        results.update((spec.service, result)
                       for spec, result in zip(later, _each_at_once(apply, later)))
    return [results[spec.service] for spec in wanted]


def _each_at_once(apply: Callable[[ContainerSpec], ServiceResult],
                  wanted: list[ContainerSpec]) -> list[ServiceResult]:
    """Every service at once, as Compose does for services that do not depend on each
    other (starting a container is most of the engine's time). All are waited for before
    the first failure is raised, so the undo sees everything that was done."""
    from concurrent.futures import ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
        futures = [pool.submit(apply, spec) for spec in wanted]
        wait(futures)
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]


def _remove_unchosen(calls: Calls, stack: Stack, existing: dict[str, dict[str, Any]],
                     report: Progress) -> None:
    """An optional service (Redis) nasrtc started that nasrtc.yaml no longer asks for:
    stopped and removed; its data folder stays."""
    chosen = {service.name for service in stack.services}
    for name in OPTIONAL_SERVICES:
        summary = existing.get(container_name(stack.project, name))
        labels = (summary or {}).get("Labels") or {}
        if name in chosen or summary is None or labels.get(OURS) != stack.project \
                or labels.get(SERVICE) != name:
            continue
        calls.stop(str(summary["Id"]), timeout=STOP_TIMEOUT)
        calls.remove_container(str(summary["Id"]))
        report("  " + _("{service}: no longer in nasrtc.yaml, removed its container (its data "
                        "stays in {folder}/)").format(service=name, folder=DATA_FOLDERS[name]))


class _Undo:
    """What `up` changed so far, to put the engine back as it was when a later step
    fails: new containers go, replaced ones come back under their names."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.steps: list[Callable[[], None]] = []
        self.aside: list[str] = []

    def network(self, created: str | None) -> None:
        if created is not None:
            self.steps.append(lambda: self.calls.remove_network(created))

    def created(self, container_id: str) -> None:
        self.steps.append(lambda: self.calls.remove_container(container_id))

    def set_aside(self, current: dict[str, Any], name: str) -> None:
        """Stop the old container and move it out of the way (kept until commit)."""
        calls, old_id = self.calls, str(current["Id"])
        was_running = current.get("State") == "running"
        calls.stop(old_id, timeout=STOP_TIMEOUT)
        calls.rename(old_id, f"{name}{SET_ASIDE}{old_id[:12]}")
        self.aside.append(old_id)
        failpoint("up.set-aside")  # the old one aside, the new one not yet made

        def restore() -> None:
            calls.rename(old_id, name)
            if was_running:
                calls.start(old_id)

        self.steps.append(restore)

    def roll_back(self) -> None:
        for step in reversed(self.steps):
            try:
                step()
            except Exception:  # best effort: the first error is the one to report
                continue

    def commit(self) -> None:
        for old_id in self.aside:
            self.calls.remove_container(old_id)


def _wait(calls: Calls, stack: Stack, results: list[ServiceResult], timeout: float,
          report: Progress) -> None:
    """Until every container runs (and is healthy where it has a check), bounded."""
    deadline = time.monotonic() + timeout
    pending = {r.service: r for r in results}
    announced = False
    probed: dict[str, float] = {}  # when each container's check was last run here
    restarts = {service: details.get("RestartCount", 0)
                for service, details in inspected(calls, stack.project).items()}
    while pending:
        containers = inspected(calls, stack.project)
        for service, result in list(pending.items()):
            details = containers.get(service)
            if details is None:
                raise EngineError(_("the {service} container disappeared while starting")
                                  .format(service=service),
                                  _("see `docker ps -a`; run `{nasrtc} up` again"))
            state = details.get("State") or {}
            health = (state.get("Health") or {}).get("Status", "")
            result.state, result.health = state.get("Status", ""), health
            crashed = state.get("Status") in ("exited", "dead") or state.get("Restarting") \
                or details.get("RestartCount", 0) > restarts.get(service, 0)
            if crashed:
                raise _crashed(calls, details, service)
            if state.get("Status") == "running" and health in ("", "healthy"):
                del pending[service]
            elif health == "unhealthy":
                raise _crashed(calls, details, service,
                               _("is running but its health check fails"))
            elif state.get("Status") == "running" and health == "starting" \
                    and time.monotonic() - probed.get(service, 0.0) >= health_probe.EVERY:
                probed[service] = time.monotonic()
                if health_probe.passes(calls, details):  # the engine's own check is later
                    result.health = "healthy"
                    del pending[service]
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(sorted(pending))
            raise EngineError(_("{names} did not become ready within {seconds} s")
                              .format(names=names, seconds=int(timeout)),
                              _("see `{nasrtc} status` and `docker logs <container>`; a slow NAS "
                                "may need `{nasrtc} up --timeout 300`"))
        if not announced:
            report("  " + _("waiting for the containers to be running and healthy..."))
            announced = True
        time.sleep(0.5)


HINTS = {  # translated where shown
    "livekit": N_("LiveKit stops at start on an unknown key in livekit.yaml, on a port that "
                  "is taken, or when STUN fails (then set network.public_ip in nasrtc.yaml)"),
    "jwt": N_("the auth service needs LIVEKIT_URL, the key files and "
              "LIVEKIT_FULL_ACCESS_HOMESERVERS; the lines above say which is wrong"),
}


def _crashed(calls: Calls, details: dict[str, Any], service: str,
             what: str | None = None) -> EngineError:
    name = str(details.get("Name", service)).lstrip("/")
    try:
        logs = calls.logs(str(details["Id"]), tail=15).rstrip()
    except Exception:
        logs = "(no log available)"
    lines = "\n".join(f"    | {line}" for line in logs.splitlines()) or "    | (empty log)"
    return EngineError(_("the {service} container ({name}) {what}. Its last log lines:\n{lines}")
                       .format(service=service, name=name,
                               what=what or _("stopped or keeps restarting"), lines=lines),
                       _(HINTS[service]) if service in HINTS else _("see the log lines above"))


# ---------------------------------------------------------------- down and status


# ---------------------------------------------------------------- logs


def logs(project: str, services: tuple[str, ...], write: Callable[[str], None],
         follow: bool = False, tail: int | None = None, since: int | None = None) -> None:
    """Each line prefixed with its container's service, as `docker compose logs` does.
    Without follow the services' lines are merged in time order; with follow they are
    printed as they come until the containers stop or Ctrl-C."""
    client = connect()
    with engine_errors():
        found = project_containers(client, project)
        chosen = [(service, found[service]) for service in services if service in found]
        if not chosen:
            raise EngineError(_("no container of {project} to show ({services})")
                              .format(project=project, services=', '.join(services)),
                              _("start the stack first: `{nasrtc} up`"))
        width = max(len(f"{service}-1") for service, _spec in chosen)
        options: dict[str, Any] = {"tail": "all" if tail is None else tail}
        if since is not None:
            options["since"] = since
        if follow:
            _follow(chosen, width, write, options)
            return
        lines = []
        for service, container in chosen:
            raw = container.logs(timestamps=True, **options).decode("utf-8", "replace")
            for line in raw.splitlines():
                stamp, _space, text = line.partition(" ")
                lines.append((stamp, f"{service}-1".ljust(width), text))
        for _stamp, prefix, text in sorted(lines, key=lambda item: item[0]):
            write(f"{prefix}  | {text}")


def _follow(chosen: list[tuple[str, Any]], width: int, write: Callable[[str], None],
            options: dict[str, Any]) -> None:
    import queue
    import threading

    lines: queue.Queue[str | None] = queue.Queue()

    def pump(service: str, container: Any) -> None:
        prefix = f"{service}-1".ljust(width)
        try:
            for chunk in container.logs(stream=True, follow=True, **options):
                for line in chunk.decode("utf-8", "replace").splitlines():
                    lines.put(f"{prefix}  | {line}")
        except Exception:  # the container went away: its stream ends
            pass
        lines.put(None)

    for service, container in chosen:
        threading.Thread(target=pump, args=(service, container), daemon=True).start()
    open_streams = len(chosen)
    while open_streams:
        line = lines.get()
        if line is None:
            open_streams -= 1
        else:
            write(line)
