"""Class 7: engine states users really get into. A mounted file that is missing (or that
Docker already turned into an empty folder) stops `up` before anything is created, and
doctor says so; renaming `project:` while the stack runs is noticed and the old
containers are replaced on request, not blamed as strangers holding the ports; images
pinned by digest (`name@sha256:...`) are pulled as such, from a real (local) registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.helpers import doctor_rows, free_ports
from tests.integration import standin_images as images
from tests.integration.registry import local_registry


def test_a_missing_mounted_file_starts_nothing(make_stack: Any, tmp_path: Path) -> None:
    tls_port, backend = free_ports(2)
    cert = tmp_path / "certs" / "fullchain.pem"  # not there: a typo in the path
    stack = make_stack(profile="generic", network={"public_ip": "93.184.216.34"},
                       turn={"enabled": True, "tls_port": tls_port, "cert_file": str(cert),
                             "key_file": str(cert.with_name("privkey.pem"))},
                       proxy={"https_backend_port": backend})
    result = stack.nasrtc("up", "--no-wait")
    assert result.code == 4, result.out + result.err
    assert f"livekit reads {cert}, which does not exist" in result.err
    assert "set turn.cert_file in nasrtc.yaml" in result.err
    assert stack.containers() == {}, "nothing was created"
    assert not cert.parent.exists(), "no folder was made in the file's place"

    rows = doctor_rows(stack.nasrtc("doctor", "--local", "--json"))
    assert rows["mounted files"]["status"] == "fail"
    assert str(cert) in rows["mounted files"]["detail"]

    cert.mkdir(parents=True)  # what Docker leaves where a mounted file was missing
    again = stack.nasrtc("up", "--no-wait")
    assert again.code == 4 and f"{cert}, which is a folder" in again.err
    assert f"sudo rmdir {cert}" in again.err and stack.containers() == {}


def test_a_renamed_project_replaces_its_old_containers_on_request(make_stack: Any) -> None:
    stack = make_stack()
    assert stack.nasrtc("up", "--no-wait").code == 0
    old = stack.ids()
    answers_file = stack.dir / "nasrtc.yaml"
    answers = yaml.safe_load(answers_file.read_text())
    renamed = answers["project"] = stack.project + "new"  # cleanup() still finds it
    answers_file.write_text(yaml.safe_dump(answers))
    assert stack.nasrtc("render").code == 0

    refused = stack.nasrtc("up", "--no-wait")
    assert refused.code == 4, refused.out + refused.err
    assert f"earlier project name {stack.project}" in refused.err
    assert "--replace-old" in refused.err and "busy" not in refused.err
    assert {c.id for c in stack.containers().values()} == set(old.values())
    assert all(c.status == "running" for c in stack.containers().values()), "nothing changed"

    replaced = stack.nasrtc("up", "--replace-old", "--no-wait")
    assert replaced.code == 0, replaced.out + replaced.err
    now = {c.name: c for c in stack.client.containers.list(
        all=True, filters={"label": f"io.nasrtc.project={renamed}"})}
    assert sorted(now) == [f"{renamed}-jwt-1", f"{renamed}-livekit-1"]
    assert all(c.status == "running" for c in now.values())
    leftovers = stack.client.containers.list(
        all=True, filters={"label": f"io.nasrtc.project={stack.project}"})
    assert leftovers == [], "the old containers are gone"
    assert not stack.client.networks.list(names=[f"{stack.project}_default"])
    assert stack.nasrtc("down").code == 0


def test_an_image_pinned_by_digest_is_pulled(make_stack: Any, client: Any) -> None:
    with local_registry() as registry:
        pinned = registry.add(client, images.LIVEKIT, "pinned/livekit")
        stack = make_stack(images={"livekit": pinned})
        try:
            result = stack.nasrtc("up", "--no-wait")
            assert result.code == 0, result.out + result.err
            digest = pinned.rpartition("@")[2]
            assert f"/v2/pinned/livekit/manifests/{digest}" in registry.requests
            livekit = stack.containers()[f"{stack.project}-livekit-1"]
            assert livekit.attrs["Config"]["Image"] == pinned
            assert livekit.status == "running"
            assert stack.nasrtc("up", "--no-wait").out.count("unchanged") == 2
        finally:
            stack.cleanup()
            client.images.remove(pinned)
