"""The language nasrtc speaks to the user: gettext catalogs compiled from the .po files
in nasrtc/locale/<lang>/LC_MESSAGES/ (Babel: extract, update, compile; see the README).

The language comes from `--lang`, then NASRTC_LANG, then the locale (LC_ALL,
LC_MESSAGES, LANG, the first one set); English when it names no catalog. Generated
files (compose.yaml, livekit.yaml, proxy configs, homeserver.yaml) stay English: they are
pasted into English documentation and forums.

Texts defined at import time are marked with N_() and translated where they are shown,
with _()."""

from __future__ import annotations

import os

from nasrtc.package import read_package_bytes

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from typing import Any

DOMAIN = "nasrtc"
# The catalogs nasrtc ships, with the name a user knows each language by.
LANGUAGES = {"en": "English", "de": "Deutsch", "ru": "Русский", "zh_CN": "简体中文"}
LANGUAGE_ENV = "NASRTC_LANG"
_LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")

_active: Any = None  # the gettext translations in use, loaded on first need


def match(value: str) -> str | None:
    """The catalog a language or locale name asks for ('de_DE.UTF-8' -> 'de'); None when
    nasrtc has none (then English). Chinese: the simplified script only."""
    name = value.split(".")[0].split("@")[0].replace("-", "_").strip()
    if not name or name in ("C", "POSIX"):
        return None
    language, _sep, region = name.partition("_")
    language = language.lower()
    if language == "zh":
        traditional = region.upper() in ("TW", "HK", "MO") or region.lower() == "hant"
        return None if traditional else "zh_CN"
    return language if language in LANGUAGES else None


def choose(option: str | None = None, environ: Any = None) -> str:
    """The language to use: --lang, else NASRTC_LANG, else the locale; 'en' otherwise."""
    environ = os.environ if environ is None else environ
    for value in (option, environ.get(LANGUAGE_ENV)):
        if value:
            return match(value) or "en"
    for name in _LOCALE_ENV:
        if environ.get(name):
            return match(environ[name]) or "en"
    return "en"


def prefer(option: str | None) -> None:
    """--lang: the language from now on, before NASRTC_LANG and the locale."""
    activate(choose(option))


def catalog_path(language: str) -> str:
    """Where a language's compiled catalog is, inside the package."""
    return os.path.join("locale", language, "LC_MESSAGES", f"{DOMAIN}.mo")


class _English:
    """The texts as written: what gettext.NullTranslations does, without importing gettext
    (and locale, re) on the quick lane, which prints through _() too."""

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return singular if count == 1 else plural

    def info(self) -> dict[str, str]:
        return {}


_loaded: dict[str, Any] = {}  # language -> its parsed catalog, read once per run


def _catalog(language: str) -> Any:
    """The language's translations (English for one without a shipped catalog)."""
    if language not in _loaded:
        translations: Any = _English()
        if language != "en" and language in LANGUAGES:
            data = read_package_bytes(catalog_path(language))
            if data is not None:
                import gettext
                import io

                translations = gettext.GNUTranslations(io.BytesIO(data))
        _loaded[language] = translations
    return _loaded[language]


def activate(language: str) -> None:
    """Speak this language from now on (English for one without a catalog)."""
    global _active
    _active = _catalog(language)


class speaking:  # lower case: read as `with speaking(language):`
    """For a while, another language: the pages of a stack are written in its own
    (nasrtc.yaml's `language`), whatever the terminal speaks."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.before: Any = None

    def __enter__(self) -> None:
        global _active
        self.before = _active
        activate(self.language)

    def __exit__(self, *exc: object) -> None:
        global _active
        _active = self.before


def _translations() -> Any:
    """The translations in use, loaded from the environment on first need."""
    if _active is None:
        activate(choose())
    return _active


def active_language() -> str:
    """The language in use ('en' for none)."""
    return str(_translations().info().get("language", "en")) or "en"


def in_every_language(message: str) -> set[str]:
    """message as each shipped catalog has it (English included): to recognise a text
    nasrtc wrote in any language."""
    return {str(_catalog(language).gettext(message)).replace(PROGRAM, "nasrtc")
            for language in LANGUAGES}


PROGRAM = "{nasrtc}"  # in a text: the command that runs nasrtc here (invocation.program)
_plain = [False]  # inside pages_say_nasrtc(): generated pages say plain `nasrtc`


def _commands(text: str) -> str:
    """A text's {nasrtc}: how this nasrtc was started, so the command it tells the user to
    run can be pasted as it is (`python3 /path/nasrtc.pyz render`)."""
    if PROGRAM not in text:
        return text
    from nasrtc.invocation import program

    started = "nasrtc" if _plain[0] else program()
    if "{" in started or "}" in started:  # a folder named so would break .format()
        started = "nasrtc"
    return text.replace(PROGRAM, started)


class pages_say_nasrtc:
    """The files nasrtc writes (checklist.md, reverse-proxy.md...) keep plain `nasrtc`:
    they must not change with how it ran. (A class: contextlib costs start-up.)"""

    def __enter__(self) -> None:
        self.before, _plain[0] = _plain[0], True

    def __exit__(self, *exc: object) -> None:
        _plain[0] = self.before


def _(message: str) -> str:
    """message in the user's language (itself when there is no translation)."""
    return _commands(str(_translations().gettext(message)))


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for count in the user's language (Russian has three)."""
    return _commands(str(_translations().ngettext(singular, plural, count)))


def N_(message: str) -> str:
    """Marks a text for the catalogs where it is defined; _() translates it where shown."""
    return message


def width(text: str) -> int:
    """Columns text takes in a terminal: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """text in lines of at most `columns` terminal columns, by display width: broken at
    spaces and between Chinese characters (which need no space to break)."""
    lines: list[str] = []
    current, space = "", False
    for token in _breakable(text):
        if token == " ":
            space = bool(current)
            continue
        candidate = current + (" " if space else "") + token
        if current and width(candidate) > columns:
            lines.append(current)
            current = token
        else:
            current = candidate
        space = False
    return [*lines, current] if current else lines


def _breakable(text: str) -> list[str]:
    """text's words and spaces (' '), each wide character a word of its own."""
    tokens: list[str] = []
    for word in text.split():
        run = ""
        for ch in word:
            if width(ch) == 2:
                tokens += [run, ch] if run else [ch]
                run = ""
            else:
                run += ch
        tokens += [run, " "] if run else [" "]
    return tokens


def has_wide(text: str) -> bool:
    """Whether text holds characters two columns wide (then wrap() rather than textwrap)."""
    return width(text) > len(text)


def pad(text: str, columns: int) -> str:
    """text filled with spaces to `columns` terminal columns (ljust by display width)."""
    return text + " " * max(0, columns - width(text))


def columns(rows: list[tuple[str, str]], gap: int = 2) -> list[str]:
    """Label and value lines, the values aligned whatever the labels' language."""
    widest = max(width(label) for label, _value in rows)
    return [pad(label, widest + gap) + value for label, value in rows]
