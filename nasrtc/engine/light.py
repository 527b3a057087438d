"""A small Docker engine client over the unix socket, for the answers that must come
fast: "is the stack up to date?" (`up` with nothing to do), `status` and `down`.
Importing the Docker SDK (requests, urllib3, ...) costs several times more than these few
requests. Anything else (pulls, creation, TCP or TLS engines) goes through the SDK; when
this client cannot answer, the caller takes that path, which explains failures properly."""

from __future__ import annotations

import json
import os
import socket

from nasrtc.engine.labels import ONEOFF, PROJECT, SERVICE
from nasrtc.failpoint import step
from nasrtc.i18n import _

TYPE_CHECKING = False  # not typing's: importing typing would cost this lane milliseconds
if TYPE_CHECKING:
    from typing import Any

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
MAX_ANSWER = 4 * 1024 * 1024  # far above a listing of a few containers


def quote(text: str) -> str:
    """Percent-encoding for a URL part (urllib.parse would cost more than the request)."""
    return "".join(ch if ch in _SAFE else "".join(f"%{byte:02X}" for byte in ch.encode())
                   for ch in text)


class EngineRefused(OSError):
    """The engine answered a request with an error status; its own reason is kept (the
    part a user can act on: "port is already allocated", "name already in use")."""

    def __init__(self, status: int, method: str, path: str, answer: bytes) -> None:
        try:
            reason = json.loads(answer).get("message")
        except (ValueError, AttributeError):
            reason = None
        if not isinstance(reason, str):
            reason = answer[:300].decode("utf-8", "replace").strip() or "no reason given"
        self.status, self.reason = status, reason
        super().__init__(f"{status} to {method} {path.split('?')[0]}: {reason}")


# In the name of an old container `up` stopped and keeps aside while it recreates the
# service (removed once the new one runs, renamed back if the new one fails).
SET_ASIDE = "-replaced-"


def set_aside_copies(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Old containers an `up` stopped and set aside but never removed or put back: it was
    killed in between (a power cut, a closed SSH session). The next `up` or `down` heals."""
    return [summary for summary in summaries
            if any(SET_ASIDE in str(name) for name in summary.get("Names") or [])]


def by_service(summaries: list[dict[str, Any]], project: str) -> dict[str, dict[str, Any]]:
    """Container summaries (the engine's listing: Id, Names, Labels) by Compose service,
    where a label names one. While `up` recreates a service, its old container, stopped and
    set aside under another name, carries the same labels: the one under the service's own
    name is the service."""
    from nasrtc.services import container_name

    chosen: dict[str, tuple[tuple[bool, bool], dict[str, Any]]] = {}
    for summary in summaries:
        labels = summary.get("Labels")
        service = labels.get(SERVICE) if isinstance(labels, dict) else None
        if not isinstance(service, str):
            continue
        names = [str(name).lstrip("/") for name in summary.get("Names") or []]
        rank = (container_name(project, service) in names,
                not any(SET_ASIDE in name for name in names))
        if service not in chosen or rank > chosen[service][0]:
            chosen[service] = (rank, summary)
    return {service: summary for service, (_rank, summary) in chosen.items()}


class LightEngine:
    """HTTP/1.0 requests, one connection each: the engine then sends the body whole (no
    chunks) and closes, so reading until the end is the whole answer. http.client would
    bring the email and ssl modules: more time than all of these requests."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path, self.timeout = path, timeout

    def get(self, path: str, **query: object) -> Any:
        """The decoded JSON of GET path; None for 404; raises OSError/ValueError otherwise."""
        return self.call("GET", path, **query)

    def call(self, method: str, path: str, body: object = None, **query: object) -> Any:
        """One request (body: sent as JSON); the decoded JSON answer (None for 404, or for
        an empty 204/304 answer); EngineRefused for any other status."""
        status, answer = self.raw(method, path, body, **query)
        if status == 404 or (status in (204, 304) and not answer.strip()):
            return None
        if status not in (200, 201):
            raise EngineRefused(status, method, path, answer)
        return json.loads(answer) if answer.strip() else None

    def raw(self, method: str, path: str, body: object = None,
            **query: object) -> tuple[int, bytes]:
        """The status and the undecoded body of one request."""
        if query:
            path += "?" + "&".join(f"{key}={quote(str(value))}"
                                   for key, value in query.items())
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Length: {len(data)}\r\n"
                + ("Content-Type: application/json\r\n" if data else "") + "\r\n")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(self.path)
            sock.sendall(head.encode("ascii") + data)
            chunks, size = [], 0
            while size <= MAX_ANSWER:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        # A change made: where a test may kill. A GET changes nothing, nor does running a
        # check in a container (an exec: health_probe.py).
        if method != "GET" and not (path.startswith("/exec/") or path.endswith("/exec")):
            step("engine")
        if size > MAX_ANSWER:
            raise OSError(f"the engine's answer to {method} {path} is too large")
        head_bytes, _gap, answer = b"".join(chunks).partition(b"\r\n\r\n")
        status_line = head_bytes.split(b"\r\n", 1)[0].split()
        try:
            status = int(status_line[1]) if len(status_line) > 1 else 0
        except ValueError:
            status = 0
        return status, answer

    def containers(self, project: str) -> list[dict[str, Any]]:
        filters = json.dumps({"label": [f"{PROJECT}={project}", f"{ONEOFF}=False"]})
        found = self.get("/containers/json", all=1, filters=filters)
        if not isinstance(found, list):
            raise ValueError(_("the container listing is not a list"))
        return [item for item in found if isinstance(item, dict)]

    def services(self, project: str) -> dict[str, dict[str, Any]]:
        """The project's containers by service (the light twin of
        lifecycle.project_containers)."""
        return by_service(self.containers(project), project)

    def inspect(self, container_id: str) -> dict[str, Any] | None:
        found = self.get(f"/containers/{quote(container_id)}/json")
        return found if isinstance(found, dict) else None

    def image_id(self, image: str) -> str | None:
        found = self.get(f"/images/{quote(image)}/json")
        return str(found.get("Id")) if isinstance(found, dict) else None


def started_ns(text: str) -> int:
    """State.StartedAt ('2026-11-23T07:12:01.123456789Z', UTC) in nanoseconds since the
    epoch; ValueError for anything else. (No time.strptime: it loads the locale module.)"""
    date, _t, clock = text.rstrip("Z").partition("T")
    clock, _dot, fraction = clock.partition(".")
    year, month, day = (int(part) for part in date.split("-"))
    hour, minute, second = (int(part) for part in clock.split(":"))
    # Days since 1970-01-01 (H. Hinnant's days_from_civil).
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    return seconds * 1_000_000_000 + int((fraction + "000000000")[:9] or 0)


def written_since(paths: list[str], started_at: str) -> list[str]:
    """The names of the files written after the container started (or that cannot be
    read any more): it runs an older copy of them. ValueError for a start time that is not
    the engine's."""
    started = started_ns(started_at)
    newer = []
    for path in paths:
        try:
            if os.stat(path).st_mtime_ns <= started:
                continue
        except OSError:
            pass
        newer.append(os.path.basename(path))
    return newer


def connect_light(timeout: float = 10) -> LightEngine | None:
    """A client for a local unix-socket engine, or None (then use the SDK)."""
    address = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not address.startswith("unix://") or os.environ.get("DOCKER_TLS_VERIFY"):
        return None
    path = address[len("unix://"):]
    if not os.path.exists(path):
        return None
    return LightEngine(path, timeout)
