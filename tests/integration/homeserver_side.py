"""The homeserver side as the auth service meets it, on this host's port 443: the
client and server well-known files of example.org and a federation version endpoint,
over TLS with a test CA. Run as its own process (`python -m`), never a thread of the
test run.

    python -m tests.integration.homeserver_side CERT KEY [--no-server-well-known]
"""

from __future__ import annotations

import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 443
ANSWERS = {
    "/.well-known/matrix/client": {"m.homeserver": {"base_url": "https://matrix.example.org"}},
    "/.well-known/matrix/server": {"m.server": "matrix.example.org:443"},
    "/_matrix/federation/v1/version": {"server": {"name": "stand-in", "version": "1"}},
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        answer = ANSWERS.get(self.path)
        body = json.dumps(answer).encode() if answer is not None else b"{}"
        self.send_response(200 if answer is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    cert, key = sys.argv[1], sys.argv[2]
    if "--no-server-well-known" in sys.argv:
        del ANSWERS["/.well-known/matrix/server"]
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # The stand-in image's busybox wget speaks only TLS 1.2 suites that OpenSSL's default
    # security level refuses; Alpine's wget in the real LiveKit image uses OpenSSL.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
