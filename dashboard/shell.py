"""The frame around every page: title, navigation (a menu on a phone), language and unit
switches, the live tick and the app-wide stores.

Pages are rendered on the server in the reader's language: the one they chose (a cookie), else
the first their browser prefers that we speak. Choosing another language sets the cookie and
reloads, so every text on the page, the browser tab's title and `<html lang>` change together.
"""

from __future__ import annotations

from typing import Any, Final

import dash
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
)
from flask import has_request_context, request

from dashboard import ids
from dashboard.context import data
from dashboard.i18n import DEFAULT, LANGUAGES, N_, html_lang, known, negotiate, t
from dashboard.units import CHOICES, DEFAULT_UNITS, chosen

LANG_COOKIE: Final = "classnet-lang"
NAV: Final = (
    ("/", N_("Now")),
    ("/compare", N_("Compare")),
    ("/regions", N_("Asia vs Europe")),
    ("/leaderboard", N_("Leaderboard")),
    ("/classrooms", N_("Classrooms")),
    ("/stations", N_("Stations")),
    ("/climate", N_("Climate")),
)
MENU: Final = "app-menu"
MENU_BUTTON: Final = "app-menu-button"
HEADER: Final = "app-header"


def current_language() -> str:
    """The reader's language for the page being rendered."""
    if not has_request_context():
        return DEFAULT  # layouts built outside a request (validation): English
    chosen_lang = request.cookies.get(LANG_COOKIE)
    if chosen_lang in LANGUAGES:
        return known(chosen_lang)
    return negotiate(request.accept_languages.values())


def aria(**attributes: str) -> dict[str, Any]:
    """ARIA attributes for a Dash html component: aria(label="Pages") -> {"aria-label": ...}."""
    return {f"aria-{key}": value for key, value in attributes.items()}


def control(label: str, component: Any, label_for: str | None = None) -> html.Div:
    """A labelled control (`label` already translated); `label_for` ties the label to a single
    input (dropdowns), where a group of radio buttons is named by its caption."""
    if label_for:
        return html.Div([html.Label(label, htmlFor=label_for), component], className="control")
    caption = f"{component.id}-caption"
    # The group takes its name from the wrapper (assets/a11y.js).
    return html.Div(
        [
            html.Span(label, className="label", id=caption),
            html.Div(component, **aria(labelledby=caption)),
        ],
        className="control",
    )


def unchanged(previous: dict | None, version: dict[str, int] | None, stations: list[str]) -> bool:
    """True when a live tick brought nothing new for `stations` since `previous` was computed
    (its "seen" entry), so the page can keep what it shows."""
    if ctx.triggered_id != ids.VERSION or not previous or version is None:
        return False
    return previous.get("seen") == {s: version.get(s) for s in stations}


def explain(text: str, lang: str) -> html.Details:
    """A plain-language note (`text` already translated) beside a quantity or comparison, open
    by default."""
    return html.Details(
        [html.Summary(t("Explain", lang)), html.P(text)], className="explain", open=True
    )


def _unit_switch(kind: str, component_id: str, caption: str) -> html.Div:
    switch = dcc.RadioItems(
        id=component_id,
        options=[{"label": label, "value": value} for value, label in CHOICES[kind]],
        value=DEFAULT_UNITS[kind],
        inline=True,
        persistence=True,
        persistence_type="local",
        className="unit-switch",
        inputClassName="radio",
        labelClassName="choice",
    )
    return html.Div(switch, **aria(label=caption))  # the group's name (assets/a11y.js)


def layout(refresh_s: float) -> html.Div:
    lang = current_language()
    return html.Div(
        [
            html.A(t("Skip to content", lang), href="#content", className="skip"),
            html.Header(
                [
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.H1(t("ClassNet Weather", lang)),
                                    html.P(
                                        t("How is the weather today in Asia & Europe?", lang),
                                        className="tag",
                                    ),
                                ],
                                className="brand",
                            ),
                            html.Button(
                                t("Menu", lang),
                                id=MENU_BUTTON,
                                className="menu-button",
                                n_clicks=0,
                                **aria(expanded="false", controls=MENU),
                            ),
                        ],
                        className="bar",
                    ),
                    html.Div(
                        [
                            html.Nav(
                                [
                                    dcc.Link(t(label, lang), href=href, className="nav-link")
                                    for href, label in NAV
                                ],
                                className="nav",
                                **aria(label=t("Pages", lang)),
                            ),
                            html.Div(
                                [
                                    html.Span(
                                        t("Language", lang),
                                        className="label",
                                        id="app-lang-caption",
                                    ),
                                    html.Div(
                                        dcc.RadioItems(
                                            id=ids.LANG_PICK,
                                            options=[
                                                {
                                                    "label": html.Span(name, lang=html_lang(code)),
                                                    "value": code,
                                                }
                                                for code, name in LANGUAGES.items()
                                            ],
                                            value=lang,
                                            inline=True,
                                            className="lang-pick",
                                            inputClassName="radio",
                                            labelClassName="choice",
                                        ),
                                        **aria(labelledby="app-lang-caption"),
                                    ),
                                ],
                                className="controls",
                            ),
                            html.Div(
                                [
                                    html.Span(t("Units", lang), className="label"),
                                    _unit_switch("temp", ids.UNIT_TEMP, t("Temperature", lang)),
                                    _unit_switch(
                                        "pressure", ids.UNIT_PRESSURE, t("Pressure", lang)
                                    ),
                                    _unit_switch("wind", ids.UNIT_WIND, t("Wind", lang)),
                                ],
                                className="controls",
                            ),
                        ],
                        id=MENU,
                        className="menu",
                    ),
                ],
                id=HEADER,
                className="header",
            ),
            dcc.Store(id=ids.LANG, data=lang),
            dcc.Store(id=ids.UNITS, data=dict(DEFAULT_UNITS)),
            dcc.Store(id=ids.SELECTED, storage_type="session"),
            dcc.Store(id=ids.VERSION),
            dcc.Interval(id=ids.TICK, interval=int(refresh_s * 1000)),
            html.Div(id=ids.STORE_BANNER, role="alert", className="store-banner", hidden=True),
            html.Main(dash.page_container, className="main", id="content", tabIndex="-1"),
        ],
        className="app",
    )


# Choosing a language: remember it (a cookie the server reads) and render the page again in it.
clientside_callback(
    ClientsideFunction("classnet", "chooseLanguage"),
    Output(ids.LANG, "data"),
    Input(ids.LANG_PICK, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
# The phone menu opens and closes with its button and closes when a page is chosen.
clientside_callback(
    ClientsideFunction("classnet", "toggleMenu"),
    Output(HEADER, "className"),
    Output(MENU_BUTTON, "aria-expanded"),
    Input(MENU_BUTTON, "n_clicks"),
    Input("_pages_location", "pathname"),
    State(HEADER, "className"),
    prevent_initial_call=True,
)


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


# What the banner says for each `Data.store_state()`.
BANNERS = {
    "down": N_(
        "The weather data cannot be read right now: the data store is not answering. This page sh"
        "ows live data again as soon as it is back."
    ),
    "empty": N_(
        "No station has sent a reading yet. The map fills in as soon as the first one arrives."
    ),
}


@callback(
    Output(ids.STORE_BANNER, "children"),
    Output(ids.STORE_BANNER, "hidden"),
    Input(ids.TICK, "n_intervals"),
    Input(ids.LANG_PICK, "value"),
)
def store_banner(_tick: int | None, lang: str) -> tuple[str, bool]:
    """A visible sentence while the store cannot be read or holds no station yet; gone on the
    first refresh after it is back."""
    state = data().store_state()
    return (t(BANNERS[state], lang), False) if state else ("", True)
