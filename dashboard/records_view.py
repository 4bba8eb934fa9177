"""The "new record" marker: one line per record a school broke today, for any page to show.

A page adds `banner("<page>")` to its layout, which holds the records when the page is drawn;
one pattern-matched callback keeps every banner current from `Climate.records` whenever new
observations arrive (the app-wide data version) and in the reader's units.
"""

from __future__ import annotations

from typing import Any

from dash import MATCH, Input, Output, State, callback, html

from dashboard import ids
from dashboard.climate_data import climate
from dashboard.i18n import N_, t
from dashboard.shell import current_language
from dashboard.units import DEFAULT_UNITS, fmt
from ingest import StoreError

BANNER = "records-banner"
# record: the quantity its value is shown as (units follow the student's choice)
QUANTITY = {
    "highest": "temp_c",
    "lowest": "temp_c",
    "wettest": "rain_mm",
    "windiest": "wind_gust_ms",
}
# record: its name in a sentence ("Tampere school, highest temperature 31.2 °C")
RECORD = {
    "highest": N_("highest temperature"),
    "lowest": N_("lowest temperature"),
    "wettest": N_("wettest day"),
    "windiest": N_("strongest gust"),
}


def banner(page: str) -> html.Div:
    """The banner with today's records as the page is rendered: they arrive with the page, so
    nothing under them moves (a phone's page jumped by their height a moment after it drew).
    Empty while the store cannot be read (the app's banner says so; the callback fills it)."""
    lang = current_language()
    try:
        today = lines(lang, DEFAULT_UNITS)
    except StoreError:
        today = []
    return html.Div(
        today,
        id={"type": BANNER, "page": page},
        className="records",
        role="status",
    )


def record_line(broken: dict[str, Any], lang: str, units: dict) -> html.P:
    quantity = QUANTITY[broken["record"]]
    line = t("{school}, {record} {value} (before {previous}, {date})", lang).format(
        school=broken["name"],
        record=t(RECORD[broken["record"]], lang),
        value=fmt(quantity, broken["value"], units, lang),
        previous=fmt(quantity, broken["previous"], units, lang),
        date=broken["previous_date"],
    )
    return html.P(
        [html.Strong("★ " + t("New record", lang) + ": "), line],
        className="new-record",
        **{"data-station": broken["station"], "data-record": broken["record"]},
    )


@callback(
    Output({"type": BANNER, "page": MATCH}, "children"),
    Input(ids.VERSION, "data"),
    Input(ids.UNITS, "data"),
    Input({"type": BANNER, "page": MATCH}, "id"),
    State(ids.LANG, "data"),
)
def fill(_version: Any, units: dict, _id: Any, lang: str) -> list[html.P]:
    return lines(lang, units)


def lines(lang: str, units: dict) -> list[html.P]:
    return [record_line(b, lang, units) for b in climate().records()["broken"]]
