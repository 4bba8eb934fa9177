"""Asia vs Europe: per hour, the median school of each side and the band of its middle half."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashboard import figures, ids
from dashboard.context import data
from dashboard.data import PERIODS
from dashboard.i18n import DEFAULT, t
from dashboard.shell import control, explain, text
from dashboard.units import convert, unit_of

# Registered by dashboard.app (pages must import without an app: doctest collection).
PAGE = {"path": "/regions", "name": "Asia vs Europe", "order": 2}

VARIABLE = "regions-variable"
PERIOD = "regions-period"
CLOCK = "regions-clock"
DATA = "regions-data"
GRAPH = "regions-graph"
VARIABLES = ("temp_c", "rh_pct", "wind_speed_ms", "rain_mm")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            text("regions.title", html.H2),
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
                            value="week",
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
                ],
                className="row controls-row",
            ),
            dcc.Graph(id=GRAPH, config={"displaylogo": False}),
            explain("explain.band"),
            explain("explain.clock"),
            dcc.Store(id=DATA),
        ]
    )


@callback(
    Output(VARIABLE, "options"),
    Output(PERIOD, "options"),
    Output(CLOCK, "options"),
    Input(ids.LANG_PICK, "value"),
)
def control_options(lang: str) -> tuple[list, list, list]:
    return (
        [{"label": t(f"var.{v}", lang), "value": v} for v in VARIABLES],
        [{"label": t(f"period.{p}", lang), "value": p} for p in PERIODS],
        [{"label": t(f"clock.{c}", lang), "value": c} for c in ("utc", "local", "solar")],
    )


@callback(
    Output(DATA, "data"),
    Input(VARIABLE, "value"),
    Input(PERIOD, "value"),
    Input(CLOCK, "value"),
    Input(ids.VERSION, "data"),
)
def compute(variable: str, period: str, clock: Any, _version: Any) -> dict[str, Any]:
    return data().regions(variable or "temp_c", period or "week", clock or "solar")


@callback(
    Output(GRAPH, "figure"),
    Input(DATA, "data"),
    Input(ids.LANG_PICK, "value"),
    Input(ids.UNITS, "data"),
)
def render(payload: dict | None, lang: str, units: dict) -> go.Figure:
    sides = (payload or {}).get("sides") or []
    if not sides:
        return figures.empty(t("compare.empty", lang))
    variable = payload["variable"]  # type: ignore[index]
    fig = go.Figure()
    for side in sides:
        region = side["region"]
        name = t(f"region.{region}", lang)

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
                name=f"{name}: {t('regions.band', lang)}",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=side["x"],
                y=values("median"),
                name=f"{name}: {t('regions.median', lang)}",
                line={"color": figures.REGION_COLOUR[region], "width": 3},
                # How many schools each point stands for (the quorum rule's input).
                customdata=side["n"],
                hovertemplate=f"%{{y}} · %{{customdata}} {t('regions.n', lang)}",
            )
        )
    fig.update_xaxes(title_text=t(f"axis.{payload['clock']}", lang))  # type: ignore[index]
    fig.update_yaxes(title_text=f"{t('var.' + variable, lang)} ({unit_of(variable, units)})")
    return figures.base(fig, height=480)
