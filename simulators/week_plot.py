"""docs/sim-week.png: one simulated week in Tampere, Manila and Sydney, to check by eye.

    python -m simulators.week_plot docs/sim-week.png

Each panel is in the town's local time, with the nights (sun below the horizon) shaded, so a
reader can check the afternoon maximum, the night-time cooling, the seasons (mid-October: autumn
in Tampere, spring in Sydney, the wet season's end in Manila) and the rain. Writing the PNG needs
kaleido (a docs-only tool, not a dependency of classnet).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ingest.domain import solar
from simulators import towns
from simulators.weather import Weather

WEEK_START = datetime(2025, 10, 13, tzinfo=UTC)
PANELS = ("tampere", "manila", "sydney")
STEP_S = 600


def week_figure(seed: int = 1) -> go.Figure:
    table = towns.towns()
    fleet = towns.stations(len(PANELS), PANELS)
    weather = Weather(fleet, table, seed)
    start = int(WEEK_START.timestamp())
    ts = np.arange(start, start + 7 * 86400, STEP_S, dtype=np.int64)
    fig = make_subplots(
        rows=len(fleet),
        cols=1,
        vertical_spacing=0.08,
        specs=[[{"secondary_y": True}] for _ in fleet],
        subplot_titles=[
            f"{table[s.town].name} ({s.timezone}, {s.lat:.1f}°, {s.elevation_m:g} m)" for s in fleet
        ],
    )
    for row, station in enumerate(fleet, start=1):
        idx = np.full(ts.shape, fleet.index(station), dtype=np.intp)
        r = weather.readings(idx, ts, np.full(ts.shape, STEP_S, dtype=np.int64))
        local = pd.to_datetime(ts, unit="s", utc=True).tz_convert(station.timezone)
        local = local.tz_localize(None)  # plotly draws wall-clock times
        hourly_rain = pd.Series(r["rain_mm"], index=local).resample("1h").sum()
        fig.add_trace(
            go.Bar(
                x=hourly_rain.index,
                y=hourly_rain.values,
                name="rain mm/h",
                marker_color="#2b7bba",
                showlegend=row == 1,
            ),
            row=row,
            col=1,
            secondary_y=True,
        )
        fig.add_trace(
            go.Scatter(
                x=local,
                y=r["temp_c"],
                name="temperature °C",
                line_color="#d62728",
                showlegend=row == 1,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=local,
                y=r["rh_pct"] / 5,
                name="humidity % ÷ 5",
                line={"color": "#2ca02c", "width": 1},
                showlegend=row == 1,
            ),
            row=row,
            col=1,
        )
        # Shaded after the traces: plotly skips shapes on a subplot that is still empty.
        night = solar.sin_geometric_elevation(ts * 1_000_000_000, station.lat, station.lon) < 0
        edges = np.flatnonzero(np.diff(np.concatenate(([0], night.astype(int), [0]))))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            fig.add_vrect(
                x0=local[a],
                x1=local[b - 1],
                fillcolor="#8090b0",
                opacity=0.18,
                line_width=0,
                layer="below",
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="°C", row=row, col=1, secondary_y=False)
        fig.update_yaxes(
            title_text="rain mm/h",
            row=row,
            col=1,
            secondary_y=True,
            rangemode="tozero",
            showgrid=False,
        )
    fig.update_layout(
        title=f"ClassNet simulator, seed {seed}: the week of {WEEK_START:%d %B %Y}, local time "
        "(shaded: night)",
        width=1200,
        height=900,
        template="plotly_white",
        bargap=0,
        legend={"orientation": "h", "y": -0.05},
    )
    return fig


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "docs/sim-week.png"
    week_figure().write_image(path, scale=1)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
