"""Stations, for teachers: online or not, last seen, battery, signal, firmware, and rejected
readings by reason (the gateway's dead letters and dropped fields), to find a faulty sensor."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, html

from dashboard import ids
from dashboard.alerts.conditions import Limits
from dashboard.context import data
from dashboard.i18n import N_, number, t
from dashboard.labels import QUANTITY, STATE, name
from dashboard.pages.now import ago
from dashboard.shell import current_language, explain
from dashboard.tables import card_table
from dashboard.units import fmt

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/stations", "name": N_("Stations"), "order": 5}

DATA = "stations-data"
TABLE = "stations-table"
REJECTS = "stations-rejects"
RECENT = "stations-recent"
# What the note on this page calls weak: below these a station drops readings or goes offline.
LOW_BATTERY_V = 3.4
WEAK_WIFI_DBM = -80.0
# An outbox more than this full is what the teacher's alert e-mail is about.
OUTBOX_HIGH = Limits().outbox_high


def layout(**_query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Stations (for teachers)", lang)),
            explain(
                t(
                    "A station is late after 15 minutes without news and offline after an hour. "
                    "Low battery (below 3.4 V) or weak Wi-Fi (below −80 dBm) are the usual "
                    "causes, and are marked in the table. Rejected readings show which sensor "
                    "sends impossible values.",
                    lang,
                ),
                lang,
            ),
            html.Div(id=TABLE),
            html.H3(t("Rejected readings by reason", lang)),
            html.Div(id=REJECTS),
            html.H3(t("Latest rejected messages", lang)),
            html.Div(id=RECENT),
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
    Input(ids.LANG, "data"),
)
def render(payload: dict | None, lang: str) -> tuple[Any, Any, Any]:
    payload = payload or {}
    return (*_tables(payload, lang), _recent(payload.get("recent") or [], lang))


def _recent(letters: list[dict[str, Any]], lang: str) -> Any:
    """The gateway's dead letters as they were: what a teacher needs to find the faulty part."""
    if not letters:
        return html.P(t("No rejected readings: all sensors look fine.", lang))
    heads = [t("Received", lang), t("Station", lang), t("Reason", lang), t("What was wrong", lang)]
    # The detail is station-sent text: rendered as text, never as HTML.
    rows = [
        [ago(d["time"], lang), html.Code(d["station"]), d["reason"], d["detail"]] for d in letters
    ]
    return card_table(heads, rows)


def _flagged(text: str, weak: bool, lang: str) -> Any:
    """A value with a warning the eye and a screen reader both catch (not colour alone)."""
    if not weak:
        return text
    return (html.Span(["⚠ ", text, " ", html.Strong(t("weak", lang))]), "weak")


def _outbox(waiting: float | None, capacity: float | None, lang: str) -> Any:
    """Readings waiting in the station's outbox, of how many it can keep (its last report)."""
    if waiting is None:
        return "–"
    text = number(waiting, lang, 0)
    if not capacity:
        return text
    return _flagged(f"{text} / {number(capacity, lang, 0)}", waiting > OUTBOX_HIGH * capacity, lang)


def _klass(value: int | None) -> str:
    return "–" if value is None else str(value)


def _tables(payload: dict[str, Any], lang: str) -> tuple[Any, Any]:
    heads = [
        t("Station", lang),
        t("School", lang),
        t("State", lang),
        t("Last seen", lang),
        name(QUANTITY, "battery_v", lang),
        name(QUANTITY, "rssi_dbm", lang),
        t("Firmware", lang),
        t("Outbox (readings waiting)", lang),
        t("Siting (temperature)", lang),
        t("Siting (wind)", lang),
        t("Calibration", lang),
    ]
    rows = []
    for s in payload.get("stations", []):
        battery, rssi = s["battery_v"], s["rssi_dbm"]
        rows.append(
            [
                html.Code(s["station"]),
                s["name"],
                (name(STATE, s["status"], lang), f"status {s['status']}"),
                ago(s["last_seen"], lang),
                _flagged(
                    fmt("battery_v", battery, None, lang),
                    battery is not None and battery < LOW_BATTERY_V,
                    lang,
                ),
                _flagged(
                    fmt("rssi_dbm", rssi, None, lang),
                    rssi is not None and rssi < WEAK_WIFI_DBM,
                    lang,
                ),
                s["firmware"] or "–",
                _outbox(s.get("outbox"), s.get("outbox_max"), lang),
                (_klass(s.get("siting_temp")), "siting-temp"),
                (_klass(s.get("siting_wind")), "siting-wind"),
                "; ".join(s.get("calibration") or []) or "–",
            ]
        )
    table = card_table(heads, rows, id="stations-health")
    rejects = payload.get("rejects") or []
    if not rejects:
        return table, html.P(t("No rejected readings: all sensors look fine.", lang))
    heads2 = [t("Station", lang), t("Reason", lang), t("Count", lang)]
    reject_rows = [[html.Code(r["station"]), r["reason"], str(r["count"])] for r in rejects]
    return table, card_table(heads2, reject_rows)
