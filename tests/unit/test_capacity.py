"""The call-size estimate that `nasrtc init` and `nasrtc doctor` print, from the cost per
forwarded track that benchmarks/load.py measured (nasrtc/call_cost.py)."""

from __future__ import annotations

import pytest

from nasrtc import call_cost
from nasrtc.capacity import LIMIT, SHARE, estimate, people, summary, upload_mbit


@pytest.mark.parametrize("cores", [1, 2, 4, 8, 16])
def test_the_estimate_is_the_largest_call_the_measured_cost_allows(cores: int) -> None:
    found = estimate(cores)
    budget = max(1.0, cores * SHARE) * LIMIT
    for size, per_track, idle, kinds in (
            (found.audio, call_cost.AUDIO_PER_TRACK, call_cost.AUDIO_IDLE, 1),
            (found.video, call_cost.VIDEO_PER_TRACK, call_cost.VIDEO_IDLE, 2)):
        assert size >= 2
        assert per_track * size * (size - 1) * kinds <= budget - idle
        assert per_track * (size + 1) * size * kinds > budget - idle  # one more would not fit


def test_more_cores_carry_larger_calls_and_video_costs_more_than_audio() -> None:
    small, large = estimate(2), estimate(8)
    assert large.audio > small.audio and large.video > small.video
    assert small.video < small.audio


def test_no_measured_cost_claims_nothing() -> None:
    assert people(4, 0.0, 0.0, 1) == 0


def test_the_line_names_the_cores_and_what_a_video_call_sends() -> None:
    text = summary(4)
    found = estimate(4)
    assert f"{found.audio} people in one audio call" in text
    assert f"{found.video} in a video call" in text and "4 cores" in text
    assert f"{upload_mbit(8, video=True):.0f} Mbit/s" in text
    assert upload_mbit(8, video=True) == pytest.approx(56 * call_cost.VIDEO_PAIR_MBIT)
