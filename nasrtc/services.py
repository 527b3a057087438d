"""The stack's two services by their Compose names: a module of its own, so that quick
commands (status) can name them without loading the answers machinery."""

LIVEKIT_SERVICE = "livekit"
JWT_SERVICE = "jwt"
STACK_SERVICES = (LIVEKIT_SERVICE, JWT_SERVICE)
