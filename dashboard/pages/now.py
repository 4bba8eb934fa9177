"""Now: the map of every school with a list of the same schools beside it (for keyboards,
screen readers and crowded Europe), and a card per selected school."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import figures, ids, mapbins, picker, records_view
from dashboard.context import data
from dashboard.data import utcnow
from dashboard.i18n import N_, t, tn
from dashboard.labels import COMPASS, QUANTITY, STATE, name
from dashboard.shell import aria, current_language, explain, unchanged
from dashboard.units import DEFAULT_UNITS, convert, fmt, unit_of
from ingest import StoreError

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/", "name": N_("Now"), "order": 0}

MAP = "now-map"
MAP_DATA = "now-map-data"
MAP_VARIABLE = "now-variable"
LINKED = "now-linked"
LIST = "now-list"
CARDS = "now-cards"
CARDS_DATA = "now-cards-data"
MAP_VARIABLES = (
    "temp_c",
    "apparent_temp_c",
    "rh_pct",
    "sea_level_pressure_hpa",
    "wind_speed_ms",
    "rain_mm",
)
# Width / height of the drawn map (style.css gives its box the same proportions) and the height
# of the colour scale under it.
MAP_ASPECT = 1.6
COLOUR_SCALE_PX = 70


def layout(**query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Weather now", lang)),
            records_view.banner("now"),
            html.Div(
                [
                    html.Label(t("Quantity", lang), htmlFor=MAP_VARIABLE),
                    dcc.Dropdown(
                        id=MAP_VARIABLE,
                        options=[
                            {"label": name(QUANTITY, v, lang), "value": v} for v in MAP_VARIABLES
                        ],
                        value="temp_c",
                        clearable=False,
                        searchable=False,
                        persistence=True,
                        className="variable",
                    ),
                ],
                className="row",
            ),
            html.Div(
                [
                    html.Figure(
                        [
                            # The box is sized by the stylesheet; the map fills it (responsive).
                            html.Div(
                                dcc.Graph(
                                    id=MAP,
                                    config=figures.config(
                                        lang, ("zoomInGeo", "zoomOutGeo", "resetGeo")
                                    )
                                    | {
                                        "topojsonURL": dash.get_asset_url("topojson/"),
                                        "scrollZoom": False,
                                        "responsive": True,
                                    },
                                ),
                                className="map",
                            ),
                            html.Figcaption(
                                t(
                                    "Click a school on the map, or tick it in the list, to add it "
                                    "to your comparison.",
                                    lang,
                                ),
                                className="hint",
                            ),
                        ],
                        className="map-figure",
                    ),
                    html.Section(
                        [
                            html.H3(t("All schools", lang), id=f"{LIST}-title"),
                            html.Div(
                                dcc.Checklist(
                                    id=LIST,
                                    options=first_options(lang),
                                    # None, not []: on page load Dash reports the list as the
                                    # trigger; None (never touched) differs from a cleared list.
                                    value=None,
                                    className="school-list",
                                    inputClassName="radio",
                                    labelClassName="choice",
                                ),
                                **aria(labelledby=f"{LIST}-title"),
                            ),
                        ],
                        className="school-list-box",
                    ),
                ],
                className="map-row",
            ),
            explain(
                t(
                    "Colours show the chosen quantity now. A hollow circle is a station that is "
                    "late, a grey cross one that is offline. School positions are blurred by about "
                    "1 km for privacy.",
                    lang,
                ),
                lang,
            ),
            html.Div(pick_hint(lang), id=CARDS, className="cards", role="status"),
            html.Div(
                [
                    explain(
                        t(
                            "“Feels like” is how warm your skin finds the air. Wind carries heat "
                            "away, so a cold, windy day feels colder; humid air stops sweat from "
                            "drying, so a hot, humid day feels hotter than the thermometer says.",
                            lang,
                        ),
                        lang,
                    ),
                    explain(
                        t(
                            "Air pressure falls as you go up a hill. A school on a mountain always "
                            "reads lower, so we convert every reading to what it would be at sea "
                            "level before comparing schools.",
                            lang,
                        ),
                        lang,
                    ),
                ],
                className="notes",
            ),
            dcc.Store(id=MAP_DATA),
            dcc.Store(id=LINKED, data=picker.from_query(query)),
            dcc.Store(id=CARDS_DATA),
        ]
    )


@callback(
    Output(ids.SELECTED, "data", allow_duplicate=True),
    Output(LIST, "value"),
    Output(LINKED, "data"),
    Input(LIST, "value"),
    Input(MAP, "clickData"),
    State(ids.SELECTED, "data"),
    State(LINKED, "data"),
    prevent_initial_call="initial_duplicate",
)
def select(
    ticked: list[str] | None,
    click: dict | None,
    stored: list[str] | None,
    linked: list[str] | None,
) -> tuple[list[str], list[str], None]:
    registry = data().registry()
    trigger = {LIST: "pick", MAP: "map"}.get(str(ctx.triggered_id))
    clicked = None
    if trigger == "map" and click and click.get("points"):
        clicked = click["points"][0].get("customdata")
        clicked = clicked[0] if isinstance(clicked, list) else clicked
        clicked = clicked or None  # a cell of several schools picks none
    chosen = picker.sync(trigger, ticked, stored, registry, clicked, linked)
    return chosen, chosen, None


@callback(Output(MAP_DATA, "data"), Input(MAP_VARIABLE, "value"), Input(ids.VERSION, "data"))
def map_data(variable: str, _version: Any) -> dict[str, Any]:
    return latest(variable or "temp_c")


def latest(variable: str) -> dict[str, Any]:
    """Every school's latest `variable`, what the map and the list show."""
    return points_of(data().latest(variable), variable)


def points_of(latest: pd.DataFrame, variable: str) -> dict[str, Any]:
    """`Data.latest` as the map's and the list's points."""
    frame = latest.sort_values(["region", "country", "name"])
    return {
        "variable": variable,
        "station": frame.index.tolist(),
        "name": frame["name"].astype(str).tolist(),
        "country": frame["country"].astype(str).tolist(),
        "lat": frame["lat"].tolist(),
        "lon": frame["lon"].tolist(),
        "status": frame["status"].tolist(),
        "value": [None if not np.isfinite(v) else float(v) for v in frame["value"]],
    }


@callback(
    Output(LIST, "options"),
    Input(MAP_DATA, "data"),
    Input(ids.UNITS, "data"),
    State(ids.LANG, "data"),
    State(LIST, "options"),
)
def school_list(points: dict | None, units: dict, lang: str, shown: list | None) -> Any:
    options = school_options(points or {}, units, lang)
    # The same list again (as the page drew it, or after a tick that changed none of its
    # values) is left alone: drawing every box anew kept a phone busy for a tenth of a second.
    return dash.no_update if options == shown else options


def first_options(lang: str) -> list[dict[str, str]]:
    """The list as the page is drawn, so nothing under it moves when it fills (the callbacks
    keep it current); empty while the store cannot be read, which the banner says."""
    try:
        return school_options(latest("temp_c"), DEFAULT_UNITS, lang)
    except StoreError:
        return []


def school_options(points: dict, units: dict, lang: str) -> list[dict[str, str]]:
    """The map as a list: each school with its value, and its state when not online."""
    variable = points.get("variable") or "temp_c"
    options = [
        {
            "label": f"{n} ({c}) · {fmt(variable, v, units, lang)}"
            + ("" if s == "online" else f" · {name(STATE, s, lang)}"),
            "value": station,
        }
        for station, n, c, s, v in zip(
            points.get("station", []),
            points.get("name", []),
            points.get("country", []),
            points.get("status", []),
            points.get("value", []),
            strict=True,
        )
    ]
    return options


@callback(
    Output(MAP, "figure"),
    Input(MAP_DATA, "data"),
    Input(ids.SELECTED, "data"),
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def map_figure(points: dict | None, selected: list[str] | None, lang: str, units: dict) -> Any:
    return render_map(points or {}, selected or [], lang, units)


def render_map(points: dict, selected: list[str], lang: str, units: dict) -> go.Figure:
    variable = points.get("variable") or "temp_c"
    label = f"{name(QUANTITY, variable, lang)} ({unit_of(variable, units)})"
    fig = go.Figure()
    points = mapbins.cells(points)
    stations, counts = points.get("station", []), points["count"]
    status = np.array(points.get("status", []), dtype=object)
    values = np.array([np.nan if v is None else v for v in points.get("value", [])], float)
    shown = convert(variable, values, units)
    # A cell of several schools (dashboard/mapbins.py) is named by how many they are.
    names = [
        figures.esc(n) if c == 1 else tn("{n} school (mean)", "{n} schools (mean)", c, lang)
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
        states = [name(STATE, status[i], lang) for i in idx]
        values_text = [fmt(variable, values[i], units, lang) for i in idx]
        # Big enough to tap on a phone; bigger still when chosen, or the more schools a cell has.
        big = [20 if stations[i] in selected else 14 + 3 * np.log2(counts[i]) for i in idx]
        if state == "offline":
            marker: dict[str, Any] = {"size": big, "color": figures.OFFLINE, "symbol": "x"}
        else:
            # Late stations keep their colour (their last value) but are drawn hollow.
            marker = {
                "size": big,
                "color": shown[idx],
                "colorscale": figures.SEQUENTIAL,
                "cmin": np.nanmin(shown) if has_value.any() else None,
                "cmax": np.nanmax(shown) if has_value.any() else None,
                "symbol": "circle" if state == "online" else "circle-open",
                # One colour scale, under the map: on the live points, or on the late ones when
                # none are live.
                "showscale": state == "online" or not groups[0][1].any(),
                "colorbar": {
                    "title": {"text": figures.esc(label), "side": "bottom"},
                    "orientation": "h",
                    "x": 0.5,
                    "xanchor": "center",
                    "y": 0,
                    "yanchor": "top",
                    "len": 0.9,
                    "thickness": 14,
                    "ypad": 4,
                },
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
                name=name(STATE, state, lang),
                marker=marker,
                showlegend=False,
            )
        )
    fig.update_geos(
        **view(lon, lat),
        # Mercator, as on the web maps students know: shapes stay true, and the view below
        # gets the same proportions on every screen, so the map fills its box.
        projection_type="mercator",
        showland=True,
        landcolor=figures.LAND,
        showcountries=True,
        countrycolor="#bbbbbb",
        showocean=True,
        oceancolor="#f4f8fb",
        resolution=110,
        domain={"x": [0, 1], "y": [0, 1]},
    )
    fig = figures.base(fig, lang)
    # The page's CSS sizes the map (responsive) to MAP_ASPECT plus the colour scale's margin.
    fig.update_layout(
        height=None,
        autosize=True,
        margin={"l": 0, "r": 0, "t": figures.TOOLBAR_MARGIN - 8, "b": COLOUR_SCALE_PX},
        uirevision="map",
    )
    return fig


def _mercator_y(lat_deg: float) -> float:
    return float(np.log(np.tan(np.pi / 4 + np.radians(lat_deg) / 2)))


def _latitude(y: float) -> float:
    return float(np.degrees(2 * np.arctan(np.exp(y)) - np.pi / 2))


def view(lon: np.ndarray, lat: np.ndarray, pad_deg: float = 6.0) -> dict[str, Any]:
    """The map's view around every school: longitude and latitude ranges widened in one
    direction until the Mercator view is MAP_ASPECT times as wide as it is tall, centred where
    Mercator puts the middle (plotly would take the middle latitude, too far south).

    >>> view(np.array([0.0, 40.0]), np.array([0.0, 0.0]))["lataxis_range"]
    [-16.0, 16.0]
    >>> view(np.array([0.0, 40.0]), np.array([50.0, 60.0]))["center"]
    {'lon': 20.0, 'lat': 56.6}
    """
    if not lon.size:
        lon, lat = np.array([-10.0, 145.0]), np.array([-10.0, 70.0])  # Europe to Asia
    west, east = float(lon.min()) - pad_deg, float(lon.max()) + pad_deg
    south = max(float(lat.min()) - pad_deg, -80.0)
    north = min(float(lat.max()) + pad_deg, 80.0)
    width = np.radians(east - west)
    bottom, top = _mercator_y(south), _mercator_y(north)
    if width / (top - bottom) > MAP_ASPECT:  # too wide: show more to the north and south
        extra = (width / MAP_ASPECT - (top - bottom)) / 2
        bottom, top = bottom - extra, top + extra
    else:  # too tall: show more to the east and west
        extra = np.degrees((top - bottom) * MAP_ASPECT - width) / 2
        west, east = west - extra, east + extra
    return {
        "lonaxis_range": [round(west, 1), round(east, 1)],
        "lataxis_range": [round(_latitude(bottom), 1), round(_latitude(top), 1)],
        "center": {
            "lon": round(float(west + east) / 2, 1),
            "lat": round(_latitude((bottom + top) / 2), 1),
        },
    }


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
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def cards(payload: dict | None, _tick: Any, lang: str, units: dict) -> Any:
    items = (payload or {}).get("cards") or []
    if not items:
        return pick_hint(lang)
    return [card(c, lang, units) for c in items]


def pick_hint(lang: str) -> html.P:
    return html.P(t("Pick one or more schools on the map or in the list.", lang), className="hint")


def ago(iso: str | None, lang: str, now: datetime | None = None) -> str:
    if not iso:
        return t("never", lang)
    seconds = ((now or utcnow()) - datetime.fromisoformat(iso)).total_seconds()
    if seconds < 90:
        return t("just now", lang)
    if seconds < 3600:
        return tn("{n} minute ago", "{n} minutes ago", round(seconds / 60), lang)
    if seconds < 86400 * 2:
        return tn("{n} hour ago", "{n} hours ago", round(seconds / 3600), lang)
    return tn("{n} day ago", "{n} days ago", round(seconds / 86400), lang)


NO_SUNRISE = N_("The sun does not rise today")
NO_SUNSET = N_("The sun does not set today")


def _no_event(event: str, c: dict[str, Any], lang: str) -> str:
    """What stands where a sunrise or sunset would: near the poles a day can lack one."""
    # Polar day has no sunrise to speak of and polar night no sunset: the other line says it all.
    if c.get("sun_up_all_day" if event == "rise" else "sun_down_all_day"):
        return "–"
    return t(NO_SUNRISE, lang) if event == "rise" else t(NO_SUNSET, lang)


def card(c: dict[str, Any], lang: str, units: dict) -> html.Article:
    def line(label: str, value: str, cls: str = "") -> html.Div:
        return html.Div([html.Dt(label), html.Dd(value)], className=f"fact {cls}")

    wind = fmt("wind_speed_ms", c["wind_speed_ms"], units, lang)
    if c.get("wind_compass"):
        wind = f"{wind} {name(COMPASS, c['wind_compass'], lang)}"
    return html.Article(
        [
            html.H3(c["name"]),  # text node: station-provided names are never parsed as HTML
            html.P(
                [f"{c['country']} · ", name(STATE, c["status"], lang)],
                className=f"status {c['status']}",
            ),
            html.Div(fmt("temp_c", c["temp_c"], units, lang), className="big"),
            html.Dl(
                [
                    line(
                        t("Feels like", lang),
                        fmt("apparent_temp_c", c["apparent_temp_c"], units, lang),
                    ),
                    line(t("Humidity", lang), fmt("rh_pct", c["rh_pct"], units, lang)),
                    line(
                        t("Sea-level pressure", lang),
                        fmt("sea_level_pressure_hpa", c["sea_level_pressure_hpa"], units, lang),
                    ),
                    line(t("Wind", lang), wind),
                    line(t("Rain today", lang), fmt("rain_today", c["rain_today"], units, lang)),
                    line(t("Local time", lang), c["local_time"]),
                    line(t("Sunrise", lang), c["sunrise"] or _no_event("rise", c, lang)),
                    line(t("Sunset", lang), c["sunset"] or _no_event("set", c, lang)),
                    line(t("Last update", lang), ago(c["last_seen"], lang), "updated"),
                ]
            ),
        ],
        className="card",
        id={"type": "now-card", "station": c["station"]},
    )
