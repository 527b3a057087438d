"""The light engine client and the quick lane meet answers of the wrong shape (a broken or
hostile engine on the socket): they are not believed, nothing is printed, and the command
goes the usual way; the client maps containers by service only when the labels say so."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nasrtc.engine.light import LightEngine
from nasrtc.engine.state import write_state
from nasrtc.quick import run as quick
from tests.helpers import write_answers

CONTAINERS = [
    {"Id": "a", "Labels": ["com.docker.compose.service=livekit"]},  # a list, not a map
    {"Id": "b", "Labels": {"com.docker.compose.service": 7}},       # a number, not a name
    {"Id": "c", "Labels": {"com.docker.compose.service": "jwt"}, "State": "running"},
    "not an object",
]


@pytest.fixture
def hostile_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A unix socket answering every GET with a listing of odd containers, and every
    inspect with a State that is a string."""
    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                request = connection.recv(65536).decode()
                body: Any = CONTAINERS if "/containers/json" in request else {"State": "odd"}
                data = json.dumps(body).encode()
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n"
                                   + data)

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    yield path
    server.close()


def test_only_labelled_containers_are_mapped(hostile_engine: Path) -> None:
    services = LightEngine(str(hostile_engine), 5).services("p")
    assert list(services) == ["jwt"] and services["jwt"]["Id"] == "c"


def test_the_quick_lane_does_not_believe_odd_answers(cli: Any, tmp_path: Path,
                                                     hostile_engine: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "stack"
    source = write_answers(tmp_path, {"domain": "example.org", "project": "p"})
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    record = {"container": "p-jwt-1", "hash": "h", "image": "i", "mounted": []}
    write_state(str(stack), "p", {"livekit": {**record, "container": "p-livekit-1"},
                                  "jwt": record}, {"sfu_local": "x"})
    capsys.readouterr()
    for words in (["up", "--dir", str(stack)], ["status", "--dir", str(stack)]):
        assert quick(words) is None, words
    assert capsys.readouterr().out == "", "nothing printed: the usual way answers instead"


def test_a_log_is_taken_out_of_the_engines_frames() -> None:
    from nasrtc.engine.calls import demultiplex

    framed = (b"\x01\0\0\0\0\0\0\x06hello\n" + b"\x02\0\0\0\0\0\0\x0bbad config\n"
              + b"\x01\0\0\0\0\0\0\x03ok\n")
    assert demultiplex(framed) == b"hello\nbad config\nok\n"
    assert demultiplex(b"plain text from a tty\n") == b"plain text from a tty\n"
    assert demultiplex(b"") == b""
    # A frame that claims more than was sent keeps what is there, no error.
    assert demultiplex(b"\x01\0\0\0\0\0\0\xffshort") == b"short"


def test_the_engines_own_reason_is_kept(tmp_path: Path) -> None:
    """A refusal carries the engine's message (what the user can act on), not only a
    status number."""
    from nasrtc.engine.light import EngineRefused

    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            data = b'{"message":"Conflict. The container name \\"/x\\" is already in use"}'
            connection.sendall(b"HTTP/1.0 409 Conflict\r\nContent-Length: "
                               + str(len(data)).encode() + b"\r\n\r\n" + data)

    threading.Thread(target=serve, daemon=True).start()
    with pytest.raises(EngineRefused) as refused:
        LightEngine(str(path), 5).call("POST", "/containers/create", body={"Image": "x"},
                                       name="x")
    server.close()
    assert refused.value.status == 409
    assert 'The container name "/x" is already in use' in str(refused.value)


def test_the_service_is_the_container_under_its_own_name() -> None:
    """While `up` recreates a service, its old container, set aside under another name,
    carries the same labels; in whichever order the engine lists them, the service is the
    one under its own name (a set-aside copy only when nothing else is there)."""
    from nasrtc.engine.light import by_service

    labels = {"com.docker.compose.service": "redis"}
    current = {"Id": "new", "Names": ["/p-redis-1"], "Labels": labels}
    aside = {"Id": "old", "Names": ["/p-redis-1-replaced-0123456789ab"], "Labels": labels}
    odd = {"Id": "odd", "Names": "not a list", "Labels": labels}
    unlabelled = {"Id": "x", "Names": ["/p-other-1"], "Labels": {}}
    for order in ([current, aside, odd], [odd, aside, current], [aside, current]):
        assert by_service([*order, unlabelled], "p") == {"redis": current}
    assert by_service([aside, odd], "p")["redis"]["Id"] == "odd"  # not a copy set aside
    assert by_service([aside], "p") == {"redis": aside}
