"""`nasrtc web` in a real browser: Debian's Chromium driven by Playwright (no browser is
downloaded: executable_path). The whole wizard in English and in German (the browser's
language), ending in the files `init --answers` writes from the same answers; a clash
shown at its field as it is typed; the language switch; Start and Status on the real
engine with the stand-in images; the checklist printed by Chromium within its page
budget. Every step is photographed (NASRTC_WEB_SCREENSHOTS: where; the README's come
from here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REQUIRE_TOOLS, snapshot
from tests.integration import standin_images as images
from tests.integration.web_server import quiet_environment, running_web, stack_folder

pytest.importorskip("waitress", reason="nasrtc[web] needs Python 3.9+ (waitress)")
pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = os.environ.get("NASRTC_WEB_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if REQUIRE_TOOLS:
            raise AssertionError(f"Playwright is needed in CI: {exc}") from exc
        pytest.skip("Playwright is not installed (pip install playwright; tests/run.sh does)")
    if not os.path.exists(CHROMIUM):
        if REQUIRE_TOOLS:
            raise AssertionError("Debian's chromium is needed in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium; tests/run.sh does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                            "--disable-background-networking",
                                            "--disable-component-update", "--no-first-run"])
        yield chromium
        chromium.close()


class Shots:
    """Screenshots of each step, numbered in the order taken."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder, self.prefix, self.count = folder, prefix, 0
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str, full_page: bool = True) -> Path:
        self.count += 1
        path = self.folder / f"{self.prefix}-{self.count}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


def shots(tmp_path: Path, prefix: str) -> Shots:
    return Shots(Path(SHOTS) if SHOTS else tmp_path / "screenshots", prefix)


def field(page: Any, key: str) -> Any:
    return page.locator(f'.field[data-key="{key}"]')


def answer(page: Any, key: str, value: str | None = None) -> Any:
    """A question's text box, or its radio button for `value`."""
    chosen = f'[value="{value}"]' if value is not None else ":not([type])"
    return page.locator(f'.field[data-key="{key}"] input[name="{key}"]{chosen}')


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_the_whole_wizard_in_a_browser_writes_what_init_writes(
        browser: Any, tmp_path: Path, locale: str) -> None:
    from playwright.sync_api import expect

    words = WORDS[locale[:2]]
    folder = stack_folder(tmp_path)
    camera = shots(tmp_path, f"wizard-{locale[:2]}")
    with running_web("--dir", str(folder)) as web:
        context = browser.new_context(locale=locale, viewport={"width": 1000, "height": 900})
        page = context.new_page()
        page.goto(web.links[0])
        expect(page.locator("h1")).to_have_text(words["wizard"])
        camera.take(page, "questions")

        if locale == "en-US":  # the platform changes the defaults and the instructions
            answer(page, "profile", "synology").check()
            expect(answer(page, "profile", "synology")).to_be_checked()
        # As you type: the names that follow the domain change with it, no button pressed.
        answer(page, "domain").fill("example.org")
        expect(answer(page, "jwt_host")).to_have_value(
            "jwt.example.org")
        expect(answer(page, "homeserver_url")).to_have_value(
            "https://matrix.example.org")
        # A choice that brings another question: the page asks again, with it in.
        answer(page, "_udp_mode", "range").check()
        expect(field(page, "ports.rtc_udp_range")).to_be_visible()
        expect(field(page, "ports.rtc_udp")).to_have_count(0)
        answer(page, "ports.rtc_tcp").fill("7991")
        answer(page, "turn.enabled", "yes").check()
        expect(field(page, "turn.udp_port")).to_be_visible()
        camera.take(page, "answered")

        page.locator("button[value=next]").click()
        expect(page.locator("h1")).to_contain_text(words["summary"])
        expect(page.locator("table.rows")).to_contain_text("TCP 7991")
        camera.take(page, "summary")
        page.locator("form[action='/write'] button.primary").click()
        expect(page.locator("h1")).to_contain_text("example.org")
        expect(page.locator("img.drawing")).to_be_visible()
        expect(page.locator("section.proxy table")).to_contain_text("https://sfu.example.org")
        if locale == "en-US":  # DSM's own clicks for the proxy rows
            expect(page.locator("section.proxy")).to_contain_text("Reverse Proxy")
        camera.take(page, "written")
        context.close()

    mine = snapshot(folder)
    other = tmp_path / "other"
    shutil.copytree(folder / "secrets", other / "secrets")
    shutil.copy(folder / "nasrtc.yaml", tmp_path / "answers.yaml")
    init = subprocess.run([sys.executable, "-m", "nasrtc", "init", "--dir", str(other),
                           "--answers", str(tmp_path / "answers.yaml")],
                          capture_output=True, text=True, timeout=60, env=quiet_environment())
    assert init.returncode == 0, init.stderr
    theirs = snapshot(other)
    assert sorted(mine) == sorted(theirs)
    assert [name for name in mine if mine[name] != theirs[name]] == []
    answers = (folder / "nasrtc.yaml").read_text()
    assert "rtc_udp_range: 50000-50200" in answers and "rtc_tcp: 7991" in answers
    assert ("language: de" in answers) == (locale == "de-DE"), "the pages in the page's language"
    if locale == "de-DE":
        assert "Checkliste" in (folder / "checklist.md").read_text()
    else:
        assert "profile: synology" in answers


WORDS = {
    "en": {"wizard": "Set up calls on this NAS", "summary": "Summary for example.org"},
    "de": {"wizard": "Anrufe auf diesem NAS einrichten",
           "summary": "Zusammenfassung für example.org"},
}


def test_a_clash_is_shown_at_its_field_as_it_is_typed(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    camera = shots(tmp_path, "clash")
    with running_web("--dir", str(stack_folder(tmp_path))) as web:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(web.links[0])
        answer(page, "domain").fill("example.org")
        livekit = answer(page, "ports.livekit_http").input_value()
        jwt = field(page, "ports.jwt_http")
        answer(page, "ports.jwt_http").fill(livekit)
        expect(jwt.locator(".problem")).to_contain_text(livekit)
        expect(jwt).to_have_class(re.compile("has-problem"))
        jwt.evaluate("box => box.scrollIntoView({block: 'center'})")
        camera.take(page, "shown", full_page=False)
        # Next does not pass it: the page stays, with the problem at the field.
        page.locator("button[value=next]").click()
        expect(page.locator("h1")).to_have_text("Set up calls on this NAS")
        expect(field(page, "ports.jwt_http").locator(".problem")).to_contain_text(livekit)
        # Mended, the problem goes as it is typed.
        answer(page, "ports.jwt_http").fill(str(int(livekit) + 1000))
        expect(field(page, "ports.jwt_http").locator(".problem")).to_be_empty()
        page.close()


def test_the_language_switch_and_the_printed_checklist(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    folder = stack_folder(tmp_path)
    with running_web("--dir", str(folder)) as web:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(web.links[0])
        answer(page, "domain").fill("example.org")
        page.locator("nav.languages a[hreflang=zh-CN]").click()
        expect(page.locator("h1")).not_to_have_text("Set up calls on this NAS")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.locator("nav.languages a[hreflang=en]").click()
        expect(page.locator("h1")).to_have_text("Set up calls on this NAS")
        answer(page, "domain").fill("example.org")
        for _round in range(3):
            page.locator("button[value=next]").click()
            if "/summary" in page.url:
                break
        page.locator("form[action='/write'] button.primary").click()
        expect(page.locator("iframe.checklist")).to_be_visible()
        printable = browser.new_page()
        printable.context.add_cookies(page.context.cookies())
        printable.goto(f"{web.url}/checklist")
        pdf = tmp_path / "checklist.pdf"
        printable.pdf(path=str(pdf), format="A4")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        found = re.search(r"^Pages:\s+(\d+)", info, re.M)
        assert found and 1 <= int(found.group(1)) <= 3, info
        page.close()
        printable.close()


@pytest.fixture
def standin_stack(tmp_path: Path, client: Any) -> Iterator[tuple[Path, str]]:
    """A stack folder whose nasrtc.yaml (kept by the wizard: keys it does not ask) names
    the stand-in images, a project of its own and free ports."""
    folder = stack_folder(tmp_path)
    project = "web" + os.urandom(3).hex()
    images.write_standin_answers(folder / "nasrtc.yaml", project)
    yield folder, project
    for container in client.containers.list(all=True, filters={
            "label": f"io.nasrtc.project={project}"}):
        container.remove(force=True)
    for network in client.networks.list(filters={"name": project}):
        network.remove()


def test_start_and_status_on_the_real_engine(browser: Any, tmp_path: Path,
                                             standin_stack: tuple[Path, str],
                                             client: Any) -> None:
    from playwright.sync_api import expect

    folder, project = standin_stack
    camera = shots(tmp_path, "engine")
    with running_web("--dir", str(folder), "--idle-minutes", "0.1") as web:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(web.links[0])
        expect(answer(page, "domain")).to_have_value("example.org")
        for _round in range(3):
            page.locator("button[value=next]").click()
            if "/summary" in page.url:
                break
        page.locator("form[action='/write'] button.primary").click()
        page.locator("form[action='/run']:has(input[value=up]) button").click()
        expect(page.locator("pre.output")).to_contain_text("healthy", timeout=60_000)  # as it goes
        expect(page.locator("p[role=status]")).to_have_class("ok", timeout=180_000)
        camera.take(page, "started")
        page.locator("form[action='/run']:has(input[value=status]) button").click()
        expect(page.locator("p[role=status]")).to_have_class("ok", timeout=60_000)
        rows = page.locator("table.status tr.health-healthy")
        expect(rows).to_have_count(2)
        camera.take(page, "status")
        running = client.containers.list(filters={"label": f"io.nasrtc.project={project}"})
        assert len(running) == 2 and all(c.status == "running" for c in running)
        page.locator("form[action='/run']:has(input[value=doctor]) button").click()
        expect(page.locator("p[role=status]")).not_to_contain_text("…", timeout=120_000)
        expect(page.locator("table.doctor")).to_contain_text("LiveKit (local)")
        camera.take(page, "doctor")
        seen = [page.content()]
        page.locator("form[action='/run']:has(input[value=logs]) button").click()
        expect(page.locator("p[role=status]")).not_to_contain_text("…", timeout=60_000)
        expect(page.locator("pre.output")).to_contain_text("livekit")
        seen += [page.content(), page.request.get(f"{web.url}/stack").text()]
        secret = (folder / "secrets" / "livekit_api_secret").read_text().strip()
        assert not [text for text in seen if secret in text], "a secret reached the browser"
        page.close()
        # Up, and nobody on the page: it stops by itself (6 s here, 30 min by default).
        deadline = time.monotonic() + 60
        while web.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert web.process.poll() == 0, web.lines
        time.sleep(0.2)
        assert any("nobody used the page" in line for line in web.lines), web.lines
    assert len(client.containers.list(filters={"label": f"io.nasrtc.project={project}"})) == 2, \
        "the calls' containers keep running when the page stops"
