"""Everything nasrtc says, in the user's language: doctor's rows and counts (Russian's three
plural forms), every command's --help (argparse's own words too), the errors and their
fixes, and the pages of a stack, which keep the stack's own language whatever the
terminal speaks."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from nasrtc import i18n
from nasrtc.commands import COMMANDS
from nasrtc.doctor.registry import Check
from tests.helpers import REPO, write_answers

SPOKEN = ("de", "ru", "zh_CN")
# What argparse itself prints, in each language (its own catalogs are not installed).
USAGE = {"de": "Aufruf:", "ru": "использование:", "zh_CN": "用法："}
OPTIONS = {"de": ("Optionen:", "optionale Argumente:"),
           "ru": ("параметры:", "необязательные аргументы:"), "zh_CN": ("选项:", "可选参数:")}


@pytest.fixture
def speaking() -> Any:
    """Switch the language for a test; English again afterwards."""

    def switch(language: str) -> None:
        i18n.activate(language)

    yield switch
    i18n.activate(i18n.choose())


@pytest.fixture
def nasrtc(capsys: pytest.CaptureFixture[str]) -> Any:
    """nasrtc in-process, where argparse ends the run itself (--help, usage errors)."""
    from nasrtc.cli import main
    from tests.helpers import Run

    def run(*args: str) -> Run:
        try:
            code = main(list(args))
        except SystemExit as end:
            code = int(end.code or 0)
        finally:
            i18n.activate(i18n.choose())
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def rows(fails: int, warns: int, passes: int) -> list[Check]:
    return ([Check("files", "fail", "x", "y")] * fails + [Check("ports", "warn", "x", "y")]
            * warns + [Check("containers", "pass", "x")] * passes)


@pytest.mark.parametrize("counts, summary", [
    ((1, 2, 5), "1 ошибка, 2 предупреждения, 5 пройдено"),
    ((2, 1, 21), "2 ошибки, 1 предупреждение, 21 пройдена"),
    ((5, 11, 3), "5 ошибок, 11 предупреждений, 3 пройдены"),
])
def test_doctors_count_takes_russians_three_forms(speaking: Any, capsys: Any,
                                                  counts: tuple[int, int, int],
                                                  summary: str) -> None:
    from nasrtc.commands.doctor import print_rows

    speaking("ru")
    print_rows(rows(*counts))
    assert f"nasrtc doctor: {summary}." in capsys.readouterr().out


def test_doctors_rows_line_up_in_chinese(speaking: Any, capsys: Any) -> None:
    from nasrtc.commands.doctor import print_rows

    speaking("zh_CN")
    print_rows([Check("files", "fail", "detail-a", "fix-a"), Check("ports", "pass", "detail-b"),
                Check("auth service reaches homeserver", "warn", "detail-c", "fix-c")])
    lines = capsys.readouterr().out.splitlines()
    starts = {i18n.width(line.split("detail-")[0]) for line in lines if "detail-" in line}
    assert len(starts) == 1, "every row's detail starts in one column"
    assert "失败" in lines[0] and "文件" in lines[0] and "认证服务可访问主服务器" in lines[3]
    fixes = {i18n.width(line.split("fix-")[0]) for line in lines if "fix-" in line}
    assert len(fixes) == 1 and "修复" in lines[1]
    assert "1 项失败，1 项警告，1 项通过" in lines[-1]


@pytest.mark.parametrize("language", SPOKEN)
@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_is_in_the_language(nasrtc: Any, language: str, command: str) -> None:
    words = [command] if command else []
    english = nasrtc(*words, "--help")
    spoken = nasrtc("--lang", language, *words, "--help")
    assert spoken.code == english.code == 0
    assert spoken.out.startswith(USAGE[language]), spoken.out[:40]
    assert any(heading in spoken.out for heading in OPTIONS[language])
    assert "usage:" not in spoken.out and "show this help message" not in spoken.out
    # every help line of the English page is said otherwise (commands and options stay)
    said = [line.strip() for line in english.out.splitlines()
            if re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", line) and "nasrtc" not in line]
    for line in said:
        assert line not in spoken.out, (language, line)


def test_chinese_help_fits_the_terminal(nasrtc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse counts characters; a Chinese one takes two columns: wrapped by width."""
    monkeypatch.setenv("COLUMNS", "60")
    for command in ("", "doctor", "export"):
        out = nasrtc("--lang", "zh_CN", *([command] if command else []), "--help").out
        for line in out.split("示例：")[0].splitlines():  # the examples are as written
            if i18n.has_wide(line):
                assert i18n.width(line) <= 58, line


def test_argparse_errors_are_in_the_language(nasrtc: Any) -> None:
    wrong = nasrtc("--lang", "de", "up", "--bogus")
    assert wrong.code == 2
    assert "nasrtc: Fehler: unbekannte Argumente: --bogus" in wrong.err
    assert "Lösung: siehe `nasrtc up --help`" in wrong.err
    missing = nasrtc("--lang", "ru", "export", "--output", "x")
    assert missing.code == 2 and "требуются следующие аргументы: --to" in missing.err
    choice = nasrtc("--lang", "zh_CN", "checklist", "--format", "pdf")
    assert choice.code == 2 and "无效的选择：'pdf'" in choice.err


def test_bad_answers_are_explained_in_the_language(cli: Any, tmp_path: Path) -> None:
    answers = write_answers(tmp_path, {"domain": "example.org",
                                       "ports": {"rtc_tcp": 70000}, "prots": {}})
    done = cli("--lang", "de", "init", "--dir", str(tmp_path / "s"), "--answers", str(answers))
    assert done.code == 2
    assert f"{answers}: 2 Probleme; nichts wurde geschrieben." in done.err
    assert "ports.rtc_tcp: 70000 ist kein Port; erlaubt: 1 bis 65535" in done.err
    assert "prots: unbekannter Schlüssel; meinten Sie '" in done.err
    assert not (tmp_path / "s").exists(), "nothing written"
    russian = cli("--lang", "ru", "init", "--dir", str(tmp_path / "s"), "--answers",
                  str(write_answers(tmp_path, {"domain": "https://example.org"})))
    assert "проблема; ничего не записано." in russian.err
    assert "domain: 'https://example.org' содержит схему" in russian.err


def test_errors_and_fixes_are_in_the_language(cli: Any, tmp_path: Path) -> None:
    done = cli("--lang", "zh_CN", "status", "--dir", str(tmp_path))
    assert done.code == 1
    assert done.err.startswith(f"nasrtc：错误：{tmp_path.resolve()} 中没有 nasrtc.yaml")
    assert "\n  修复：先运行 `nasrtc init --dir" in done.err


def test_the_pages_keep_the_stacks_language(cli: Any, tmp_path: Path) -> None:
    """init records the language it runs in; render, doctor and the checklist's --output in
    another language find the same pages; editing `language:` changes them."""
    stack = tmp_path / "stack"
    assert cli("--lang", "de", "init", "--yes", "--domain", "example.org", "--dir",
               str(stack)).code == 0
    answers = (stack / "nasrtc.yaml").read_text()
    assert "\nlanguage: de\n" in answers
    german = {name: (stack / name).read_text() for name in
              ("checklist.md", "reverse-proxy.md", "setup.svg")}
    assert "Checkliste für die Anrufe von example.org" in german["checklist.md"]
    assert "DNS-Namen" in german["setup.svg"]

    rendered = cli("render", "--dir", str(stack))  # in English
    assert rendered.code == 0 and "unchanged  checklist.md" in rendered.out
    assert (stack / "checklist.md").read_text() == german["checklist.md"]

    from nasrtc.doctor import make_context
    from nasrtc.doctor.local import check_files

    outcome = check_files(make_context(stack, None, None, None))
    assert outcome.status == "pass", outcome.detail

    (stack / "nasrtc.yaml").write_text(answers.replace("\nlanguage: de\n", "\nlanguage: ru\n"))
    assert cli("render", "--dir", str(stack)).code == 0
    russian = cli("--lang", "ru", "checklist", "--dir", str(stack), "--format", "md",
                  "--offline").out
    assert (stack / "checklist.md").read_text() == russian != german["checklist.md"]
    assert "DNS-имена" in (stack / "setup.svg").read_text()

    (stack / "nasrtc.yaml").write_text(answers.replace("\nlanguage: de\n", "\nlanguage: fr\n"))
    refused = cli("render", "--dir", str(stack))
    assert refused.code == 2 and "language: 'fr' is not a language nasrtc speaks; choose en, " \
        "de, ru, zh_CN" in refused.err


@pytest.mark.parametrize("form", ["md", "svg"])
def test_a_translated_checklist_file_is_replaced_as_nasrtcs_own(cli: Any, tmp_path: Path,
                                                               form: str) -> None:
    stack = tmp_path / "stack"
    assert cli("init", "--yes", "--domain", "example.org", "--dir", str(stack)).code == 0
    target = tmp_path / f"checklist.{form}"
    for language in ("ru", "zh_CN", "de"):  # each file in another language than the last
        done = cli("--lang", language, "checklist", "--dir", str(stack), "--format", form,
                   "--offline", "--output", str(target))
        assert done.code == 0, done.err
    target.write_text("my own notes\n")
    assert cli("checklist", "--dir", str(stack), "--format", form, "--output",
               str(target)).code == 1, "a file nasrtc did not write is kept"


SVG = "{http://www.w3.org/2000/svg}"


def estimated_width(text: str, size: float, bold: bool) -> float:
    """DejaVu Sans's advance, rounded up: capitals ~0.68 em, other letters ~0.6 em,
    Chinese characters a full em."""
    return sum(size if i18n.width(ch) == 2 else
               size * ((0.72 if bold else 0.68) if ch.isupper() else (0.64 if bold else 0.6))
               for ch in text)


@pytest.mark.parametrize("language", ["en", *SPOKEN])
@pytest.mark.parametrize("answers", [
    {"profile": "synology"}, {"ports": {"rtc_udp_range": "50000-50200"}},
    {"network": {"livekit_mode": "bridge"}, "turn": {"enabled": True}},
    {"turn": {"enabled": True, "tls_port": 5349, "cert_file": "/c", "key_file": "/k"}},
    {"network": {"homeserver_here": False, "lan_ip": "10.0.0.5"}},
])
def test_the_drawings_words_fit_their_boxes(speaking: Any, language: str,
                                           answers: dict[str, Any]) -> None:
    from nasrtc.answers import resolve
    from nasrtc.output.diagram import setup_svg
    from nasrtc.secret_store import Secrets
    from nasrtc.stack import build_stack
    from tests.helpers import FIXED_KEY, FIXED_SECRET

    speaking(language)
    built = build_stack(resolve({"domain": "example.org", **answers}),
                        Secrets(FIXED_KEY, FIXED_SECRET))
    root = ET.fromstring(setup_svg(built))
    boxes = [tuple(int(r.get(k, 0)) for k in ("x", "y", "width", "height"))
             for r in root.iter(f"{SVG}rect")]
    inner = [box for box in boxes if box[2] < 400]  # the white boxes, not the NAS
    for text in root.iter(f"{SVG}text"):
        x, y = int(text.get("x", 0)), int(text.get("y", 0))
        size = float(text.get("font-size", 11))
        around = [b for b in inner if b[0] < x < b[0] + b[2] and b[1] < y < b[1] + b[3]]
        right = around[0][0] + around[0][2] - 4 if around else None
        if text.get("font-weight") == "bold" and not around:  # the NAS's title, left of LAN
            right = max(b[0] + b[2] for b in boxes) - 116
        if right is not None:
            width = estimated_width(text.text or "", size, text.get("font-weight") == "bold")
            assert x + width <= right, (language, text.text)


def test_english_needs_no_gettext() -> None:
    """The quick lane prints through _() too: in English that loads no catalog machinery."""
    code = ("import sys\nfrom nasrtc.i18n import _\n_('x')\n"
            "print('gettext' in sys.modules, 'locale' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"NASRTC_LANG": "en", "PATH": "/usr/bin:/bin"}, cwd=REPO,
                          check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("spelling, language", [
    ("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("ZH_cn", "zh_CN"), ("zh_Hans", "zh_CN"),
    ("de_DE", "de"), ("de-de", "de"), ("DE", "de"), ("de_AT.UTF-8", "de"),
    ("ru_RU", "ru"), ("en_GB", "en")])
def test_lang_takes_the_spellings_people_and_locales_use(nasrtc: Any, spelling: str,
                                                         language: str) -> None:
    done = nasrtc("--lang", spelling, "--help")
    assert done.code == 0, done.err
    assert done.out.startswith(USAGE.get(language, "usage:")), done.out[:80]


@pytest.mark.parametrize("spelling", ["fr", "zh_TW", "zh-Hant", "C", "x"])
def test_lang_refuses_a_language_nasrtc_has_not_and_names_those_it_has(
        nasrtc: Any, spelling: str) -> None:
    done = nasrtc("--lang", spelling, "--help")
    assert done.code == 2 and "Traceback" not in done.err
    assert f"argument --lang: {spelling!r}" in done.err
    assert ("zh_CN" in done.err) and (spelling.startswith("zh") or "en, de, ru" in done.err)


def test_nasrtc_lang_takes_the_spellings_and_refuses_the_rest(
        nasrtc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASRTC_LANG", "ru-RU")
    i18n.activate(i18n.choose())
    assert nasrtc("--help").out.startswith(USAGE["ru"])
    monkeypatch.setenv("NASRTC_LANG", "fr_FR")
    i18n.activate(i18n.choose())
    done = nasrtc("status")
    assert done.code == 2 and "NASRTC_LANG: 'fr_FR' is not a language" in done.err
    assert "en, de, ru, zh_CN" in done.err and "unset it" in done.err


def test_the_quick_lane_leaves_an_unknown_nasrtc_lang_to_be_refused(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "nasrtc", "status", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60,
                          env={"NASRTC_LANG": "fr", "PYTHONPATH": str(REPO),
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "NASRTC_LANG: 'fr'" in done.stderr, done.stderr


def test_the_answers_language_takes_the_spellings_too(cli: Any, tmp_path: Path) -> None:
    good = write_answers(tmp_path, {"domain": "example.org", "language": "de_DE"})
    assert cli("init", "--dir", str(tmp_path / "s"), "--answers", str(good)).code == 0
    assert (tmp_path / "s" / "checklist.md").read_text().startswith("# Checkliste für")
    bad = write_answers(tmp_path, {"domain": "example.org", "language": "fr"}, "bad.yaml")
    done = cli("init", "--dir", str(tmp_path / "t"), "--answers", str(bad))
    assert done.code == 2 and "language: 'fr' is not a language nasrtc speaks" in done.err
    assert not (tmp_path / "t").exists()
