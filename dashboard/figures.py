"""Figure building blocks: one colour-blind-safe palette, projector-sized fonts, escaped names,
and axes, numbers and toolbar in the reader's language.

Plotly renders a subset of HTML inside trace names and hover text, so every station-provided
string passes through `esc` before it reaches a figure (Dash components render text as text).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import plotly.graph_objects as go

from dashboard.i18n import N_, day_label, known, separators, t, time_label

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Its orange, sky blue and yellow are darkened (same hue) to a contrast of 3:1 on the
# white plot, which WCAG 2.1 (1.4.11) asks of lines a reader must see; tests check every colour.
# Line dashes repeat the distinction for more than eight schools and for greyscale.
PALETTE: Final = (
    "#0072B2",
    "#C68900",
    "#009E73",
    "#CC79A7",
    "#239DE2",
    "#D55E00",
    "#A2970D",
    "#000000",
)
# The map: land, and the grey cross of an offline station on it.
LAND: Final = "#eeeeee"
OFFLINE: Final = "#767676"
DASHES: Final = ("solid", "dash", "dot", "dashdot")
REGION_COLOUR: Final = {"asia": "#D55E00", "europe": "#0072B2"}
REGION_FILL: Final = {"asia": "rgba(213,94,0,0.2)", "europe": "rgba(0,114,178,0.2)"}
# Cividis: perceptually uniform and readable with colour-vision deficiencies.
SEQUENTIAL: Final = "Cividis"
# The toolbar's button titles (plotly's own English texts, looked up in our catalogue).
TOOLBAR_TEXTS: Final = (
    N_("Download plot as a PNG"),
    N_("Zoom in"),
    N_("Zoom out"),
    N_("Reset"),
    N_("Reset axes"),
    N_("Reset view"),
)
# Space above the plot area for the toolbar, so it never covers data.
TOOLBAR_MARGIN: Final = 44
# Tick spacings a time axis may use, shortest first; the first that keeps ticks few wins.
_TICK_STEPS: Final = tuple(
    timedelta(hours=h) for h in (1, 2, 3, 6, 12, 24, 48, 72, 24 * 7, 24 * 14)
)
MAX_TICKS: Final = 6


def contrast(colour: str, background: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours given as #rrggbb (1 to 21).

    >>> round(contrast("#767676"), 2)
    4.54
    """

    def luminance(hex_colour: str) -> float:
        channels = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def esc(value: Any) -> str:
    """Station-provided text made safe for plotly's pseudo-HTML (shown literally).

    Only `&`, `<` and `>`: without `<` no tag can start, and plotly decodes `&amp;`, `&lt;` and
    `&gt;` but shows `&quot;` as it is, so quotes stay quotes.

    >>> esc('Say "hi" <b>& bye</b>')
    'Say "hi" &lt;b&gt;&amp; bye&lt;/b&gt;'
    """
    return html.escape(str(value), quote=False)


def style(index: int) -> dict[str, Any]:
    return {"color": PALETTE[index % len(PALETTE)], "dash": DASHES[index // len(PALETTE) % 4]}


def config(lang: str, buttons: Sequence[str] = ("toImage",)) -> Any:
    """A dcc.Graph config: a small toolbar whose button titles are in `lang`."""
    code = known(lang)
    return {
        "displaylogo": False,
        "modeBarButtons": [list(buttons)],
        "locale": code,
        "locales": {code: {"dictionary": {text: t(text, lang) for text in TOOLBAR_TEXTS}}},
    }


def base(fig: go.Figure, lang: str, title: str = "", height: int = 420) -> go.Figure:
    """Fonts, margins, hover and number format shared by every chart, in `lang`. The legend
    sits at the bottom of the figure, under the x axis' title, with room for a row per two
    entries (a phone fits about two school names in a row)."""
    entries = sum(1 for trace in fig.data if trace.showlegend is not False)
    legend_px = 26 * ((entries + 1) // 2) if entries > 1 else 0
    fig.update_layout(
        title={"text": esc(title)} if title else None,
        template="plotly_white",
        font={"size": 16},
        height=height + legend_px,
        margin={"l": 60, "r": 20, "t": TOOLBAR_MARGIN + (30 if title else 0), "b": 80 + legend_px},
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
        hoverlabel={"font_size": 16},
        separators=separators(lang),
    )
    # Hover shows the ISO date and time: no month names plotly would print in English.
    fig.update_xaxes(hoverformat="%Y-%m-%d %H:%M")
    return fig


def empty(message: str, lang: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=esc(message), showarrow=False, font={"size": 18}, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base(fig, lang, height=height)


def time_ticks(xs: Iterable[str], lang: str) -> dict[str, Any]:
    """Axis settings putting at most MAX_TICKS ticks on round times between the earliest and
    latest of `xs` (naive ISO strings), labelled by Babel in `lang`: clock times (with the
    date at midnight) over a day or two, dates over longer spans."""
    moments = [datetime.fromisoformat(x) for x in xs]
    if not moments:
        return {}
    first, last = min(moments), max(moments)
    step = next((s for s in _TICK_STEPS if (last - first) / s <= MAX_TICKS), _TICK_STEPS[-1])
    tick = datetime(first.year, first.month, first.day)  # midnight: ticks on round hours
    while tick < first:
        tick += step
    values, texts = [], []
    while tick <= last:
        values.append(tick.isoformat())
        if step >= timedelta(days=1):
            texts.append(day_label(tick, lang))
        elif tick.hour == 0 and tick.minute == 0:
            texts.append(f"{time_label(tick, lang)}<br>{day_label(tick, lang)}")
        else:
            texts.append(time_label(tick, lang))
        tick += step
    return {"tickmode": "array", "tickvals": values, "ticktext": texts}
