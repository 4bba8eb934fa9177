"""Now: the map of every school and a card per selected school."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import figures, ids, mapbins, picker
from dashboard.context import data
from dashboard.data import utcnow
from dashboard.i18n import DEFAULT, t
from dashboard.shell import explain, text, unchanged
from dashboard.units import convert, fmt, unit_of

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/", "name": "Now", "order": 0}

MAP = "now-map"
MAP_DATA = "now-map-data"
MAP_VARIABLE = "now-variable"
LINKED = "now-linked"
PICK = "now-pick"
CARDS = "now-cards"
CARDS_DATA = "now-cards-data"
MAP_VARIABLES = ("temp_c", "feels_c", "rh_pct", "slp_hpa", "wind_speed_ms", "rain_mm")


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            text("now.title", html.H2),
            html.Div(
                [
                    html.Label(text("ctl.variable"), htmlFor=MAP_VARIABLE),
                    dcc.Dropdown(
                        id=MAP_VARIABLE,
                        options=variable_options(DEFAULT),
                        value="temp_c",
                        clearable=False,
                        persistence=True,
                        className="variable",
                    ),
                ],
                className="row",
            ),
            dcc.Graph(
                id=MAP,
                config={
                    "topojsonURL": dash.get_asset_url("topojson/"),
                    "displaylogo": False,
                    "scrollZoom": False,
                },
                className="map",
            ),
            text("now.map_hint", html.P, className="hint"),
            explain("explain.map"),
            html.Label(text("ctl.schools"), htmlFor=PICK),
            picker.dropdown(PICK),
            html.Div(id=CARDS, className="cards", role="status"),
            html.Div([explain("explain.feels"), explain("explain.slp")], className="notes"),
            dcc.Store(id=MAP_DATA),
            dcc.Store(id=LINKED, data=picker.from_query(query)),
            dcc.Store(id=CARDS_DATA),
        ]
    )


def variable_options(lang: str) -> list[dict[str, str]]:
    return [{"label": t(f"var.{v}", lang), "value": v} for v in MAP_VARIABLES]


@callback(
    Output(MAP_VARIABLE, "options"),
    Output(PICK, "placeholder"),
    Input(ids.LANG_PICK, "value"),
)
def translate_controls(lang: str) -> tuple[list[dict[str, str]], str]:
    return variable_options(lang), t("ctl.pick", lang)


@callback(
    Output(ids.SELECTED, "data", allow_duplicate=True),
    Output(PICK, "value"),
    Output(PICK, "options"),
    Output(LINKED, "data"),
    Input(PICK, "value"),
    Input(MAP, "clickData"),
    State(ids.SELECTED, "data"),
    State(LINKED, "data"),
    prevent_initial_call="initial_duplicate",
)
def select(
    picked: list[str] | None,
    click: dict | None,
    stored: list[str] | None,
    linked: list[str] | None,
) -> tuple[list[str], list[str], list[dict[str, Any]], None]:
    registry = data().registry()
    trigger = {PICK: "pick", MAP: "map"}.get(str(ctx.triggered_id))
    clicked = None
    if trigger == "map" and click and click.get("points"):
        clicked = click["points"][0].get("customdata")
        clicked = clicked[0] if isinstance(clicked, list) else clicked
        clicked = clicked or None  # a cell of many schools (dashboard/mapbins.py) picks none
    chosen = picker.sync(trigger, picked, stored, registry, clicked, linked)
    return chosen, chosen, picker.options(registry), None


@callback(Output(MAP_DATA, "data"), Input(MAP_VARIABLE, "value"), Input(ids.VERSION, "data"))
def map_data(variable: str, _version: Any) -> dict[str, Any]:
    frame = mapbins.cells(data().latest(variable or "temp_c"))
    return {
        "variable": variable,
        "station": frame["station"].tolist(),
        "name": frame["name"].astype(str).tolist(),
        "lat": frame["lat"].tolist(),
        "lon": frame["lon"].tolist(),
        "status": frame["status"].tolist(),
        "value": [None if not np.isfinite(v) else float(v) for v in frame["value"]],
        "count": frame["count"].tolist(),
    }


@callback(
    Output(MAP, "figure"),
    Input(MAP_DATA, "data"),
    Input(ids.SELECTED, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def map_figure(points: dict | None, selected: list[str] | None, lang: str, units: dict) -> Any:
    return render_map(points or {}, selected or [], lang, units)


def render_map(points: dict, selected: list[str], lang: str, units: dict) -> go.Figure:
    variable = points.get("variable") or "temp_c"
    label = f"{t('var.' + variable, lang)} ({unit_of(variable, units)})"
    fig = go.Figure()
    stations = points.get("station", [])
    status = np.array(points.get("status", []), dtype=object)
    values = np.array([np.nan if v is None else v for v in points.get("value", [])], float)
    shown = convert(variable, values, units)
    counts = points.get("count") or [1] * len(stations)
    # A cell of several schools is named by its size (dashboard/mapbins.py).
    names = [
        figures.esc(n) if c == 1 else t("map.cell", lang).format(n=c)
        for n, c in zip(points.get("name", []), counts, strict=True)
    ]
    lat, lon = np.array(points.get("lat", []), float), np.array(points.get("lon", []), float)
    has_value = np.isfinite(shown)
    groups = (
        ("online", (status == "online") & has_value),
        ("stale", (status == "stale") & has_value),
        ("offline", (status == "offline") | ~has_value),
    )
    for state, mask in groups:
        idx = np.flatnonzero(mask)
        if not idx.size and state != "online":
            continue
        states = [t(f"state.{status[i]}", lang) for i in idx]
        values_text = [fmt(variable, values[i], units) for i in idx]
        big = [18 if stations[i] in selected else 12 + 4 * np.log2(counts[i]) for i in idx]
        if state == "offline":
            marker: dict[str, Any] = {"size": big, "color": "#888888", "symbol": "x"}
        else:
            # Late stations keep their colour (their last value) but are drawn hollow.
            marker = {
                "size": big,
                "color": shown[idx],
                "colorscale": figures.SEQUENTIAL,
                "cmin": np.nanmin(shown) if has_value.any() else None,
                "cmax": np.nanmax(shown) if has_value.any() else None,
                "symbol": "circle" if state == "online" else "circle-open",
                # One colour bar: on the live points, or on the late ones when none are live.
                "showscale": state == "online" or not groups[0][1].any(),
                "colorbar": {"title": {"text": label}},
                "line": {"width": [3 if stations[i] in selected else 1 for i in idx]},
            }
        fig.add_trace(
            go.Scattergeo(
                lat=lat[idx],
                lon=lon[idx],
                customdata=[[stations[i]] for i in idx],
                text=[names[i] for i in idx],
                hovertext=[f"{v} · {s}" for v, s in zip(values_text, states, strict=True)],
                hovertemplate="<b>%{text}</b><br>%{hovertext}<extra></extra>",
                mode="markers",
                name=t(f"state.{state}", lang),
                marker=marker,
            )
        )
    fig.update_geos(
        projection_type="natural earth",
        showland=True,
        landcolor="#eeeeee",
        showcountries=True,
        countrycolor="#bbbbbb",
        showocean=True,
        oceancolor="#f4f8fb",
        fitbounds="locations" if stations else False,
        resolution=110,
    )
    fig = figures.base(fig, height=480)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, uirevision="map")
    return fig


@callback(
    Output(CARDS_DATA, "data"),
    Input(ids.SELECTED, "data"),
    Input(ids.VERSION, "data"),
    State(CARDS_DATA, "data"),
)
def cards_data(selected: list[str] | None, version: dict | None, previous: dict | None) -> Any:
    stations = selected or []
    if unchanged(previous, version, stations):
        return dash.no_update
    seen = {s: (version or {}).get(s) for s in stations}
    return {"cards": data().now_cards(stations), "at": utcnow().isoformat(), "seen": seen}


@callback(
    Output(CARDS, "children"),
    Input(CARDS_DATA, "data"),
    Input(ids.TICK, "n_intervals"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def cards(payload: dict | None, _tick: Any, lang: str, units: dict) -> Any:
    items = (payload or {}).get("cards") or []
    if not items:
        return html.P(t("now.none", lang), className="hint")
    return [card(c, lang, units) for c in items]


def ago(iso: str | None, lang: str, now: datetime | None = None) -> str:
    if not iso:
        return t("ago.never", lang)
    seconds = ((now or utcnow()) - datetime.fromisoformat(iso)).total_seconds()
    if seconds < 90:
        return t("ago.now", lang)
    if seconds < 3600:
        return t("ago.min", lang).format(n=round(seconds / 60))
    if seconds < 86400 * 2:
        return t("ago.h", lang).format(n=round(seconds / 3600))
    return t("ago.d", lang).format(n=round(seconds / 86400))


def card(c: dict[str, Any], lang: str, units: dict) -> html.Article:
    def line(key: str, value: str, cls: str = "") -> html.Div:
        return html.Div([html.Dt(t(key, lang)), html.Dd(value)], className=f"fact {cls}")

    wind = fmt("wind_speed_ms", c["wind_speed_ms"], units)
    if c.get("wind_compass"):
        wind = f"{wind} {c['wind_compass']}"
    return html.Article(
        [
            html.H3(c["name"]),  # text node: station-provided names are never parsed as HTML
            html.P(
                [f"{c['country']} · ", t(f"state.{c['status']}", lang)],
                className=f"status {c['status']}",
            ),
            html.Div(fmt("temp_c", c["temp_c"], units), className="big"),
            html.Dl(
                [
                    line("var.feels_c", fmt("feels_c", c["feels_c"], units)),
                    line("var.rh_pct", fmt("rh_pct", c["rh_pct"], units)),
                    line("var.slp_hpa", fmt("slp_hpa", c["slp_hpa"], units)),
                    line("var.wind_speed_ms", wind),
                    line("var.rain_today", fmt("rain_today", c["rain_today"], units)),
                    line("now.local_time", c["local_time"]),
                    line("now.sunrise", c["sunrise"] or "–"),
                    line("now.sunset", c["sunset"] or "–"),
                    line("now.updated", ago(c["last_seen"], lang), "updated"),
                ]
            ),
        ],
        className="card",
        id={"type": "now-card", "station": c["station"]},
    )
