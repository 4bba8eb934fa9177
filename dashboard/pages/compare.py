"""Compare: any quantity for the selected schools over a day, week or month, on a chosen clock,
with daily min/max/rain bars per local day and a CSV of what the chart shows."""

from __future__ import annotations

import csv
import io
from typing import Any

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html
from plotly.subplots import make_subplots

from dashboard import figures, ids, picker
from dashboard.context import data
from dashboard.data import PERIODS, WEATHER_VARIABLES
from dashboard.i18n import DEFAULT, t
from dashboard.shell import control, explain, text, unchanged
from dashboard.units import convert, unit_of

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/compare", "name": "Compare", "order": 1}

LINKED = "compare-linked"
PICK = "compare-pick"
VARIABLE = "compare-variable"
PERIOD = "compare-period"
CLOCK = "compare-clock"
DATA = "compare-data"
GRAPH = "compare-graph"
DAILY = "compare-daily"
DAILY_DATA = "compare-daily-data"
DOWNLOAD = "compare-download"
DOWNLOAD_BUTTON = "compare-download-button"
CLOCKS = ("utc", "local", "solar")


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            text("compare.title", html.H2),
            html.Label(text("ctl.schools"), htmlFor=PICK),
            picker.dropdown(PICK),
            html.Div(
                [
                    control(
                        "ctl.variable",
                        dcc.Dropdown(
                            id=VARIABLE,
                            options=control_options(DEFAULT)[0],
                            value="temp_c",
                            clearable=False,
                        ),
                        label_for=VARIABLE,
                    ),
                    control(
                        "ctl.period",
                        dcc.RadioItems(
                            id=PERIOD,
                            options=control_options(DEFAULT)[1],
                            value="day",
                            inline=True,
                        ),
                    ),
                    control(
                        "ctl.clock",
                        dcc.RadioItems(
                            id=CLOCK,
                            options=control_options(DEFAULT)[2],
                            value="solar",
                            inline=True,
                        ),
                    ),
                    html.Button(
                        text("ctl.download"), id=DOWNLOAD_BUTTON, className="button", n_clicks=0
                    ),
                ],
                className="row controls-row",
            ),
            dcc.Graph(id=GRAPH, config={"displaylogo": False}),
            explain("explain.clock"),
            text("compare.daily", html.H3),
            dcc.Graph(id=DAILY, config={"displaylogo": False}),
            explain("explain.daily"),
            explain("explain.qc"),
            dcc.Store(id=DATA),
            dcc.Store(id=DAILY_DATA),
            dcc.Store(id=LINKED, data=picker.from_query(query)),
            dcc.Download(id=DOWNLOAD),
        ]
    )


@callback(
    Output(VARIABLE, "options"),
    Output(PERIOD, "options"),
    Output(CLOCK, "options"),
    Output(PICK, "placeholder"),
    Input(ids.LANG_PICK, "value"),
)
def control_options(lang: str) -> tuple[list, list, list, str]:
    return (
        [{"label": t(f"var.{v}", lang), "value": v} for v in WEATHER_VARIABLES],
        [{"label": t(f"period.{p}", lang), "value": p} for p in PERIODS],
        [{"label": t(f"clock.{c}", lang), "value": c} for c in CLOCKS],
        t("ctl.pick", lang),
    )


@callback(
    Output(ids.SELECTED, "data", allow_duplicate=True),
    Output(PICK, "value"),
    Output(PICK, "options"),
    Output(LINKED, "data"),
    Input(PICK, "value"),
    State(ids.SELECTED, "data"),
    State(LINKED, "data"),
    prevent_initial_call="initial_duplicate",
)
def select(
    picked: list[str] | None,
    stored: list[str] | None,
    linked: list[str] | None,
) -> tuple[list[str], list[str], list[dict[str, Any]], None]:
    registry = data().registry()
    trigger = {PICK: "pick"}.get(str(ctx.triggered_id))
    chosen = picker.sync(trigger, picked, stored, registry, linked=linked)
    return chosen, chosen, picker.options(registry), None


@callback(
    Output(DATA, "data"),
    Input(ids.SELECTED, "data"),
    Input(VARIABLE, "value"),
    Input(PERIOD, "value"),
    Input(CLOCK, "value"),
    Input(ids.VERSION, "data"),
    State(DATA, "data"),
)
def compute(
    selected: list[str] | None,
    variable: str,
    period: str,
    clock: Any,
    version: dict | None,
    previous: dict | None,
) -> Any:
    """The one place the comparison is computed (by the core, via `Data.compare`). A live tick
    that brought nothing new for the selected schools changes nothing."""
    stations = selected or []
    if unchanged(previous, version, stations):
        return dash.no_update
    seen = {s: (version or {}).get(s) for s in stations}
    return {"seen": seen} | data().compare(
        stations, variable or "temp_c", period or "day", clock or "solar"
    )


@callback(
    Output(DAILY_DATA, "data"),
    Input(ids.SELECTED, "data"),
    Input(ids.VERSION, "data"),
    State(DAILY_DATA, "data"),
)
def compute_daily(selected: list[str] | None, version: dict | None, previous: dict | None) -> Any:
    """Daily bars depend on the schools only: switching clock, period or quantity keeps them."""
    stations = selected or []
    if unchanged(previous, version, stations):
        return dash.no_update
    seen = {s: (version or {}).get(s) for s in stations}
    return {"seen": seen} | data().daily(stations)


@callback(
    Output(GRAPH, "figure"),
    Input(DATA, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> go.Figure:
    return render_series(payload or {}, lang, units)


@callback(
    Output(DAILY, "figure"),
    Input(DAILY_DATA, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def render_days(payload: dict | None, lang: str, units: dict) -> go.Figure:
    return render_daily(payload or {}, lang, units)


def render_series(payload: dict, lang: str, units: dict) -> go.Figure:
    series = payload.get("series") or []
    if not any(s["y"] for s in series):
        return figures.empty(t("compare.empty", lang))
    variable = payload["variable"]
    fig = go.Figure()
    for i, s in enumerate(series):
        y = convert(variable, np.array([np.nan if v is None else v for v in s["y"]]), units)
        fig.add_trace(
            go.Scatter(
                x=s["x"], y=y, name=figures.esc(s["name"]), mode="lines", line=figures.style(i)
            )
        )
        aside = s.get("flagged") or {}
        if aside.get("x"):
            fig.add_trace(
                go.Scatter(
                    x=aside["x"],
                    y=convert(variable, np.array(aside["y"], dtype=float), units),
                    name=f"{figures.esc(s['name'])}: {t('compare.flagged', lang)}",
                    mode="markers",
                    marker={"symbol": "x", "size": 9, "color": "#c0392b"},
                    text=[figures.esc(w) for w in aside["why"]],
                    hovertemplate="%{y} (%{text})",
                )
            )
    fig.update_xaxes(title_text=t(f"axis.{payload['clock']}", lang))
    fig.update_yaxes(title_text=f"{t('var.' + variable, lang)} ({unit_of(variable, units)})")
    fig = figures.base(fig, height=460)
    fig.update_layout(hovermode="x unified")
    return fig


def render_daily(payload: dict, lang: str, units: dict) -> go.Figure:
    daily = [d for d in payload.get("daily") or [] if d["date"]]
    if not daily:
        return figures.empty(t("compare.empty", lang), height=260)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for i, d in enumerate(daily):
        colour = figures.style(i)["color"]
        low = convert("temp_c", np.array([np.nan if v is None else v for v in d["min"]]), units)
        high = convert("temp_c", np.array([np.nan if v is None else v for v in d["max"]]), units)
        name = figures.esc(d["name"])
        fig.add_trace(
            go.Bar(
                x=d["date"],
                y=high - low,
                base=low,
                name=name,
                marker_color=colour,
                legendgroup=d["station"],
                # The day's lowest – highest, and how many readings QC left out of them.
                hovertemplate=f"{name}<br>%{{x}}: %{{base:.1f}} – %{{customdata[0]:.1f}}"
                f" · %{{customdata[1]}} {t('compare.flagged', lang)}<extra></extra>",
                customdata=np.column_stack([high, d.get("flagged") or [0] * len(d["date"])]),
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=d["date"],
                y=d["rain"],
                name=name,
                marker_color=colour,
                legendgroup=d["station"],
                showlegend=False,
                opacity=0.7,
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text=f"{t('var.temp_c', lang)} ({unit_of('temp_c', units)})", row=1)
    fig.update_yaxes(title_text=f"{t('var.rain_mm', lang)} (mm)", row=2)
    fig.update_xaxes(title_text=t("axis.date", lang), row=2)
    fig = figures.base(fig, height=460)
    fig.update_layout(barmode="group")
    return fig


@callback(
    Output(DOWNLOAD, "data"),
    Input(DOWNLOAD_BUTTON, "n_clicks"),
    State(DATA, "data"),
    State(ids.LANG_PICK, "value"),
    State(ids.UNITS, "data"),
    prevent_initial_call=True,
)
def download(_clicks: int, payload: dict | None, lang: str, units: dict) -> Any:
    return dcc.send_string(to_csv(payload or {}, lang, units), "classnet-compare.csv")


def to_csv(payload: dict, lang: str, units: dict) -> str:
    """What the compare chart shows, one row per point, in the units on screen."""
    variable = payload.get("variable") or "temp_c"
    out = io.StringIO()
    writer = csv.writer(out)
    column = f"{variable} ({unit_of(variable, units)})"
    writer.writerow(["station", "name", f"time_{payload.get('clock', 'utc')}", column])
    for s in payload.get("series") or []:
        y = convert(variable, np.array([np.nan if v is None else v for v in s["y"]]), units)
        for x, value in zip(s["x"], y, strict=True):
            writer.writerow([s["station"], s["name"], x, f"{value:.3f}"])
    return out.getvalue()
