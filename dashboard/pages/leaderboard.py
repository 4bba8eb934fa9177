"""Leaderboard: today's hottest, coldest, wettest, windiest and biggest range (each school's own
local day), and each school against its own recent days."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, html

from dashboard import ids, records_view
from dashboard.context import data
from dashboard.i18n import t
from dashboard.shell import explain, text
from dashboard.units import fmt

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/leaderboard", "name": "Leaderboard", "order": 3}

DATA = "leaderboard-data"
BOARD = "leaderboard-board"
ANOMALY = "leaderboard-anomaly"
# category: (catalogue key, quantity the value is shown as)
CATEGORIES = {
    "hottest": ("leader.hottest", "temp_c"),
    "coldest": ("leader.coldest", "temp_c"),
    "wettest": ("leader.wettest", "rain_mm"),
    "windiest": ("leader.windiest", "wind_gust_ms"),
    "range": ("leader.range", "temp_diff"),
}


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            text("leader.title", html.H2),
            records_view.banner("leaderboard"),
            html.Div(id=BOARD, className="boards"),
            text("leader.anomaly", html.H3),
            html.Div(id=ANOMALY),
            explain("explain.anomaly"),
            dcc.Store(id=DATA),
        ]
    )


@callback(Output(DATA, "data"), Input(ids.VERSION, "data"), Input(BOARD, "id"))
def compute(_version: Any, _id: str) -> dict[str, Any]:
    return data().leaderboard()


def _value(quantity: str, value: float | None, units: dict) -> str:
    if quantity == "temp_diff":  # a difference: no +32 offset in °F
        if value is None:
            return "–"
        scale = 1.8 if units.get("temp") == "F" else 1.0
        return f"{value * scale:.1f} °{units.get('temp', 'C')}"
    return fmt(quantity, value, units)


@callback(
    Output(BOARD, "children"),
    Output(ANOMALY, "children"),
    Input(DATA, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> tuple[Any, Any]:
    payload = payload or {}
    boards = []
    for category, (key, quantity) in CATEGORIES.items():
        rows = payload.get("categories", {}).get(category) or []
        body = [
            html.Tr(
                [
                    html.Td(str(i + 1)),
                    html.Td(r["name"]),
                    html.Td(_value(quantity, r["value"], units)),
                ]
            )
            for i, r in enumerate(rows)
        ]
        boards.append(
            html.Section(
                [
                    html.H3(t(key, lang)),
                    html.Table(html.Tbody(body)) if body else html.P(t("leader.empty", lang)),
                ],
                className="board",
                id=f"leaderboard-{category}",
            )
        )
    anomalies = payload.get("anomaly") or []
    if not anomalies:
        return boards, html.P(t("leader.empty", lang))
    header = html.Tr(
        [
            html.Th(t(k, lang))
            for k in ("leader.school", "leader.today", "leader.baseline", "leader.diff")
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(a["name"]),
                html.Td(fmt("temp_c", a["value"], units)),
                html.Td(fmt("temp_c", a["baseline"], units)),
                html.Td(
                    ("+" if (a["anomaly"] or 0) > 0 else "")
                    + _value("temp_diff", a["anomaly"], units),
                    className="warm" if (a["anomaly"] or 0) > 0 else "cool",
                ),
            ]
        )
        for a in anomalies
    ]
    return boards, html.Table([html.Thead(header), html.Tbody(rows)], className="table")
