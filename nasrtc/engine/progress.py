"""Image pull progress: one updating line per image on a terminal, a few plain
lines otherwise (logs and CI stay readable)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from nasrtc.i18n import _


class PullProgress:
    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.layers: dict[str, dict[str, dict[str, Any]]] = {}
        self.last_plain: dict[str, str] = {}

    def __call__(self, image: str, event: dict[str, Any]) -> None:
        layer = event.get("id")
        status = str(event.get("status", ""))
        # Every event with an id is about one layer, except "Pulling from <repo>".
        if layer and not status.startswith("Pulling from"):
            detail = event.get("progressDetail") or {}
            known = self.layers.setdefault(image, {}).setdefault(
                layer, {"status": "", "current": 0, "total": 0})
            known["status"] = status
            if status == "Downloading":  # extracting reports its own, smaller numbers
                known["current"] = detail.get("current", known["current"])
                known["total"] = detail.get("total", known["total"])
            elif status in ("Download complete", "Pull complete"):
                known["current"] = known["total"]
        if self.tty:
            self._bar(image, status)
        else:
            self._plain(image, status)

    def _bar(self, image: str, status: str) -> None:
        layers = self.layers.get(image, {})
        done = sum(1 for s in layers.values() if s["status"] in ("Pull complete",
                                                                  "Already exists"))
        got = sum(s["current"] for s in layers.values())
        total = sum(s["total"] for s in layers.values()) or 1
        width = 24
        filled = int(width * min(got / total, 1.0))
        if status.startswith("Digest:"):
            return
        if status.startswith("Status:"):
            line = "  " + _("pulled {image} ({layers} layers, {size:.1f} MB)").format(
                image=image, layers=len(layers), size=total / 1e6)
            self.stream.write("\r" + line.ljust(90) + "\n")
        else:
            bar = "#" * filled + "." * (width - filled)
            line = "  " + _("pulling {image} [{bar}] {done}/{layers} layers, {got:.1f}/{size:.1f} "
                            "MB").format(image=image, bar=bar, done=done, layers=len(layers),
                                         got=got / 1e6, size=total / 1e6)
            self.stream.write("\r" + line.ljust(90))
        self.stream.flush()

    def _plain(self, image: str, status: str) -> None:
        layers = self.layers.get(image, {})
        done = sum(1 for s in layers.values() if s["status"] == "Pull complete")
        line = "  " + (_("pulling {image}: {status}").format(image=image, status=status)
                       if not layers or status.startswith("Status:")
                       else _("pulling {image}: {done}/{layers} layers done").format(
                           image=image, done=done, layers=len(layers)))
        if line != self.last_plain.get(image) and (status.startswith("Status:") or
                                                   status == "Pull complete" or not layers):
            self.stream.write(line + "\n")
            self.last_plain[image] = line
