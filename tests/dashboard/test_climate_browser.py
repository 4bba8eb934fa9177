"""Climate in real headless Chromium over the real chain: a record falls live and the marker
appears on the Now page and the leaderboard (folded records opened by their summary, as a student
would, and kept open while readings arrive); the Climate page shows the report, the records and
the comparisons."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from ingest import open_store
from tests.dashboard.test_browser import open_page, text_of, wait, wait_for_text

pytestmark = pytest.mark.slow


def _tampere(chain: Any) -> str:
    return next(s for s in chain.stations if s.startswith("fi-tampere"))


def _markers(driver: Any, station: str) -> list[Any]:
    """The "highest temperature" record markers of `station`."""
    return driver.find_elements(
        By.CSS_SELECTOR, f'.new-record[data-station="{station}"][data-record="highest"]'
    )


def _text(marker: Any) -> str:
    """A record line's text, in sight or folded away (Selenium's `.text` of a hidden element is
    ''), with the no-break space before a unit made a space, as `.text` gives it."""
    return (marker.get_attribute("textContent") or "").replace("\u00a0", " ")


def _open_folded(driver: Any) -> bool:
    """Open the banner's folded records the way a student does, by clicking the summary ("11
    more new records"); False when none are folded."""
    summaries = [
        s
        for s in driver.find_elements(By.CSS_SELECTOR, ".records details:not([open]) > summary")
        if s.is_displayed()
    ]
    for summary in summaries:
        summary.click()
    return bool(summaries)


def _seen(driver: Any, station: str, value: str, opened: bool) -> str | None:
    """The text a student reads on `station`'s "highest" line once it shows `value`. A line
    folded away is opened by its summary, unless the student had opened the folded records
    already: the banner's redraw at a new reading must not close them."""
    marker = next((m for m in _markers(driver, station) if _shows(_text(m), value)), None)
    if marker is None:
        return None
    if not marker.is_displayed():
        assert not opened, "the folded records closed when the banner redrew at a new reading"
        _open_folded(driver)
    return str(marker.text) or None


def _shows(text: str, value: str) -> bool:
    """`value` ("1.5 °C") in `text` as a number of its own: not the end of "-1.5 °C" or "11.5 °C"
    (a Tampere winter made the test see its target in an older record's "-1.5 °C")."""
    return re.search(rf"(?<![\d.\-\u2212]){re.escape(value)}", text) is not None


def test_new_record_marker_appears_live(browser: Any, dashboard: Any, chain: Any) -> None:
    station = _tampere(chain)
    store = open_store(chain.store_url)
    try:
        now = datetime.now(UTC)
        history = store.read(now - timedelta(days=30), now + timedelta(minutes=1), [station])
    finally:
        store.close()
    # Above every temperature the school ever sent, so above its record whatever day it fell on;
    # reached in steps of at most 0.8 °C after its last reading, as warming air would.
    last = history.iloc[-1]
    target = float(history["temp_c"].max()) + 2.0
    steps = max(1, int((target - float(last["temp_c"])) / 0.8) + 1)
    start = last["time"].timestamp()
    spacing = min(20.0, (time.time() - start) / (steps + 1))

    shown = f"{round(target, 1):.1f} °C"
    open_page(browser, f"{dashboard.url}/?schools={station}", "Weather now")
    wait_for_text(browser, ".card .big", "°C")
    # With two days of history today's simulated weather may have broken a record already;
    # none, folded away or not, can show the temperature that has not been sent yet.
    assert not any(_shows(_text(m), shown) for m in _markers(browser, station))
    opened = _open_folded(browser)  # a student reading every record opens the folded ones
    browser.execute_script("window.__same_page = true")

    values = [float(last["temp_c"]) + (target - float(last["temp_c"])) * (i + 1) / steps
              for i in range(steps)]  # fmt: skip
    chain.publish(
        station,
        "obs",
        [{"ts": start + spacing * (i + 1), "temp_c": round(v, 2)} for i, v in enumerate(values)],
    )
    marker = wait(browser, lambda d: _seen(d, station, shown, opened))
    assert marker.startswith("★ New record:") and "highest temperature" in marker
    assert _shows(marker, shown)
    assert browser.execute_script("return window.__same_page === true")  # it fell live

    open_page(browser, dashboard.url + "/leaderboard", "Today's leaderboard")
    assert _shows(wait(browser, lambda d: _seen(d, station, shown, opened=False)), shown)


def test_climate_page(browser: Any, dashboard: Any, chain: Any) -> None:
    station = _tampere(chain)
    open_page(browser, f"{dashboard.url}/climate", "Climate")
    # Every outdoor school's records since its station began, with their dates.
    wait_for_text(browser, "#climate-records", "Tampere")
    records = text_of(browser, "#climate-records")
    assert str(datetime.now(UTC).year) in records
    # The printable report of the first school, in the page.
    wait(browser, lambda d: "Monthly climate summary" in (
        d.find_element(By.ID, "climate-report").get_attribute("srcdoc") or ""))  # fmt: skip
    # Two days of data: no month passes ETCCDI's missing-days rule, and the page says so.
    wait_for_text(browser, "#climate-regions", "No complete month yet")
    notes = text_of(browser, "#climate-notes")
    assert "TR (days)" in notes
    assert station


def test_climate_report_downloads_as_csv_and_pdf(
    browser: Any, dashboard: Any, chain: Any, tmp_path: Path
) -> None:
    """The report's buttons save real files through the browser's own download."""
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    open_page(browser, f"{dashboard.url}/climate", "Climate")
    wait(browser, lambda d: "Monthly climate summary" in (
        d.find_element(By.ID, "climate-report").get_attribute("srcdoc") or ""))  # fmt: skip
    month = datetime.now(UTC).strftime("%Y-%m")

    browser.find_element(By.ID, "climate-download-csv").click()
    csv_files = wait(browser, lambda d: list(tmp_path.glob("classnet-*.csv")))
    station = csv_files[0].name.removeprefix("classnet-").removesuffix(f"-{month}.csv")
    assert station in chain.stations
    lines = csv_files[0].read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("station,") and lines[1].startswith(f"{station},")

    browser.find_element(By.ID, "climate-download-pdf").click()
    pdf_files = wait(browser, lambda d: list(tmp_path.glob("classnet-*.pdf")))
    wait(browser, lambda d: pdf_files[0].read_bytes().startswith(b"%PDF"))

    # A mistyped period is named, and no file is saved.
    box = browser.find_element(By.ID, "climate-period")
    box.clear()
    box.send_keys("2024-13\n")
    browser.find_element(By.ID, "climate-download-csv").click()
    wait_for_text(browser, "#climate-download-note", "is not a month like 2024-06")
    assert len(list(tmp_path.iterdir())) == 2
