"""The SFU's CPU cost per forwarded track, in % of one core: written by
benchmarks/load.py on 2026-12-02 (AMD EPYC, 2 cores, LiveKit v1.13.5; BENCHMARKS.md,
section 6). Rerun the benchmark to change these; do not edit by hand."""

REFERENCE = 'AMD EPYC, 2 cores'
AUDIO_PER_TRACK = 0.0838  # an audio call's forwarded track
AUDIO_IDLE = 4.46  # the line's intercept: LiveKit with none
VIDEO_PER_TRACK = 0.1379  # a video call's (audio and camera counted apart)
VIDEO_IDLE = 3.75
# Mbit/s the NAS sends for one person to one other
AUDIO_PAIR_MBIT = 0.125
VIDEO_PAIR_MBIT = 0.763  # microphone and camera
