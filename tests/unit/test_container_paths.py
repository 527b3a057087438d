"""In nasrtc's container image, the stack folder must be the host's folder at the same
path: which container this is comes from /proc/self/mountinfo, the mounts from the engine."""

from __future__ import annotations

from pathlib import Path

from nasrtc.host.container import host_path_problem, own_container_id

ID = "0123456789abcdef" * 4
MOUNTINFO = f"""\
612 590 0:52 / / rw,relatime master:1 - overlay overlay rw
640 612 8:1 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw
641 612 8:1 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw - ext4 /dev/sda1 rw
"""


def test_the_container_is_found_from_its_own_mounts(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text(MOUNTINFO)
    assert own_container_id(str(tmp_path / "mountinfo")) == ID
    (tmp_path / "host").write_text("612 590 0:52 / / rw - ext4 /dev/sda1 rw\n")
    assert own_container_id(str(tmp_path / "host")) is None


def bind(source: str, destination: str) -> dict[str, str]:
    return {"Type": "bind", "Source": source, "Destination": destination}


def test_the_same_path_inside_and_outside_passes() -> None:
    mounts = [bind("/var/run/docker.sock", "/var/run/docker.sock"),
              bind("/volume1/docker", "/volume1/docker")]
    assert host_path_problem(Path("/volume1/docker/matrixrtc"), mounts) is None


def test_a_folder_under_another_path_is_named_with_its_host_path() -> None:
    problem = host_path_problem(Path("/stack/rtc"), [bind("/volume1/docker", "/stack")])
    assert problem is not None and "the host's /volume1/docker/rtc" in problem[0]
    assert problem[1] == Path("/volume1/docker/rtc")


def test_a_folder_only_inside_the_container_is_refused() -> None:
    problem = host_path_problem(Path("/volume1/docker/matrixrtc"),
                                [bind("/volume1/other", "/volume1/other")])
    assert problem is not None and "exists only inside nasrtc's container" in problem[0]
