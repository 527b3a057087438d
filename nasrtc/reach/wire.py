"""One bounded UDP exchange: send, wait for an answer from the peer that passes `accept`,
resend on a doubling timer a few times. Anything else that arrives is dropped."""

from __future__ import annotations

import socket
import time
from typing import Any, Callable, Iterator

MAX_DATAGRAM = 2048  # longer replies are cut, then fail their parser


def exchange(peer: tuple[str, int], payload: bytes, accept: Callable[[bytes], bool],
             source: str = "", first_wait: float = 0.25, tries: int = 3,
             max_datagrams: int = 64) -> bytes | None:
    """The first reply from `peer` that `accept`s, or None. Waits at most
    first_wait * (2**tries - 1) seconds and reads at most max_datagrams datagrams."""
    family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if source:
            sock.bind((source, 0))
        wait = first_wait
        read = 0
        for _ in range(tries):
            try:
                sock.sendto(payload, peer)
            except OSError:
                return None  # no route: nothing to wait for
            try:
                for data, sender in receive(sock, time.monotonic() + wait,
                                            max_datagrams - read):
                    read += 1
                    if sender[0] == peer[0] and sender[1] == peer[1] and accept(data):
                        return data
            except OSError:
                return None  # ICMP unreachable: nobody listens there
            wait *= 2
    return None


def receive(sock: socket.socket, deadline: float, limit: int,
            ) -> Iterator[tuple[bytes, Any]]:
    """(datagram, sender) as they arrive, until the deadline or `limit` datagrams; a
    socket error (ICMP unreachable) is raised to the caller."""
    for _ in range(max(0, limit)):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        try:
            yield sock.recvfrom(MAX_DATAGRAM)
        except socket.timeout:
            return
