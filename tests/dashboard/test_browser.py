"""The dashboard in real headless Chromium, over a store fed through the real gateway.

Every wait is for something the student would see (text, points, trace names): no sleeps.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard.core.compare import region_quorum
from ingest import open_store
from tests.dashboard.browsing import open_page, set_language, set_screen, wait, wait_for_text
from tests.dashboard.conftest import FAULTY_STATION, INDOOR_STATION, XSS_NAME, XSS_STATION, _meta

WEAK_STATION = "de-weak-01"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def english_desktop(browser: Any, dashboard: Any) -> None:
    """Each test starts as a desktop reader of English (other modules change both)."""
    set_screen(browser, "desktop")
    set_language(browser, dashboard.url, "en")


def text_of(driver: Any, selector: str) -> str:
    """The text of an element that live refreshes may replace at any moment."""
    return str(wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, selector).text))


def plot_data(driver: Any, graph_id: str) -> list[dict]:
    return driver.execute_script(
        "const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return gd && gd.data ? gd.data.map(t => ({name: t.name, x: t.x, y: t.y, text: t.text,"
        " customdata: t.customdata})) : [];",
        f"#{graph_id}",
    )


def click_label(driver: Any, container_id: str, label: str) -> None:
    """Click a radio option by its visible label (options re-render when the language changes,
    so a stale element is looked up again)."""

    def clicked(d: Any) -> bool:
        for element in d.find_elements(By.CSS_SELECTOR, f"#{container_id} label"):
            if element.text.strip() == label:
                element.click()
                return True
        return False

    wait(driver, clicked)


def test_map_shows_every_school(
    browser: Any, dashboard: Any, chain: Any, screenshots: Path
) -> None:
    outdoor = [s for s in chain.stations if s != INDOOR_STATION]
    open_page(browser, dashboard.url + "/", "Weather now")

    def shown(driver: Any) -> set[str] | bool:
        ids = {c[0] for t in plot_data(driver, "now-map") for c in (t["customdata"] or [])}
        return ids if ids >= set(outdoor) else False

    assert wait(browser, shown) == set(outdoor)
    # The name with markup reaches plotly escaped, so it is drawn as text.
    names = [n for t in plot_data(browser, "now-map") for n in (t["text"] or [])]
    assert any(n.startswith("&lt;script&gt;") for n in names)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#now-map .geo .land"))
    # The list beside the map names the same schools, for keyboards and screen readers.
    wait(
        browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#now-list input")) == len(outdoor)
    )


def test_clicking_a_school_on_the_map_selects_it(browser: Any, dashboard: Any) -> None:
    open_page(browser, f"{dashboard.url}/?schools=fi-tampere-01", "Weather now")
    wait_for_text(browser, ".card h3", "Tampere")

    def tokyo_point(d: Any) -> Any:
        return d.execute_script(
            "const gd = document.querySelector('#now-map .js-plotly-plot');"
            "if (!gd || !gd._fullData) return null;"
            "const groups = gd.querySelectorAll('g.trace.scattergeo');"
            "for (let i = 0; i < gd._fullData.length; i++) {"
            "  const ids = (gd._fullData[i].customdata || []).map(c => c[0]);"
            "  const j = ids.indexOf('jp-tokyo-01');"
            "  if (j >= 0 && groups[i]) return groups[i].querySelectorAll('path.point')[j];"
            "} return null;"
        )

    def click_tokyo(d: Any) -> bool:
        point = tokyo_point(d)
        if point is None:
            return False
        ActionChains(d).move_to_element(point).click().perform()  # may go stale: tried again
        return True

    wait(browser, click_tokyo)
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".card h3")) == 2)
    wait_for_text(browser, ".cards", "Tokyo school 1 (simulated)")


def test_two_schools_drawn_and_clock_switch(browser: Any, dashboard: Any) -> None:
    asia, europe = "ph-manila-01", "fi-tampere-01"
    open_page(browser, f"{dashboard.url}/compare?schools={asia},{europe}", "Compare schools")

    def lines(d: Any) -> list[dict]:
        # The schools' lines; readings QC set aside are extra marker traces.
        return [t for t in plot_data(d, "compare-graph") if t["x"] and "quality" not in t["name"]]

    wait(browser, lambda d: len(lines(d)) == 2)
    names = {t["name"] for t in lines(browser)}
    assert any("Manila" in n for n in names) and any("Tampere" in n for n in names)
    first_x = {t["name"]: t["x"][0] for t in lines(browser)}
    click_label(browser, "compare-clock", "UTC (same instant)")
    wait(browser, lambda d: {t["name"]: t["x"][0] for t in lines(d)} != first_x)
    utc_x = {t["name"]: t["x"][0] for t in lines(browser)}
    # Solar time runs ahead of UTC east of Greenwich (Manila ~8 h, Tampere ~1.5 h).
    for name, x in utc_x.items():
        assert first_x[name] > x


def test_units_switch_changes_numbers(browser: Any, dashboard: Any, chain: Any) -> None:
    open_page(browser, f"{dashboard.url}/?schools=fi-tampere-01", "Weather now")
    wait_for_text(browser, ".card .big", "°C")
    celsius = float(text_of(browser, ".card .big").split()[0])
    click_label(browser, "app-unit-temp", "°F")
    wait_for_text(browser, ".card .big", "°F")
    fahrenheit = float(text_of(browser, ".card .big").split()[0])
    assert fahrenheit == pytest.approx(celsius * 1.8 + 32, abs=0.11)
    click_label(browser, "app-unit-temp", "°C")
    wait_for_text(browser, ".card .big", "°C")


def test_new_observation_appears_without_reload(browser: Any, dashboard: Any, chain: Any) -> None:
    open_page(browser, f"{dashboard.url}/?schools={XSS_STATION}", "Weather now")
    wait_for_text(browser, ".card .big", "°C")
    browser.execute_script("window.__same_page = true")
    chain.publish(XSS_STATION, "obs", {"ts": time.time(), "temp_c": 33.3, "rh_pct": 20})
    wait_for_text(browser, ".card .big", "33.3 °C")
    assert browser.execute_script("return window.__same_page === true")  # no reload happened


def test_station_name_with_markup_is_text(browser: Any, dashboard: Any, chain: Any) -> None:
    open_page(browser, f"{dashboard.url}/?schools={XSS_STATION}", "Weather now")
    wait_for_text(browser, ".card h3", XSS_NAME)
    assert not browser.find_elements(By.CSS_SELECTOR, ".card h3 b, .card h3 script")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018  (an alert would mean the script ran)


def test_stations_page_shows_rejects(browser: Any, dashboard: Any, chain: Any) -> None:
    open_page(browser, dashboard.url + "/stations", "Stations (for teachers)")
    wait_for_text(browser, "#stations-rejects", FAULTY_STATION)
    wait_for_text(browser, "#stations-recent", FAULTY_STATION)
    wait_for_text(browser, "#stations-table", XSS_NAME)


def test_weak_wifi_low_battery_and_a_filling_outbox_are_marked(
    browser: Any, dashboard: Any, chain: Any
) -> None:
    """The page says below −80 dBm is weak: such a station's signal is marked, in words too, and
    so is an outbox more than half full (what the teacher's alert e-mail is about)."""
    chain.publish(WEAK_STATION, "meta", _meta("Weak signal school", 50.1, 8.7, "Europe/Berlin"),
                  retain=True)  # fmt: skip
    # Back after an outage with more than half of its outbox still to send.
    chain.publish(WEAK_STATION, "status", {"state": "online", "outbox": 1500, "outbox_max": 2304},
                  retain=True)  # fmt: skip
    chain.publish(WEAK_STATION, "obs", {"ts": time.time(), "temp_c": 12.0, "rssi_dbm": -82,
                                        "battery_v": 3.3})  # fmt: skip
    # The page shows what the store holds: wait until the gateway has stored the reading.
    chain.wait_stored(
        lambda store: (
            WEAK_STATION in (registry := store.stations()).index
            and registry.loc[WEAK_STATION, "rssi_dbm"] == -82
            and registry.loc[WEAK_STATION, "outbox"] == 1500
        )
    )
    open_page(browser, dashboard.url + "/stations", "Stations (for teachers)")

    def weak_cells(d: Any) -> list[str]:
        rows = d.find_elements(By.CSS_SELECTOR, "#stations-health tbody tr")
        row = [r for r in rows if WEAK_STATION in r.text]
        return [c.text for c in row[0].find_elements(By.CSS_SELECTOR, "td.weak")] if row else []

    cells = wait(browser, lambda d: len(weak_cells(d)) == 3 and weak_cells(d))
    assert any("-82" in c and "weak" in c for c in cells), cells
    assert any("3.3" in c and "weak" in c for c in cells), cells
    assert any("1,500 / 2,304" in c and "weak" in c for c in cells), cells
    healthy = browser.find_elements(By.XPATH, f"//tr[td/code[text()='{XSS_STATION}']]/td")
    assert healthy and not [c for c in healthy if "weak" in (c.get_attribute("class") or "")]


def test_compare_without_schools_says_so(browser: Any, dashboard: Any) -> None:
    open_page(browser, f"{dashboard.url}/compare?schools=fi-tampere-01", "Compare schools")
    wait(browser, lambda d: [t for t in plot_data(d, "compare-graph") if t["x"]])
    # The student clears the picker: the charts ask for schools, they do not say "no readings".
    clear = browser.find_element(By.CSS_SELECTOR, "#compare-pick")
    browser.execute_script("arguments[0].scrollIntoView()", clear)
    for button in browser.find_elements(By.CSS_SELECTOR, "#compare-pick [title]"):
        if button.get_attribute("title") == "Clear selection":
            button.click()
            break
    else:
        raise AssertionError("the school picker has no 'Clear selection' button")
    message = "Pick one or more schools above to compare them."
    annotation = (
        "const gd = document.querySelector('#compare-graph .js-plotly-plot');"
        "return gd && gd.layout.annotations ? gd.layout.annotations.map(a => a.text) : [];"
    )
    wait(browser, lambda d: d.execute_script(annotation) == [message])


def test_language_switch_changes_labels(browser: Any, dashboard: Any, screenshots: Path) -> None:
    schools = "ph-manila-01,fi-tampere-01"
    open_page(browser, f"{dashboard.url}/compare?schools={schools}", "Compare schools")
    click_label(browser, "app-lang-pick", "Suomi")
    wait_for_text(browser, "h2", "Vertaa kouluja")
    wait_for_text(browser, ".nav", "Tulostaulu")
    # Figures are translated too: the time axis names the clock in Finnish.
    # Null-safe: while the figure is replaced its layout may not have an axis title yet.
    axis = (
        "return document.querySelector('#compare-graph .js-plotly-plot')"
        "?.layout?.xaxis?.title?.text ?? null"
    )
    wait(browser, lambda d: d.execute_script(axis) == "Paikallinen aurinkoaika")
    browser.save_screenshot(str(screenshots / "compare-fi.png"))
    click_label(browser, "app-lang-pick", "Filipino")
    wait_for_text(browser, "h2", "Ihambing ang mga paaralan")
    click_label(browser, "app-lang-pick", "English")
    wait_for_text(browser, "h2", "Compare schools")


def test_asia_vs_europe_draws_no_bin_with_too_few_schools(
    browser: Any, dashboard: Any, chain: Any
) -> None:
    """Local solar time (the page's default) over a week: at the chart's ends only one or two
    schools of a side have reached a bin yet; those bins must be gaps, not plunges."""
    store = open_store(chain.store_url)
    try:
        registry = store.stations()
        week = store.read(datetime.now(UTC) - timedelta(days=7), datetime.now(UTC),
                          fields=["temp_c"]).dropna(subset=["temp_c"])  # fmt: skip
    finally:
        store.close()
    outdoor = registry[registry["exposure"] == "outdoor"]
    reporting = outdoor.loc[outdoor.index.isin(set(week["station"].astype(str)))]
    quorum = {side: region_quorum(int((reporting["region"] == side).sum()))
              for side in ("asia", "europe")}  # fmt: skip
    browser.get(dashboard.url + "/regions")
    click_label(browser, "app-lang-pick", "English")  # whatever an earlier test left chosen
    wait_for_text(browser, "h2", "Asia vs Europe")

    def medians(driver: Any) -> list[dict] | bool:
        # Plain arrays of the two median traces, from plotly's decoded data (the figure may
        # carry numpy arrays base64-encoded, which only `_fullData` holds decoded).
        traces = driver.execute_script(
            "const gd = document.querySelector('#regions-graph .js-plotly-plot');"
            "return gd && gd._fullData ? gd._fullData.filter(t => t.customdata && t.y)"
            ".map(t => ({name: t.name,"
            " y: Array.from(t.y, v => (v === null || Number.isNaN(v)) ? null : v),"
            " customdata: Array.from(t.customdata)})) : [];"
        )
        return traces if len(traces) == 2 else False

    for trace in wait(browser, medians):
        side = "asia" if trace["name"].startswith("Asia") else "europe"
        points = list(zip(trace["y"], trace["customdata"], strict=True))
        drawn = [n for y, n in points if y is not None]
        assert drawn, f"{side}: nothing drawn"
        assert min(drawn) >= quorum[side], f"{side}: a median of {min(drawn)} schools"
        # The rule did act: the thin bins at the chart's ends are there, as gaps.
        assert any(y is None and 0 < n < quorum[side] for y, n in points), side


def test_leaderboard_cards_and_table_agree(browser: Any, dashboard: Any) -> None:
    open_page(browser, dashboard.url + "/leaderboard", "Today's leaderboard")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#leaderboard-anomaly tbody tr"))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#leaderboard-hottest .entry"))
    wait_for_text(browser, "#leaderboard-anomaly thead", "Highest so far today")
    wait_for_text(browser, "#leaderboard-hottest", "highest so far today")
    # Both read in one script: a live refresh cannot slip in between.
    cards, table = browser.execute_script(
        "const text = e => e.textContent.trim();"
        "const cards = [...document.querySelectorAll('#leaderboard-hottest .entry')].map("
        "  e => [text(e.querySelector('.who')), text(e.querySelector('.value'))]);"
        "const table = [...document.querySelectorAll('#leaderboard-anomaly tbody tr')].map("
        "  r => [...r.querySelectorAll('td')].map(c => c.textContent));"
        "return [cards, table];"
    )
    headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#leaderboard-anomaly th")]
    assert headers[:3] == ["School", "Now", "Highest so far today"]
    highest_today = {row[0].strip(): row[2].strip() for row in table}
    assert cards
    for school, value in cards:
        assert highest_today[school] == value, (school, value, highest_today)
