"""The wizard's questions and checks, without a terminal; platform detection on
fake marker files under a temporary root (never the host's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nasrtc.answers import resolve
from nasrtc.errors import InputError
from nasrtc.host.platform import detect_platform
from nasrtc.wizard.questions import (
    PUBLIC_IP_MODE,
    QUESTIONS,
    UDP_MODE,
    Context,
    Question,
    applicable,
    check,
    parse,
    record,
)
from tests.helpers import profiles_with_defaults

BY_KEY = {q.key: q for q in QUESTIONS}


def context(**kwargs: Any) -> Context:
    """A wizard run; `previous` is what an earlier run's nasrtc.yaml set."""
    ctx = Context.start(kwargs.pop("previous", {}), "generic", "Linux", **kwargs)
    ctx.answers.update({"profile": "generic", "domain": "example.org"})
    return ctx


def answer(ctx: Context, key: str, text: str) -> str | None:
    question = BY_KEY[key]
    value = parse(question, text)
    problem = check(ctx, question, value)
    if problem is None:
        record(ctx, question, value)
    return problem


def file_message(raw: dict[str, Any], key: str) -> str:
    with pytest.raises(InputError) as caught:
        resolve(raw)
    return next(p.message for p in caught.value.problems if p.key == key)


def test_questions_cover_what_the_issue_asks() -> None:
    keys = [q.key for q in QUESTIONS]
    for key in ("profile", "domain", "homeserver_url", "jwt_host", "sfu_host", UDP_MODE,
                "ports.rtc_udp", "ports.rtc_udp_range", "ports.rtc_tcp", "turn.enabled", "redis.enabled",
                PUBLIC_IP_MODE, "network.public_ip", "network.lan_ip"):
        assert key in keys
    assert all(q.help for q in QUESTIONS), "every question has a line of help"


def test_messages_are_the_answers_file_messages() -> None:
    ctx = context()
    assert answer(ctx, "domain", "https://example.org") == file_message(
        {"domain": "https://example.org"}, "domain")
    assert answer(ctx, "ports.rtc_tcp", "99999") == file_message(
        {"domain": "example.org", "ports": {"rtc_tcp": 99999}}, "ports.rtc_tcp")


def test_reserved_and_overlapping_ports_are_flagged_as_typed() -> None:
    ctx = context()
    ctx.answers["profile"] = "synology"
    problem = answer(ctx, "ports.jwt_http", "5001")
    assert problem is not None and "reserved on Synology DSM" in problem
    assert answer(ctx, "ports.rtc_tcp", "7000") is None
    problem = answer(ctx, "ports.jwt_http", "7000")
    assert problem is not None and "overlaps ports.rtc_tcp" in problem


def test_a_busy_port_is_flagged_with_its_owner() -> None:
    busy = {("tcp", 7881): "container nextcloud"}
    ctx = context(port_check=lambda proto, port: busy.get((proto, port)))
    problem = answer(ctx, "ports.rtc_tcp", "7881")
    assert problem == "TCP port 7881 is already in use on this host (container nextcloud); " \
                      "pick another"
    assert answer(ctx, "ports.rtc_tcp", "7891") is None


def test_a_busy_port_from_the_previous_run_is_accepted() -> None:
    """On a re-run the stack itself may hold its ports."""
    ctx = context(previous={"ports.rtc_tcp": 7881},
                  port_check=lambda proto, port: "container matrixrtc-jwt-1")
    assert answer(ctx, "ports.rtc_tcp", "7881") is None
    assert answer(ctx, "ports.rtc_tcp", "7891") is not None


def test_busy_port_inside_a_range() -> None:
    ctx = context(port_check=lambda proto, port: "mediaserver" if port == 50100 else None)
    record(ctx, BY_KEY[UDP_MODE], "range")
    problem = answer(ctx, "ports.rtc_udp_range", "50000-50200")
    assert problem is not None and "UDP port 50100 is already in use" in problem


def test_udp_mode_decides_which_port_question_is_asked() -> None:
    ctx = context()
    record(ctx, BY_KEY[UDP_MODE], "range")
    keys = [q.key for q in applicable(ctx)]
    assert "ports.rtc_udp_range" in keys and "ports.rtc_udp" not in keys
    assert ctx.answers["ports.rtc_udp"] is None  # explicit null: no clash with the range
    record(ctx, BY_KEY[UDP_MODE], "mux")
    keys = [q.key for q in applicable(ctx)]
    assert "ports.rtc_udp" in keys and "ports.rtc_udp_range" not in keys


def test_turn_port_asked_only_when_turn_is_on() -> None:
    ctx = context()
    record(ctx, BY_KEY["turn.enabled"], False)
    assert "turn.udp_port" not in [q.key for q in applicable(ctx)]
    record(ctx, BY_KEY["turn.enabled"], True)
    assert "turn.udp_port" in [q.key for q in applicable(ctx)]


def test_public_ip_offers_the_found_address_and_tolerates_none() -> None:
    question = BY_KEY[PUBLIC_IP_MODE]
    offline = context()
    assert [v for v, _ in question.choices(offline)] == ["stun", "fixed"]
    online = context(public_ip=("93.184.216.34", "api.example"))
    values = [v for v, _ in question.choices(online)]
    assert values == ["stun", "93.184.216.34", "fixed"]
    assert question.default(online) == "stun"
    record(online, question, "93.184.216.34")
    assert online.answers["network.public_ip"] == "93.184.216.34"
    assert "network.public_ip" not in [q.key for q in applicable(online)]


def test_defaults_follow_the_domain_unless_the_user_chose_a_name() -> None:
    ctx = context(previous={"domain": "old.org", "jwt_host": "jwt.old.org",
                            "sfu_host": "calls.old.org"})
    ctx.answers["domain"] = "new.org"
    assert BY_KEY["jwt_host"].default(ctx) == "jwt.new.org"
    assert BY_KEY["sfu_host"].default(ctx) == "calls.old.org"


def test_empty_lan_address_means_fill_in_by_hand() -> None:
    ctx = context(lan_ip="192.168.1.10")
    assert BY_KEY["network.lan_ip"].default(ctx) == "192.168.1.10"
    assert answer(ctx, "network.lan_ip", "") is None
    assert ctx.answers["network.lan_ip"] is None
    problem = answer(ctx, "network.lan_ip", "8.8.8.8")
    assert problem is not None and "not a LAN address" in problem


def test_answers_make_a_valid_answers_file() -> None:
    ctx = context()
    for key, text in (("ports.rtc_tcp", "7001"), ("network.lan_ip", "10.0.0.5")):
        assert answer(ctx, key, text) is None
    record(ctx, BY_KEY[UDP_MODE], "mux")
    resolved = resolve(ctx.raw())
    assert resolved["ports.rtc_tcp"] == 7001 and resolved["network.lan_ip"] == "10.0.0.5"


DSM_VERSION = '''majorversion="7"
minorversion="2"
productversion="7.2.1"
buildphase="GM"
buildnumber="69057"
smallfixnumber="5"
os_name="DSM"
'''


def test_detects_dsm_with_its_version(tmp_path: Path) -> None:
    (tmp_path / "etc.defaults").mkdir()
    (tmp_path / "etc.defaults" / "VERSION").write_text(DSM_VERSION)
    found = detect_platform(tmp_path)
    assert found.profile == "synology"
    assert found.description == "Synology DSM 7.2.1-69057 Update 5"


def test_detects_dsm_from_synoinfo_alone(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "synoinfo.conf").write_text('unique="synology_x86_64"\n')
    found = detect_platform(tmp_path)
    assert found.profile == "synology" and found.description == "Synology DSM"


def test_generic_linux_names_the_distribution(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12"\n')
    found = detect_platform(tmp_path)
    assert found.profile == "generic" and found.description == "Linux (Debian GNU/Linux 12)"
    assert detect_platform(tmp_path / "empty").description == "Linux"


def test_question_type_is_known() -> None:
    assert {q.kind for q in QUESTIONS} <= {"text", "select", "confirm"}
    assert all(isinstance(q, Question) for q in QUESTIONS)


def test_a_clash_is_shown_at_the_question_being_answered() -> None:
    """LiveKit's HTTP port is asked after the TCP media port: typing the same number
    there must be refused there, not blamed on the earlier answer at the end."""
    ctx = context()
    assert answer(ctx, "ports.rtc_tcp", "7881") is None
    problem = answer(ctx, "ports.livekit_http", "7881")
    assert problem == "TCP 7881 overlaps ports.rtc_tcp (7881); every TCP port must be different"
    assert "ports.livekit_http" not in ctx.answers


def test_a_clash_with_a_later_questions_default_is_shown_now() -> None:
    ctx = context()
    problem = answer(ctx, "ports.rtc_tcp", "7880")
    assert problem is not None and "overlaps ports.livekit_http (7880)" in problem


def test_defaults_come_from_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile default is what the wizard offers, as it is what --yes writes."""
    from nasrtc.profiles import PROFILES_ENV, forget_loaded

    folder = profiles_with_defaults(tmp_path / "profiles", "generic",
                                    {"ports.rtc_tcp": 7991, "turn.udp_port": 3479})
    monkeypatch.setenv(PROFILES_ENV, str(folder))
    forget_loaded()
    try:
        ctx = context()
        assert BY_KEY["ports.rtc_tcp"].default(ctx) == 7991
        assert BY_KEY["turn.udp_port"].default(ctx) == 3479
        assert resolve({"domain": "example.org"})["ports.rtc_tcp"] == 7991
    finally:
        forget_loaded()


def test_previous_answers_that_were_defaults_follow_new_defaults() -> None:
    """A re-run offers a port the user chose, but not one that was merely the default."""
    ctx = context(previous={"domain": "example.org", "ports.rtc_tcp": 7881,
                            "ports.jwt_http": 8181})
    assert ctx.kept == {"domain": "example.org", "ports.jwt_http": 8181}
    assert BY_KEY["ports.jwt_http"].default(ctx) == 8181
