"""Connect to the Docker engine the way the docker CLI does (DOCKER_HOST,
DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), and turn its failures into messages a
NAS owner can act on."""

from __future__ import annotations

import os
from typing import Any

from nasrtc.errors import EngineError, NasrtcError
from nasrtc.i18n import N_, _
from nasrtc.invocation import command

START_ENGINE = N_("start Docker: on DSM, Package Center › Container Manager › Run; on "
                  "Linux, `sudo systemctl start docker`")


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: float = 60) -> Any:
    """A docker.DockerClient that has answered a ping; every call waits at most timeout."""
    import docker

    try:
        client = docker.from_env(timeout=max(1, int(timeout)))
        client.ping()
        return client
    except Exception as exc:  # docker raises several types for the same causes
        raise explain(exc) from None


def explain(exc: BaseException) -> NasrtcError:
    """The user's view of a failure talking to the engine."""
    text = f"{exc.__class__.__name__}: {exc}"
    where = engine_address()
    if "Permission denied" in text or isinstance(exc, PermissionError):
        return EngineError(
            _("permission denied on the Docker socket ({where})").format(where=where),
            _("run nasrtc with sudo (DSM has no docker group: `{command}`), or add your "
              "user to the docker group on Linux").format(command=command("up")))
    if any(part in text for part in ("No such file", "Connection refused", "FileNotFound",
                                     "Connection aborted", "Max retries", "timed out")):
        fix = (_("start Docker or unset DOCKER_HOST: on DSM, Package Center › Container Manager "
                 "› Run; on Linux, `sudo systemctl start docker`")
               if "DOCKER_HOST" in os.environ else _(START_ENGINE))
        return EngineError(_("cannot reach the Docker engine at {where}").format(where=where),
                           fix)
    return EngineError(_("the Docker engine at {where} failed: {text}")
                       .format(where=where, text=text),
                       _("check `docker info`; run again with NASRTC_DEBUG=1 for details"))
