"""The dashboard's words, numbers and dates in the reader's language: gettext catalogues managed
with Babel.

Code marks English text once: `t("Weather now", lang)`, `tn(singular, plural, n, lang)` where a
count decides the form, and `N_("...")` where the text is chosen later (a table of labels).
`python -m dashboard.translations update` extracts every marked text into
`dashboard/locale/messages.pot`, merges it into one `.po` per language (the files translators
edit) and compiles the `.mo` files read here. Numbers and dates come from Babel in the reader's
locale, never formatted by hand.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

# Code -> the language's own name (what a student looks for in the picker). Codes are gettext
# locale names: the folder under locale/ and what Babel parses.
LANGUAGES: Final[dict[str, str]] = {
    "en": "English",
    "fi": "Suomi",
    "fil": "Filipino",
    "zh_Hans": "中文（简体）",
    "ja": "日本語",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "th": "ไทย",
    "id": "Bahasa Indonesia",
    "de": "Deutsch",
    "fr": "Français",
}
DEFAULT: Final = "en"
LOCALE_DIR: Final = Path(__file__).with_name("locale")
DOMAIN: Final = "messages"
# Browser language tags whose language we serve under another code.
_ALIASES: Final = {"zh": "zh_Hans", "tl": "fil", "in": "id"}


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it here (it is translated where it
    is shown, with `t`)."""
    return message


def known(lang: str | None) -> str:
    """`lang` if the dashboard speaks it, else English."""
    return lang if lang in LANGUAGES else DEFAULT


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT:
        return gettext.NullTranslations()  # the English text is the message itself
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: the {LANGUAGES[lang]} catalogue is not compiled; "
            "run `python -m dashboard.translations compile`"
        ) from None


def t(message: str, lang: str | None) -> str:
    """`message` in `lang` (the English text when it has no translation yet)."""
    return _catalogue(known(lang)).gettext(message)


def tn(singular: str, plural: str, n: int, lang: str | None) -> str:
    """The form of a counted text that `n` takes in `lang`, with `{n}` filled in:
    tn("{n} school", "{n} schools", 3, "en") == "3 schools"."""
    chosen = _catalogue(known(lang)).ngettext(singular, plural, n)
    return chosen.format(n=number(n, lang, 0))


@cache
def locale(lang: str | None) -> Locale:
    return Locale.parse(known(lang))


def html_lang(lang: str | None) -> str:
    """The BCP 47 tag for the page's `lang` attribute (screen readers pick their voice by it)."""
    return known(lang).replace("_", "-")


def negotiate(preferred: Iterable[str]) -> str:
    """The first of the browser's languages (Accept-Language, best first) that the dashboard
    speaks, matched by language when the region differs: fi-FI -> fi, zh-CN -> zh_Hans."""
    for tag in preferred:
        parts = tag.replace("_", "-").split("-")
        base = parts[0].lower()
        if base == "zh" and any(p.lower() in ("hant", "tw", "hk", "mo") for p in parts[1:]):
            continue  # Traditional Chinese readers: not served Simplified by default
        code = _ALIASES.get(base, base)
        if code in LANGUAGES:
            return code
    return DEFAULT


def number(value: float, lang: str | None, decimals: int = 1) -> str:
    """`value` with `decimals` digits in the locale's own way: 1234.5 -> "1 234,5" in Finnish."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale(lang))


def separators(lang: str | None) -> str:
    """Plotly's `separators` for the locale: its decimal mark, then its digit group mark."""
    return get_decimal_symbol(locale(lang)) + get_group_symbol(locale(lang))


def day_label(day: date | datetime, lang: str | None) -> str:
    """A short date as the locale writes it: "Dec 6" in English, "6.12." in Finnish."""
    return format_skeleton("MMMd", day, locale=locale(lang))


def time_label(moment: datetime, lang: str | None) -> str:
    """A clock time as the locale writes it (24-hour or not)."""
    return format_skeleton("Hm", moment, locale=locale(lang))


def duration(span: timedelta, lang: str | None) -> str:
    """A span of time in words, rounded to its largest unit: "2 days", "5 Minuten"."""
    return format_timedelta(span, format="long", locale=locale(lang))
