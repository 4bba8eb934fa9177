"""Keep the catalogues in step with the code: `python -m dashboard.translations update`.

    update   extract every marked text into locale/messages.pot, merge it into each language's
             .po (new texts arrive untranslated, changed ones marked fuzzy), compile the .mo files
    compile  only compile the .po files into the .mo files the dashboard reads
    check    list, per language, the texts that still need a translator (exit 1 if any)

Translators edit `dashboard/locale/<lang>/LC_MESSAGES/messages.po` with any gettext tool
(Poedit, Weblate, a text editor); `update` (or `compile`) then makes what the dashboard serves.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from dashboard.i18n import DEFAULT, DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
# The functions whose literal arguments are catalogue texts (see dashboard/i18n.py).
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None}
# UI code only: the comparison core and the data layer show no text of their own.
SOURCES = [("*.py", "python"), ("pages/*.py", "python"), ("alerts/*.py", "python")]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def translated_languages() -> list[str]:
    return [lang for lang in LANGUAGES if lang != DEFAULT]


def extract() -> Catalog:
    """Every marked text in the dashboard's UI code, with where it is used."""
    catalog = Catalog(project="ClassNet Weather", msgid_bugs_address="", fuzzy=False)
    found = extract_from_dir(
        str(PACKAGE), method_map=SOURCES, keywords=KEYWORDS, comment_tags=("Translators:",)
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message,
            locations=[(f"dashboard/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def update() -> None:
    # Locations name files, not lines: moving code around leaves the catalogues alone (fewer
    # merge conflicts in files translators also edit).
    template = extract()
    if TEMPLATE.exists():
        with TEMPLATE.open("rb") as f:
            previous = read_po(f)
        if [m.id for m in previous] == [m.id for m in template]:
            # Nothing changed: keep the date, so an idle update leaves every file as it was.
            template.creation_date = previous.creation_date
    with TEMPLATE.open("wb") as out:
        write_po(out, template, width=100, include_lineno=False)
    for lang in translated_languages():
        path = po_path(lang)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=lang)
            catalog.update(template)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project="ClassNet Weather")
            catalog.update(template)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True, include_lineno=False)
    compile_all()


def compile_all() -> None:
    for lang in translated_languages():
        path = po_path(lang)
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        with path.with_suffix(".mo").open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)


def untranslated(lang: str) -> Iterator[str]:
    """Texts of `lang`'s .po a translator still has to do (empty or fuzzy)."""
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            yield message.id if isinstance(message.id, str) else message.id[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.translations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("update", "compile", "check"))
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "compile":
        compile_all()
    else:
        missing = {lang: list(untranslated(lang)) for lang in translated_languages()}
        for lang, texts in missing.items():
            for text in texts:
                print(f"{po_path(lang).relative_to(PACKAGE.parent)}: untranslated: {text!r}")
        return 1 if any(missing.values()) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
