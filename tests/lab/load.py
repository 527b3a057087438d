#!/usr/bin/env python3
"""Many participants in one LiveKit room, from outside the home: the load of the call-cost
benchmark (benchmarks/load.py). LiveKit's own load tester cannot be installed here (the Go
module proxy refuses livekit-cli), so the load is the LiveKit Python SDK (libwebrtc), the
client of the real-call tests.

Orders (JSON on stdin, so the tokens stay off the command line): {"url", "tokens": [...],
"video": bool, "seconds": window, "warmup": seconds}. Every participant joins, publishes a
440 Hz tone (and, with video, a 640x360 15 fps picture of changing noise, so the encoder
spends its whole bitrate as a moving camera does) and subscribes to everyone else.

Prints JSON lines as it goes: {"event": "measuring"} once everyone is in and the warm-up
is over, {"event": "stopped"} at the end of the window, then the report: each join's time,
and what the subscribers received and lost during the window. Every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from nasrtc.media.call import CHANNELS, FRAME_MS, SAMPLE_RATE, leave, serve_orders, tone_frame

WIDTH, HEIGHT, FPS = 640, 360, 15
VIDEO_BITRATE = 600_000  # bit/s: a webcam's middle layer in Element Call's range
PICTURES = 24  # distinct noise pictures, cycled (fresh noise per frame costs more CPU)


def say(**what: Any) -> None:
    print(json.dumps(what), flush=True)


def inbound(stats: list[Any]) -> dict[str, int]:
    """Packets received and lost on a subscriber's inbound streams, by kind."""
    from google.protobuf.json_format import MessageToDict

    totals = {"audio_received": 0, "audio_lost": 0, "video_received": 0, "video_lost": 0,
              "bytes_received": 0}
    for item in stats:
        found = MessageToDict(item, preserving_proto_field_name=True).get("inbound_rtp")
        if not isinstance(found, dict):
            continue
        kind = str(found.get("stream", {}).get("kind", "")).lower()
        received = found.get("received", {})
        if kind in ("audio", "video"):
            totals[f"{kind}_received"] += int(received.get("packets_received", 0))
            totals[f"{kind}_lost"] += max(0, int(received.get("packets_lost", 0)))
        totals["bytes_received"] += int(found.get("inbound", {}).get("bytes_received", 0))
    return totals


async def load(orders: dict[str, Any], report: dict[str, Any]) -> None:
    from livekit import rtc

    tokens: list[str] = list(orders["tokens"])
    video, seconds = bool(orders.get("video")), float(orders["seconds"])
    rooms = [rtc.Room() for _ in tokens]
    pictures = [os.urandom(WIDTH * HEIGHT * 3 // 2) for _ in range(PICTURES if video else 0)]
    stop = asyncio.Event()
    feeders: list[asyncio.Task[Any]] = []

    async def tone(source: Any) -> None:
        position, tick = 0, time.monotonic()
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a reconnecting room: keep time
                await source.capture_frame(tone_frame(rtc, position))
            position += SAMPLE_RATE * FRAME_MS // 1000
            tick += FRAME_MS / 1000
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    async def camera(source: Any, index: int) -> None:
        frame, tick = index, time.monotonic()
        while not stop.is_set():
            picture = rtc.VideoFrame(WIDTH, HEIGHT, rtc.VideoBufferType.I420,
                                     pictures[frame % PICTURES])
            source.capture_frame(picture)
            frame += 1
            tick += 1 / FPS
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    async def join(index: int) -> None:
        room = rooms[index]
        started = time.monotonic()
        await asyncio.wait_for(room.connect(orders["url"], tokens[index],
                                            rtc.RoomOptions(auto_subscribe=True)), 30)
        report["join_seconds"].append(round(time.monotonic() - started, 3))
        audio = rtc.AudioSource(SAMPLE_RATE, CHANNELS)
        await asyncio.wait_for(room.local_participant.publish_track(
            rtc.LocalAudioTrack.create_audio_track(f"tone-{index}", audio),
            rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)), 30)
        feeders.append(asyncio.ensure_future(tone(audio)))
        if video:
            picture = rtc.VideoSource(WIDTH, HEIGHT)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA,
                                              simulcast=False)
            options.video_encoding.max_bitrate = VIDEO_BITRATE
            options.video_encoding.max_framerate = FPS
            await asyncio.wait_for(room.local_participant.publish_track(
                rtc.LocalVideoTrack.create_video_track(f"camera-{index}", picture),
                options), 30)
            feeders.append(asyncio.ensure_future(camera(picture, index)))

    async def totals() -> dict[str, int]:
        summed: dict[str, int] = {}
        for room in rooms:
            with contextlib.suppress(Exception):
                stats = await asyncio.wait_for(room.get_rtc_stats(), 10)
                # inbound streams only ever come in; with one peer connection for both
                # ways (the SDK's single_peer_connection) they are the publisher's
                both = list(stats.subscriber_stats) + list(stats.publisher_stats)
                for key, value in inbound(both).items():
                    summed[key] = summed.get(key, 0) + value
        return summed

    report["join_seconds"] = []
    try:
        # Joined one after another, as people arrive: all at once would measure a burst.
        for index in range(len(rooms)):
            await join(index)
        await asyncio.sleep(float(orders.get("warmup", 8)))
        expected = len(rooms) * (len(rooms) - 1) * (2 if video else 1)
        report["subscribed_tracks"] = sum(
            1 for room in rooms for p in room.remote_participants.values()
            for publication in p.track_publications.values() if publication.subscribed)
        report["expected_tracks"] = expected
        before = await totals()
        say(event="measuring")
        await asyncio.sleep(seconds)
        say(event="stopped")
        after = await totals()
        report["window"] = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    finally:
        stop.set()
        await leave(rooms, feeders)


def main() -> None:
    serve_orders({"event": "report"}, load,
                 lambda orders: 40 * len(orders["tokens"]) + float(orders["seconds"]) + 60)


if __name__ == "__main__":
    main()
