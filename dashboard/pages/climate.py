"""Climate: a school's monthly or yearly report, every school's records, partner schools' months
side by side, Asia against Europe, and what each climate index means."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any

from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import ids, picker
from dashboard.climate_data import climate
from dashboard.context import data
from dashboard.core.indices import INDICES
from dashboard.data import utcnow
from dashboard.i18n import N_, number, t
from dashboard.labels import REGION, name
from dashboard.records_view import QUANTITY, RECORD, banner
from dashboard.report_actions import ReportFormat, parse_period, render_report
from dashboard.shell import current_language, explain
from dashboard.tables import card_table
from dashboard.units import fmt
from ingest.domain.errors import UserError

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/climate", "name": N_("Climate"), "order": 6}

STATION = "climate-station"
PERIOD = "climate-period"
REPORT = "climate-report"
DOWNLOAD = "climate-download"
DOWNLOAD_CSV = "climate-download-csv"
DOWNLOAD_PDF = "climate-download-pdf"
DOWNLOAD_NOTE = "climate-download-note"
RECORDS = "climate-records"
PARTNERS_PICK = "climate-partners-pick"
MONTH = "climate-month"
PARTNERS = "climate-partners"
REGIONS = "climate-regions"
NOTES = "climate-notes"
MONTHLY = [index for index in INDICES if not index.annual_only]

NO_READINGS = N_("No readings from this school in this period.")
NO_MONTH = N_("No complete month yet for these schools.")
UNIT = {"days": N_("days")}
# What each ETCCDI index tells a student (core.indices.INDICES by name).
MEANING = {
    "FD": N_(
        "Frost days: days when the lowest temperature fell below 0 °C, so puddles could freeze."
    ),
    "ID": N_("Ice days: days when even the highest temperature stayed below 0 °C: frozen all day."),
    "SU": N_("Summer days: days warmer than 25 °C at their hottest."),
    "TR": N_(
        "Tropical nights: days whose lowest temperature stayed above 20 °C, so the night never "
        "cooled down. Most nights in Manila, hardly ever in Tampere."
    ),
    "GSL": N_(
        "Growing season: the days from the first 6 days in a row averaging above 5 °C to the "
        "first 6 days in a row below 5 °C after 1 July: how long plants can grow. Near the "
        "equator it is the whole year."
    ),
    "TXx": N_("The hottest day's high."),
    "TNn": N_("The coldest night's low."),
    "TXn": N_("The coldest day's high."),
    "TNx": N_("The warmest night's low."),
    "DTR": N_(
        "Diurnal temperature range: the average gap between each day's high and low. Dry, clear "
        "air far from the sea lets days heat up and nights cool down (Tampere in spring); humid, "
        "cloudy air holds the heat at night and shades the day (Manila in the rainy season), so "
        "the range is small."
    ),
    "Rx1day": N_("The most rain in one day."),
    "Rx5day": N_("The most rain in five days in a row: the rain that floods rivers."),
    "CDD": N_("The longest run of dry days (less than 1 mm of rain)."),
    "CWD": N_("The longest run of wet days (1 mm of rain or more)."),
    "SDII": N_(
        "How hard it rains on a rainy day: the rain of all wet days divided by their number."
    ),
    "R10mm": N_("Days with 10 mm of rain or more: heavy rain."),
    "R20mm": N_("Days with 20 mm of rain or more: very heavy rain."),
    "PRCPTOT": N_("All the rain of the wet days (1 mm or more)."),
}


def layout(**_query: str) -> html.Div:
    lang = current_language()
    now = utcnow()
    this_month = now.strftime("%Y-%m")
    # Comparisons start on the last whole month: this one is still missing its days to come.
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return html.Div(
        [
            html.H2(t("Climate", lang)),
            banner("climate"),
            html.H3(t("Monthly and yearly report", lang)),
            html.Div(
                [
                    html.Label(t("School", lang), htmlFor=STATION),
                    dcc.Dropdown(id=STATION, clearable=False, className="pick"),
                    html.Label(t("Month or year", lang), htmlFor=PERIOD),
                    dcc.Input(id=PERIOD, value=this_month, debounce=True, size="8"),
                    html.Button(
                        t("Download CSV", lang), id=DOWNLOAD_CSV, className="button", n_clicks=0
                    ),
                    html.Button(
                        t("Download PDF", lang), id=DOWNLOAD_PDF, className="button", n_clicks=0
                    ),
                ],
                className="row",
            ),
            html.P(id=DOWNLOAD_NOTE, className="note", role="status"),
            dcc.Download(id=DOWNLOAD),
            html.Iframe(
                id=REPORT,
                className="report",
                title=t("Monthly and yearly report", lang),
                style={"width": "100%", "height": "1150px", "border": "0"},
            ),
            html.H3(t("Records since each station began", lang)),
            html.Div(id=RECORDS),
            html.H3(t("Partner schools side by side", lang)),
            html.P(
                t("Pick schools on the Now page or here; the month is YYYY-MM.", lang),
                className="hint",
            ),
            html.Div(
                [
                    picker.dropdown(PARTNERS_PICK, lang),
                    html.Label(t("Month", lang), htmlFor=MONTH),
                    dcc.Input(id=MONTH, value=last_month, debounce=True, size="8"),
                ],
                className="row",
            ),
            html.Div(id=PARTNERS),
            html.H3(t("Asia and Europe in the same month", lang)),
            html.Div(id=REGIONS),
            explain(
                t(
                    "Climate indices count and measure a month or year of days the way "
                    "climatologists everywhere do (ETCCDI definitions). A month with more than 3 "
                    "days missing, or a year with more than 15, gets no value.",
                    lang,
                ),
                lang,
            ),
            html.Div(notes(lang), id=NOTES, className="notes"),
        ]
    )


@callback(
    Output(STATION, "options"),
    Output(STATION, "value"),
    Output(PARTNERS_PICK, "options"),
    Output(PARTNERS_PICK, "value"),
    Output(PARTNERS_PICK, "labels"),
    Input(STATION, "id"),
    Input(ids.SELECTED, "data"),
    State(ids.LANG, "data"),
)
def choices(
    _id: str, selected: list[str] | None, lang: str
) -> tuple[list, str | None, list, list[str], Any]:
    registry = data().registry()
    options = picker.options(registry)
    values = [o["value"] for o in options]
    chosen = [s for s in (selected or []) if s in values] or values[:2]
    labels = picker.labels(len(chosen), lang)
    return options, (chosen[0] if chosen else None), options, chosen, labels


@callback(
    Output(REPORT, "srcDoc"),
    Input(STATION, "value"),
    Input(PERIOD, "value"),
    State(ids.LANG, "data"),
)
def report(station: str | None, period: str | None, lang: str) -> str:
    if not station:
        return ""
    try:
        when = parse_period(period or "")
    except UserError as exc:
        return f"<p>{escape(str(exc))}</p>"  # the message quotes what the student typed
    page = climate().report_html(station, when, lang)
    return page or f"<p>{escape(t(NO_READINGS, lang))}</p>"


@callback(
    Output(DOWNLOAD, "data"),
    Output(DOWNLOAD_NOTE, "children"),
    Input(DOWNLOAD_CSV, "n_clicks"),
    Input(DOWNLOAD_PDF, "n_clicks"),
    State(STATION, "value"),
    State(PERIOD, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def download(_csv: int, _pdf: int, station: str | None, period: str | None, lang: str) -> Any:
    """The report on screen as a file: CSV for a spreadsheet, or the one-page PDF for the
    classroom wall (what `classnet report --format csv|pdf` writes)."""
    fmt: ReportFormat = "pdf" if ctx.triggered_id == DOWNLOAD_PDF else "csv"
    try:
        when = parse_period(period or "")
        built = climate().report(station, when) if station else None
        if built is None:
            return no_update, t(NO_READINGS, lang)
        content = render_report(*built, fmt, lang)
    except UserError as exc:  # a mistyped period, or no Chromium to print with
        return no_update, str(exc)
    name = f"classnet-{station}-{(period or '').strip()}.{fmt}"
    return dcc.send_bytes(content, name), ""


@callback(
    Output(RECORDS, "children"),
    Input(ids.VERSION, "data"),
    Input(ids.UNITS, "data"),
    State(ids.LANG, "data"),
)
def records(_version: Any, units: dict, lang: str) -> Any:
    rows: dict[str, dict[str, Any]] = {}
    for r in climate().records()["records"]:
        row = rows.setdefault(r["station"], {"name": r["name"], "since": r["since"]})
        row[r["record"]] = f"{fmt(QUANTITY[r['record']], r['value'], units, lang)} ({r['date']})"
    if not rows:
        return html.P(t(NO_READINGS, lang))
    heads = [t("School", lang), *(t(RECORD[k], lang) for k in QUANTITY), t("since", lang)]
    body = [
        [r["name"], *(r.get(k, "–") for k in QUANTITY), r["since"]] for _, r in sorted(rows.items())
    ]
    return card_table(heads, body)


def _value(value: float | None, unit: str, lang: str) -> str:
    if value is None:
        return "–"
    shown = number(value, lang, 0 if unit == "days" else 1)
    return f"{shown}\u00a0{name(UNIT, unit, lang)}"


def _index_table(columns: list[str], lines: list[dict[str, Any]], lang: str) -> html.Table:
    heads = [t("Index", lang), *columns]
    body = [
        [html.Abbr(index.name, title=t(MEANING[index.name], lang)),
         *(_value(line.get(index.name), index.unit, lang) for line in lines)]
        for index in MONTHLY
    ]  # fmt: skip
    return card_table(heads, body)


# Not on every data version: a month and the same month last year of every school is a large
# read; the comparison changes by the day, not by the minute.
@callback(
    Output(PARTNERS, "children"),
    Output(REGIONS, "children"),
    Input(PARTNERS_PICK, "value"),
    Input(MONTH, "value"),
    State(ids.LANG, "data"),
)
def partners(stations: list[str] | None, month: str | None, lang: str) -> Any:
    try:
        when = parse_period(month or "")
    except UserError as exc:
        return html.P(str(exc)), None
    if when.month is None:
        return html.P(f"{month}: YYYY-MM"), None
    payload = climate().partners(list(stations or []), when.year, when.month)
    schools = payload["schools"]
    side = (
        _index_table([f"{s['name']} {s['period']}" for s in schools], schools, lang)
        if schools
        else html.P(t(NO_MONTH, lang))
    )
    regions = payload["regions"]
    columns = [f"{name(REGION, r['region'], lang)} ({r['schools']})" for r in regions]
    table = _index_table(columns, regions, lang) if regions else html.P(t(NO_MONTH, lang))
    return side, table


def notes(lang: str) -> list[html.Details]:
    """What each index means, in the reader's language."""
    return [
        html.Details(
            [
                html.Summary(f"{index.name} ({name(UNIT, index.unit, lang)})"),
                html.P(t(MEANING[index.name], lang)),
            ],
            className="explain",
        )
        for index in INDICES
    ]
