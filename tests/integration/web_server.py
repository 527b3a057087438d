"""`nasrtc web` as a real process on loopback for the web tests: its link read from its
standard output (as a person reads the container's log), stopped and waited for after."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import requests

LINK = re.compile(r"(http://\S+/start\?t=\S+)")


@dataclass
class WebServer:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        return [m.group(1) for line in self.lines for m in [LINK.search(line)] if m]

    @property
    def url(self) -> str:
        return self.links[0].split("/start?")[0]

    def wait_for_links(self, count: int, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.links) < count and time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        assert len(self.links) >= count, "nasrtc web printed no link:\n" + "\n".join(self.lines)
        return self.links

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=15)


def quiet_environment(**extra: str) -> dict[str, str]:
    """No lookups beyond loopback: no discovery, the public-address service a closed port."""
    return {**os.environ, "NASRTC_DISCOVERY": "off", "NASRTC_LANG": "en",
            "NASRTC_PUBLIC_IP_URL": "http://127.0.0.1:9/", **extra}


@contextmanager
def running_web(*args: str, env: dict[str, str] | None = None,
                command: list[str] | None = None) -> Iterator[WebServer]:
    words = command or [sys.executable, "-m", "nasrtc"]
    process = subprocess.Popen([*words, "web", "--listen", "127.0.0.1:0", *args],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env=env or quiet_environment())
    server = WebServer(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        server.wait_for_links(1)
        yield server
    finally:
        server.stop()
        reader.join(timeout=5)


def stack_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "volume1" / "docker" / "matrixrtc"
    folder.mkdir(parents=True)
    return folder


class _Inputs(HTMLParser):
    """A page's form fields as a browser would send them: hidden and text inputs, the
    checked radio buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        found = {k: v or "" for k, v in attrs}
        kind = found.get("type", "text")
        if "name" not in found or kind == "checkbox":
            return
        if kind == "radio" and "checked" not in found:
            return
        self.fields.append((found["name"], found.get("value", "")))


def form_fields(page: str) -> list[tuple[str, str]]:
    parser = _Inputs()
    parser.feed(page)
    return parser.fields


def answered(fields: list[tuple[str, str]], answers: dict[str, str]) -> list[tuple[str, str]]:
    """The fields with some answers changed, as typed into the page."""
    out = [(k, answers.get(k, v)) for k, v in fields]
    return out + [(k, v) for k, v in answers.items() if k not in {k for k, _v in fields}]


def text_of(page: str) -> str:
    """A page's words, tags dropped: what a person reads."""
    import html as html_module

    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def walk_wizard(session: requests.Session, url: str, answers: dict[str, str],
                rounds: int = 6) -> requests.Response:
    """Answer the wizard without JavaScript: Next until the summary (each round the page
    shows what the answers so far bring); the response of the summary page."""
    page = session.get(f"{url}/wizard")
    for _round in range(rounds):
        assert page.status_code == 200, page.text
        if page.url.endswith("/summary"):
            return page
        page = session.post(f"{url}/wizard",
                            data=[*answered(form_fields(page.text), answers), ("action", "next")])
    raise AssertionError("the wizard did not reach its summary: " + text_of(page.text)[:2000])
