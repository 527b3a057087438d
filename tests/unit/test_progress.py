"""Pull progress as the engine reports it (the event shapes of POST /images/create)."""

from __future__ import annotations

import io

from nasrtc.engine.progress import PullProgress

IMAGE = "livekit/livekit-server:v1.13.5"
EVENTS = [
    {"status": "Pulling from livekit/livekit-server", "id": "v1.13.5"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbb"},
    {"status": "Downloading", "progressDetail": {"current": 1_000_000, "total": 4_000_000},
     "id": "aaa"},
    {"status": "Downloading", "progressDetail": {"current": 2_000_000, "total": 8_000_000},
     "id": "bbb"},
    {"status": "Pull complete", "progressDetail": {}, "id": "aaa"},
    {"status": "Pull complete", "progressDetail": {}, "id": "bbb"},
    {"status": "Digest: sha256:0123"},
    {"status": f"Status: Downloaded newer image for {IMAGE}"},
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_one_updating_bar_per_image() -> None:
    screen = Terminal()
    progress = PullProgress(screen)
    for event in EVENTS[:5]:
        progress(IMAGE, event)
    frames = screen.getvalue().split("\r")
    assert frames[-1].startswith(f"  pulling {IMAGE} [")
    assert "0/2 layers, 3.0/12.0 MB" in frames[-1]
    for event in EVENTS[5:]:
        progress(IMAGE, event)
    final = screen.getvalue().split("\r")[-1]
    assert final.rstrip() == f"  pulled {IMAGE} (2 layers, 12.0 MB)"
    assert final.endswith("\n")


def test_without_a_terminal_a_few_plain_lines() -> None:
    log = io.StringIO()
    progress = PullProgress(log)
    for event in EVENTS:
        progress(IMAGE, event)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == f"  pulling {IMAGE}: Pulling from livekit/livekit-server"
    assert f"  pulling {IMAGE}: 2/2 layers done" in lines
    assert lines[-1] == f"  pulling {IMAGE}: Status: Downloaded newer image for {IMAGE}"
    assert len(lines) <= 6, "no line per download tick"
