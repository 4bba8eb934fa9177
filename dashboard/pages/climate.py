"""Climate: a school's monthly or yearly report, every school's records, partner schools' months
side by side, Asia against Europe, and what each climate index means."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any

from dash import Input, Output, callback, dcc, html

from dashboard import ids, picker
from dashboard.climate_data import climate
from dashboard.context import data
from dashboard.core.indices import INDICES
from dashboard.data import utcnow
from dashboard.i18n import t
from dashboard.records_view import QUANTITY, banner
from dashboard.report_actions import parse_period
from dashboard.shell import explain, text
from dashboard.units import fmt
from ingest.domain.errors import UserError

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/climate", "name": "Climate", "order": 6}

STATION = "climate-station"
PERIOD = "climate-period"
REPORT = "climate-report"
RECORDS = "climate-records"
PARTNERS_PICK = "climate-partners-pick"
MONTH = "climate-month"
PARTNERS = "climate-partners"
REGIONS = "climate-regions"
NOTES = "climate-notes"
MONTHLY = [index for index in INDICES if not index.annual_only]


def layout(**_query: str) -> html.Div:
    now = utcnow()
    this_month = now.strftime("%Y-%m")
    # Comparisons start on the last whole month: this one is still missing its days to come.
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return html.Div(
        [
            text("climate.title", html.H2),
            banner("climate"),
            text("climate.report", html.H3),
            html.Div(
                [
                    html.Label(text("report.ctl.school"), htmlFor=STATION),
                    dcc.Dropdown(id=STATION, clearable=False, className="pick"),
                    html.Label(text("report.ctl.period"), htmlFor=PERIOD),
                    dcc.Input(id=PERIOD, value=this_month, debounce=True, size="8"),
                ],
                className="row",
            ),
            html.Iframe(
                id=REPORT,
                className="report",
                style={"width": "100%", "height": "1150px", "border": "0"},
            ),
            text("climate.records", html.H3),
            html.Div(id=RECORDS),
            text("climate.partners", html.H3),
            text("climate.pick_hint", html.P, className="hint"),
            html.Div(
                [
                    picker.dropdown(PARTNERS_PICK),
                    dcc.Input(id=MONTH, value=last_month, debounce=True, size="8"),
                ],
                className="row",
            ),
            html.Div(id=PARTNERS),
            text("climate.regions", html.H3),
            html.Div(id=REGIONS),
            explain("explain.indices"),
            html.Div(id=NOTES, className="notes"),
        ]
    )


@callback(
    Output(STATION, "options"),
    Output(STATION, "value"),
    Output(PARTNERS_PICK, "options"),
    Output(PARTNERS_PICK, "value"),
    Input(STATION, "id"),
    Input(ids.SELECTED, "data"),
)
def choices(_id: str, selected: list[str] | None) -> tuple[list, str | None, list, list[str]]:
    registry = data().registry()
    options = picker.options(registry)
    values = [o["value"] for o in options]
    chosen = [s for s in (selected or []) if s in values] or values[:2]
    return options, (chosen[0] if chosen else None), options, chosen


@callback(
    Output(REPORT, "srcDoc"),
    Input(STATION, "value"),
    Input(PERIOD, "value"),
    Input(ids.LANG_PICK, "value"),
)
def report(station: str | None, period: str | None, lang: str) -> str:
    if not station:
        return ""
    try:
        when = parse_period(period or "")
    except UserError as exc:
        return f"<p>{escape(str(exc))}</p>"  # the message quotes what the student typed
    page = climate().report_html(station, when, lang)
    return page or f"<p>{escape(t('report.none', lang))}</p>"


@callback(
    Output(RECORDS, "children"),
    Input(ids.VERSION, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def records(_version: Any, lang: str, units: dict) -> Any:
    rows: dict[str, dict[str, Any]] = {}
    for r in climate().records()["records"]:
        row = rows.setdefault(r["station"], {"name": r["name"], "since": r["since"]})
        row[r["record"]] = f"{fmt(QUANTITY[r['record']], r['value'], units)} ({r['date']})"
    if not rows:
        return html.P(t("report.none", lang))
    head = [t("leader.school", lang), *(t(f"records.{k}", lang) for k in QUANTITY)]
    head.append(t("climate.since", lang))
    body = [
        html.Tr([html.Td(r["name"]), *(html.Td(r.get(k, "–")) for k in QUANTITY),
                 html.Td(r["since"])])
        for _, r in sorted(rows.items())
    ]  # fmt: skip
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], className="table"
    )


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} {unit}" if unit == "days" else f"{value:.1f} {unit}"


def _index_table(columns: list[str], lines: list[dict[str, Any]], lang: str) -> html.Table:
    head = html.Tr([html.Th(t("climate.index", lang)), *(html.Th(c) for c in columns)])
    body = [
        html.Tr(
            [html.Td(index.name, title=t(f"index.{index.name}", lang)),
             *(html.Td(_value(line.get(index.name), index.unit)) for line in lines)]
        )
        for index in MONTHLY
    ]  # fmt: skip
    return html.Table([html.Thead(head), html.Tbody(body)], className="table")


# Not on every data version: a month and the same month last year of every school is a large
# read; the comparison changes by the day, not by the minute.
@callback(
    Output(PARTNERS, "children"),
    Output(REGIONS, "children"),
    Input(PARTNERS_PICK, "value"),
    Input(MONTH, "value"),
    Input(ids.LANG_PICK, "value"),
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
        else html.P(t("climate.none", lang))
    )
    regions = payload["regions"]
    table = (
        _index_table(
            [f"{t('climate.region.' + r['region'], lang)} ({r['schools']})" for r in regions],
            regions,
            lang,
        )
        if regions
        else html.P(t("climate.none", lang))
    )
    return side, table


@callback(Output(NOTES, "children"), Input(ids.LANG_PICK, "value"))
def notes(lang: str) -> list[html.Details]:
    return [
        html.Details(
            [html.Summary(f"{index.name} ({index.unit})"), html.P(t(f"index.{index.name}", lang))],
            className="explain",
        )
        for index in INDICES
    ]
