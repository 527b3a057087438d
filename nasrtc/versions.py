"""The one version set this nasrtc release was checked with. The image pins are the
answers' defaults (images.*); a user's own pin (a mirror, a digest) wins.

Sources: docs/upstream-facts.md (re-check them when moving a version)."""

LIVEKIT_IMAGE = "livekit/livekit-server:v1.13.5"
JWT_IMAGE = "ghcr.io/element-hq/lk-jwt-service:0.7.0"
# What the generated homeserver settings and the checks were read against.
CHECKED_WITH = {"Synapse": "1.163", "Element Call": "0.24"}
