#!/usr/bin/env python3
"""Two ways an SFU can fail a caller that doctor's test call must survive, served behind
the real nginx in place of LiveKit's /rtc (standard library only):

  silent     accepts the WebSocket (101) and then says nothing
  no-answer  accepts it, sends a join (a SignalResponse with a JoinResponse, protobuf
             written out by hand), then never answers the caller's offer

Usage: hostile_sfu.py MODE PORT (listens on 127.0.0.1:PORT until killed)."""

import base64
import hashlib
import socket
import sys
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def field(number, payload):
    """A length-delimited protobuf field."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def join_response():
    room = field(1, b"RM_hostile") + field(2, b"hostile")
    participant = field(1, b"PA_hostile") + field(2, b"caller")
    join = field(1, room) + field(2, participant) + field(4, b"1.13.5")
    return field(1, join)


def frame(payload):
    return bytes([0x82, len(payload)]) + payload  # unmasked binary frame (< 126 bytes)


def serve(connection, mode):
    with connection:
        connection.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 16384:
            chunk = connection.recv(4096)
            if not chunk:
                return
            data += chunk
        key = ""
        for line in data.decode("latin-1").split("\r\n"):
            if line.lower().startswith("sec-websocket-key:"):
                key = line.split(":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        connection.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
                           .encode())
        if mode == "no-answer":
            connection.sendall(frame(join_response()))
        connection.settimeout(1)
        ends = time.monotonic() + 120  # bounded: the caller gives up long before
        while time.monotonic() < ends:
            try:
                if not connection.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    server = socket.create_server(("127.0.0.1", port))
    print(f"hostile sfu ({mode}) on {port}", flush=True)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=serve, args=(connection, mode), daemon=True).start()


if __name__ == "__main__":
    main()
