#!/usr/bin/env python3
"""The translation catalogs, with Babel (a test dependency):

    python tools/i18n.py extract   # the texts -> nasrtc/locale/nasrtc.pot
    python tools/i18n.py update    # every nasrtc/locale/<lang>/LC_MESSAGES/nasrtc.po follows it
    python tools/i18n.py compile   # the .mo files nasrtc ships
    python tools/i18n.py init LANG # a new language's .po

The texts are the ones marked in the code (_, N_, ngettext), the ones in the templates
people read (the checklist, reverse-proxy.md, the web page's) and the steps, click paths
and notes of the platform profiles (profiles/*.yaml). Generated configuration stays English.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LOCALE = REPO / "nasrtc" / "locale"
TEMPLATE = LOCALE / "nasrtc.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
READ_BY_PEOPLE = ("checklist.md.j2", "checklist.txt.j2", "checklist.html.j2",
                  "reverse-proxy.md.j2")


def extract() -> Any:
    """The template catalog, from the code, the templates and the profiles."""
    import yaml
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir, extract_from_file

    from nasrtc.profiles import profile_texts

    catalog = Catalog(project="nasrtc", copyright_holder="nasrtc authors", fuzzy=False)
    for _file, _line, message, comments, context in extract_from_dir(
            str(REPO / "nasrtc"), method_map=[("**.py", "python")], keywords=KEYWORDS):
        catalog.add(message, None, auto_comments=comments, context=context)
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
               "lstrip_blocks": "true", "newstyle_gettext": "true"}
    pages = [REPO / "compose-templates" / name for name in READ_BY_PEOPLE]
    pages += sorted((REPO / "nasrtc" / "web" / "templates").glob("*.html.j2"))  # nasrtc web
    for page in pages:
        for _line, message, comments, context in extract_from_file(
                "jinja2.ext:babel_extract", str(page), keywords=KEYWORDS, options=options):
            catalog.add(message, None, auto_comments=comments, context=context,
                        flags=("python-format",))
    found: list[str] = []

    def collect(text: str) -> str:
        found.append(text)
        return text

    for path in sorted((REPO / "profiles").glob("*.yaml")):
        profile_texts(yaml.safe_load(path.read_text(encoding="utf-8")), collect)
    for text in found:
        catalog.add(text, None)
    return catalog


def _write_po(path: Path, catalog: Any) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=100, no_location=True, sort_output=True,
                 omit_header=False)


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES").is_dir())


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "nasrtc.po"


def update() -> None:
    from babel.messages.pofile import read_po

    with open(TEMPLATE, "rb") as handle:
        template = read_po(handle)
    for language in languages():
        with open(po_path(language), "rb") as handle:
            catalog = read_po(handle, locale=language)
        catalog.update(template)
        _write_po(po_path(language), catalog)


def compile_all() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for language in languages():
        with open(po_path(language), "rb") as handle:
            catalog = read_po(handle, locale=language)
        with open(po_path(language).with_suffix(".mo"), "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)


def init(language: str) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    with open(TEMPLATE, "rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale=language, project="nasrtc", copyright_holder="nasrtc authors")
    catalog.update(template)
    _write_po(po_path(language), catalog)


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "extract":
        _write_po(TEMPLATE, extract())
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "init" and len(sys.argv) == 3:
        init(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
