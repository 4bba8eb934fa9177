"""Figure building blocks: one colour-blind-safe palette, projector-sized fonts, escaped names.

Plotly renders a subset of HTML inside trace names and hover text, so every station-provided
string passes through `esc` before it reaches a figure (Dash components render text as text).
"""

from __future__ import annotations

import html
from typing import Any, Final

import plotly.graph_objects as go

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Line dashes repeat the distinction for more than eight schools and for greyscale.
PALETTE: Final = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
DASHES: Final = ("solid", "dash", "dot", "dashdot")
REGION_COLOUR: Final = {"asia": "#D55E00", "europe": "#0072B2"}
REGION_FILL: Final = {"asia": "rgba(213,94,0,0.2)", "europe": "rgba(0,114,178,0.2)"}
# Cividis: perceptually uniform and readable with colour-vision deficiencies.
SEQUENTIAL: Final = "Cividis"


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


def base(fig: go.Figure, title: str = "", height: int = 420) -> go.Figure:
    fig.update_layout(
        title={"text": esc(title)} if title else None,
        template="plotly_white",
        font={"size": 16},
        height=height,
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
        legend={"orientation": "h", "y": -0.2},
        hoverlabel={"font_size": 16},
    )
    return fig


def empty(message: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=esc(message), showarrow=False, font={"size": 18}, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base(fig, height=height)
