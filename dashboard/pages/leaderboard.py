"""Leaderboard: today's hottest, coldest, wettest, windiest and biggest range (each school's own
local day), and each school against its own recent days."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, html

from dashboard import ids
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
# category: (title, quantity the value is shown as)
CATEGORIES = {
    "hottest": (N_("Hottest"), "temp_c"),
    "coldest": (N_("Coldest"), "temp_c"),
    "wettest": (N_("Wettest"), "rain_mm"),
    "windiest": (N_("Windiest"), "wind_gust_ms"),
    "range": (N_("Biggest daily range"), "temp_diff"),
}


def layout(**_query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Today's leaderboard", lang)),
            html.Div(id=BOARD, className="boards"),
            html.H3(t("Warmer or colder than usual?", lang)),
            html.Div(id=ANOMALY),
            explain(
                t(
                    "We compare today with the same school's own recent days, not with other "
                    "schools: +3 means three degrees warmer than usual there.",
                    lang,
                ),
                lang,
            ),
            dcc.Store(id=DATA),
        ]
    )


@callback(Output(DATA, "data"), Input(ids.VERSION, "data"), Input(BOARD, "id"))
def compute(_version: Any, _id: str) -> dict[str, Any]:
    return data().leaderboard()


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
    for category, (title, quantity) in CATEGORIES.items():
        rows = payload.get("categories", {}).get(category) or []
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
                    html.Ol(body, className="ranking")
                    if body
                    else html.P(t("No readings yet today.", lang)),
                ],
                className="board",
                id=f"leaderboard-{category}",
            )
        )
    anomalies = payload.get("anomaly") or []
    if not anomalies:
        return boards, html.P(t("No readings yet today.", lang))
    heads = [t("School", lang), t("Today", lang), t("Usual", lang), t("Difference", lang)]
    rows = [
        [
            a["name"],
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
