"""Stations, for teachers: online or not, last seen, battery, signal, firmware, and rejected
readings by reason (the gateway's dead letters and dropped fields), to find a faulty sensor."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, html

from dashboard import ids
from dashboard.context import data
from dashboard.i18n import t
from dashboard.pages.now import ago
from dashboard.shell import explain, text
from dashboard.units import fmt

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/stations", "name": "Stations", "order": 5}

DATA = "stations-data"
TABLE = "stations-table"
REJECTS = "stations-rejects"
RECENT = "stations-recent"


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            text("stations.title", html.H2),
            explain("explain.stations"),
            html.Div(id=TABLE, className="scroll"),
            text("stations.rejects", html.H3),
            html.Div(id=REJECTS, className="scroll"),
            text("stations.recent", html.H3),
            html.Div(id=RECENT, className="scroll"),
            dcc.Store(id=DATA),
        ]
    )


@callback(Output(DATA, "data"), Input(ids.VERSION, "data"), Input(TABLE, "id"))
def compute(_version: Any, _id: str) -> dict[str, Any]:
    return data().station_health()


@callback(
    Output(TABLE, "children"),
    Output(REJECTS, "children"),
    Output(RECENT, "children"),
    Input(DATA, "data"),
    Input(ids.LANG_PICK, "value"),
)
def render(payload: dict | None, lang: str) -> tuple[Any, Any, Any]:
    payload = payload or {}
    return (*_tables(payload, lang), _recent(payload.get("recent") or [], lang))


def _recent(letters: list[dict[str, Any]], lang: str) -> Any:
    """The gateway's dead letters as they were: what a teacher needs to find the faulty part."""
    if not letters:
        return html.P(t("stations.no_rejects", lang))
    heads = ("stations.time", "stations.station", "stations.reason", "stations.detail")
    rows = [
        html.Tr(
            [
                html.Td(ago(d["time"], lang)),
                html.Td(html.Code(d["station"])),
                html.Td(d["reason"]),
                html.Td(d["detail"]),  # station-sent text: rendered as text, never as HTML
            ]
        )
        for d in letters
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads])), html.Tbody(rows)],
        className="table",
    )


def _klass(value: int | None) -> str:
    return "–" if value is None else str(value)


def _tables(payload: dict[str, Any], lang: str) -> tuple[Any, Any]:
    heads = ("stations.station", "stations.name", "stations.state", "stations.last_seen",
             "var.battery_v", "var.rssi_dbm", "stations.firmware",
             "stations.siting_temp", "stations.siting_wind", "stations.corrected")  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(html.Code(s["station"])),
                html.Td(s["name"]),
                html.Td(t(f"state.{s['status']}", lang), className=f"status {s['status']}"),
                html.Td(ago(s["last_seen"], lang)),
                html.Td(fmt("battery_v", s["battery_v"], None)),
                html.Td(fmt("rssi_dbm", s["rssi_dbm"], None)),
                html.Td(s["firmware"] or "–"),
                html.Td(_klass(s.get("siting_temp")), className="siting-temp"),
                html.Td(_klass(s.get("siting_wind")), className="siting-wind"),
                html.Td("; ".join(s.get("calibration") or []) or "–"),
            ]
        )
        for s in payload.get("stations", [])
    ]
    table = html.Table(
        [html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads])), html.Tbody(rows)],
        className="table",
    )
    rejects = payload.get("rejects") or []
    if not rejects:
        return table, html.P(t("stations.no_rejects", lang))
    reject_rows = [
        html.Tr([html.Td(html.Code(r["station"])), html.Td(r["reason"]), html.Td(str(r["count"]))])
        for r in rejects
    ]
    heads2 = ("stations.station", "stations.reason", "stations.count")
    return table, html.Table(
        [html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads2])), html.Tbody(reject_rows)],
        className="table",
    )
