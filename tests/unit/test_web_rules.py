"""The web page's rules that need no server: the one-time link and the session, the names
the page answers under, --listen, the browser's language, where a link may lead back to,
and how a form is replayed through the wizard's questions (a field left as offered follows
the answers above it). Runs on Python 3.8 too: none of it needs waitress."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasrtc.errors import NasrtcError
from nasrtc.web.app import Request, _local_path, page_language
from nasrtc.web.form import ASKED, FOLDER, OFFERED, Host, evaluate
from nasrtc.web.guard import Guard, host_names
from nasrtc.web.server import DEFAULT_PORT, parse_listen


def test_a_link_works_once_and_a_second_browser_takes_the_session() -> None:
    guard = Guard(frozenset())
    first = guard.link
    assert guard.exchange("wrong") == "wrong" and guard.session is None
    assert guard.exchange(first) == "ok"
    session, csrf = guard.session, guard.csrf
    assert session and csrf and guard.link != first
    assert guard.exchange(first) == "used", "a replayed link is told apart from a wrong one"
    assert guard.signed_in(session) == "yes" and guard.csrf_ok(csrf)
    assert not guard.csrf_ok(None) and not guard.csrf_ok("") and not guard.csrf_ok(csrf[:-1])
    assert guard.exchange(guard.new_link()) == "ok"
    assert guard.signed_in(session) == "replaced", "the first browser is told, not ignored"
    assert not guard.csrf_ok(csrf), "its form tokens went with its session"
    assert guard.signed_in("made-up") == "no" and guard.signed_in(None) == "no"


def test_the_page_answers_under_its_address_and_the_nas_names_only() -> None:
    hosts = host_names("192.168.1.20", 8765, ["DiskStation", "diskstation.local."])
    guard = Guard(hosts)
    for allowed in ("192.168.1.20:8765", "diskstation:8765", "DISKSTATION.local:8765"):
        assert guard.host_allowed(allowed), allowed
    for refused in ("192.168.1.20", "192.168.1.20:80", "evil.example:8765", "",
                    None, "diskstation.local.evil:8765", "localhost:8765"):
        assert not guard.host_allowed(refused), refused
    assert "127.0.0.1:80" in host_names("127.0.0.1", 80, []) and \
        "localhost" in host_names("127.0.0.1", 80, []), "port 80: browsers send no port"
    assert "[::1]:8765" in host_names("::1", 8765, [])


@pytest.mark.parametrize(("text", "wanted"), [
    (None, (None, DEFAULT_PORT)), (":9000", (None, 9000)), ("10.0.0.2", ("10.0.0.2", 8765)),
    ("10.0.0.2:80", ("10.0.0.2", 80)), ("[fd00::2]:81", ("fd00::2", 81)),
    ("127.0.0.1:0", ("127.0.0.1", 0))])
def test_listen(text: str | None, wanted: tuple[str | None, int]) -> None:
    assert parse_listen(text) == wanted


@pytest.mark.parametrize("text", ["nas:80", "10.0.0.2:http", "10.0.0.2:65536", "a:b:c",
                                  "300.1.1.1:80"])
def test_a_bad_listen_names_the_option(text: str) -> None:
    with pytest.raises(NasrtcError) as raised:
        parse_listen(text)
    assert "--listen" in str(raised.value.render()) or "--listen" in raised.value.message


def request(languages: str = "", cookie: str = "") -> Request:
    return Request("GET", "/", {}, {}, set(), {"nasrtc_lang": cookie} if cookie else {},
                   "x", languages)


def test_the_browsers_language_then_the_switch() -> None:
    assert page_language(request("de-DE,de;q=0.9,en;q=0.8")) == "de"
    assert page_language(request("fr-FR,ru;q=0.5,de;q=0.4")) == "ru", "the first one spoken"
    assert page_language(request("zh-TW,zh-CN;q=0.8")) == "zh_CN", "simplified only"
    assert page_language(request("en;q=0.1,de;q=0.9")) == "de", "by weight, not order"
    assert page_language(request("*")) == "en" and page_language(request("")) == "en"
    assert page_language(request("de", cookie="ru")) == "ru"
    assert page_language(request("de", cookie="xx")) == "de", "an unknown choice is ignored"


def test_back_links_stay_on_this_page() -> None:
    assert _local_path("/wizard") == "/wizard"
    for outside in ("//evil.example/", "https://evil.example/", "\\\\evil", "evil", "",
                    "/\t/evil.example", "/\n/evil.example", "/\\evil.example"):
        assert _local_path(outside) == "/", outside


def host(tmp_path: Path) -> Host:
    return Host("generic", "Linux", tmp_path / "default", {"lan_ip": "192.168.1.20"})


def test_a_field_left_as_offered_follows_the_answers_above_it(tmp_path: Path) -> None:
    first = evaluate({}, set(), host(tmp_path), tmp_path / "stack")
    assert not first.complete and first.problems == {}, "no problem said of unseen fields"
    shown = {f.key: f.value for f in first.fields}
    form = {**shown, **{OFFERED + k: v for k, v in shown.items()}, "domain": "example.org"}
    asked = set(shown)
    second = evaluate(form, asked, host(tmp_path), tmp_path / "stack")
    values = {f.key: f.value for f in second.fields}
    assert values["jwt_host"] == "jwt.example.org", "left as offered: follows the domain"
    assert not second.complete, "a default changed under the person: shown once more"
    # Changed by hand, it stays as typed.
    form["jwt_host"] = "rtc-auth.example.org"
    third = evaluate(form, asked, host(tmp_path), tmp_path / "stack")
    assert {f.key: f.value for f in third.fields}["jwt_host"] == "rtc-auth.example.org"
    assert ASKED == "asked" and FOLDER == "dir"


def test_a_bad_answer_is_shown_at_its_field_and_stops_the_form(tmp_path: Path) -> None:
    first = evaluate({}, set(), host(tmp_path), tmp_path / "stack")
    shown = {f.key: f.value for f in first.fields}
    form = {**shown, **{OFFERED + k: v for k, v in shown.items()}, "domain": "example.org",
            "ports.jwt_http": shown["ports.livekit_http"]}
    outcome = evaluate(form, set(shown), host(tmp_path), tmp_path / "stack")
    assert not outcome.complete
    assert shown["ports.livekit_http"] in outcome.problems["ports.jwt_http"]
    choice = {**form, "turn.enabled": "maybe"}
    assert "yes or no" in evaluate(choice, set(shown), host(tmp_path),
                                   tmp_path / "stack").problems["turn.enabled"]


def test_the_folder_must_be_a_whole_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for text, words in (("relative/path", "whole path"), (str(tmp_path / "file"),
                                                          "not a folder")):
        outcome = evaluate({FOLDER: text}, {FOLDER}, host(tmp_path), None)
        assert words in outcome.problems[FOLDER] and not outcome.complete
