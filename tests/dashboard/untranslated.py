"""Finding catalogue texts left in English on a page in another language."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from babel.messages.pofile import read_po

from dashboard import i18n, translations


@cache
def _english(lang: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Patterns of the English texts whose `lang` translation differs from them (a count's
    `{n}` matches any number)."""
    with translations.TEMPLATE.open("rb") as f:
        catalog = read_po(f)
    found = []
    for m in catalog:
        if not m.id:
            continue
        forms = m.id if isinstance(m.id, tuple) else (m.id,)
        for form in forms:
            translated = i18n.tn(forms[0], forms[-1], 2, lang) if len(forms) > 1 else None
            if translated is None and i18n.t(form, lang) == form:
                continue  # the same word in both languages ("CO₂", "Firmware" in German)
            pattern = re.escape(form).replace(re.escape("{n}"), r"[\d.,\s]+")
            found.append((form, re.compile(rf"(?:^|\W){pattern}(?:$|\W)")))
    return tuple(found)


def english_left(texts: Iterable[str], lang: str) -> list[str]:
    """The English catalogue texts that appear in `texts` shown in `lang`: as a whole text, or
    as part of one when they are several words long (short words may be part of a name)."""
    left = set()
    for text in texts:
        text = text.strip()
        for form, pattern in _english(lang):
            if text == form or (" " in form.strip("{n} ") and pattern.search(text)):
                left.add(form)
    return sorted(left)
