"""Asia vs Europe: per hour, the median school of each side and the band of its middle half."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashboard import controls, figures, ids
from dashboard.context import data
from dashboard.i18n import N_, t
from dashboard.labels import AXIS, QUANTITY, REGION, name
from dashboard.shell import current_language, explain
from dashboard.units import convert, unit_of

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/regions", "name": N_("Asia vs Europe"), "order": 2}

VARIABLE = controls.variable_id("regions")
PERIOD = controls.period_id("regions")
CLOCK = controls.clock_id("regions")
DATA = "regions-data"
GRAPH = "regions-graph"
SITED = controls.well_sited_id("regions")
SITING_NOTE = controls.siting_note_id("regions")
VARIABLES = ("temp_c", "rh_pct", "wind_speed_ms", "rain_mm")


def layout(**_query: str) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.H2(t("Asia vs Europe", lang)),
            html.Div(
                [
                    *controls.series_controls("regions", lang, VARIABLES, "week"),
                    controls.well_sited("regions", lang),
                ],
                className="row controls-row",
            ),
            dcc.Graph(id=GRAPH, config=figures.config(lang, ("toImage", "resetScale2d"))),
            html.P(id=SITING_NOTE, className="note"),
            explain(
                t(
                    "The line is the middle school of each side (half are warmer, half colder). "
                    "The shaded band holds the middle half of the schools, so a wide band means "
                    "the schools disagree. A side is drawn in an hour only when at least half of "
                    "its schools, and never fewer than 3, have a reading then: one or two schools "
                    "cannot speak for a continent, so there is a gap instead.",
                    lang,
                ),
                lang,
            ),
            controls.clock_note(lang),
            dcc.Store(id=DATA),
        ]
    )


@callback(
    Output(DATA, "data"),
    Input(VARIABLE, "value"),
    Input(PERIOD, "value"),
    Input(CLOCK, "value"),
    Input(SITED, "value"),
    Input(ids.VERSION, "data"),
)
def compute(
    variable: str, period: str, clock: Any, sited: list[str] | None, _version: Any
) -> dict[str, Any]:
    return data().regions(
        variable or "temp_c", period or "week", clock or "solar", well_sited=bool(sited)
    )


@callback(Output(SITING_NOTE, "children"), Input(DATA, "data"), Input(ids.LANG, "data"))
def siting_note(payload: dict | None, lang: str) -> str:
    return controls.siting_note(payload or {}, lang, name_them=False)


@callback(
    Output(GRAPH, "figure"),
    Input(DATA, "data"),
    Input(ids.LANG, "data"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> go.Figure:
    sides = (payload or {}).get("sides") or []
    if not sides:
        return figures.empty(t("No readings for this period yet.", lang), lang)
    variable = payload["variable"]  # type: ignore[index]
    fig = go.Figure()
    band, median = t("middle half of schools", lang), t("median", lang)
    for side in sides:
        region = side["region"]
        side_name = name(REGION, region, lang)

        def values(key: str, side: dict = side) -> np.ndarray:
            raw = np.array([np.nan if v is None else v for v in side[key]])
            return convert(variable, raw, units)

        # The band as lower edge + upper edge filled down to it: unlike one closed outline,
        # this leaves a clean gap where a side has too few schools (NaN) instead of a polygon
        # drawn across the gap.
        fig.add_trace(
            go.Scatter(
                x=side["x"],
                y=values("q25"),
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=side["x"],
                y=values("q75"),
                fill="tonexty",
                fillcolor=figures.REGION_FILL[region],
                line={"width": 0},
                name=f"{side_name}: {band}",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=side["x"],
                y=values("median"),
                name=f"{side_name}: {median}",
                line={"color": figures.REGION_COLOUR[region], "width": 3},
                # How many schools each point stands for (the quorum rule's input).
                customdata=side["n"],
                hovertemplate=f"%{{y}} · %{{customdata}} {t('schools', lang)}",
            )
        )
    fig = figures.base(fig, lang, height=480)
    fig.update_xaxes(
        title_text=name(AXIS, payload["clock"], lang),  # type: ignore[index]
        **figures.time_ticks((x for side in sides for x in side["x"]), lang),
    )
    fig.update_yaxes(title_text=f"{name(QUANTITY, variable, lang)} ({unit_of(variable, units)})")
    return fig
