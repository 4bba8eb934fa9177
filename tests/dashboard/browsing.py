"""What the browser tests do to a page: wait for what a student would see (never sleep), set the
reader's language and screen, and measure layout, accessibility (axe-core) and glyphs."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.shell import LANG_COOKIE

TIMEOUT = 30
# name: (width, height, mobile): a phone (CSS pixels of an iPhone 12-15) and a school laptop.
SCREENS = {"phone": (390, 844, True), "desktop": (1366, 900, False)}
# path: (heading in English, what shows once the page has its data)
PAGES = {
    "/": ("Weather now", "#now-map .geo .land"),
    "/compare": ("Compare schools", "#compare-graph .scatterlayer .trace"),
    "/regions": ("Asia vs Europe", "#regions-graph .scatterlayer .trace"),
    "/leaderboard": ("Today's leaderboard", "#leaderboard-hottest li"),
    "/classrooms": ("Classroom air", "#classrooms-graph .scatterlayer .trace"),
    "/stations": ("Stations (for teachers)", "#stations-health td"),
}


def wait(driver: Any, condition: Any, timeout: float = TIMEOUT) -> Any:
    try:
        return WebDriverWait(
            driver,
            timeout,
            poll_frequency=0.2,
            ignored_exceptions=(StaleElementReferenceException,),
        ).until(condition)
    except TimeoutException:
        # What the student would have seen, for the failure report.
        shot = Path(tempfile.gettempdir()) / f"classnet-dash-failure-{time.time():.0f}.png"
        driver.save_screenshot(str(shot))
        main = driver.find_elements(By.TAG_NAME, "main")
        raise AssertionError(
            f"timed out; screenshot {shot}; page text: {main[0].text[:800] if main else ''!r}"
        ) from None


def wait_for_text(driver: Any, selector: str, text: str, timeout: float = TIMEOUT) -> None:
    wait(driver, ec.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text), timeout)


def set_language(driver: Any, base_url: str, lang: str | None) -> None:
    """Choose the dashboard's language as the picker does (its cookie); None: forget it, so the
    browser's own preference decides."""
    driver.execute_cdp_cmd("Network.enable", {})
    if lang is None:
        driver.execute_cdp_cmd("Network.deleteCookies", {"name": LANG_COOKIE, "url": base_url})
    else:
        driver.execute_cdp_cmd(
            "Network.setCookie", {"name": LANG_COOKIE, "value": lang, "url": base_url}
        )


def set_screen(driver: Any, screen: str) -> None:
    """Render as the named screen: a phone is emulated as one (mobile viewport, touch)."""
    width, height, mobile = SCREENS[screen]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile})


def open_page(driver: Any, url: str, expect: str, ready: str | None = None) -> None:
    driver.get(url)
    wait_for_text(driver, "h2", expect)
    if ready:
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ready))


def overflow_x(driver: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: nothing scrolls sideways)."""
    return int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def rect(driver: Any, selector: str) -> dict[str, float] | None:
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "if (!e) return null; const r = e.getBoundingClientRect();"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,"
        " width: r.width, height: r.height};",
        selector,
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """Area (px²) two rectangles share."""
    width = min(a["right"], b["right"]) - max(a["left"], b["left"])
    height = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return max(width, 0) * max(height, 0)


AXE_RUN_JS = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 4).map(n => n.target)}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations of serious or critical impact on this page (only
    a summary comes back: a full axe report of a page of charts is megabytes)."""
    from axe_core_python.base import AXE_SCRIPT

    driver.execute_script(AXE_SCRIPT)
    driver.set_script_timeout(120)
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    found = driver.execute_async_script(AXE_RUN_JS, tags)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(map(str, v["nodes"]))
        for v in violations
    )


# Each character drawn on a canvas in the font of the element showing it, compared with the
# drawing of a code point no font has (the font's "missing glyph" box, or nothing): the same
# pixels mean the character has no glyph in any font the browser could fall back to.
MISSING_GLYPHS_JS = """
const missing = new Set();
const byFont = new Map();
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const element = node.parentElement;
  if (!element || !element.getClientRects().length) continue;
  const style = getComputedStyle(element);
  if (style.visibility === 'hidden') continue;
  const font = '32px ' + style.fontFamily;
  if (!byFont.has(font)) byFont.set(font, new Set());
  for (const ch of node.textContent) if (!/\\s/.test(ch)) byFont.get(font).add(ch);
}
const canvas = document.createElement('canvas');
canvas.width = 48; canvas.height = 48;
const context = canvas.getContext('2d', {willReadFrequently: true});
function draw(ch, font) {
  context.clearRect(0, 0, 48, 48);
  context.font = font;
  context.fillText(ch, 4, 36);
  return context.getImageData(0, 0, 48, 48).data.join(',');
}
for (const [font, chars] of byFont) {
  const none = draw('\\u{10FFFD}', font);
  for (const ch of chars) if (draw(ch, font) === none) missing.add(ch);
}
return Array.from(missing);
"""


def missing_glyphs(driver: Any) -> list[str]:
    """Characters on the page that no installed font can draw (shown as empty boxes)."""
    return list(driver.execute_script(MISSING_GLYPHS_JS))


# Every text the page shows or announces: text nodes (SVG charts included), labels read by
# screen readers, placeholders, and the tab's title.
PAGE_TEXTS_JS = """
const texts = [document.title];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node.textContent);
for (const e of document.querySelectorAll('[aria-label], [placeholder], [title], [data-title]')) {
  for (const a of ['aria-label', 'placeholder', 'title', 'data-title']) {
    if (e.hasAttribute(a)) texts.push(e.getAttribute(a));
  }
}
return texts;
"""


def page_texts(driver: Any) -> list[str]:
    return [str(t) for t in driver.execute_script(PAGE_TEXTS_JS) if t and str(t).strip()]
