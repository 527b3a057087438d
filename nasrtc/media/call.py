"""The test call, run as `python -m nasrtc.media.call` in a child process: a native
WebRTC stack that hangs or crashes takes only the child with it, and the parent's
deadline ends it. Reads its orders as JSON on stdin (tokens never go on the command
line, where `ps` shows them), prints one JSON report on stdout.

Two participants join the room; the first publishes a 440 Hz tone, the second counts the
frames and measures how much of them is the tone. The report names how far the call came,
the candidate pairs libwebrtc tried and selected, round-trip time and loss, from
libwebrtc's own statistics. Needs the LiveKit Python SDK (PyPI `livekit`, Python 3.9+)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from typing import Any, Awaitable, Callable

SAMPLE_RATE, CHANNELS, FRAME_MS, TONE_HZ = 48000, 1, 10, 440
MAX_ORDERS = 64 * 1024  # bytes of stdin read: two tokens and a URL


def tone_frame(rtc: Any, start: int) -> Any:
    samples = SAMPLE_RATE * FRAME_MS // 1000
    frame = rtc.AudioFrame.create(SAMPLE_RATE, CHANNELS, samples)
    data = frame.data  # int16 samples
    for i in range(samples):
        data[i] = int(12000 * math.sin(2 * math.pi * TONE_HZ * (start + i) / SAMPLE_RATE))
    return frame


def tone_strength(samples: list[int]) -> float:
    """How much of the signal is the 440 Hz tone (Goertzel), 0..1; silence or noise ~0."""
    if not samples:
        return 0.0
    k = 2 * math.cos(2 * math.pi * TONE_HZ / SAMPLE_RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    energy = sum(x * x for x in samples) or 1
    return min(1.0, 2 * power / (len(samples) * energy))


def _by_kind(stats: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    from google.protobuf.json_format import MessageToDict

    found: dict[str, dict[str, dict[str, Any]]] = {}
    for item in stats:
        as_dict = MessageToDict(item, preserving_proto_field_name=True)
        for kind, value in as_dict.items():
            if isinstance(value, dict) and "rtc" in value:
                found.setdefault(kind, {})[value["rtc"].get("id", "")] = value
    return found


def _candidate(found: dict[str, Any]) -> dict[str, Any]:
    c = found.get("candidate", {})
    return {k: c.get(k) for k in ("address", "port", "protocol", "candidate_type",
                                  "relay_protocol", "url")}


def transport_report(stats: list[Any]) -> dict[str, Any]:
    """One peer connection's ICE in plain terms: what the SFU offered, every pair tried
    (with its state), the selected pair, and inbound audio's loss and jitter."""
    kinds = _by_kind(stats)
    local, remote = kinds.get("local_candidate", {}), kinds.get("remote_candidate", {})
    selected_id = ""
    for transport in kinds.get("transport", {}).values():
        selected_id = transport.get("transport", {}).get("selected_candidate_pair_id", "") \
            or selected_id
    pairs, selected = [], None
    for pair_id, value in kinds.get("candidate_pair", {}).items():
        info = value.get("candidate_pair", {})
        entry = {"local": _candidate(local.get(info.get("local_candidate_id", ""), {})),
                 "remote": _candidate(remote.get(info.get("remote_candidate_id", ""), {})),
                 "state": str(info.get("state", "")).replace("PAIR_", "").lower(),
                 "nominated": bool(info.get("nominated")),
                 "bytes_sent": int(info.get("bytes_sent", 0)),
                 "bytes_received": int(info.get("bytes_received", 0)),
                 "rtt": info.get("current_round_trip_time")}
        pairs.append(entry)
        if pair_id == selected_id:
            selected = entry
    if selected is None:  # older libwebrtc: the nominated pair that succeeded
        selected = next((p for p in pairs if p["nominated"] and p["state"] == "succeeded"),
                        None)
    inbound = {"packets_received": 0, "packets_lost": 0, "jitter": 0.0}
    for value in kinds.get("inbound_rtp", {}).values():
        received = value.get("received", {})
        inbound["packets_received"] += int(received.get("packets_received", 0))
        inbound["packets_lost"] += int(received.get("packets_lost", 0))
        inbound["jitter"] = max(float(inbound["jitter"]), float(received.get("jitter", 0.0)))
    return {"offered": [_candidate(c) for c in remote.values()], "pairs": pairs,
            "selected": selected, "inbound": inbound}


def side_stats(side: str, publisher: list[Any], subscriber: list[Any]) -> list[Any]:
    """The statistics of the transport that carries `side`'s media. The listener's is
    the subscriber transport, unless the SDK runs one peer connection both ways (the
    server agrees to single_peer_connection): then everything is the publisher's and the
    subscriber's list is empty."""
    if side == "subscriber" and subscriber:
        return subscriber
    return publisher


async def call(orders: dict[str, Any], report: dict[str, Any]) -> None:
    """Fills `report` as it goes, so a failure still shows how far the call came."""
    from livekit import rtc

    seconds, connect_timeout = float(orders["seconds"]), float(orders["connect_timeout"])
    options = rtc.RoomOptions(auto_subscribe=True)
    if orders.get("relay_only"):
        options.rtc_config = rtc.RtcConfiguration(
            ice_transport_type=rtc.IceTransportType.TRANSPORT_RELAY)
    rooms = [rtc.Room(), rtc.Room()]
    received: list[int] = []
    frames = 0
    tasks: list[asyncio.Task[Any]] = []

    async def listen(track: Any) -> None:
        nonlocal frames
        stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=CHANNELS)
        async for event in stream:
            frames += 1
            if len(received) < SAMPLE_RATE * 2:
                received.extend(event.frame.data.tolist())

    def on_track(track: Any, *_: Any) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            report["track_subscribed"] = True
            tasks.append(asyncio.ensure_future(listen(track)))

    rooms[1].on("track_subscribed", on_track)
    try:
        for index, (room, token) in enumerate(zip(rooms, orders["tokens"])):
            report["stage"] = f"connect:{index}"
            started = time.monotonic()
            await asyncio.wait_for(room.connect(orders["url"], token, options),
                                   connect_timeout)
            report.setdefault("connect_seconds", []).append(
                round(time.monotonic() - started, 3))
        report["stage"] = "publish"
        source = rtc.AudioSource(SAMPLE_RATE, CHANNELS)
        track = rtc.LocalAudioTrack.create_audio_track("nasrtc-tone", source)
        await asyncio.wait_for(rooms[0].local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)),
            connect_timeout)
        report["stage"] = "media"
        position, published = 0, time.monotonic()
        deadline, first = published + seconds + connect_timeout, 0.0
        while time.monotonic() < deadline:
            try:
                await source.capture_frame(tone_frame(rtc, position))
            except Exception:  # the room may be reconnecting: keep time, keep going
                await asyncio.sleep(FRAME_MS / 1000)
            position += SAMPLE_RATE * FRAME_MS // 1000
            if frames and not first:
                first = time.monotonic()
                report["first_audio_seconds"] = round(first - published, 3)
            if first and time.monotonic() - first >= seconds:
                break
        report["stage"] = "done"
    finally:
        report["frames_received"] = frames
        report["tone_strength"] = round(tone_strength(received[SAMPLE_RATE // 2:]), 3)
        for side, room in (("publisher", rooms[0]), ("subscriber", rooms[1])):
            with contextlib.suppress(Exception):  # a room that never connected has none
                stats = await asyncio.wait_for(room.get_rtc_stats(), 5)
                report[side] = transport_report(side_stats(
                    side, list(stats.publisher_stats), list(stats.subscriber_stats)))
        await leave(rooms, tasks)


async def leave(rooms: list[Any], tasks: list[asyncio.Task[Any]]) -> None:
    """The end of every call: its listening tasks stopped, each room left within 5 s (a
    room that never connected has nothing to leave)."""
    for task in tasks:
        task.cancel()
    for room in rooms:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(room.disconnect(), 5)


def main() -> None:
    serve_orders({"stage": "start", "track_subscribed": False}, call,
                 lambda o: float(o["connect_timeout"]) * 3 + float(o["seconds"]) + 10)


def serve_orders(report: dict[str, Any],
                 work: Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]],
                 budget: Callable[[dict[str, Any]], float]) -> None:
    """A child's whole life: orders (JSON) from stdin, `work` filling `report` within
    `budget(orders)` seconds, then the report as one JSON line, whatever happened."""
    try:
        orders = json.loads(sys.stdin.read(MAX_ORDERS))
        asyncio.run(asyncio.wait_for(work(orders, report), budget(orders)))
        report["ok"] = True
    except BaseException as exc:  # reported to the parent, which says what failed
        report.update(ok=False, error=f"{exc.__class__.__name__}: {str(exc)[:300]}")
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
