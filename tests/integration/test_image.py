"""The container image (the install for Synology): the top-level Dockerfile, built on a
Debian 12 base made here, runs init, up, status, doctor --local and down against the real
engine; the stack's containers mount the host's files; a folder mounted at another path
is refused with the -v to use; DSM is recognised through the mounted version file."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO
from tests.integration import standin_images as images
from tests.integration.debian_image import debian_python_image
from tests.integration.readme import commands

pytestmark = [pytest.mark.slow, pytest.mark.once]  # the same on every Python of the run
IMAGE = "nasrtc-test/nasrtc:image-test"
SYNOLOGY = "### Synology DSM over SSH: the container image"
DSM_VERSION = 'majorversion="7"\nminorversion="2"\nproductversion="7.2.2"\n'


@pytest.fixture(scope="module")
def image(client: Any, pyz: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    base = debian_python_image(client)
    context = tmp_path_factory.mktemp("context")
    for item in ("Dockerfile", ".dockerignore"):
        shutil.copy(REPO / item, context / item)
    for folder in ("nasrtc", "profiles", "compose-templates", "tools"):
        shutil.copytree(REPO / folder, context / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (context / "dist").mkdir()
    shutil.copy(pyz, context / "dist" / "nasrtc.pyz")
    shutil.copytree(media_wheels(), context / "dist" / "media")
    shutil.copytree(web_wheels(), context / "dist" / "web")
    built = subprocess.run(["docker", "build", "-q", "--build-arg", f"BASE={base}", "-t", IMAGE,
                            str(context)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return IMAGE


def media_wheels() -> Path:
    """nasrtc[media]'s wheels for the base's Python (Debian 12: 3.11) and this CPU."""
    import platform

    tag = {"x86_64": "x86_64", "aarch64": "aarch64"}.get(platform.machine(), "")
    return wheels_for_the_image(
        f"media-wheels/cp311-{platform.machine()}", "livekit-*.whl", "the LiveKit SDK's wheels",
        ["--implementation", "cp",
         *(f"--platform={p}_{tag}" for p in ("manylinux_2_28", "manylinux_2_17",
                                              "manylinux2014")), "livekit==1.2.1"],
        possible=bool(tag))


def web_wheels() -> Path:
    """nasrtc[web]'s wheel (waitress, pure Python)."""
    return wheels_for_the_image("web-wheels", "waitress-*.whl", "waitress's wheel",
                                ["--no-deps", "waitress==3.0.2"])


def wheels_for_the_image(name: str, wanted: str, what: str, pip_args: list[str],
                         possible: bool = True) -> Path:
    """Wheels for the image's Python (3.11), fetched on the host (the image has no pip and
    trusts no CA here), kept between runs in .venv-test/<name>."""
    from tests.helpers import REQUIRE_TOOLS

    folder = REPO / ".venv-test" / name
    if any(folder.glob(wanted)):
        return folder
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
         "--python-version", "3.11", "--dest", str(folder), *pip_args],
        capture_output=True, text=True, timeout=600)
    if fetched.returncode != 0 or not possible:
        shutil.rmtree(folder, ignore_errors=True)
        message = f"{what} did not download: {fetched.stderr[-500:]}"
        if REQUIRE_TOOLS:
            raise AssertionError(message)
        pytest.skip(message)
    return folder


def test_the_image_carries_the_test_calls_sdk(image: str) -> None:
    """doctor --media works from the image: the SDK imports, and the command goes past
    the check for it (to the missing stack folder)."""
    imported = subprocess.run(["docker", "run", "--rm", "--entrypoint", "python3", image,
                               "-c", "import livekit.rtc; print('ok')"],
                              capture_output=True, text=True, timeout=120)
    assert imported.stdout.strip() == "ok", imported.stderr[-2000:]
    done = docker_run(image, [], "doctor", "--public", "--media", "--dir", "/nowhere")
    assert done.returncode != 0 and "LiveKit Python SDK" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def docker_run(image: str, mounts: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """`docker run` as the README has it, with other mounts (no terminal in tests)."""
    volumes = [part for mount in ["/var/run/docker.sock:/var/run/docker.sock", *mounts]
               for part in ("-v", mount)]
    return subprocess.run(["docker", "run", "--rm", "--network", "host", "--pid", "host",
                           *volumes, image, *args], capture_output=True, text=True, timeout=300)


def readme_run(stack: Path, version: Path, tty: bool = False) -> list[str]:
    """The README's Synology `docker run` line up to the image name, with this test's stack
    folder and DSM version file in place of the NAS's."""
    line = next(c for c in commands(SYNOLOGY) if c.startswith("sudo docker run"))
    words = shlex.split(line)
    flags = words[1:words.index("nasrtc")]
    flags = [w.replace("/volume1/docker/matrixrtc", str(stack)) for w in flags]
    flags = [str(version) + w[len("/etc.defaults/VERSION"):]
             if w.startswith("/etc.defaults/VERSION:") else w for w in flags]
    return flags if tty else [w for w in flags if w != "-it"]


def drop(flags: list[str], option: str, value: str) -> list[str]:
    """flags without `option value`."""
    at = next(i for i in range(len(flags) - 1) if flags[i:i + 2] == [option, value])
    return flags[:at] + flags[at + 2:]


def test_the_image_runs_a_whole_stack(image: str, client: Any, tmp_path: Path) -> None:
    stack = tmp_path / "volume1" / "docker" / "matrixrtc"
    stack.mkdir(parents=True)
    version = tmp_path / "VERSION"
    version.write_text(DSM_VERSION)

    def nasrtc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*readme_run(stack, version), image, *args],
                              capture_output=True, text=True, timeout=300)

    project = "img" + os.urandom(3).hex()
    images.write_standin_answers(stack / "answers.yaml", project)

    init = nasrtc("init", "--dir", str(stack), "--answers", str(stack / "answers.yaml"))
    assert init.returncode == 0, init.stdout + init.stderr
    # The next step names the person's own `docker run` line, not a `nasrtc` they lack.
    assert f"Start: sudo docker run … nasrtc up --dir {stack}" in init.stdout
    # So do the commands inside messages and help, in every language; the pages stay plain.
    examples = nasrtc("--lang", "de", "down", "--help").stdout
    assert "sudo docker run … nasrtc down --dir" in examples, examples
    assert "docker run" not in (stack / "checklist.md").read_text()
    secret = stack / "livekit" / "livekit.yaml"
    assert secret.stat().st_uid == 0 and secret.stat().st_mode & 0o777 == 0o600
    try:
        up = nasrtc("up", "--dir", str(stack))
        assert up.returncode == 0, up.stdout + up.stderr
        livekit = client.containers.get(f"{project}-livekit-1")
        sources = {m["Destination"]: m["Source"] for m in livekit.attrs["Mounts"]}
        assert sources["/etc/livekit.yaml"] == str(secret), "the host's file is mounted"
        status = nasrtc("status", "--dir", str(stack))
        assert status.returncode == 0 and "healthy" in status.stdout, status.stderr
        doctor = nasrtc("doctor", "--local", "--json", "--dir", str(stack))
        rows = {row["name"]: row for row in json.loads(doctor.stdout)}
        for name in ("files", "secrets", "mounted files", "containers", "LiveKit (local)",
                     "auth service (local)"):
            assert rows[name]["status"] == "pass", rows[name]
    finally:
        down = nasrtc("down", "--dir", str(stack))
    assert down.returncode == 0, down.stderr
    assert not client.containers.list(all=True, filters={"label": f"io.nasrtc.project={project}"})


def test_the_wizard_runs_in_docker_run_it(image: str, tmp_path: Path) -> None:
    """The README's line as is (-it: a real terminal), the platform found from DSM's file."""
    import pexpect

    stack = tmp_path / "volume1" / "docker" / "matrixrtc"
    stack.mkdir(parents=True)
    version = tmp_path / "VERSION"
    version.write_text(DSM_VERSION)
    flags = readme_run(stack, version, tty=True)
    assert "-it" in flags
    child = pexpect.spawn("docker", [*flags[1:], "-e", "PROMPT_TOOLKIT_NO_CPR=1", image,
                                     "init", "--dir", str(stack)],
                          encoding="utf-8", timeout=60, dimensions=(50, 160))
    child.expect("Platform")
    child.expect("Synology DSM")
    child.send("\r")
    child.expect("Matrix server name")
    child.send("\x03")  # Ctrl-C: nothing is written
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    assert [p.name for p in stack.iterdir()] == [], "nothing was written"

    yes = subprocess.run([*readme_run(stack, version), image, "init", "--yes", "--dir",
                          str(stack), "--domain", "example.org"],
                         capture_output=True, text=True, timeout=300)
    assert yes.returncode == 0 and (stack / "compose.yaml").is_file(), yes.stderr
    assert "(Synology DSM" in yes.stdout, "DSM recognised from inside the container"
    assert "Control Panel" in (stack / "reverse-proxy.md").read_text()


def test_a_folder_mounted_at_another_path_is_refused(image: str, tmp_path: Path) -> None:
    stack = tmp_path / "matrixrtc"
    stack.mkdir()
    refused = docker_run(image, [f"{stack}:/stack"], "init", "--yes", "--dir", "/stack",
                         "--domain", "example.org")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"-v {stack}:{stack}" in refused.stderr and f"--dir {stack}" in refused.stderr
    assert list(stack.iterdir()) == [], "nothing was written"
    nowhere = docker_run(image, [], "init", "--yes", "--dir", "/volume1/docker/matrixrtc",
                         "--domain", "example.org")
    assert nowhere.returncode == 1 and "exists only inside nasrtc's container" in nowhere.stderr


def test_busy_ports_and_the_network_are_the_hosts(image: str, tmp_path: Path) -> None:
    """With the README's flags a busy port names the host's program holding it; without
    --pid host or SYS_PTRACE nasrtc says it cannot see it; without --network host it
    refuses."""
    stack = tmp_path / "matrixrtc"
    stack.mkdir()
    version = tmp_path / "VERSION"
    version.write_text(DSM_VERSION)
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    images.write_standin_answers(stack / "answers.yaml", "img" + os.urandom(3).hex(),
                                 jwt_http=taken)
    flags = readme_run(stack, version)
    try:
        init = subprocess.run([*flags, image, "init", "--dir", str(stack), "--answers",
                               str(stack / "answers.yaml")], capture_output=True, text=True)
        assert init.returncode == 0, init.stderr
        seen = subprocess.run([*flags, image, "up", "--dir", str(stack)],
                              capture_output=True, text=True, timeout=300)
        assert seen.returncode == 4, seen.stdout + seen.stderr
        assert f"TCP port {taken} is already in use on this host" in seen.stderr
        assert f"(pid {os.getpid()})" in seen.stderr, seen.stderr
        for without in (("--pid", "host"), ("--cap-add", "SYS_PTRACE")):
            unseen = subprocess.run(
                [*drop(flags, *without), image, "up", "--dir", str(stack)],
                capture_output=True, text=True, timeout=300)
            assert unseen.returncode == 4, unseen.stderr
            assert "with --pid host --cap-add SYS_PTRACE it names" in unseen.stderr, \
                unseen.stderr
    finally:
        holder.close()
    bridged = drop(flags, "--network", "host")
    refused = subprocess.run([*bridged, image, "up", "--dir", str(stack)],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "--network host" in refused.stderr, refused.stderr
