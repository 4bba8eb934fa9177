"""Every page in every language, in the browser: no catalogue text left in English and no
character without a glyph (an empty box) in any script, Latin, Han, Hangul, kana, Thai or
Vietnamese; and the language a first visit gets from the browser, remembered once chosen."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from dashboard import i18n
from tests.dashboard.browsing import (
    PAGES,
    axe_violations,
    describe,
    missing_glyphs,
    page_texts,
    set_language,
    set_screen,
    wait,
    wait_for_text,
)
from tests.dashboard.conftest import start_browser
from tests.dashboard.untranslated import english_left

pytestmark = pytest.mark.slow

SCHOOLS = "?schools=fi-tampere-01,jp-tokyo-01"
# A language for each script besides Latin (English, on every page at both widths, is in
# test_layout.py): their longer or unbreakable words are what a phone's width meets first.
SCRIPTS = {"zh_Hans": "Han", "ja": "kana and Han", "ko": "Hangul", "th": "Thai"}


def each_page(browser: Any, url: str, lang: str, screen: str) -> Iterator[str]:
    """Every page in `lang` on `screen`, each opened and drawn before its path is yielded."""
    set_language(browser, url, lang)
    set_screen(browser, screen)
    for path, (heading, ready) in PAGES.items():
        browser.get(url + path + SCHOOLS)
        wait_for_text(browser, "h2", i18n.t(heading, lang))
        wait(browser, lambda d, ready=ready: d.find_elements(By.CSS_SELECTOR, ready))
        yield path


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_every_page_translated_and_drawn(browser: Any, dashboard: Any, lang: str) -> None:
    problems = []
    for path in each_page(browser, dashboard.url, lang, "desktop"):
        if path == "/":
            wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".card"))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == (
            i18n.html_lang(lang)
        )
        left = english_left(page_texts(browser), lang) if lang != i18n.DEFAULT else []
        if left:
            problems.append(f"{path} shows in English: {left}")
        missing = missing_glyphs(browser)
        if missing:
            problems.append(f"{path} has no glyph for {''.join(missing)!r}")
    name = i18n.LANGUAGES[lang]
    assert not problems, f"{name} ({lang}): " + "; ".join(problems)


@pytest.mark.parametrize("lang", list(SCRIPTS))
def test_every_page_accessible_on_a_phone(browser: Any, dashboard: Any, lang: str) -> None:
    """axe-core: no serious or critical WCAG 2.1 A/AA violation in this script at 390 px."""
    problems = []
    for path in each_page(browser, dashboard.url, lang, "phone"):
        violations = axe_violations(browser)
        if violations:
            problems.append(f"{path}: {describe(violations)}")
    assert not problems, f"{i18n.LANGUAGES[lang]} ({SCRIPTS[lang]}): " + "; ".join(problems)


def test_first_visit_follows_the_browser_and_a_choice_is_remembered(dashboard: Any) -> None:
    driver, profile = start_browser(accept_languages="ja-JP,ja,en")
    try:
        driver.get(dashboard.url + "/compare")
        wait_for_text(driver, "h2", "学校を比べる")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
        for label in driver.find_elements(By.CSS_SELECTOR, "#app-lang-pick label"):
            if label.text.strip() == "Deutsch":
                label.click()
                break
        wait_for_text(driver, "h2", "Schulen vergleichen")
        driver.get(dashboard.url + "/leaderboard")  # a new page load: German, not Japanese
        wait_for_text(driver, "h2", "Bestenliste von heute")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
