"""The stack's services by their Compose names: a module of its own, so that quick
commands (status, down) can name them without loading the answers machinery."""

LIVEKIT_SERVICE = "livekit"
JWT_SERVICE = "jwt"
REDIS_SERVICE = "redis"
STACK_SERVICES = (LIVEKIT_SERVICE, JWT_SERVICE)  # in every stack
OPTIONAL_SERVICES = (REDIS_SERVICE,)  # when chosen in nasrtc.yaml (redis.enabled)
ALL_SERVICES = STACK_SERVICES + OPTIONAL_SERVICES
# The folders, in the stack folder, where a service keeps data of its own: they outlive
# its container (`down`, turning the service off) and go only with `remove --purge`.
DATA_FOLDERS = {REDIS_SERVICE: "redis"}


def container_name(project: str, service: str) -> str:
    """What Compose v2 names a service's container (one replica)."""
    return f"{project}-{service}-1"
