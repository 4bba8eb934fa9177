"""Compare: any quantity for the selected schools over a day, week or month, on a chosen clock,
with daily min/max/rain bars per local day and a CSV of what the chart shows."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html
from plotly.subplots import make_subplots

from dashboard import controls, figures, ids, picker
from dashboard.context import data
from dashboard.core.cells import cell
from dashboard.data import WEATHER_VARIABLES
from dashboard.i18n import N_, day_label, t
from dashboard.labels import AXIS, QUANTITY, name
from dashboard.shell import current_language, explain, unchanged
from dashboard.units import convert, unit_of

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/compare", "name": N_("Compare"), "order": 1}

LINKED = "compare-linked"
PICK = "compare-pick"
VARIABLE = controls.variable_id("compare")
PERIOD = controls.period_id("compare")
CLOCK = controls.clock_id("compare")
DATA = "compare-data"
GRAPH = "compare-graph"
DAILY = "compare-daily"
DAILY_DATA = "compare-daily-data"
DOWNLOAD = "compare-download"
DOWNLOAD_BUTTON = "compare-download-button"
SITED = controls.well_sited_id("compare")
SET_ASIDE = N_("set aside by quality control")
QC_EXPLAIN = N_(
    "Every reading is checked before it counts: is it possible at all (range), did it jump more "
    "than air can change in a minute (step), has the sensor stopped moving for an hour "
    "(persistence), does it contradict another sensor (dew point above the temperature, a gust "
    "weaker than the wind)? A reading that fails is marked ✕ on the chart and left out of every "
    "average, daily bar, ranking and comparison, so one faulty minute cannot make a school the "
    "hottest. It is not deleted: the data download keeps it, with the reason."
)
SITING_NOTE = controls.siting_note_id("compare")


def layout(**query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Compare schools", lang)),
            html.Label(t("Schools", lang), htmlFor=PICK),
            picker.dropdown(PICK, lang),
            html.Div(
                [
                    *controls.series_controls("compare", lang, WEATHER_VARIABLES, "day"),
                    controls.well_sited("compare", lang),
                    html.Button(
                        t("Download CSV", lang), id=DOWNLOAD_BUTTON, className="button", n_clicks=0
                    ),
                ],
                className="row controls-row",
            ),
            dcc.Graph(id=GRAPH, config=figures.config(lang, ("toImage", "resetScale2d"))),
            html.P(id=SITING_NOTE, className="note"),
            controls.clock_note(lang),
            html.H3(t("Each local day: lowest and highest temperature, and rain", lang)),
            dcc.Graph(id=DAILY, config=figures.config(lang, ("toImage", "resetScale2d"))),
            explain(
                t("Each bar is one day at that school, from its own midnight to midnight.", lang),
                lang,
            ),
            explain(t(QC_EXPLAIN, lang), lang),
            dcc.Store(id=DATA),
            dcc.Store(id=DAILY_DATA),
            dcc.Store(id=LINKED, data=picker.from_query(query)),
            dcc.Download(id=DOWNLOAD),
        ]
    )


@callback(Output(SITING_NOTE, "children"), Input(DATA, "data"), State(ids.LANG, "data"))
def siting_note(payload: dict | None, lang: str) -> str:
    """Which schools a well-sited comparison left out, and sitings that do not compare."""
    return controls.siting_note(payload or {}, lang, name_them=True)


@callback(
    Output(ids.SELECTED, "data", allow_duplicate=True),
    Output(PICK, "value"),
    Output(PICK, "options"),
    Output(PICK, "labels"),
    Output(LINKED, "data"),
    Input(PICK, "value"),
    State(ids.SELECTED, "data"),
    State(LINKED, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call="initial_duplicate",
)
def select(
    picked: list[str] | None,
    stored: list[str] | None,
    linked: list[str] | None,
    lang: str,
) -> tuple[list[str], list[str], list[dict[str, Any]], dict[str, str], None]:
    registry = data().registry()
    trigger = {PICK: "pick"}.get(str(ctx.triggered_id))
    chosen = picker.sync(trigger, picked, stored, registry, linked=linked)
    return chosen, chosen, picker.options(registry), picker.labels(len(chosen), lang), None


@callback(
    Output(DATA, "data"),
    Input(ids.SELECTED, "data"),
    Input(VARIABLE, "value"),
    Input(PERIOD, "value"),
    Input(CLOCK, "value"),
    Input(SITED, "value"),
    Input(ids.VERSION, "data"),
    State(DATA, "data"),
)
def compute(
    selected: list[str] | None,
    variable: str,
    period: str,
    clock: Any,
    sited: list[str] | None,
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
        stations,
        variable or "temp_c",
        period or "day",
        clock or "solar",
        well_sited=bool(sited),
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
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> go.Figure:
    return render_series(payload or {}, lang, units)


@callback(
    Output(DAILY, "figure"),
    Input(DAILY_DATA, "data"),
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def render_days(payload: dict | None, lang: str, units: dict) -> go.Figure:
    return render_daily(payload or {}, lang, units)


def set_aside_marks(
    x: list[str],
    y: list[float],
    why: list[str],
    quantity: str,
    school: str,
    units: dict,
    lang: str,
    **trace: Any,
) -> go.Scatter:
    """Readings QC set aside, as ✕ at their raw value with the failed checks in the hover
    (`school` already escaped)."""
    return go.Scatter(
        x=x,
        y=convert(quantity, np.array(y, dtype=float), units),
        name=f"{school}: {t(SET_ASIDE, lang)}",
        mode="markers",
        marker={"symbol": "x", "size": 9, "color": "#c0392b"},
        text=[figures.esc(w) for w in why],
        **trace,
    )


def render_series(payload: dict, lang: str, units: dict) -> go.Figure:
    series = payload.get("series") or []
    if not series:
        return figures.empty(t("Pick one or more schools above to compare them.", lang), lang)
    if not any(s["y"] for s in series):
        return figures.empty(t("No readings for these schools in this period yet.", lang), lang)
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
                set_aside_marks(
                    aside["x"], aside["y"], aside["why"], variable, figures.esc(s["name"]), units,
                    lang, hovertemplate="%{y} (%{text})",
                )
            )  # fmt: skip
    fig = figures.base(fig, lang, height=460)
    fig.update_xaxes(
        title_text=name(AXIS, payload["clock"], lang),
        **figures.time_ticks((x for s in series for x in s["x"]), lang),
    )
    fig.update_yaxes(title_text=f"{name(QUANTITY, variable, lang)} ({unit_of(variable, units)})")
    fig.update_layout(hovermode="x unified")
    return fig


def render_daily(payload: dict, lang: str, units: dict) -> go.Figure:
    daily = [d for d in payload.get("daily") or [] if d["date"]]
    if not payload.get("daily"):
        return figures.empty(t("Pick one or more schools above to compare them.", lang), lang, 260)
    if not daily:
        return figures.empty(
            t("No readings for these schools in this period yet.", lang), lang, 260
        )
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for i, d in enumerate(daily):
        colour = figures.style(i)["color"]
        low = convert("temp_c", np.array([np.nan if v is None else v for v in d["min"]]), units)
        high = convert("temp_c", np.array([np.nan if v is None else v for v in d["max"]]), units)
        school = figures.esc(d["name"])
        fig.add_trace(
            go.Bar(
                x=d["date"],
                y=high - low,
                base=low,
                name=school,
                marker_color=colour,
                legendgroup=d["station"],
                # The day's lowest – highest, and how many readings QC left out of them.
                hovertemplate=f"{school}<br>%{{x|%Y-%m-%d}}: %{{base:.1f}} – %{{customdata[0]:.1f}}"
                f" · %{{customdata[1]}} {t(SET_ASIDE, lang)}<extra></extra>",
                customdata=np.column_stack([high, d.get("flagged") or [0] * len(d["date"])]),
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=d["date"],
                y=d["rain"],
                name=school,
                marker_color=colour,
                legendgroup=d["station"],
                showlegend=False,
                opacity=0.7,
            ),
            row=2,
            col=1,
        )
        # The readings QC left out of a day's bar, at their raw value, so a student sees what
        # was set aside and why (hover) instead of only a count.
        aside_of = d.get("aside") or {}
        marked = [
            (r, f) for r, f in ((1, "temp_c"), (2, "rain_mm")) if aside_of.get(f, {}).get("date")
        ]
        for row, field in marked:
            aside = aside_of[field]
            fig.add_trace(
                set_aside_marks(
                    aside["date"], aside["y"], aside["why"], field, school, units, lang,
                    hovertemplate=f"{school}<br>%{{x|%Y-%m-%d}}: %{{y}} (%{{text}})<extra></extra>",
                    legendgroup=d["station"], showlegend=(row, field) == marked[0],
                ),
                row=row,
                col=1,
            )  # fmt: skip
    fig = figures.base(fig, lang, height=460)
    temp_title = f"{name(QUANTITY, 'temp_c', lang)} ({unit_of('temp_c', units)})"
    fig.update_yaxes(title_text=temp_title, row=1)
    fig.update_yaxes(title_text=f"{name(QUANTITY, 'rain_mm', lang)} (mm)", row=2)
    days = sorted({x for d in daily for x in d["date"]})
    fig.update_xaxes(
        tickmode="array",
        tickvals=days,
        ticktext=[day_label(date.fromisoformat(x), lang) for x in days],
    )
    fig.update_xaxes(title_text=t("Local date", lang), row=2)
    fig.update_layout(barmode="group")
    return fig


@callback(
    Output(DOWNLOAD, "data"),
    Input(DOWNLOAD_BUTTON, "n_clicks"),
    State(DATA, "data"),
    State(ids.LANG, "data"),
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
            writer.writerow([cell(s["station"]), cell(str(s["name"])), x, f"{value:.3f}"])
    return out.getvalue()
