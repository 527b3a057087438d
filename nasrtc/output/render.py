"""Stack -> {relative path: Artifact}. Deterministic: same Stack, same bytes."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

from nasrtc import __version__
from nasrtc.data import template_loader
from nasrtc.i18n import N_, pages_say_nasrtc
from nasrtc.output.diagram import setup_svg
from nasrtc.stack import Stack
from nasrtc.versions import CHECKED_WITH

PUBLIC = 0o644
PRIVATE = 0o600


@dataclass(frozen=True)
class Artifact:
    text: str
    mode: int = PUBLIC
    purpose: str = ""  # for people: marked N_, translated where shown


def _quote(value: Any) -> str:
    """A YAML scalar that means exactly `value` (JSON is valid YAML)."""
    return json.dumps(value)


def _comment(text: str, indent: int = 0, width: int = 88) -> str:
    prefix = " " * indent + "# "
    return "\n".join(textwrap.wrap(text, width=width, initial_indent=prefix,
                                   subsequent_indent=prefix))


def _plain(text: str) -> str:
    """Terminal text: inline `code` marks dropped."""
    return text.replace("`", "")


def _html(text: str) -> str:
    """Escaped HTML; `code` becomes <code>code</code>."""
    import html

    parts = html.escape(str(text), quote=False).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part
                   for index, part in enumerate(parts))


def _wrap(text: str, indent: int, hanging: int | None = None, width: int = 92) -> str:
    return "\n".join(textwrap.wrap(text, width=width, initial_indent=" " * indent,
                                   subsequent_indent=" " * (hanging if hanging is not None
                                                            else indent),
                                   break_on_hyphens=False))


def _text_table(table: Any) -> list[str]:
    """A fixed-width table for the terminal and plain-text printouts."""
    rows = [list(table.headers)] + [
        ["[ ]" if (index == 0 and table.checkbox) else _plain(cell)
         for index, cell in enumerate(row)] for row in table.rows]
    from nasrtc.i18n import pad, width

    # Columns by display width: a Chinese character takes two.
    widths = [max(width(row[col]) for row in rows) for col in range(len(rows[0]))]
    lines = ["  ".join(pad(cell, widths[col]) for col, cell in enumerate(row)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def _bytecode_cache() -> Any:
    """Compiled templates kept per user (compiling all of them costs ~100 ms on every run
    otherwise). Keyed by each template's source, so an upgrade never reuses stale code.

    A cached template is code that runs: the cache is used only when its folders belong
    to this user and nobody else may write them (sudo may keep another user's HOME)."""
    import os
    import stat
    from pathlib import Path

    import jinja2

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    outer = Path(base) / "nasrtc"
    folder = outer / f"templates-{__version__}"
    try:
        Path(base).mkdir(parents=True, exist_ok=True, mode=0o700)
        for item in (outer, folder):
            if not item.exists():
                os.mkdir(item, 0o700)
            info = item.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() \
                    or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None  # someone else's, or writable by others: compile every time
    except OSError:
        return None  # a read-only home: compile every time, still correct
    return jinja2.FileSystemBytecodeCache(str(folder))


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=template_loader(),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    from nasrtc import i18n

    # Texts for people (checklist, reverse-proxy.md) in their language: _() in templates.
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n._, ngettext=i18n.ngettext, newstyle=True)
    env.filters["pad"] = i18n.pad
    env.filters["q"] = _quote
    env.filters["comment"] = _comment
    env.filters["plain"] = _plain
    env.filters["html"] = _html
    env.filters["wrap"] = _wrap
    env.filters["text_table"] = _text_table
    return env


def well_known_client(stack: Stack) -> dict[str, Any]:
    return {
        "m.homeserver": {"base_url": stack.homeserver_url},
        "org.matrix.msc4143.rtc_foci": [
            {"type": "livekit", "livekit_service_url": stack.jwt_url},
        ],
    }


CHECKLIST_FORMATS = ("text", "md", "html", "svg")


def render_checklist(stack: Stack, form: str = "md", facts: Any = None) -> str:
    """Pages say plain `nasrtc` (pages_say_nasrtc): see _render_checklist."""
    with pages_say_nasrtc():
        return _render_checklist(stack, form, facts)


def _render_checklist(stack: Stack, form: str = "md", facts: Any = None) -> str:
    from nasrtc.output.checklist import build_checklist

    if form == "svg":  # the drawing alone, for a forum post or a wall sheet
        return setup_svg(stack)
    template = {"text": "checklist.txt.j2", "md": "checklist.md.j2",
                "html": "checklist.html.j2"}[form]
    from nasrtc.i18n import active_language

    return str(_environment().get_template(template).render(
        c=build_checklist(stack, facts), version=__version__,
        language=active_language().replace("_", "-"),
        diagram=setup_svg(stack) if form == "html" else ""))


def _context(stack: Stack) -> dict[str, Any]:
    from nasrtc.output.checklist import public_names

    return {"stack": stack, "profile": stack.profile, "version": __version__,
            "checked_with": CHECKED_WITH, "public_names": public_names(stack),
            "keys_inline": True, "redis_address": None}


def render_livekit_config(stack: Stack, keys_inline: bool = True,
                          redis_address: str | None = None) -> str:
    """livekit.yaml from the one template: for compose (the key pair inside the file) or
    for another placement (keys from the environment, a shared Redis)."""
    context = {**_context(stack), "keys_inline": keys_inline, "redis_address": redis_address}
    return str(_environment().get_template("livekit.yaml.j2").render(**context))


def render_runtime(stack: Stack) -> dict[str, Artifact]:
    """Pages say plain `nasrtc` (pages_say_nasrtc): see _render_runtime."""
    with pages_say_nasrtc():
        return _render_runtime(stack)


def _render_runtime(stack: Stack) -> dict[str, Artifact]:
    """Only the files the containers read (what `up` needs)."""
    env = _environment()
    context = _context(stack)

    def render(template: str) -> str:
        return str(env.get_template(template).render(**context))

    return {
        "compose.yaml": Artifact(render("compose.yaml.j2"), PUBLIC,
                                 N_("the containers, for docker compose / Container Manager")),
        ".env": Artifact(render("env.j2"), PUBLIC,
                         N_("Compose project name, read by docker compose in this folder")),
        "livekit/livekit.yaml": Artifact(render("livekit.yaml.j2"), PRIVATE,
                                         N_("LiveKit SFU configuration (holds the API secret)")),
    }


def _pages_for_people(stack: Stack) -> dict[str, Artifact]:
    """reverse-proxy.md, checklist.md and setup.svg in the stack's language (nasrtc.yaml's
    `language`), whatever the terminal speaks: the files stay the same from run to run."""
    from dataclasses import replace

    from nasrtc.i18n import speaking
    from nasrtc.profiles import load_profile

    with speaking(stack.language):
        people = replace(stack, profile=load_profile(stack.profile.name, stack.language))
        proxy_page = _environment().get_template("reverse-proxy.md.j2").render(
            **_context(people))
        return {
            "reverse-proxy.md": Artifact(str(proxy_page), PUBLIC,
                                         N_("the reverse-proxy rows to create")),
            "checklist.md": Artifact(render_checklist(people, "md"), PUBLIC,
                                     N_("every step at the router, DNS, proxy and homeserver")),
            "setup.svg": Artifact(setup_svg(people), PUBLIC,
                                  N_("a drawing of your setup (open it in a browser)")),
        }


def render_all(stack: Stack) -> dict[str, Artifact]:
    """Pages say plain `nasrtc` (pages_say_nasrtc): see _render_all."""
    with pages_say_nasrtc():
        return _render_all(stack)


def _render_all(stack: Stack) -> dict[str, Artifact]:
    env = _environment()
    context = _context(stack)

    def render(template: str) -> str:
        return str(env.get_template(template).render(**context))

    pages = _pages_for_people(stack)
    artifacts = {
        **render_runtime(stack),
        "reverse-proxy.md": pages["reverse-proxy.md"],
        "matrix/homeserver.yaml": Artifact(render("homeserver.yaml.j2"), PUBLIC,
                                           N_("settings to add to Synapse's homeserver.yaml")),
        "matrix/well-known-client.json": Artifact(
            json.dumps(well_known_client(stack), indent=2) + "\n", PUBLIC,
            N_("serve at https://<domain>/.well-known/matrix/client")),
        "checklist.md": pages["checklist.md"],
        "setup.svg": pages["setup.svg"],
    }
    for item in stack.profile.reverse_proxy.get("config_files", []):
        if item.get("when") and not getattr(stack, item["when"]):
            continue  # e.g. the SNI step, only with TURN over TLS
        name = item["file"]
        artifacts[f"reverse-proxy/{name}"] = Artifact(
            render(f"reverse-proxy/{name}.j2"), PUBLIC,
            N_("ready-made reverse-proxy configuration"))
    return artifacts
