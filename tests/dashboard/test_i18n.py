"""The catalogues: complete, in step with the code and with their compiled .mo files, plural
forms and locale numbers and dates from Babel, and the browser's language on a first visit.
No browser: every page's layout is rendered in each language through the Flask app."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from dashboard import i18n, translations
from dashboard.data import Data
from ingest import open_store
from tests.dashboard.untranslated import english_left

LANGS = translations.translated_languages()


def test_every_text_in_the_code_is_in_the_template() -> None:
    """The .pot lists exactly what the code marks: a new text means running the update."""
    with translations.TEMPLATE.open("rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    code = {m.id for m in translations.extract() if m.id}
    new, gone = sorted(map(str, code - template)), sorted(map(str, template - code))
    assert code == template, (
        f"texts in the code but not in {translations.TEMPLATE.name}: {new}; "
        f"gone from the code: {gone}. "
        "Run `python -m dashboard.translations update`, then translate the new texts."
    )


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_complete_and_compiled(lang: str) -> None:
    missing = list(translations.untranslated(lang))
    assert not missing, (
        f"{translations.po_path(lang)}: {len(missing)} text(s) without a {i18n.LANGUAGES[lang]} "
        f"translation, e.g. {missing[:3]}"
    )
    with translations.po_path(lang).open("rb") as f:
        source = {m.id: m.string for m in read_po(f, locale=lang) if m.id}
    with translations.po_path(lang).with_suffix(".mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for msgid, text in source.items():
        if isinstance(msgid, tuple):
            assert compiled.ngettext(msgid[0], msgid[1], 1) in text, (lang, msgid)
        else:
            served = compiled.gettext(msgid)
            assert served == text, (
                f"{lang}: the .mo says {served!r} for {msgid!r}, the .po {text!r}: "
                "run `python -m dashboard.translations compile`"
            )


def _fields(text: str) -> list[str]:
    return sorted(re.findall(r"\{\w*\}", text))


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_placeholders_and_plural_forms(lang: str) -> None:
    with translations.po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if isinstance(m.id, tuple):
            assert len(strings) == catalog.num_plurals, (lang, m.id)
        for s in strings:
            assert _fields(s) == _fields(ids[0]), f"{lang}: {s!r} lost a placeholder of {ids[0]!r}"


def test_plural_forms_and_locale_formats() -> None:
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 1, "fi") == "1 minuutti sitten"
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 5, "fi") == "5 minuuttia sitten"
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 5, "de") == "vor 5 Minuten"
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 0, "fr") == "il y a 0 minute"  # 0 is "one"
    assert i18n.tn("{n} minute ago", "{n} minutes ago", 5, "ja") == "5 分前"
    assert i18n.t("Compare", "xx") == "Compare"  # a language we do not speak: English
    moment = datetime(2026, 12, 6, 14, 5)
    assert i18n.day_label(moment, "en") == "Dec 6"
    assert i18n.day_label(moment, "ja") == "12月6日"
    assert i18n.day_label(moment, "de") == "6. Dez."
    assert i18n.time_label(moment, "fi") == "14.05"
    assert i18n.number(1234.5, "fr") == "1\u202f234,5"
    assert i18n.separators("de") == ",."


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["fi-FI", "en"], "fi"),
        (["zh-CN", "en"], "zh_Hans"),
        (["zh-TW", "ja"], "ja"),  # Traditional Chinese readers are not given Simplified
        (["tl"], "fil"),
        (["pt-BR", "fr-CA"], "fr"),
        (["sw"], "en"),
        ([], "en"),
    ],
)
def test_browser_language_negotiated(header: list[str], expected: str) -> None:
    assert i18n.negotiate(header) == expected


def _texts(component: Any) -> Iterator[str]:
    """Every string a component tree shows or announces (children, labels, placeholders)."""
    if isinstance(component, str):
        yield component
        return
    if isinstance(component, list | tuple):
        for c in component:
            yield from _texts(c)
        return
    if isinstance(component, dict):
        for key in ("label", "children"):
            if key in component:
                yield from _texts(component[key])
        return
    props = getattr(component, "to_plotly_json", None)
    if props is None:
        return
    for name, value in component.to_plotly_json()["props"].items():
        if name in ("children", "placeholder", "options", "aria-label", "labels", "title"):
            if isinstance(value, dict) and name == "labels":
                yield from value.values()
            else:
                yield from _texts(value)


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_layout_in_the_language(lang: str, tmp_path: Path) -> None:
    from dashboard import shell
    from dashboard.app import PAGES, create_app

    app = create_app(Data(open_store(f"sqlite:///{tmp_path / 'empty.db'}")))
    client_headers = {"Cookie": f"{shell.LANG_COOKIE}={lang}"}
    with app.server.test_request_context("/", headers=client_headers):
        texts = list(_texts(shell.layout(15.0)))
        for page in PAGES:
            module = __import__(f"dashboard.pages.{page}", fromlist=["layout"])
            texts += list(_texts(module.layout()))
        page_html = app.interpolate_index(title="t", app_entry="", config="", scripts="")
    assert f'<html lang="{i18n.html_lang(lang)}">' in page_html
    left = english_left(texts, lang)
    assert not left, f"{i18n.LANGUAGES[lang]} ({lang}) pages show English: {left}"
