"""The language nasrtc speaks: which one is chosen, and catalogs that are complete,
current and keep every placeholder (Babel reads the .po files as translators edit them)."""

from __future__ import annotations

import gettext
import re
import sys
from typing import Any

import pytest

from nasrtc import i18n
from tests.helpers import REPO

LOCALE = REPO / "nasrtc" / "locale"
TRANSLATED = [language for language in i18n.LANGUAGES if language != "en"]
PLURALS = {"de": 2, "ru": 3, "zh_CN": 1}  # forms a count needs in each language
# str.format's {name}, {name!r}, {size:.1f} (code), %(name)s (templates) and argparse's
# %(name)r and %s: each kept, as often as in English.
PLACEHOLDER = r"\{\w*(?:![rsa])?(?::[^{}]*)?\}|%\(\w+\)[sr]|%s"


@pytest.mark.parametrize("option, environ, chosen", [
    ("de", {"NASRTC_LANG": "ru", "LANG": "zh_CN.UTF-8"}, "de"),       # --lang first
    (None, {"NASRTC_LANG": "ru", "LANG": "zh_CN.UTF-8"}, "ru"),       # then NASRTC_LANG
    (None, {"LC_ALL": "de_AT.UTF-8", "LANG": "ru_RU.UTF-8"}, "de"),   # then the locale
    (None, {"LC_MESSAGES": "ru_RU.UTF-8", "LANG": "de_DE"}, "ru"),
    (None, {"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    (None, {"LANG": "zh_SG.UTF-8"}, "zh_CN"),                         # simplified script
    (None, {"LANG": "zh_TW.UTF-8"}, "en"),                            # traditional: none yet
    (None, {"LC_ALL": "fr_FR.UTF-8", "LANG": "de_DE.UTF-8"}, "en"),   # the locale set wins
    (None, {"LANG": "C.UTF-8"}, "en"),
    (None, {}, "en"),
])
def test_the_language_is_chosen_in_order(option: Any, environ: dict[str, str],
                                         chosen: str) -> None:
    assert i18n.choose(option, environ) == chosen


def read_po(language: str) -> Any:
    from babel.messages.pofile import read_po as babel_read_po

    with open(LOCALE / language / "LC_MESSAGES" / "nasrtc.po", "rb") as handle:
        return babel_read_po(handle, locale=language)


def test_the_template_holds_every_text() -> None:
    """nasrtc.pot is what tools/i18n.py extracts now, from the code, the templates people
    read and the profiles (run `python tools/i18n.py extract` and `update` when this fails)."""
    pytest.importorskip("babel")
    from babel.messages.pofile import read_po as babel_read_po

    sys.path.insert(0, str(REPO / "tools"))
    try:
        import i18n as tool  # tools/i18n.py
    finally:
        sys.path.pop(0)
    with open(LOCALE / "nasrtc.pot", "rb") as kept:
        assert {m.id for m in tool.extract() if m.id} \
            == {m.id for m in babel_read_po(kept) if m.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_and_none_is_fuzzy(language: str) -> None:
    pytest.importorskip("babel")
    from babel.messages.pofile import read_po as babel_read_po

    with open(LOCALE / "nasrtc.pot", "rb") as handle:
        wanted = {m.id for m in babel_read_po(handle) if m.id}
    catalog = read_po(language)
    found = {m.id: m for m in catalog if m.id}
    assert wanted - set(found) == set(), "missing from the catalog: run `pybabel update`"
    for message in found.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: not translated: {message.id!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy: {message.id!r}"
    assert catalog.num_plurals == PLURALS[language]


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language: str) -> None:
    pytest.importorskip("babel")
    for message in read_po(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(re.findall(PLACEHOLDER, ids[-1]))
        for string in strings:
            assert sorted(re.findall(PLACEHOLDER, string)) == wanted, (language, message.id)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_current(language: str) -> None:
    """The .mo nasrtc ships (in the wheel, the .pyz and the image) says what the .po says."""
    pytest.importorskip("babel")
    with open(LOCALE / language / "LC_MESSAGES" / "nasrtc.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in read_po(language):
        if message.id and isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, (language, message.id)


def test_a_translation_is_used_and_english_stays_english() -> None:
    try:
        i18n.activate("de")
        assert i18n._("Write these files?") == "Diese Dateien schreiben?"
        i18n.activate("ru")
        assert i18n._("Write these files?") == "Записать эти файлы?"
        i18n.activate("en")
        assert i18n._("Write these files?") == "Write these files?"
    finally:
        i18n.activate(i18n.choose())


def test_labels_line_up_in_any_script() -> None:
    """A Chinese character takes two columns: the values still start in one column."""
    assert i18n.columns([("平台", "a"), ("SFU", "b")]) == ["平台  a", "SFU   b"]
