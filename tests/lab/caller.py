#!/usr/bin/env python3
"""Two callers placing one real call the way Element Call does, from outside the home.

Run by the test in the callers' namespace with the WebRTC venv's Python (PyPI `livekit`,
whose wheel carries libwebrtc; Python >= 3.9). For each of the two users: log in at the
homeserver, ask it for the call transports (MSC4143), get an OpenID token, exchange it at
the auth service's /get_token (Element Call's body), and join the LiveKit room at the URL
the auth service names. Alice publishes a 440 Hz tone; Bob receives it. Prints one JSON
object: what each step gave, frames and the tone's strength received, and the ICE
candidate pair that carried the media, from libwebrtc's own statistics.

Every wait is bounded; the whole call gives up after --timeout seconds."""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

# The tone and its measure are doctor --media's own (nasrtc/media/call.py needs no more
# than the SDK): the lab's calls and the user's test call hear the same thing.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from nasrtc.media.call import CHANNELS, FRAME_MS, SAMPLE_RATE, leave, tone_frame, tone_strength


def http(method: str, url: str, body: Any = None, token: str = "") -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    context = ssl.create_default_context()  # SSL_CERT_FILE: the lab's CA
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise RuntimeError(f"{method} {url.split('?')[0]}: HTTP {exc.code} {detail}") from None


class Caller:
    def __init__(self, homeserver: str, user: str, password: str) -> None:
        self.homeserver, self.user, self.password = homeserver, user, password
        self.access_token = self.user_id = self.device_id = ""

    def login(self) -> None:
        answer = http("POST", f"{self.homeserver}/_matrix/client/v3/login", {
            "type": "m.login.password", "password": self.password,
            "identifier": {"type": "m.id.user", "user": self.user}})
        self.access_token = answer["access_token"]
        self.user_id, self.device_id = answer["user_id"], answer["device_id"]

    def transport(self) -> str:
        answer = http("GET", f"{self.homeserver}/_matrix/client/unstable/org.matrix.msc4143/"
                      "rtc/transports", token=self.access_token)
        livekit = [t for t in answer.get("rtc_transports", []) if t.get("type") == "livekit"]
        if not livekit:
            raise RuntimeError(f"the homeserver lists no livekit transport: {answer}")
        return str(livekit[0]["livekit_service_url"])

    def livekit_token(self, service_url: str, room_id: str) -> dict[str, str]:
        openid = http("POST", f"{self.homeserver}/_matrix/client/v3/user/"
                      f"{urllib.parse.quote(self.user_id)}/openid/request_token", {},
                      token=self.access_token)
        return dict(http("POST", f"{service_url.rstrip('/')}/get_token", {
            "room_id": room_id, "slot_id": "m.call#ROOM", "openid_token": openid,
            "member": {"id": f"{self.device_id}-member", "claimed_user_id": self.user_id,
                       "claimed_device_id": self.device_id}}))


def selected_pair(stats: list[Any]) -> dict[str, Any]:
    """The candidate pair the transport selected, with both candidates, from libwebrtc's
    statistics (protobuf messages of livekit.rtc's stats)."""
    from google.protobuf.json_format import MessageToDict

    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for item in stats:
        as_dict = MessageToDict(item, preserving_proto_field_name=True)
        for kind, value in as_dict.items():
            if isinstance(value, dict) and "rtc" in value:
                by_kind.setdefault(kind, {})[value["rtc"].get("id", "")] = value
    pair_id = ""
    for transport in by_kind.get("transport", {}).values():
        pair_id = transport.get("transport", {}).get("selected_candidate_pair_id", "") or pair_id
    pairs = by_kind.get("candidate_pair", {})
    pair = pairs.get(pair_id) or next(
        (p for p in pairs.values() if p.get("candidate_pair", {}).get("nominated")
         and p["candidate_pair"].get("state") in ("PAIR_SUCCEEDED", "succeeded")), None)
    if not pair:
        return {"offered": sorted(str(c.get("candidate", {}).get("address"))
                                  for c in by_kind.get("remote_candidate", {}).values())}
    info = pair["candidate_pair"]

    def candidate(kind: str, key: str) -> dict[str, Any]:
        found = by_kind.get(kind, {}).get(info.get(key, ""), {})
        c = found.get("candidate", found.get(kind, {}))
        return {k: c.get(k) for k in ("address", "port", "protocol", "candidate_type",
                                      "relay_protocol", "url")}

    offered = sorted({f"{c.get('candidate', {}).get('protocol')} "
                      f"{c.get('candidate', {}).get('address')}:{c.get('candidate', {}).get('port')} "
                      f"{c.get('candidate', {}).get('candidate_type')}"
                      for c in by_kind.get("remote_candidate", {}).values()})
    return {"offered": offered,
            "local": candidate("local_candidate", "local_candidate_id"),
            "remote": candidate("remote_candidate", "remote_candidate_id"),
            "bytes_sent": int(info.get("bytes_sent", 0)),
            "bytes_received": int(info.get("bytes_received", 0)),
            "rtt": info.get("current_round_trip_time")}


async def call(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Fills `result` as it goes, so a failure still shows how far the call came."""
    from livekit import rtc

    result["steps"] = []
    alice, bob = (Caller(args.homeserver, user, args.password) for user in args.users)
    for person in (alice, bob):
        person.login()
    result["steps"].append("login")
    service = alice.transport()
    result["transport"] = service
    room_id = http("POST", f"{args.homeserver}/_matrix/client/v3/createRoom",
                   {"preset": "private_chat"}, token=alice.access_token)["room_id"]
    tokens = [person.livekit_token(service, room_id) for person in (alice, bob)]
    result["steps"].append("get_token")
    result["livekit_url"] = tokens[0]["url"]
    if args.tokens_only:  # for the browser caller (browser/call.mjs)
        result["tokens"] = tokens
        return

    options = rtc.RoomOptions(auto_subscribe=True)
    if args.relay_only:
        options.rtc_config = rtc.RtcConfiguration(
            ice_transport_type=rtc.IceTransportType.TRANSPORT_RELAY)
    rooms = [rtc.Room(), rtc.Room()]
    received: list[int] = []
    frames = 0
    got_track = asyncio.Event()

    async def listen(track: Any) -> None:
        nonlocal frames
        stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=CHANNELS)
        async for event in stream:
            frames += 1
            if len(received) < SAMPLE_RATE * 2:
                received.extend(event.frame.data.tolist())

    tasks: list[asyncio.Task[Any]] = []

    def on_track(track: Any, *_: Any) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            got_track.set()
            tasks.append(asyncio.ensure_future(listen(track)))

    rooms[1].on("track_subscribed", on_track)
    try:
        for index, (room, token) in enumerate(zip(rooms, tokens)):
            started = time.monotonic()
            await asyncio.wait_for(room.connect(token["url"], token["jwt"], options),
                                   args.connect_timeout)
            result.setdefault("connect_seconds", []).append(
                round(time.monotonic() - started, 3))
            result["steps"].append(f"joined:{index}")
        source = rtc.AudioSource(SAMPLE_RATE, CHANNELS)
        track = rtc.LocalAudioTrack.create_audio_track("tone", source)
        await rooms[0].local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        result["steps"].append("published")
        position, published = 0, time.monotonic()
        deadline = published + args.seconds + args.connect_timeout
        first_frame_at = None
        timeline: list[int] = []  # frames Bob had received at each second of the call
        next_mark = published + 1
        while time.monotonic() < deadline:
            try:
                await source.capture_frame(tone_frame(rtc, position))
            except Exception:  # the room may be reconnecting: keep time, keep going
                await asyncio.sleep(FRAME_MS / 1000)
            position += SAMPLE_RATE * FRAME_MS // 1000
            if time.monotonic() >= next_mark:
                timeline.append(frames)
                next_mark += 1
                result["timeline"] = timeline
            if frames and first_frame_at is None:
                first_frame_at = time.monotonic()
                result["first_audio_seconds"] = round(first_frame_at - published, 3)
            if first_frame_at and time.monotonic() - first_frame_at >= args.seconds:
                break
        result["track_subscribed"] = got_track.is_set()
        result["frames_received"] = frames
        result["tone_strength"] = round(tone_strength(received[SAMPLE_RATE // 2:]), 3)
        stats = [await room.get_rtc_stats() for room in rooms]
        result["publisher_pair"] = selected_pair(stats[0].publisher_stats
                                                 + stats[0].subscriber_stats)
        result["subscriber_pair"] = selected_pair(stats[1].subscriber_stats
                                                  + stats[1].publisher_stats)
    finally:
        await leave(rooms, tasks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--users", nargs=2, required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connect-timeout", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--relay-only", action="store_true")
    parser.add_argument("--access-token-only", action="store_true",
                        help="log the first user in and print its access token")
    parser.add_argument("--tokens-only", action="store_true",
                        help="get the two LiveKit tokens as Element Call does, join nothing")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    if args.access_token_only:
        caller = Caller(args.homeserver, args.users[0], args.password)
        caller.login()
        print(json.dumps({"access_token": caller.access_token}), flush=True)
        return
    try:
        asyncio.run(asyncio.wait_for(call(args, result), args.timeout))
        result["ok"] = True
    except Exception as exc:  # reported to the test, which says what failed
        result.update(ok=False, error=f"{exc.__class__.__name__}: {exc}")
    print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
