"""The "new record" marker: one line per record a school broke today, for any page to show.

A page adds `banner("<page>")` to its layout; one pattern-matched callback fills every banner
from `Climate.records` whenever new observations arrive (the app-wide data version).
"""

from __future__ import annotations

from typing import Any

from dash import MATCH, Input, Output, callback, html

from dashboard import ids
from dashboard.climate_data import climate
from dashboard.i18n import t
from dashboard.units import fmt

BANNER = "records-banner"
# record: the quantity its value is shown as (units follow the student's choice)
QUANTITY = {
    "highest": "temp_c",
    "lowest": "temp_c",
    "wettest": "rain_mm",
    "windiest": "wind_gust_ms",
}


def banner(page: str) -> html.Div:
    return html.Div(id={"type": BANNER, "page": page}, className="records", role="status")


def record_line(broken: dict[str, Any], lang: str, units: dict) -> html.P:
    quantity = QUANTITY[broken["record"]]
    return html.P(
        [
            html.Strong(f"★ {t('records.new', lang)}: "),
            f"{broken['name']}, {t('records.' + broken['record'], lang)} "
            f"{fmt(quantity, broken['value'], units)} "
            f"({t('records.before', lang)} {fmt(quantity, broken['previous'], units)}, "
            f"{broken['previous_date']})",
        ],
        className="new-record",
        **{"data-station": broken["station"], "data-record": broken["record"]},
    )


@callback(
    Output({"type": BANNER, "page": MATCH}, "children"),
    Input(ids.VERSION, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
    Input({"type": BANNER, "page": MATCH}, "id"),
)
def fill(_version: Any, lang: str, units: dict, _id: Any) -> list[html.P]:
    return [record_line(b, lang, units) for b in climate().records()["broken"]]
