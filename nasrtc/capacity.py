"""How many people one call on this machine may carry: an estimate from the SFU's CPU
cost per forwarded track, measured by benchmarks/load.py (BENCHMARKS.md, section 6) and
written into nasrtc/call_cost.py. A call of n people forwards n x (n - 1) tracks of each
kind (audio; audio and camera for video).

Only half the cores count: the NAS also runs the homeserver, its database and more, and
LiveKit wants headroom for a burst (a keyframe, someone joining). The reference is a
server core; a NAS's Celeron or ARM core does less, so the text says "at most"."""

from __future__ import annotations

import os
from dataclasses import dataclass

from nasrtc import call_cost

SHARE = 0.5  # of the machine's cores, for calls
LIMIT = 90.0  # % of a core the SFU may fill


@dataclass(frozen=True)
class Estimate:
    cores: int
    audio: int  # people in one audio call
    video: int  # people in one video call


def people(cores: float, per_track: float, idle: float, kinds: int) -> int:
    """The largest n whose forwarded tracks fit into `cores` cores at LIMIT %."""
    if per_track <= 0:
        return 0
    budget = cores * LIMIT - idle
    n = 1
    while n < 1000 and per_track * (n + 1) * n * kinds <= budget:
        n += 1
    return n


def usable_cores() -> int:
    """The cores this process may run on (a cpuset narrows them), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def estimate(cores: int | None = None) -> Estimate:
    count = cores or usable_cores()
    usable = max(1.0, count * SHARE)
    return Estimate(count,
                    people(usable, call_cost.AUDIO_PER_TRACK, call_cost.AUDIO_IDLE, 1),
                    people(usable, call_cost.VIDEO_PER_TRACK, call_cost.VIDEO_IDLE, 2))


def upload_mbit(size: int, video: bool) -> float:
    """What the NAS sends in a call of `size`: everyone's tracks to everyone else."""
    per_pair = call_cost.VIDEO_PAIR_MBIT if video else call_cost.AUDIO_PAIR_MBIT
    return size * (size - 1) * per_pair


def summary(cores: int | None = None) -> str:
    """One line for people: what fits, and what a typical video call sends."""
    from nasrtc.i18n import _

    found = estimate(cores)
    return _("at most about {audio} people in one audio call, {video} in a video call, by "
             "LiveKit's CPU on {cores} cores (an estimate measured on a server core; a NAS "
             "core does less); a video call of 8 sends about {upload:.0f} Mbit/s from "
             "home").format(audio=found.audio, video=found.video, cores=found.cores,
                            upload=upload_mbit(8, video=True))
