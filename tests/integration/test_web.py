"""`nasrtc web` over real HTTP (the real server, waitress, on loopback), without a browser:
who gets in (the one-time link, one session, the Host header, CSRF tokens, bounded
bodies), what it writes (byte for byte what `init --answers` writes from the same
answers), what it never shows (a secret), and how it ends (Done)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import snapshot
from tests.integration.web_server import (
    form_fields,
    quiet_environment,
    running_web,
    stack_folder,
    text_of,
    walk_wizard,
)

pytest.importorskip("waitress", reason="nasrtc[web] needs Python 3.9+ (waitress)")
pytestmark = pytest.mark.slow


def signed_in(link: str) -> requests.Session:
    session = requests.Session()
    reply = session.get(link, allow_redirects=False)
    assert reply.status_code == 303, reply.text
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    return session


def test_only_the_printed_link_opens_the_page_and_only_once(tmp_path: Path) -> None:
    with running_web("--dir", str(stack_folder(tmp_path))) as web:
        stranger = requests.get(f"{web.url}/wizard")
        assert stranger.status_code == 403
        assert "needs its link" in stranger.text and "csrf" not in stranger.text
        guessed = requests.get(f"{web.url}/start?t=not-the-token")
        assert guessed.status_code == 403 and "not the one nasrtc printed" in text_of(
            guessed.text)

        link = web.links[0]
        owner = signed_in(link)
        page = owner.get(f"{web.url}/wizard")
        assert page.status_code == 200 and "Matrix server name" in page.text

        replayed = requests.get(link)
        assert replayed.status_code == 403 and "used already" in replayed.text
        fresh = web.wait_for_links(2)[-1]
        assert fresh != link, "a new link comes to the log on demand"
        assert owner.get(f"{web.url}/wizard").status_code == 200, "the owner stays in"

        # A second browser with the new link takes the only session: the first is told.
        other = signed_in(fresh)
        assert other.get(f"{web.url}/wizard").status_code == 200
        left = owner.get(f"{web.url}/wizard")
        assert left.status_code == 403 and "another browser" in text_of(left.text)


def test_a_page_asked_for_under_another_name_is_refused(tmp_path: Path) -> None:
    """DNS rebinding: a site whose name now points at the NAS gets nothing from it."""
    with running_web("--dir", str(stack_folder(tmp_path))) as web:
        session = signed_in(web.links[0])
        port = web.url.rsplit(":", 1)[1]
        # with the session's own cookie: even the person signed in gets nothing there
        cookie = f"nasrtc_session={session.cookies['nasrtc_session']}"
        for host in (f"attacker.example:{port}", "127.0.0.1:1", "", f"localhost.evil:{port}"):
            reply = requests.get(f"{web.url}/wizard", headers={"Host": host, "Cookie": cookie})
            assert reply.status_code in (400, 421), (host, reply.status_code)
            assert "Matrix server name" not in reply.text and "csrf" not in reply.text
        page = requests.get(f"{web.url}/wizard", headers={"Host": f"localhost:{port}",
                                                           "Cookie": cookie})
        assert page.status_code == 200 and "Matrix server name" in page.text


def test_forms_without_their_token_and_huge_bodies_change_nothing(tmp_path: Path) -> None:
    folder = stack_folder(tmp_path)
    with running_web("--dir", str(folder)) as web:
        session = signed_in(web.links[0])
        fields = form_fields(session.get(f"{web.url}/wizard").text)
        without = [(k, v) for k, v in fields if k != "csrf"] + [("domain", "example.org"),
                                                                 ("action", "next")]
        for data in (without, [*without, ("csrf", "forged")]):
            reply = session.post(f"{web.url}/wizard", data=data)
            assert reply.status_code == 403 and "form has expired" in text_of(reply.text)
            refused = session.post(f"{web.url}/write", data=data)
            assert refused.status_code == 403
        huge = session.post(f"{web.url}/wizard", data={"domain": "x" * (1 << 20)})
        assert huge.status_code == 413, huge.status_code
        assert session.get(f"{web.url}/wizard").status_code == 200, "it still answers"
    assert list(folder.iterdir()) == [], "nothing was written"


def test_the_page_writes_what_init_writes_and_never_shows_a_secret(tmp_path: Path) -> None:
    folder = stack_folder(tmp_path)
    with running_web("--dir", str(folder)) as web:
        session = signed_in(web.links[0])
        session.get(f"{web.url}/language?to=de&back=/wizard")
        answers = {"domain": "example.org", "ports.rtc_tcp": "7991", "turn.enabled": "yes",
                   "network.homeserver_here": "no"}
        summary = walk_wizard(session, web.url, answers)
        assert "Zusammenfassung für example.org" in text_of(summary.text), "German, as chosen"
        fields = form_fields(summary.text)
        written = session.post(f"{web.url}/write", data=fields)
        assert written.url.endswith("/stack"), text_of(written.text)
        assert "TCP 7991" in text_of(written.text)
        pages = [summary.text, written.text]
        for path in ("/", "/wizard", "/stack", "/checklist", "/setup.svg", "/summary"):
            pages.append(session.get(f"{web.url}{path}").text)
        pages.append(session.post(f"{web.url}/check", data=form_fields(pages[3])).text)
        pages += web.lines
    secret = (folder / "secrets" / "livekit_api_secret").read_text().strip()
    assert len(secret) >= 32
    assert not [page for page in pages if secret in page], "a secret reached the browser"
    assert (folder / "secrets" / "livekit_api_secret").stat().st_mode & 0o777 == 0o600

    # The same answers to `init --answers`, with the same secrets: the same bytes.
    mine = yaml_of(folder / "nasrtc.yaml")
    assert mine["domain"] == "example.org" and mine["language"] == "de"
    assert mine["ports"]["rtc_tcp"] == 7991 and mine["turn"]["enabled"] is True
    other = tmp_path / "other"
    shutil.copytree(folder / "secrets", other / "secrets")
    shutil.copy(folder / "nasrtc.yaml", tmp_path / "answers.yaml")
    init = subprocess.run([sys.executable, "-m", "nasrtc", "init", "--dir", str(other),
                           "--answers", str(tmp_path / "answers.yaml")],
                          capture_output=True, text=True, timeout=60,
                          env=quiet_environment())
    assert init.returncode == 0, init.stderr
    made, expected = snapshot(folder), snapshot(other)
    assert sorted(made) == sorted(expected)
    assert [name for name in made if made[name] != expected[name]] == []


def yaml_of(path: Path) -> dict:  # type: ignore[type-arg]
    import yaml

    return dict(yaml.safe_load(path.read_text()))


def test_writing_waits_for_no_one_while_another_nasrtc_holds_the_folder(tmp_path: Path) -> None:
    folder = stack_folder(tmp_path)
    with running_web("--dir", str(folder)) as web:
        session = signed_in(web.links[0])
        summary = walk_wizard(session, web.url, {"domain": "example.org"})
        held = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(held, fcntl.LOCK_EX)
            refused = session.post(f"{web.url}/write", data=form_fields(summary.text))
            words = text_of(refused.text)
            assert "Nothing was written" in words and "another nasrtc is working" in words
            assert "press Write again" in words
            assert list(folder.iterdir()) == []
        finally:
            os.close(held)
        again = session.post(f"{web.url}/write", data=form_fields(summary.text))
        assert again.url.endswith("/stack") and (folder / "compose.yaml").is_file()


def test_done_stops_the_page(tmp_path: Path) -> None:
    with running_web("--dir", str(stack_folder(tmp_path))) as web:
        session = signed_in(web.links[0])
        fields = form_fields(session.get(f"{web.url}/wizard").text)
        csrf = dict(fields)["csrf"]
        reply = session.post(f"{web.url}/done", data={"csrf": csrf})
        assert reply.status_code == 200 and "has stopped" in reply.text
        deadline = time.monotonic() + 15
        while web.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert web.process.poll() == 0, "the process ended by itself, with success"
        time.sleep(0.2)
        assert any("stopped (Done was clicked)" in line for line in web.lines), web.lines
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{web.url}/", timeout=3)


def test_bad_options_are_refused_with_the_fix() -> None:
    for args, words in ((["--listen", "nas:80:1"], "--listen"),
                        (["--listen", "127.0.0.1:70000"], "--listen"),
                        (["--idle-minutes", "-1"], "--idle-minutes"),
                        (["--name", "a b"], "--name")):
        done = subprocess.run([sys.executable, "-m", "nasrtc", "web", *args],
                              capture_output=True, text=True, timeout=30,
                              env=quiet_environment())
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr


def test_one_command_at_a_time_and_each_takes_the_stacks_lock(tmp_path: Path) -> None:
    """Start waits for the lock a terminal's nasrtc holds (as it would in a terminal); a
    second button meanwhile is refused, and the first command's page says it runs."""
    folder = stack_folder(tmp_path)
    with running_web("--dir", str(folder), env=quiet_environment(NASRTC_LOCK_WAIT="20")) as web:
        session = signed_in(web.links[0])
        summary = walk_wizard(session, web.url, {"domain": "example.org"})
        written = session.post(f"{web.url}/write", data=form_fields(summary.text))
        csrf = dict(form_fields(written.text))["csrf"]
        held = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(held, fcntl.LOCK_EX)
            started = session.post(f"{web.url}/run", data={"csrf": csrf, "name": "up"})
            assert started.url.endswith("/job") and "Running" in started.text
            deadline = time.monotonic() + 10
            while "waiting for another nasrtc" not in started.text \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
                started = session.get(f"{web.url}/job")
            assert "waiting for another nasrtc" in started.text, text_of(started.text)
            second = session.post(f"{web.url}/run", data={"csrf": csrf, "name": "status"})
            assert second.status_code == 409 and "Wait a moment" in second.text
        finally:
            os.close(held)


def test_a_file_edited_by_hand_is_replaced_only_when_asked(tmp_path: Path) -> None:
    folder = stack_folder(tmp_path)
    with running_web("--dir", str(folder)) as web:
        session = signed_in(web.links[0])
        summary = walk_wizard(session, web.url, {"domain": "example.org"})
        session.post(f"{web.url}/write", data=form_fields(summary.text))
        compose = folder / "compose.yaml"
        compose.write_text(compose.read_text() + "# my own line\n")
        again = walk_wizard(session, web.url, {"ports.jwt_http": "8093"})
        words = text_of(again.text)
        assert "edited by hand since nasrtc wrote them: compose.yaml" in words
        refused = session.post(f"{web.url}/write", data=form_fields(again.text))
        assert "Nothing was written" in text_of(refused.text)
        assert "# my own line" in compose.read_text() and "8093" not in compose.read_text()
        forced = session.post(f"{web.url}/write", data=[*form_fields(again.text),
                                                       ("force", "yes")])
        assert forced.url.endswith("/stack")
    assert "8093" in compose.read_text()
    assert "# my own line" in (folder / "compose.yaml.bak").read_text(), "kept beside it"
