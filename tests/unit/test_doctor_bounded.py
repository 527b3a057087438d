"""doctor always ends with rows, on time: any reply a hostile or broken server gives is a
FAIL row (never exit 70), a body dripped byte by byte stops at the request's deadline, and
bad --ca-file / --timeout / --ttl values are usage errors naming the option."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nasrtc.doctor import run_doctor
from nasrtc.doctor.net import Net
from tests.helpers import write_answers
from tests.unit.fakes import context, reply
from tests.unit.test_doctor_checks import HS, JWT, healthy


@pytest.mark.parametrize("answer", [
    http.client.LineTooLong("header line"),                 # 64 KiB headers
    http.client.HTTPException("got more than 100 headers"),
    http.client.BadStatusLine("SSH-2.0-OpenSSH_9.2"),        # a non-HTTP banner
], ids=["long-header", "many-headers", "banner"])
def test_a_broken_answer_is_a_fail_row(tmp_path: Path, answer: Exception) -> None:
    net = healthy().on("GET", f"{JWT}/healthz", answer)
    rows = {r.name: r for r in run_doctor(context(tmp_path, net, "t"), public_only=True)}
    row = rows["auth service (public)"]
    assert row.status == "fail" and row.detail.startswith("unexpected answer")


@pytest.mark.parametrize(("path", "body"), [
    ("/_matrix/client/versions", ["not", "an", "object"]),
    ("/_matrix/client/v3/account/whoami", {"no_user_id": True}),
], ids=["versions-is-a-list", "whoami-without-user_id"])
def test_json_of_another_shape_is_a_fail_row(tmp_path: Path, path: str, body: Any) -> None:
    net = healthy().on("GET", f"{HS}{path}", reply(200, body))
    rows = run_doctor(context(tmp_path, net, "t"), public_only=True)
    assert any(r.status == "fail" and "unexpected answer" in r.detail for r in rows)


def test_a_dripping_server_ends_at_the_deadline() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def drip() -> None:
        connection, _ = server.accept()
        connection.recv(1000)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        try:
            for _ in range(100):
                connection.sendall(b"x")
                time.sleep(0.3)  # each byte well within the socket timeout
        except OSError:
            pass
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(socket.timeout):
        Net(timeout=1).request("GET", f"http://127.0.0.1:{port}/")
    assert time.monotonic() - started < 6, "bounded by 3 x --timeout, not by the body"
    server.close()


def test_bad_options_are_usage_errors(cli: Any, tmp_path: Path) -> None:
    source = write_answers(tmp_path, {"domain": "example.org"})
    stack = tmp_path / "stack"
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    for args, option in ((["--ca-file", str(tmp_path / "missing.pem")], "--ca-file"),
                         (["--ca-file", str(not_pem)], "--ca-file"),
                         (["--ca-file", str(tmp_path)], "--ca-file"),
                         (["--timeout", "-1"], "--timeout")):
        result = cli("doctor", "--dir", str(stack), *args)
        assert result.code == 2 and option in result.err, (args, result.err)
        assert "Traceback" not in result.err and "internal error" not in result.err
    absurd = cli("token", "--dir", str(stack), "--room", "r", "--identity", "i",
                 "--ttl", "99999999d")
    assert absurd.code == 2 and "--ttl" in absurd.err
