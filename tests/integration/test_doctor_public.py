"""nasrtc doctor's public side against real servers on loopback: Debian's nginx running
the nginx.conf nasrtc generated, a real Synapse with and without matrix/homeserver.yaml,
certificates from a test CA, stand-ins for LiveKit and the auth service (doctor_env.py).
Names reach them through doctor's own --connect-to, never /etc/hosts.

doctor runs with --public here: the stand-ins are processes, not containers, so the
containers row would rightly fail; the local rows have their own engine tests."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    REQUIRE_TOOLS,
    doctor_rows,
    free_port,
    needs,
    run_subprocess,
)
from tests.integration.doctor_env import (
    DOMAIN,
    HOMESERVER,
    JWT,
    SFU,
    Certificates,
    Synapse,
    World,
    connect_to,
    synapse_python,
)

pytestmark = [
    needs("nginx", "nginx"),
    pytest.mark.skipif(synapse_python() is None and not REQUIRE_TOOLS,
                       reason="no Synapse venv (tests/run.sh makes .venv-test/synapse with "
                              "`pip install matrix-synapse`)"),
]


def _statuses(rows: dict[str, dict[str, str]]) -> dict[str, str]:
    return {name: row["status"] for name, row in rows.items()}


def test_a_correct_setup_passes(fresh: World) -> None:
    port = fresh.proxy()
    result, rows = fresh.doctor(port)
    assert result.code == 0, json.dumps(rows, indent=1)
    # IPv6 (AAAA): network.ipv6 is off and --connect-to decides where the names lead
    expected_skips = {"this machine", "router: UDP", "IPv6 (AAAA)"}
    assert {n for n, s in _statuses(rows).items() if s != "pass"} == expected_skips, rows
    # the round trip really went through: Element Call's request shape, the real user
    request = fresh.auth.requests[-1]
    assert request["member"]["claimed_user_id"] == f"@doctor:{DOMAIN}"
    assert request["openid_token"]["matrix_server_name"] == DOMAIN
    assert "wss://sfu.example.org" in rows["token round trip"]["detail"]
    assert "valid:" in rows["certificates"]["detail"] and JWT in rows["certificates"]["detail"]
    # and the table a person reads says the same
    table = run_subprocess("doctor", "--public", "--dir", str(fresh.stack), "--ca-file",
                           str(fresh.certs.ca_file), *connect_to(port))
    assert table.code == 0 and "0 failed" in table.out


def test_missing_cors_on_the_well_known_file(fresh: World) -> None:
    result, rows = fresh.doctor(fresh.proxy(well_known_cors=False))
    assert result.code == 1
    assert {n for n, s in _statuses(rows).items() if s == "fail"} == {"well-known"}
    assert "Access-Control-Allow-Origin: * is missing" in rows["well-known"]["detail"]
    assert "Access-Control-Allow-Origin: *" in rows["well-known"]["fix"]


@pytest.mark.parametrize("header", ['add_header Access-Control-Allow-Origin "*";',
                                    "add_header Access-Control-Allow-Origin * always;"],
                         ids=["guide-style", "always"])
def test_a_second_cors_header_from_the_proxy(fresh: World, header: str) -> None:
    """The guide style (no `always`) only shows on successful answers: doctor's preflight
    catches it even though GET /get_token answers 405."""
    jwt_upstream = f"proxy_pass http://127.0.0.1:{fresh.auth.server.port};"

    def add_cors(text: str) -> str:
        assert jwt_upstream in text
        return text.replace(jwt_upstream, f"{jwt_upstream}\n        {header}")

    result, rows = fresh.doctor(fresh.proxy(add_cors))
    assert result.code == 1
    assert {n for n, s in _statuses(rows).items() if s == "fail"} == {"auth service CORS"}
    assert "sent 2 times" in rows["auth service CORS"]["detail"]
    assert rows["auth service CORS"]["fix"].startswith(
        f"remove the CORS header your reverse proxy adds for {JWT}")


def test_missing_websocket_headers_on_the_sfu_row(fresh: World) -> None:
    def drop_upgrade(text: str) -> str:
        kept = [line for line in text.splitlines()
                if "proxy_set_header Upgrade" not in line
                and "proxy_set_header Connection" not in line]
        assert len(kept) == len(text.splitlines()) - 2
        return "\n".join(kept)

    result, rows = fresh.doctor(fresh.proxy(drop_upgrade))
    assert result.code == 1
    assert {n for n, s in _statuses(rows).items() if s == "fail"} == {"SFU WebSocket"}
    assert rows["SFU (public)"]["status"] == "pass"  # plain HTTP still works: pinpointed
    assert "Upgrade/Connection" in rows["SFU WebSocket"]["detail"]
    assert f"enable WebSocket on the {SFU} row" in rows["SFU WebSocket"]["fix"]


@pytest.mark.parametrize(("extra", "transports", "missing"), [
    ("\nexperimental_features:\n  msc4143_enabled: true\n", "answers {}",
     "org.matrix.msc4140"),
    ("", "does not offer RTC transport discovery", "org.matrix.msc4140, org.matrix.msc4143"),
], ids=["msc4143-without-transports", "without-homeserver-settings"])
def test_homeserver_without_the_settings(fresh: World, extra: str, transports: str,
                                         missing: str) -> None:
    python = synapse_python()
    assert python
    other = Synapse(python, fresh.root / f"synapse-{free_port()}", DOMAIN, extra).start()
    fresh.started.append(other)
    fresh.auth.homeservers[DOMAIN] = other.url
    try:
        result, rows = fresh.doctor(fresh.proxy(synapse=other), token=other.access_token)
    finally:
        fresh.auth.homeservers[DOMAIN] = fresh.synapse.url
    assert result.code == 1
    assert rows["homeserver features"]["status"] == "fail"
    assert rows["homeserver features"]["detail"] == f"not enabled: {missing}"
    assert rows["RTC transports"]["status"] == "fail"
    assert transports in rows["RTC transports"]["detail"]
    assert "matrix_rtc" in rows["RTC transports"]["fix"]
    assert "restart Synapse" in rows["RTC transports"]["fix"]
    # the rest works: calls fail only because clients cannot find the auth service
    assert rows["token round trip"]["status"] == "pass"
    assert rows["well-known"]["status"] == "pass"


@pytest.mark.parametrize(("host", "kind", "detail", "fix"), [
    (SFU, "expired", "sfu.example.org: the certificate has expired", "renew the certificate"),
    (JWT, "wrong-name", "jwt.example.org: the certificate is for another name",
     "get a certificate that names jwt.example.org"),
])
def test_bad_certificates(fresh: World, host: str, kind: str, detail: str, fix: str) -> None:
    bad = Certificates.__new__(Certificates)
    bad.ca, bad.folder = fresh.certs.ca, fresh.root / f"certs-{kind}"
    if kind == "expired":
        bad.issue(host, days=(-100, -10))
    else:
        bad.issue(host, for_names=("other.example.net",))

    def use_bad_certificate(text: str) -> str:
        return text.replace(f"{fresh.certs.folder}/{host}/", f"{bad.folder}/{host}/")

    result, rows = fresh.doctor(fresh.proxy(use_bad_certificate))
    assert result.code == 1
    assert rows["certificates"]["status"] == "fail"
    assert detail in rows["certificates"]["detail"]
    assert fix in rows["certificates"]["fix"]
    # the rows that use that name point back to the certificates row
    row = "SFU (public)" if host == SFU else "auth service (public)"
    assert rows[row]["status"] == "fail" and "certificates row" in rows[row]["fix"]


def test_a_certificate_about_to_expire_warns(fresh: World) -> None:
    soon = Certificates.__new__(Certificates)
    soon.ca, soon.folder = fresh.certs.ca, fresh.root / "certs-soon"
    soon.issue(SFU, days=(-80, 5))

    def use_it(text: str) -> str:
        return text.replace(f"{fresh.certs.folder}/{SFU}/", f"{soon.folder}/{SFU}/")

    result, rows = fresh.doctor(fresh.proxy(use_it))
    assert result.code == 0  # a warning is not a failure
    assert rows["certificates"]["status"] == "warn"
    assert "sfu.example.org expires in 4 days" in rows["certificates"]["detail"]


def test_auth_service_down(fresh: World) -> None:
    port = fresh.proxy()
    fresh.auth.stop()
    try:
        result, rows = fresh.doctor(port)
    finally:
        fresh.auth.start()
    assert result.code == 1
    upstream = f"127.0.0.1:{fresh.auth.server.port}"
    assert rows["auth service (public)"]["status"] == "fail"
    assert "answered 502" in rows["auth service (public)"]["detail"]
    assert upstream in rows["auth service (public)"]["fix"]
    assert "container" in rows["auth service (public)"]["fix"]
    assert rows["token round trip"]["status"] == "fail"
    assert rows["SFU WebSocket"]["status"] == "pass"  # the rest is unaffected


def test_a_bad_access_token_is_named(fresh: World) -> None:
    result, rows = fresh.doctor(fresh.proxy(), token="syt_not_a_real_token")
    assert result.code == 1
    for name in ("RTC transports", "token round trip"):
        assert rows[name]["status"] == "fail"
        assert "does not accept the access token" in rows[name]["detail"]
        assert "NASRTC_ACCESS_TOKEN" in rows[name]["fix"]
    assert "syt_not_a_real_token" not in result.out


def test_the_ca_file_matters(fresh: World) -> None:
    """Without --ca-file the test CA is unknown: every TLS row fails, none hangs."""
    port = fresh.proxy()
    result = run_subprocess("doctor", "--public", "--json", "--dir", str(fresh.stack),
                            "--timeout", "3", *connect_to(port, rtc=False),
                            env={"NASRTC_CA_FILE": ""})
    rows = doctor_rows(result)
    assert result.code == 1
    assert "--ca-file" in rows["certificates"]["fix"]
    assert rows["auth service (public)"]["status"] == "fail"
    assert "certificate" in rows["auth service (public)"]["detail"]


def uncomment_well_known(snippet: str) -> str:
    """matrix/homeserver.yaml with its commented well-known lines switched on, as the
    Synology checklist tells a user to do."""
    head, marker, tail = snippet.partition("uncomment these")
    assert marker, "the well-known lines are in the snippet"
    first, _, rest = tail.partition("\n")
    lines = [line[2:] if line.startswith("# ") else line for line in rest.splitlines()]
    return head + marker + first + "\n" + "\n".join(lines) + "\n"


def test_synapse_can_serve_the_well_known_file_itself(fresh: World) -> None:
    """DSM's reverse proxy cannot serve a file: the checklist has Synapse serve it."""
    import urllib.request

    python = synapse_python()
    assert python
    snippet = uncomment_well_known((fresh.stack / "matrix" / "homeserver.yaml").read_text())
    synapse = Synapse(python, fresh.root / "synapse-well-known", DOMAIN, snippet).start()
    fresh.started.append(synapse)
    with urllib.request.urlopen(f"{synapse.url}/.well-known/matrix/client", timeout=10) as got:
        data = json.loads(got.read())
        assert got.headers["Access-Control-Allow-Origin"] == "*"
        assert "json" in got.headers["Content-Type"]
    assert data["m.homeserver"]["base_url"].rstrip("/") == f"https://{HOMESERVER}"
    assert data["org.matrix.msc4143.rtc_foci"] == [
        {"type": "livekit", "livekit_service_url": f"https://{JWT}"}]
