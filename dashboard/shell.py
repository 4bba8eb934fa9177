"""The frame around every page: title, navigation, language and unit switches, the live tick, and
the app-wide stores. Its callbacks translate every catalogue text and publish the data version."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard import ids
from dashboard.context import data
from dashboard.i18n import DEFAULT, LANGUAGES, t
from dashboard.units import CHOICES, DEFAULT_UNITS, chosen

NAV = (
    ("/", "nav.now"),
    ("/compare", "nav.compare"),
    ("/regions", "nav.regions"),
    ("/leaderboard", "nav.leaderboard"),
    ("/classrooms", "nav.classrooms"),
    ("/stations", "nav.stations"),
    ("/climate", "nav.climate"),
)


def text(key: str, tag: Any = html.Span, **kwargs: Any) -> Any:
    """An element showing catalogue text `key`, re-translated whenever the language changes."""
    return tag(t(key), id=ids.text(key), **kwargs)


def control(key: str, component: Any, label_for: str | None = None) -> html.Div:
    """A labelled control; `label_for` ties the label to a single input (dropdowns), where a
    group of radio buttons has a plain caption."""
    caption = (
        html.Label(t(key), id=ids.text(key), htmlFor=label_for)
        if label_for
        else text(key, className="label")
    )
    return html.Div([caption, component], className="control")


ALL_TEXTS = {"type": "i18n", "key": ALL}


def unchanged(previous: dict | None, version: dict[str, int] | None, stations: list[str]) -> bool:
    """True when a live tick brought nothing new for `stations` since `previous` was computed
    (its "seen" entry), so the page can keep what it shows."""
    if ctx.triggered_id != ids.VERSION or not previous or version is None:
        return False
    return previous.get("seen") == {s: version.get(s) for s in stations}


def explain(key: str) -> html.Details:
    """A plain-language note beside a quantity or comparison, open by default."""
    return html.Details(
        [html.Summary(text("explain.title")), text(key, html.P)],
        className="explain",
        open=True,
    )


def _unit_switch(kind: str, component_id: str) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=component_id,
        options=[{"label": label, "value": value} for value, label in CHOICES[kind]],
        value=DEFAULT_UNITS[kind],
        inline=True,
        persistence=True,
        persistence_type="local",
        className="unit-switch",
    )


def layout(refresh_s: float) -> html.Div:
    return html.Div(
        [
            html.Header(
                [
                    html.Div(
                        [text("app.title", html.H1), text("app.tagline", html.P, className="tag")],
                        className="brand",
                    ),
                    html.Nav(
                        [dcc.Link(text(key), href=href, className="nav-link") for href, key in NAV],
                        className="nav",
                    ),
                    html.Div(
                        [
                            html.Span([text("ctl.language"), " "], className="label"),
                            dcc.RadioItems(
                                id=ids.LANG_PICK,
                                options=[{"label": v, "value": k} for k, v in LANGUAGES.items()],
                                value=DEFAULT,
                                inline=True,
                                persistence=True,
                                persistence_type="local",
                                className="lang-pick",
                            ),
                            html.Span([text("ctl.units"), " "], className="label"),
                            _unit_switch("temp", ids.UNIT_TEMP),
                            _unit_switch("pressure", ids.UNIT_PRESSURE),
                            _unit_switch("wind", ids.UNIT_WIND),
                        ],
                        className="controls",
                    ),
                ],
                className="header",
            ),
            dcc.Store(id=ids.UNITS, data=dict(DEFAULT_UNITS)),
            dcc.Store(id=ids.SELECTED, storage_type="session"),
            dcc.Store(id=ids.VERSION),
            dcc.Interval(id=ids.TICK, interval=int(refresh_s * 1000)),
            html.Main(dash.page_container, className="main"),
        ],
        className="app",
    )


@callback(
    Output(ALL_TEXTS, "children"),
    Input(ids.LANG_PICK, "value"),
)
def translate(lang: str) -> list[str]:
    return [t(out["id"]["key"], lang) for out in ctx.outputs_list]


@callback(
    Output(ids.UNITS, "data"),
    Input(ids.UNIT_TEMP, "value"),
    Input(ids.UNIT_PRESSURE, "value"),
    Input(ids.UNIT_WIND, "value"),
)
def units(temp: str, pressure: str, wind: str) -> dict[str, str]:
    return chosen({"temp": temp, "pressure": pressure, "wind": wind})


@callback(
    Output(ids.VERSION, "data"),
    Input(ids.TICK, "n_intervals"),
    State(ids.VERSION, "data"),
)
def version(_tick: int | None, current: dict[str, int] | None) -> Any:
    # Nothing downstream runs unless some station delivered something new.
    latest = data().version()
    return dash.no_update if latest == current else latest
