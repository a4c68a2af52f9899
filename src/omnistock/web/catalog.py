"""Keeping the message catalogs up to date (a maintainer's tool, not used at run time):

    python -m omnistock.web.catalog          # extract messages; add new ones to every .po, drop unused ones
    python -m omnistock.web.catalog --check  # exit 1 if a message has no translation (the tests do this too)
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from omnistock.web.i18n import CATALOGS, LOCALES

SOURCE = Path(__file__).parent
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"trimmed": "true"}}


def extract() -> Catalog:
    """Every message the console's templates and modules pass to gettext."""
    template = Catalog(project="omnistock", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(SOURCE), METHODS, OPTIONS, keywords=DEFAULT_KEYWORDS, strip_comment_tags=True):
        if filename.startswith("catalog.py"):
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(locale: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / "messages.po"


def untranslated(locale: str) -> list[str]:
    """Messages used by the console that the locale's catalog does not translate."""
    with po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        if not strings or (isinstance(strings, tuple) and not all(strings)):
            missing.append(str(message.id))
    return missing


def update() -> None:
    template = extract()
    for locale in LOCALES:
        if locale == "en":
            continue  # messages are written in English
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="omnistock")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        catalog.copyright_holder = catalog.last_translator = "omnistock contributors"
        catalog.language_team = f"{locale} <omnistock contributors>"
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, omit_header=False, sort_output=True, include_lineno=False)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        missing = {loc: untranslated(loc) for loc in LOCALES if loc != "en"}
        for loc, ids in missing.items():
            for msgid in ids:
                print(f"{loc}: untranslated: {msgid}")
        return 1 if any(missing.values()) else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
