"""The one version set this nasrtc release was checked with. The image pins are the
answers' defaults (images.*); a user's own pin (a mirror, a digest) wins, and
`nasrtc upgrade` moves a stack from an earlier set to this one.

Sources: docs/upstream-facts.md (re-check them when moving a version)."""

from __future__ import annotations

import json
import os

LIVEKIT_IMAGE = "livekit/livekit-server:v1.13.5"
JWT_IMAGE = "ghcr.io/element-hq/lk-jwt-service:0.7.0"
# The optional shared store (LiveKit on several nodes; the auth service's state across
# restarts). 7.2 is the last release line under the BSD licence.
REDIS_IMAGE = "redis:7.2.7-alpine"
# What the generated homeserver settings and the checks were read against.
CHECKED_WITH = {"Synapse": "1.163", "Element Call": "0.24"}
# The sets of earlier nasrtc releases: a pin equal to one of these was nasrtc's choice,
# not the user's, so `upgrade` may move it.
EARLIER: list[dict[str, str]] = [
    {"livekit": "livekit/livekit-server:v1.13.5", "jwt": "ghcr.io/element-hq/lk-jwt-service:0.6.0"},
]

# A packager (or a test) may ship another tested set: a JSON file with "livekit", "jwt",
# optionally "redis" and "earlier" (a list of such sets).
SET_ENV = "NASRTC_VERSION_SET"
if os.environ.get(SET_ENV):
    with open(os.environ[SET_ENV], encoding="utf-8") as _file:
        _chosen = json.load(_file)
    LIVEKIT_IMAGE, JWT_IMAGE = str(_chosen["livekit"]), str(_chosen["jwt"])
    REDIS_IMAGE = str(_chosen.get("redis", REDIS_IMAGE))
    EARLIER = [dict(item) for item in _chosen.get("earlier", EARLIER)]

VERSION_SET = {"livekit": LIVEKIT_IMAGE, "jwt": JWT_IMAGE, "redis": REDIS_IMAGE}


def nasrtc_pin(service: str, image: str) -> bool:
    """Whether this pin is one a nasrtc release chose (this one or an earlier)."""
    return image == VERSION_SET[service] or any(s.get(service) == image for s in EARLIER)
