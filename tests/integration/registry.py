"""A tiny read-only image registry (the Docker Registry HTTP API v2 subset an engine
pull uses) serving local images, so the real engine can pull by tag or by digest with
no registry reachable. The engine treats 127.0.0.0/8 registries as insecure: plain HTTP."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], bytes] = {}  # (name, tag or digest) -> bytes
        self.requests: list[str] = []
        self.address = ""

    def add(self, client: Any, image: str, name: str, tag: str = "latest") -> str:
        """Serve a local image as <address>/<name>:<tag>; returns the digest reference.
        The served image carries a label no other run had, so its digest is new: an engine
        keeps manifests it pulled in its content store and would otherwise answer a pull
        by digest from there, without asking the registry."""
        with tarfile.open(fileobj=io.BytesIO(b"".join(client.images.get(image).save()))) \
                as saved:
            def read(member: str) -> bytes:
                handle = saved.extractfile(member)
                assert handle is not None, member
                return handle.read()

            index = json.loads(read("manifest.json"))[0]
            settings = json.loads(read(index["Config"]))
            labels = settings.setdefault("config", {}).get("Labels") or {}
            settings["config"]["Labels"] = {**labels, "io.nasrtc.test.served": uuid.uuid4().hex}
            config = json.dumps(settings).encode()
            layers = []
            for member in index["Layers"]:
                packed = gzip.compress(read(member), mtime=0)
                self.blobs[_sha(packed)] = packed
                layers.append({"mediaType": LAYER_TYPE, "size": len(packed),
                               "digest": _sha(packed)})
        self.blobs[_sha(config)] = config
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": _sha(config)},
            "layers": layers}).encode()
        digest = _sha(manifest)
        self.manifests[(name, tag)] = self.manifests[(name, digest)] = manifest
        return f"{self.address}/{name}@{digest}"


@contextmanager
def local_registry() -> Iterator[Registry]:
    registry = Registry()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", kind: str = "application/json",
                  digest: str = "") -> None:
            self.send_response(status)
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if digest:
                self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            registry.requests.append(self.path)
            if self.path == "/v2/":
                return self._send(200, b"{}")
            found = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", self.path)
            if found and found[2] == "manifests" and (found[1], found[3]) in registry.manifests:
                body = registry.manifests[(found[1], found[3])]
                return self._send(200, body, MANIFEST_TYPE, _sha(body))
            if found and found[2] == "blobs" and found[3] in registry.blobs:
                return self._send(200, registry.blobs[found[3]], "application/octet-stream",
                                  found[3])
            return self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')

        do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    registry.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
