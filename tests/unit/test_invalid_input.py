"""Bad answers: exit 2, one message per problem naming the key and what is
allowed, no traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_subprocess, snapshot, write_answers


def init_fails(cli: Any, tmp_path: Path, answers: dict[str, Any] | str) -> str:
    if isinstance(answers, str):
        source = tmp_path / "answers.yaml"
        source.write_text(answers)
    else:
        source = write_answers(tmp_path, answers)
    stack = tmp_path / "stack"
    result = cli("init", "--dir", str(stack), "--answers", str(source))
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err
    assert "nothing was written" in result.err
    assert snapshot(stack) == {}, "a rejected run must not write anything"
    return str(result.err)


CASES = [
    ({}, "domain", "missing and has no default"),
    ({"domain": "https://example.org"}, "domain", "has a scheme"),
    ({"domain": "example.org/matrix"}, "domain", "has a path"),
    ({"domain": "example.org:8448"}, "domain", "has a port"),
    ({"domain": "localhost"}, "domain", "has no dot"),
    ({"domain": "exa mple"}, "domain", "'exa mple' contains a space"),
    ({"domain": "matrix. example.org"}, "domain", "contains a space"),
    ({"domain": "exa_mple.org"}, "domain", "is not allowed"),
    ({"domain": "example.org", "jwt_host": "-bad.example.org"}, "jwt_host", "is not allowed"),
    ({"domain": "example.org", "homeserver_url": "http://matrix.example.org"},
     "homeserver_url", "not an https base URL"),
    ({"domain": "example.org", "ports": {"rtc_tcp": 70000}}, "ports.rtc_tcp", "1 to 65535"),
    ({"domain": "example.org", "ports": {"rtc_tcp": "fast"}}, "ports.rtc_tcp", "expected a whole number"),
    ({"domain": "example.org", "ports": {"rtc_tcp": True}}, "ports.rtc_tcp", "expected a whole number"),
    ({"domain": "example.org", "turn": {"enabled": "yes"}}, "turn.enabled", "expected true or false"),
    ({"domain": "example.org", "profile": "qnap"}, "profile", "expected one of: generic, synology"),
    ({"domain": "example.org", "version": 2}, "version", "upgrade nasrtc"),
    ({"domain": "example.org", "sfu_host": "jwt.example.org"}, "sfu_host", "equals jwt_host"),
    ({"domain": "example.org", "ports": {"rtc_udp_range": "50000-50005", "rtc_udp": None}},
     "ports.rtc_udp_range", "at least 10 are needed"),
    ({"domain": "example.org", "ports": {"rtc_udp_range": "50100-50000"}},
     "ports.rtc_udp_range", "end is below the start"),
    ({"domain": "example.org", "ports": {"rtc_udp": 7882, "rtc_udp_range": "50000-50200"}},
     "ports.rtc_udp_range", "both set"),
    ({"domain": "example.org", "ports": {"rtc_udp_range": "50000-50200"},
      "network": {"livekit_mode": "bridge"}}, "ports.rtc_udp_range", "docker-proxy"),
    ({"domain": "example.org", "network": {"public_ip": "192.168.1.2"}},
     "network.public_ip", "private or reserved"),
    ({"domain": "example.org", "network": {"stun_servers": "stun.example.org:3478"}},
     "network.stun_servers", "expected a list of STUN servers such as"),
    ({"domain": "example.org", "network": {"stun_servers": ["stun.example.org"]}},
     "network.stun_servers", "has no port; expected host:port"),
    ({"domain": "example.org", "network": {"stun_servers": ["stun.example.org:99999"]}},
     "network.stun_servers", "1 to 65535"),
    ({"domain": "example.org", "network": {"stun_servers": ["https://stun.example.org:3478"]}},
     "network.stun_servers", "has a scheme"),
    ({"domain": "example.org", "network": {"livekit_mode": "macvlan"}},
     "network.livekit_mode", "expected one of: host, bridge"),
    ({"domain": "example.org", "turn": {"enabled": True, "tls_port": 5349}},
     "turn.cert_file", "required with turn.tls_port"),
    ({"domain": "example.org", "profile": "synology",
      "turn": {"enabled": True, "tls_port": 5349, "cert_file": "/c", "key_file": "/k"}},
     "turn.tls_port", "cannot work on Synology DSM: DSM's web server owns port 443"),
    ({"domain": "example.org", "turn": {"enabled": True, "tls_port": 5349, "cert_file": "/c",
                                        "key_file": "/k", "domain": "sfu.example.org"}},
     "turn.domain", "needs its own (turn.<domain>)"),
    ({"domain": "example.org", "external_turn": {"host": "turn.example.org", "auth": "password"}},
     "external_turn.username", "required with external_turn.auth: password"),
    ({"domain": "example.org", "external_turn": {"host": "turn.example.org", "auth": "secret",
                                                 "username": "u"}},
     "external_turn.username", "not used with external_turn.auth: secret"),
    ({"domain": "example.org", "ports": "7880"}, "ports", "should be a mapping"),
    ({"domain": "example.org", "full_access_homeservers": []},
     "full_access_homeservers", "non-empty list"),
]


@pytest.mark.parametrize(("answers", "key", "text"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_bad_answer_is_named_with_what_is_allowed(cli: Any, tmp_path: Path,
                                                  answers: dict[str, Any], key: str,
                                                  text: str) -> None:
    err = init_fails(cli, tmp_path, answers)
    line = next((ln for ln in err.splitlines() if ln.strip().startswith(f"- {key}:")), None)
    assert line is not None, f"no line names {key!r}:\n{err}"
    assert text in line, err


def test_reserved_dsm_port_names_the_owner(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"profile": "synology", "domain": "example.org",
                                     "ports": {"jwt_http": 5000}})
    assert "- ports.jwt_http: TCP port 5000 is reserved on Synology DSM" in err
    assert "80, 443, 5000, 5001" in err


def test_reserved_port_inside_a_range(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"profile": "generic", "domain": "example.org",
                                     "ports": {"rtc_udp_range": "60-500", "rtc_udp": None,
                                               "rtc_tcp": 443}})
    assert "- ports.rtc_tcp: TCP port 443 is reserved" in err


def test_overlapping_ports_same_protocol(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"domain": "example.org",
                                     "ports": {"jwt_http": 7881}})
    assert "- ports.jwt_http: TCP 7881 overlaps ports.rtc_tcp (7881)" in err


def test_udp_range_overlapping_turn(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"domain": "example.org", "turn": {"enabled": True},
                                     "ports": {"rtc_udp_range": "3400-3500"}})
    assert "- turn.udp_port: UDP 3478 overlaps ports.rtc_udp_range (3400-3500)" in err


def test_same_number_tcp_and_udp_is_fine(cli: Any, tmp_path: Path) -> None:
    source = write_answers(tmp_path, {"domain": "example.org",
                                      "ports": {"rtc_tcp": 7882, "rtc_udp": 7882,
                                                "livekit_http": 7880}})
    result = cli("init", "--dir", str(tmp_path / "s"), "--answers", str(source))
    assert result.code == 0, result.err


def test_every_problem_is_reported_at_once(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"domain": "Example.org", "jwt_host": "https://x.org",
                                     "ports": {"rtc_tcp": 0, "jwt_http": "x"}})
    assert ": 3 problems; nothing was written" in err
    for key in ("jwt_host", "ports.rtc_tcp", "ports.jwt_http"):
        assert f"- {key}:" in err


def test_a_bad_value_and_an_overlap_are_reported_together(cli: Any, tmp_path: Path) -> None:
    """Rules across keys run on the keys that are valid, so one run lists everything."""
    err = init_fails(cli, tmp_path, {"domain": "example.org",
                                     "ports": {"livekit_http": 7881, "jwt_http": "eighty"}})
    assert ": 2 problems; nothing was written" in err
    assert "- ports.jwt_http: 'eighty' is text; expected a whole number" in err
    assert "- ports.rtc_tcp: TCP 7881 overlaps ports.livekit_http (7881)" in err


def test_a_rule_about_a_faulty_key_waits_for_its_fix(cli: Any, tmp_path: Path) -> None:
    """No message quotes a value nobody wrote: a bad rtc_tcp is not checked for overlaps."""
    err = init_fails(cli, tmp_path, {"domain": "example.org",
                                     "ports": {"rtc_tcp": "x", "jwt_http": 7881}})
    assert ": 1 problem; nothing was written" in err and "overlaps" not in err


def test_unknown_key_is_not_ignored_and_a_typo_gets_a_suggestion(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"domain": "example.org", "sfu_hots": "sfu.example.org",
                                     "ports": {"rtc_tpc": 7881}})
    assert "- sfu_hots: unknown key; did you mean 'sfu_host'?" in err
    assert "- ports.rtc_tpc: unknown key; did you mean 'ports.rtc_tcp'?" in err


def test_a_secret_in_the_answers_file_is_refused(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, {"domain": "example.org", "livekit_api_secret": "hunter2"})
    assert "- livekit_api_secret: unknown key" in err
    assert "hunter2" not in err, "a secret typed into the answers must not be echoed"


def test_not_yaml(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, "domain: example.org\nports: [7880, \n  bad: {")
    assert "is not valid YAML at line" in err


def test_yaml_that_is_not_a_mapping(cli: Any, tmp_path: Path) -> None:
    err = init_fails(cli, tmp_path, "- domain\n- example.org\n")
    assert "expected a mapping of keys" in err


def test_missing_answers_file(cli: Any, tmp_path: Path) -> None:
    result = cli("init", "--dir", str(tmp_path / "s"), "--answers", str(tmp_path / "nope.yaml"))
    assert result.code == 2
    assert "no such answers file" in result.err
    assert not (tmp_path / "s").exists()


def test_missing_domain_in_a_real_process_exits_2(tmp_path: Path) -> None:
    source = write_answers(tmp_path, {"profile": "synology"})
    result = run_subprocess("init", "--dir", str(tmp_path / "s"), "--answers", str(source))
    assert result.code == 2
    assert "- domain: missing and has no default; add e.g. 'domain: example.org'" in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "s").exists()


def test_no_terminal_and_no_answers_says_how_to_run(tmp_path: Path) -> None:
    result = run_subprocess("init", "--dir", str(tmp_path / "s"))
    assert result.code == 2
    assert "--answers" in result.err and "no terminal" in result.err


def test_dir_that_is_a_file(cli: Any, tmp_path: Path) -> None:
    source = write_answers(tmp_path, {"domain": "example.org"})
    (tmp_path / "file").write_text("x")
    result = cli("init", "--dir", str(tmp_path / "file"), "--answers", str(source))
    assert result.code == 2
    assert "is not a folder" in result.err


def test_uppercase_and_trailing_dot_are_folded(cli: Any, tmp_path: Path) -> None:
    source = write_answers(tmp_path, {"domain": "Example.ORG."})
    stack = tmp_path / "s"
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    assert "LIVEKIT_URL: \"wss://sfu.example.org\"" in (stack / "compose.yaml").read_text()
