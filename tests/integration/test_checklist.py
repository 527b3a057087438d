"""`nasrtc checklist`: golden text/md/html, live facts, and the HTML printed to
PDF by real headless Chromium on A4 and US Letter."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from nasrtc.output.checklist import Facts, build_checklist
from nasrtc.output.render import render_checklist
from nasrtc.stack import load_stack
from tests.helpers import REPO, REQUIRE_TOOLS, needs, write_answers
from tests.integration.test_golden import GOLDEN

FORMATS = {"text": "txt", "md": "md", "html": "html"}
PROFILES = {"synology": {"profile": "synology", "domain": "example.org",
                         "network": {"lan_ip": "192.168.1.10"}},
            "generic": {"profile": "generic", "domain": "example.net",
                        "ports": {"rtc_udp_range": "50000-50200"},
                        "turn": {"enabled": True}}}


def make_stack(cli: Any, tmp_path: Path, answers: dict[str, Any], name: str = "stack") -> Path:
    source = write_answers(tmp_path, answers, f"{name}.yaml")
    stack = tmp_path / name
    result = cli("init", "--dir", str(stack), "--answers", str(source))
    assert result.code == 0, result.err
    return stack


@pytest.mark.parametrize("language", ["en", "de", "ru", "zh_CN"])
@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("form", sorted(FORMATS))
def test_matches_reviewed_reference(cli: Any, tmp_path: Path, profile: str, form: str,
                                    language: str) -> None:
    import os

    stack = make_stack(cli, tmp_path, PROFILES[profile])
    result = cli("--lang", language, "checklist", "--dir", str(stack), "--format", form,
                 "--offline")
    assert result.code == 0, result.err
    suffix = "" if language == "en" else f".{language}"
    reference = GOLDEN / "checklist" / f"{profile}{suffix}.{FORMATS[form]}"
    if os.environ.get("NASRTC_UPDATE_GOLDEN"):
        reference.parent.mkdir(parents=True, exist_ok=True)
        reference.write_text(result.out)
    assert result.out == reference.read_text()


def test_checklist_md_written_by_init_is_the_same_text(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, PROFILES["synology"])
    result = cli("checklist", "--dir", str(stack), "--format", "md", "--offline")
    assert result.out == (stack / "checklist.md").read_text()


def test_current_dns_answers_and_detected_lan_address_are_shown(cli: Any,
                                                                tmp_path: Path) -> None:
    _, stack = load_stack(make_stack(cli, tmp_path, {"domain": "example.org"}), "none")
    facts = Facts(lan_ip="192.168.7.7",
                  dns={"jwt.example.org": ["203.0.113.9"], "sfu.example.org": []})
    text = render_checklist(stack, "text", facts)
    assert "(now: 203.0.113.9)" in text
    assert "(now: does not resolve yet)" in text
    assert "192.168.7.7" in text
    unknown = render_checklist(stack, "text", Facts(dns={}))
    assert "(now:" not in unknown, "a failed lookup must not be shown as an answer"
    assert "____________" in unknown


def test_sections_are_in_the_order_a_person_works(cli: Any, tmp_path: Path) -> None:
    _, stack = load_stack(make_stack(cli, tmp_path, PROFILES["synology"]), "none")
    titles = [s.title for s in build_checklist(stack).sections]
    assert titles == ["DNS", "Router: port forwarding", "Firewall on the NAS",
                      "Reverse proxy and certificates", "Homeserver", "Start and check"]


def test_profile_values_come_from_data_not_template_conditions() -> None:
    for template in (REPO / "compose-templates").rglob("*.j2"):
        text = template.read_text()
        assert not re.search(r"\{%[^%]*(synology|generic|profile\.name)", text), template


def test_html_is_self_contained(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, PROFILES["generic"])
    html = cli("checklist", "--dir", str(stack), "--format", "html", "--offline").out
    assert "<script" not in html and "@import" not in html and "@font-face" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    assert not re.search(r"url\((?!#)", html), "only in-page references (the arrowheads)"
    assert "@page" in html and "break-inside: avoid" in html


def test_output_file_and_foreign_file_protection(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, PROFILES["synology"])
    target = tmp_path / "print.html"
    result = cli("checklist", "--dir", str(stack), "--format", "html", "--offline",
                 "--output", str(target))
    assert result.code == 0 and "open it in a browser and print it" in result.out
    assert target.read_text().startswith("<!DOCTYPE html>")
    again = cli("checklist", "--dir", str(stack), "--format", "html", "--offline",
                "--output", str(target))
    assert again.code == 0, "its own earlier output may be replaced"
    mine = tmp_path / "notes.html"
    mine.write_text("my notes\n")
    refused = cli("checklist", "--dir", str(stack), "--output", str(mine), "--offline")
    assert refused.code == 1 and "was not written by nasrtc" in refused.err
    assert mine.read_text() == "my notes\n"


def test_the_drawing_alone_for_a_forum_post(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, PROFILES["generic"])
    target = tmp_path / "setup.svg"
    for _ in range(2):  # its own earlier output is replaced
        result = cli("checklist", "--dir", str(stack), "--format", "svg", "--output",
                     str(target))
        assert result.code == 0, result.err
    drawn = target.read_text()
    assert drawn.startswith("<svg ") and drawn == (stack / "setup.svg").read_text()
    assert "<title>Call setup for example.net</title>" in drawn
    assert drawn in cli("checklist", "--dir", str(stack), "--format", "html",
                        "--offline").out, "the page shows the same drawing"
    assert "![Your setup" in (stack / "reverse-proxy.md").read_text()


def test_checklist_without_a_stack(cli: Any, tmp_path: Path) -> None:
    result = cli("checklist", "--dir", str(tmp_path), "--offline")
    assert result.code == 1 and "no nasrtc.yaml" in result.err


# ---------------------------------------------------------------- real Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = needs("chromium", "chromium")
needs_poppler = needs("pdftotext", "poppler-utils")
PAPER = {"A4": (210, 297), "letter": (215.9, 279.4)}  # mm
MARGIN_MM = 12  # left and right, as in the template's @page rule
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run([CHROMIUM or "chromium", *CHROMIUM_FLAGS,
                           f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def for_paper(html: str, paper: str) -> str:
    """The printout as a person with that default paper gets it."""
    return html.replace("@page {", f"@page {{ size: {paper};", 1)


def print_pdf(tmp_path: Path, html: str) -> tuple[Path, str]:
    """The page printed by Chromium, and pdfinfo's account of the PDF."""
    page = tmp_path / "checklist.html"
    page.write_text(html)
    pdf = tmp_path / "checklist.pdf"
    printed = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                       page.as_uri())
    assert pdf.exists(), printed.stderr[-2000:]
    return pdf, subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout


def forwarded_ports(stack_dir: Path) -> set[str]:
    """The ports the router must forward, read from compose.yaml and livekit.yaml."""
    compose = yaml.safe_load((stack_dir / "compose.yaml").read_text())
    livekit = yaml.safe_load((stack_dir / "livekit" / "livekit.yaml").read_text())
    ports = set()
    turn = livekit.get("turn") or {}
    relay = range(turn.get("relay_range_start", 0), turn.get("relay_range_end", -1) + 1)
    for spec in compose["services"]["livekit"].get("ports", []):
        if not spec.startswith("127.0.0.1:") and int(spec.split(":")[0]) not in relay:
            ports.add(spec.split(":")[0])  # the relay range is printed as START-END
    rtc = livekit["rtc"]
    ports.add(str(rtc["tcp_port"]))
    ports.add(str(rtc["udp_port"]) if "udp_port" in rtc
              else f"{rtc['port_range_start']}-{rtc['port_range_end']}")
    if "turn" in livekit:
        turn = livekit["turn"]
        ports |= {str(turn["udp_port"]), f"{turn['relay_range_start']}-{turn['relay_range_end']}"}
    return ports


CASES = {
    # each profile as the wizard leaves it when every default is taken
    "generic-defaults": {"domain": "example.org"},
    "synology-defaults": {"profile": "synology", "domain": "example.org"},
    # the longest the wizard offers: DSM's click paths, TURN and Redis (4 pages on Letter
    # while whole sections moved to the next page)
    "synology-turn-redis": {"profile": "synology", "domain": "example.org",
                            "turn": {"enabled": True}, "redis": {"enabled": True}},
    "synology-host": PROFILES["synology"],
    "generic-range-turn": PROFILES["generic"],
    "generic-bridge": {"domain": "example.com", "network": {"livekit_mode": "bridge"},
                       "turn": {"enabled": True, "udp_port": 3479}},
}


@needs_chromium
@needs_poppler
@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("paper", sorted(PAPER))
def test_prints_on_few_pages_unclipped_with_every_port(cli: Any, tmp_path: Path, case: str,
                                                       paper: str) -> None:
    stack = make_stack(cli, tmp_path, CASES[case])
    html = for_paper(cli("checklist", "--dir", str(stack), "--format", "html",
                         "--offline").out, paper)
    pdf, info = print_pdf(tmp_path, html)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= 3, f"{pages} pages on {paper}"
    assert ("A4" in info) == (paper == "A4")

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    for port in forwarded_ports(stack):
        assert re.search(rf"\b{re.escape(port)}\b", text), f"port {port} missing from the PDF"
    # The drawing of the setup is in the page, as text: its names and the arrows' kinds.
    assert "<svg" in html and "The NAS (" in text and "UDP: call media" in text
    answers = yaml.safe_load((stack / "nasrtc.yaml").read_text())
    for host in (answers["domain"], f"jwt.{answers['domain']}", f"sfu.{answers['domain']}"):
        assert text.count(host) >= 2, f"{host} missing from the drawing or the steps"

    # Nothing wider than the printable width: lay the page out at that width and measure.
    width_px = round((PAPER[paper][0] - 2 * MARGIN_MM) / 25.4 * 96)
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", "<script>document.title = 'W=' + "
                                  "document.documentElement.scrollWidth + ',' + "
                                  "document.documentElement.clientWidth;</script></body>"))
    dom = chromium(tmp_path, f"--window-size={width_px},1200", "--dump-dom",
                   probe.as_uri()).stdout
    match = re.search(r"<title>W=(\d+),(\d+)</title>", dom)
    assert match, dom[:500]
    scroll, client = int(match.group(1)), int(match.group(2))
    assert scroll <= client, f"content {scroll}px wide, page {client}px: something is clipped"


# The printout in a script of its own: (words of its title, a section title, what the PDF's
# font list shows for the glyphs). Cyrillic comes from DejaVu Sans. Chinese comes from
# Debian's fonts-noto-cjk, whose CFF outlines Chromium embeds as Type 3 fonts: without a
# CJK font there are none (the boxes of missing glyphs come from DejaVu).
PRINTED_IN = {
    "zh_CN": ("通话设置检查清单", "路由器：端口转发", "Type 3"),
    "ru": ("Чек-лист настройки звонков", "Роутер: перенаправление портов", "DejaVuSans"),
}


def chinese_font() -> str:
    found = subprocess.run(["fc-match", "-f", "%{family}", ":lang=zh-cn"],
                           capture_output=True, text=True).stdout
    if "Noto Sans CJK" not in found:
        if REQUIRE_TOOLS:
            raise AssertionError(f"CI needs fonts-noto-cjk (fc-match finds {found!r})")
        pytest.skip("no Chinese font (apt-get install fonts-noto-cjk)")
    return found


@needs_chromium
@needs_poppler
@pytest.mark.slow
@pytest.mark.parametrize("paper", sorted(PAPER))
@pytest.mark.parametrize("language", sorted(PRINTED_IN))
def test_prints_in_the_users_script_within_the_same_pages(cli: Any, tmp_path: Path,
                                                          language: str, paper: str) -> None:
    title, section, font = PRINTED_IN[language]
    if language == "zh_CN":
        chinese_font()
    stack = make_stack(cli, tmp_path, CASES["generic-range-turn"])
    html = cli("--lang", language, "checklist", "--dir", str(stack), "--format", "html",
               "--offline").out
    assert f'<html lang="{language.replace("_", "-")}">' in html
    pdf, info = print_pdf(tmp_path, for_paper(html, paper))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= 3, f"{pages} pages on {paper}"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert font in fonts, fonts  # the glyphs come from a real font
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    flat = re.sub(r"\s+", "", text)
    for words in (title, section):
        assert re.sub(r"\s+", "", words) in flat, f"{words!r} missing from the PDF"
    for port in forwarded_ports(stack):
        assert re.search(rf"\b{re.escape(port)}\b", text), f"port {port} missing from the PDF"
