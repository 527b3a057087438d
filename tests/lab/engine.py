"""The NAS's own Docker engine: a second dockerd with its own data root, exec root and
socket, inside the NAS's network namespace.

It is started through `nsenter --net` (not `ip netns exec`, which remounts /sys and hides
the cgroups dockerd needs) and in a mount namespace of its own, where /etc/resolv.conf
and /etc/hosts are the lab's: containers then ask the lab's DNS, never this machine's.
nasrtc reaches it through DOCKER_HOST, as it would reach a NAS's engine."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.lab.topology import ETC_NETNS, Lab, LabError, Namespace, _stop


class LabEngine:
    def __init__(self, lab: Lab, space: Namespace, data: Path) -> None:
        self.lab, self.space = lab, space
        self.data = data  # images and containers (a scratch folder of the test run)
        # Unix socket paths are short (108 bytes): the exec root lives in /run.
        self.run_dir = Path("/run") / f"nasrtc-lab-{lab.tag}"
        self.socket = self.run_dir / "docker.sock"
        self.proc: subprocess.Popen[Any] | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 60) -> LabEngine:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        etc = ETC_NETNS / self.space.name
        inside = (f"mount --bind {etc / 'resolv.conf'} /etc/resolv.conf && "
                  f"mount --bind {etc / 'hosts'} /etc/hosts && "
                  f"exec dockerd --data-root {self.data} --exec-root {self.run_dir / 'exec'} "
                  f"-H {self.host} -p {self.run_dir / 'docker.pid'} "
                  "--shutdown-timeout 2 --log-level warn")
        log = open(self.lab.root / "dockerd.log", "ab")  # noqa: SIM115 (owned by the process)
        self.proc = subprocess.Popen(
            ["nsenter", f"--net={self.space.path}", "unshare", "--mount",
             "--propagation", "private", "sh", "-c", inside],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LabError(f"the lab's dockerd exited:\n{self.lab.log('dockerd')[-3000:]}")
            if self._answers():
                return self
            time.sleep(0.5)
        raise LabError(f"the lab's dockerd did not answer in {timeout:.0f} s:\n"
                       f"{self.lab.log('dockerd')[-3000:]}")

    def _answers(self) -> bool:
        done = subprocess.run(["docker", "-H", self.host, "version", "--format",
                               "{{.Server.Version}}"], capture_output=True, timeout=10)
        return done.returncode == 0

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.host, timeout=120)

    def load(self, source: Any, image: str, tag_as: str | None = None) -> None:
        """`docker save` from this machine's engine, `docker load` into the lab's."""
        saved = io.BytesIO(b"".join(source.images.get(image).save(named=True)))
        client = self.client()
        try:
            client.images.load(saved.getvalue())
            if tag_as and tag_as != image:
                repository, _, tag = tag_as.rpartition(":")
                client.images.get(image).tag(repository, tag)
        finally:
            client.close()

    def halt(self) -> None:
        """dockerd stops (its containers with it) and keeps its data: a NAS shutting down,
        or DSM restarting Container Manager during an update; start() brings it back."""
        if self.proc is not None:
            _stop(self.proc, timeout=30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, timeout=30)
        # What dockerd leaves (containerd shims, the mount namespace's last users) dies
        # with the namespace's processes in Lab.close(); the folders go here.
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if self.data.exists():
            subprocess.run(["rm", "-rf", "--one-file-system", str(self.data)], timeout=120,
                           check=False)
