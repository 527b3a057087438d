"""Stack -> {relative path: Artifact}. Deterministic: same Stack, same bytes."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

from nasrtc import __version__
from nasrtc.data import data_dir
from nasrtc.model import Stack

PUBLIC = 0o644
PRIVATE = 0o600


@dataclass(frozen=True)
class Artifact:
    text: str
    mode: int = PUBLIC
    purpose: str = ""


def _quote(value: Any) -> str:
    """A YAML scalar that means exactly `value` (JSON is valid YAML)."""
    return json.dumps(value)


def _comment(text: str, indent: int = 0, width: int = 88) -> str:
    prefix = " " * indent + "# "
    return "\n".join(textwrap.wrap(text, width=width, initial_indent=prefix,
                                   subsequent_indent=prefix))


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("compose-templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = _quote
    env.filters["comment"] = _comment
    return env


def well_known_client(stack: Stack) -> dict[str, Any]:
    return {
        "m.homeserver": {"base_url": stack.homeserver_url},
        "org.matrix.msc4143.rtc_foci": [
            {"type": "livekit", "livekit_service_url": stack.jwt_url},
        ],
    }


def render_all(stack: Stack) -> dict[str, Artifact]:
    env = _environment()
    context = {"stack": stack, "profile": stack.profile, "version": __version__}

    def render(template: str) -> str:
        return str(env.get_template(template).render(**context))

    artifacts = {
        "compose.yaml": Artifact(render("compose.yaml.j2"), PUBLIC,
                                 "the containers, for docker compose / Container Manager"),
        ".env": Artifact(render("env.j2"), PUBLIC,
                         "Compose project name, read by docker compose in this folder"),
        "livekit/livekit.yaml": Artifact(render("livekit.yaml.j2"), PRIVATE,
                                         "LiveKit SFU configuration (holds the API secret)"),
        "reverse-proxy.md": Artifact(render("reverse-proxy.md.j2"), PUBLIC,
                                     "the reverse-proxy rows to create"),
        "matrix/homeserver.yaml": Artifact(render("homeserver.yaml.j2"), PUBLIC,
                                           "settings to add to Synapse's homeserver.yaml"),
        "matrix/well-known-client.json": Artifact(
            json.dumps(well_known_client(stack), indent=2) + "\n", PUBLIC,
            "serve at https://<domain>/.well-known/matrix/client"),
        "checklist.md": Artifact(render("checklist.md.j2"), PUBLIC,
                                 "every step at the router, DNS, proxy and homeserver"),
    }
    for item in stack.profile.reverse_proxy.get("config_files", []):
        name = item["file"]
        artifacts[f"reverse-proxy/{name}"] = Artifact(
            render(f"reverse-proxy/{name}.j2"), PUBLIC, "ready-made reverse-proxy configuration")
    return artifacts
