"""Small local images that stand in for LiveKit and the auth service, built from
Debian's busybox-static (no registry is reachable in tests or CI).

- nasrtc-test/livekit:7  reads `port:` and `bind_addresses:` from --config and answers "OK"
  there (busybox httpd); alpine-like: has sh and wget (which resolves names: busybox-static
  looks them up through glibc's NSS modules, copied in from this host).
- nasrtc-test/jwt:7      answers /healthz on 8080; brings its own HEALTHCHECK, like the real one;
  with LIVEKIT_REDIS_URL it pings Redis at start and exits when Redis does not answer,
  like the real one.
- nasrtc-test/crash:7    exits at once (a crash loop under restart: unless-stopped).
- nasrtc-test/foreign-arch:7  the base image re-labelled for another CPU architecture.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

BUSYBOX = "/bin/busybox"
BASE = "nasrtc-test/base:7"
LIVEKIT = "nasrtc-test/livekit:7"
JWT = "nasrtc-test/jwt:7"
CRASH = "nasrtc-test/crash:7"
FOREIGN_ARCH = "nasrtc-test/foreign-arch:7"  # same files, config says another architecture
APPLETS = ("sh", "wget", "httpd", "sed", "mkdir", "echo", "sleep", "cat", "timeout", "nc",
           "printf")
# Bump the tags above when the scripts change: ensure_images() builds missing tags only.

LIVEKIT_SCRIPT = r"""#!/bin/sh
cfg=/etc/livekit.yaml
[ "$1" = "--config" ] && cfg="$2"
port=$(sed -n 's/^port: *//p' "$cfg")
# the first of bind_addresses, as LiveKit listens there only (none: every address)
addr=$(sed -n '/^bind_addresses:/{n;s/^ *- *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p;}' "$cfg")
mkdir -p /www && echo OK > /www/index.html
trap 'exit 0' TERM INT
echo "stand-in livekit: listening on ${addr:+$addr:}$port"
httpd -f -p "${addr:+$addr:}$port" -h /www &
wait
"""
JWT_SCRIPT = r"""#!/bin/sh
if [ -n "$LIVEKIT_REDIS_URL" ]; then
  where=${LIVEKIT_REDIS_URL#redis://}
  reply=$(printf 'PING
QUIT
' | nc -w 3 "${where%:*}" "${where##*:}" 2>&1)
  case "$reply" in
    *PONG*) echo "stand-in auth service: connected to Redis at $where" ;;
    *) echo "stand-in auth service: Redis ping failed at $where: $reply" >&2; exit 1 ;;
  esac
fi
mkdir -p /www && echo ok > /www/healthz
trap 'exit 0' TERM INT
echo "stand-in auth service: listening on 8080"
httpd -f -p 8080 -h /www &
wait
"""
CRASH_SCRIPT = """#!/bin/sh
echo "stand-in: config error, stopping" >&2
exit 1
"""


def _busybox() -> str:
    path = shutil.which("busybox") or BUSYBOX
    if not os.path.exists(path):
        raise RuntimeError("busybox-static is not installed (apt-get install busybox-static)")
    return path


# A static glibc program still loads these to look a name up (wget example.org).
NSS_LIBRARIES = ("libc.so.6", "libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2")


def _nss_files() -> dict[str, str]:
    """path in the image -> real file on this host, for glibc's name lookups."""
    import glob

    found: dict[str, str] = {}
    for name in (*NSS_LIBRARIES, "ld-linux*.so.*"):
        for folder in ("/lib", "/lib/*-linux-gnu*", "/lib64"):
            for path in glob.glob(f"{folder}/{name}"):
                found[path.lstrip("/")] = os.path.realpath(path)
    return found


def _rootfs() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "etc", "tmp", "www"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(_busybox(), arcname="bin/busybox")
        for inside, real in sorted(_nss_files().items()):
            tar.add(real, arcname=inside)
        nsswitch = b"hosts: files dns\n"
        info = tarfile.TarInfo("etc/nsswitch.conf")
        info.size, info.mode = len(nsswitch), 0o644
        tar.addfile(info, io.BytesIO(nsswitch))
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return buffer.getvalue()


def _context(dockerfile: str, files: dict[str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in {"Dockerfile": dockerfile, **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def ensure_images(client: Any) -> None:
    """Build the stand-ins once per engine (kept between runs; cheap to check)."""
    tags = {tag for image in client.images.list() for tag in image.tags}
    if BASE not in tags:
        client.api.import_image_from_data(_rootfs(), repository=BASE.split(":")[0],
                                          tag=BASE.split(":")[1])
    builds = {
        LIVEKIT: (f"FROM {BASE}\nCOPY entry /livekit-server\nENTRYPOINT [\"/livekit-server\"]\n",
                  LIVEKIT_SCRIPT),
        JWT: (f"FROM {BASE}\nCOPY entry /lk-jwt-service\nCMD [\"/lk-jwt-service\"]\n"
              "HEALTHCHECK --interval=2s --timeout=2s --retries=3 "
              "CMD [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/healthz\"]\n",
              JWT_SCRIPT),
        CRASH: (f"FROM {BASE}\nCOPY entry /entry\nENTRYPOINT [\"/entry\"]\n", CRASH_SCRIPT),
    }
    for tag, (dockerfile, script) in builds.items():
        if tag not in tags:
            client.images.build(fileobj=_context(dockerfile, {"entry": script}),
                                custom_context=True, tag=tag, rm=True)




def foreign_arch(client: Any) -> str:
    """The architecture this engine is not (for the mismatch test)."""
    return "arm64" if client.info().get("Architecture") in ("x86_64", "amd64") else "amd64"


def ensure_foreign_arch_image(client: Any) -> str:
    """docker save the base image, rewrite the config's architecture, docker load it."""
    if any(FOREIGN_ARCH in image.tags for image in client.images.list()):
        return FOREIGN_ARCH
    saved = io.BytesIO(b"".join(client.images.get(BASE).save()))
    out = io.BytesIO()
    with tarfile.open(fileobj=saved) as source, tarfile.open(fileobj=out, mode="w") as target:
        manifest = json.loads(_member(source, "manifest.json"))
        config = json.loads(_member(source, manifest[0]["Config"]))
        config["architecture"] = foreign_arch(client)
        data = json.dumps(config).encode()
        name = hashlib.sha256(data).hexdigest() + ".json"
        skip = {"manifest.json", manifest[0]["Config"]}
        for member in source.getmembers():
            if member.name not in skip:
                payload = source.extractfile(member) if member.isfile() else None
                target.addfile(member, payload)
        manifest[0].update(Config=name, RepoTags=[FOREIGN_ARCH])
        for member_name, payload in ((name, data),
                                     ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(member_name)
            info.size = len(payload)
            target.addfile(info, io.BytesIO(payload))
    client.images.load(out.getvalue())
    return FOREIGN_ARCH


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    handle = archive.extractfile(name)
    assert handle is not None, name
    return handle.read()


def write_standin_answers(path: Path, project: str, **ports: int) -> Path:
    """A Synology stack of the stand-ins on free ports (or the ones given), as YAML at path:
    what a test that starts a real stack through another entry point (the image, the
    single file) writes for `nasrtc init --answers`."""
    import socket

    import yaml

    from tests.helpers import free_port, free_ports

    chosen = {**dict(zip(("livekit_http", "rtc_tcp", "jwt_http"), free_ports(3))),
              "rtc_udp": free_port(socket.SOCK_DGRAM), **ports}
    path.write_text(yaml.safe_dump({
        "profile": "synology", "domain": "example.org", "project": project,
        "images": {"livekit": LIVEKIT, "jwt": JWT}, "ports": chosen}))
    return path
