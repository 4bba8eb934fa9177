"""Classrooms: indoor monitors (CO₂, temperature, humidity, fine dust) per school, on their own,
never mixed into the weather comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html
from plotly.subplots import make_subplots

from dashboard import figures, ids
from dashboard.context import data
from dashboard.data import INDOOR_VARIABLES
from dashboard.i18n import N_, t
from dashboard.labels import QUANTITY, name
from dashboard.shell import current_language, explain
from dashboard.units import convert, unit_of

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/classrooms", "name": N_("Classrooms"), "order": 4}

DATA = "classrooms-data"
GRAPH = "classrooms-graph"
# German Environment Agency (UBA 2008, "Gesundheitliche Bewertung von Kohlendioxid in der
# Innenraumluft"): below 1000 ppm harmless, 1000-2000 conspicuous (ventilate), above 2000
# unacceptable.
CO2_BANDS = (
    (0, 1000, "rgba(0,158,115,0.15)"),
    (1000, 2000, "rgba(230,159,0,0.15)"),
    (2000, 5000, "rgba(213,94,0,0.15)"),
)


def layout(**_query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Classroom air", lang)),
            explain(
                t(
                    "We breathe out CO₂. Below 1000 ppm the air is fresh. From 1000 to 2000 ppm it "
                    "is time to open a window: people get tired and lose focus. Above 2000 ppm, "
                    "ventilate now.",
                    lang,
                ),
                lang,
            ),
            dcc.Graph(id=GRAPH, config=figures.config(lang, ("toImage", "resetScale2d"))),
            explain(
                t(
                    "Classroom monitors measure indoor air, so they never appear in the weather "
                    "comparison.",
                    lang,
                ),
                lang,
            ),
            dcc.Store(id=DATA),
        ]
    )


@callback(Output(DATA, "data"), Input(ids.VERSION, "data"), Input(GRAPH, "id"))
def compute(_version: Any, _id: str) -> dict[str, Any]:
    return data().classrooms()


@callback(
    Output(GRAPH, "figure"),
    Input(DATA, "data"),
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> go.Figure:
    rooms = (payload or {}).get("rooms") or []
    if not rooms:
        return figures.empty(t("No classroom monitors are connected yet.", lang), lang)
    titles = [f"{name(QUANTITY, v, lang)} ({unit_of(v, units)})" for v in INDOOR_VARIABLES]
    fig = make_subplots(
        rows=len(INDOOR_VARIABLES), cols=1, shared_xaxes=True, subplot_titles=titles
    )
    for i, room in enumerate(rooms):
        for row, variable in enumerate(INDOOR_VARIABLES, start=1):
            raw = np.array([np.nan if v is None else v for v in room.get(variable, [])])
            fig.add_trace(
                go.Scatter(
                    x=room["x"],
                    y=convert(variable, raw, units),
                    name=figures.esc(room["name"]),
                    line=figures.style(i),
                    legendgroup=room["station"],
                    showlegend=row == 1,
                ),
                row=row,
                col=1,
            )
    for low, high, colour in CO2_BANDS:
        # After the traces: plotly skips shapes on subplots that are still empty.
        fig.add_hrect(y0=low, y1=high, fillcolor=colour, line_width=0, layer="below", row=1, col=1)
    bands = ((N_("fresh air"), 500), (N_("open a window soon"), 1500), (N_("ventilate now"), 2500))
    for label, y in bands:
        fig.add_annotation(
            text=t(label, lang),
            x=0.01,
            xref="x domain",
            y=y,
            yref="y",
            showarrow=False,
            xanchor="left",
            font={"size": 14},
        )
    fig.update_yaxes(range=[300, 3000], row=1, col=1)
    fig = figures.base(fig, lang, height=900)
    fig.update_xaxes(**figures.time_ticks((x for room in rooms for x in room["x"]), lang))
    fig.update_xaxes(title_text=t("Local clock time", lang), row=len(INDOOR_VARIABLES))
    return fig
