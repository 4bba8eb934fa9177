"""Leaderboard: today's hottest, coldest, wettest, windiest and biggest range (each school's own
local day so far), and a table per school: now, highest so far today, yesterday against the usual.
The Hottest card and the table's "highest so far today" are the same number for a school."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, html

from dashboard import controls, ids, records_view
from dashboard.context import data
from dashboard.i18n import N_, number, t
from dashboard.shell import current_language, explain
from dashboard.tables import card_table
from dashboard.units import fmt

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/leaderboard", "name": N_("Leaderboard"), "order": 3}

DATA = "leaderboard-data"
BOARD = "leaderboard-board"
ANOMALY = "leaderboard-anomaly"
SITED = controls.well_sited_id("leaderboard")
SITING_NOTE = controls.siting_note_id("leaderboard")
# category: (title, what its number means, quantity the value is shown as, what an empty board says)
NO_READINGS = N_("No readings yet today.")
NO_SITED = N_("No well-sited school has a reading to rank yet.")
CATEGORIES = {
    "hottest": (N_("Hottest"), N_("highest so far today"), "temp_c", NO_READINGS),
    "coldest": (N_("Coldest"), N_("lowest so far today"), "temp_c", NO_READINGS),
    "wettest": (
        N_("Wettest"),
        N_("rain so far today"),
        "rain_mm",
        N_("No rain at any school so far today."),
    ),
    "windiest": (
        N_("Windiest"),
        N_("strongest gust so far today"),
        "wind_gust_ms",
        N_("No gusts measured so far today."),
    ),
    "range": (
        N_("Biggest daily range"),
        N_("highest minus lowest so far today"),
        "temp_diff",
        NO_READINGS,
    ),
}


def layout(**_query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Today's leaderboard", lang)),
            html.P(
                t(
                    "Each board ranks the day so far at every school, in the school's own local "
                    "time (from its midnight until now).",
                    lang,
                )
            ),
            records_view.banner("leaderboard"),
            controls.well_sited("leaderboard", lang),
            html.P(id=SITING_NOTE, className="note"),
            html.Div(id=BOARD, className="boards"),
            html.H3(t("Warmer or colder than usual?", lang)),
            html.Div(id=ANOMALY),
            explain(
                t(
                    "We compare yesterday, the last whole day, with the same school's own 7 days "
                    "before it, not with other schools: +3 means three degrees warmer than usual "
                    "there. Readings that failed a quality check (a spike, a stuck sensor, an "
                    "impossible value) are left out of every number here; they stay in the data "
                    "download.",
                    lang,
                ),
                lang,
            ),
            dcc.Store(id=DATA),
        ]
    )


@callback(
    Output(DATA, "data"), Input(ids.VERSION, "data"), Input(BOARD, "id"), Input(SITED, "value")
)
def compute(_version: Any, _id: str, sited: list[str] | None) -> dict[str, Any]:
    return data().leaderboard(well_sited=bool(sited))


@callback(Output(SITING_NOTE, "children"), Input(DATA, "data"), Input(ids.LANG, "data"))
def siting_note(payload: dict | None, lang: str) -> str:
    return controls.siting_note(payload or {}, lang, name_them=False)


def _value(quantity: str, value: float | None, units: dict, lang: str) -> str:
    if quantity == "temp_diff":  # a difference: no +32 offset in °F
        if value is None:
            return "–"
        scale = 1.8 if units.get("temp") == "F" else 1.0
        return f"{number(value * scale, lang)}\u00a0°{units.get('temp', 'C')}"
    return fmt(quantity, value, units, lang)


@callback(
    Output(BOARD, "children"),
    Output(ANOMALY, "children"),
    Input(DATA, "data"),
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> tuple[Any, Any]:
    payload = payload or {}
    boards = []
    for category, (title, means, quantity, empty) in CATEGORIES.items():
        rows = payload.get("categories", {}).get(category) or []
        if category in (payload.get("filtered") or []):
            empty = NO_SITED  # the schools with readings were left out, not silent
        body = [
            html.Li(
                html.Div(
                    [
                        html.Span(r["name"], className="who"),
                        html.Span(_value(quantity, r["value"], units, lang), className="value"),
                    ],
                    className="entry",
                )
            )
            for r in rows
        ]
        boards.append(
            html.Section(
                [
                    html.H3(t(title, lang)),
                    html.P(t(means, lang), className="means"),
                    html.Ol(body, className="ranking") if body else html.P(t(empty, lang)),
                ],
                className="board",
                id=f"leaderboard-{category}",
            )
        )
    anomalies = payload.get("anomaly") or []
    if not anomalies:
        return boards, html.P(t(NO_READINGS, lang))
    heads = [
        t("School", lang),
        t("Now", lang),
        t("Highest so far today", lang),
        t("Yesterday (mean)", lang),
        t("Usual (mean of the 7 days before)", lang),
        t("Yesterday − usual", lang),
    ]
    rows = [
        [
            a["name"],
            fmt("temp_c", a["now"], units, lang),
            fmt("temp_c", a["today_max"], units, lang),
            fmt("temp_c", a["value"], units, lang),
            fmt("temp_c", a["baseline"], units, lang),
            html.Span(
                ("+" if (a["anomaly"] or 0) > 0 else "")
                + _value("temp_diff", a["anomaly"], units, lang),
                className="warm" if (a["anomaly"] or 0) > 0 else "cool",
            ),
        ]
        for a in anomalies
    ]
    return boards, card_table(heads, rows)
