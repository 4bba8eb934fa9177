"""The classroom report of a calibration day: per field, every station against the reference
before and after its correction, with the Explain text on measurement error.

One self-contained HTML file (plotly.js inlined): a classroom projector may have no internet.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.core.calibration import Fit, aligned, render_table
from dashboard.i18n import N_, t
from ingest.domain.errors import UserError

_STATION = N_("Station reading")
_REFERENCE = N_("Reference")
_TITLE = N_("Calibration day: our stations against the reference")
_EXPLAIN = N_(
    "Every instrument has a measurement error: part of it is random (the points scatter) "
    "and part is systematic (the station always reads a little too high, or too steeply). "
    "Only the systematic part can be corrected. Standing side by side with a reference, "
    "each station's readings are fitted to a straight line, reference = offset + slope × "
    "reading; the left panel shows the readings as they were, the right one after the "
    "correction. The ± numbers say how sure the fit is (about 95 %), and the spread is the "
    "random part that stays. Without calibration, a school that looks 0.5 °C warmer may "
    "only have a warmer sensor."
)


def figure(obs: pd.DataFrame, fits: Sequence[Fit], field: str, lang: str) -> go.Figure:
    """Two panels for one field: station readings against the reference as they were, and as
    corrected; the diagonal is where a perfect sensor's points would lie."""
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        subplot_titles=(t("Before correction", lang), t("After correction", lang)),
    )
    low, high = float("inf"), float("-inf")
    for f in (f for f in fits if f.field == field):
        pair = aligned(obs, f.station, f.reference, field)
        corrected = f.offset + f.slope * pair["x"]
        for col, x in ((1, pair["x"]), (2, corrected)):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=pair["y"],
                    mode="markers",
                    name=f.station,
                    legendgroup=f.station,
                    showlegend=col == 1,
                    marker={"size": 4},
                ),
                row=1,
                col=col,
            )
            low = min(low, float(x.min()), float(pair["y"].min()))
            high = max(high, float(x.max()), float(pair["y"].max()))
    for col in (1, 2):
        fig.add_trace(
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                line={"dash": "dot", "color": "grey"},
                name=t("Perfect agreement", lang),
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=f"{t(_STATION, lang)} ({field})", row=1, col=col)
    reference = fits[0].reference if fits else ""
    fig.update_yaxes(title_text=f"{t(_REFERENCE, lang)} {reference}", row=1, col=1)
    fig.update_layout(title=field, height=420)
    return fig


def report_html(obs: pd.DataFrame, fits: Sequence[Fit], lang: str = "en") -> str:
    fields = list(dict.fromkeys(f.field for f in fits))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(t(_TITLE, lang))}</title></head><body>",
        f"<h1>{html.escape(t(_TITLE, lang))}</h1>",
        f"<p>{html.escape(t(_EXPLAIN, lang))}</p>",
        f"<pre>{html.escape(render_table(fits))}</pre>",
    ]
    for i, field in enumerate(fields):
        parts.append(
            figure(obs, fits, field, lang).to_html(
                full_html=False, include_plotlyjs="inline" if i == 0 else False
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: Path, obs: pd.DataFrame, fits: Sequence[Fit], lang: str = "en") -> None:
    try:
        path.write_text(report_html(obs, fits, lang), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}; choose another --report") from exc
