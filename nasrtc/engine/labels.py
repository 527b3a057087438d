"""The label names Compose v2 and nasrtc put on containers and networks, in a module of
their own: the quick commands use them without loading the stack model."""

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
ONEOFF = "com.docker.compose.oneoff"
CONFIG_HASH = "com.docker.compose.config-hash"
WORKING_DIR = "com.docker.compose.project.working_dir"
IMAGE_LABEL = "com.docker.compose.image"  # the image ID: Compose recreates when it differs
VERSION_LABEL = "com.docker.compose.version"
OURS = "io.nasrtc.project"
# The host ports a container holds ("tcp/7880 udp/7882"), so the next `up` can tell them
# from ports someone else holds before it changes anything.
PORTS_LABEL = "io.nasrtc.ports"
STOP_TIMEOUT = 10  # seconds before SIGKILL, like compose
