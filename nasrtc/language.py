"""The language a user asks for by name: --lang, NASRTC_LANG and the answers' `language:`
take every spelling gettext and locales use (de, de_DE, de-de, DE_DE.UTF-8, zh, zh-CN,
zh_Hans), and refuse, naming the catalogs nasrtc ships, a language it has none for. The
locale (LANG, LC_ALL) is not asked for: one nasrtc cannot speak means English."""

from __future__ import annotations

import os
from typing import Any

from nasrtc.i18n import LANGUAGE_ENV, LANGUAGES, N_, _, match

TRADITIONAL = ("TW", "HK", "MO", "HANT")

# argparse's own words that a user meets (usage, headings, its errors). argparse asks the
# process-wide gettext domain for them, which holds none; nasrtc's catalogs do (speak()).
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("optional arguments"),
    N_("show this help message and exit"), N_("show program's version number and exit"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"), N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"), N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("one of the arguments %s is required"),
)


def refusal(value: str) -> str:
    """Why `value` is no language of nasrtc's, and what is."""
    shown = repr(value[:40])  # quoted and cut: it may be anything
    region = value.replace("-", "_").split(".")[0].partition("_")[2].upper()
    if value.lower().startswith("zh") and region in TRADITIONAL:
        return _("{value}: nasrtc speaks Chinese in the simplified script only (zh_CN)").format(
            value=shown)
    return _("{value} is not a language nasrtc speaks; choose {languages} (a region or "
             "either spelling is fine: de_DE, zh-CN)").format(
        value=shown, languages=", ".join(LANGUAGES))


def canonical(value: Any) -> str:
    """The catalog's name for `value`; ValueError (with refusal's text) when there is none."""
    found = match(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(refusal(str(value)))
    return found


def option(value: str) -> str:
    """--lang's type: argparse prints the refusal as the option's error."""
    try:
        return canonical(value)
    except ValueError as exc:
        import argparse

        raise argparse.ArgumentTypeError(str(exc)) from None


def environment_refusal(environ: Any = None) -> str:
    """'' when NASRTC_LANG is unset or names a language nasrtc has; else what to say."""
    value = (os.environ if environ is None else environ).get(LANGUAGE_ENV, "")
    if not value or match(value):
        return ""
    return _("{variable}: {reason}; unset it or set it to one of those").format(
        variable=LANGUAGE_ENV, reason=refusal(value))


def speak(language: str | None) -> None:
    """Speak --lang's language (if given), argparse's words included."""
    import argparse

    from nasrtc import i18n

    if language:
        i18n.prefer(language)
    argparse._ = i18n._  # type: ignore[attr-defined]
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]
