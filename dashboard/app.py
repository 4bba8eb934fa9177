"""The Dash app: a shell (navigation, language, units, live tick) around one module per page.

Pages register themselves with `dash.register_page` when imported, which Dash allows only after
the app exists; their `@callback`s attach to the first app created in the process (one dashboard
per process, as `classnet dashboard` runs it; tests start it as a subprocess).
"""

from __future__ import annotations

import importlib
import logging
from functools import partial
from pathlib import Path
from typing import Any

import dash
from dash import Dash

from dashboard import plotly_bundle, shell
from dashboard.climate_data import CLIMATE_KEY, Climate
from dashboard.data import Data
from dashboard.hardening import harden
from dashboard.i18n import html_lang, t
from ingest import StoreError

ASSETS = Path(__file__).with_name("assets")
PAGES = ("now", "compare", "regions", "leaderboard", "classrooms", "stations", "climate")
DATA_KEY = "CLASSNET_DATA"
APP_TITLE = "ClassNet Weather"


class _Dashboard(Dash):
    """Dash whose first HTML names the reader's language, which screen readers and the
    browser's fonts and hyphenation go by."""

    def interpolate_index(self, *args: Any, **kwargs: Any) -> Any:
        page = super().interpolate_index(*args, **kwargs)
        lang = html_lang(shell.current_language())
        return str(page).replace("<html>", f'<html lang="{lang}">', 1)


def page_title(name: str) -> str:
    lang = shell.current_language()
    return f"{t(name, lang)} · {t(APP_TITLE, lang)}"


def on_error(exc: Exception) -> None:
    """Callbacks that fail because the store cannot be read leave what the page shows (None:
    no update) and log nothing: the banner says so, and `Data.store_state` logs the change
    once, instead of a traceback per callback per refresh. Anything else is a bug: raised."""
    if not isinstance(exc, StoreError):
        raise exc


def create_app(data: Data, refresh_s: float = 15.0) -> Dash:
    # The live refresh makes a request every few seconds per browser: one INFO line each would
    # bury the demo's own messages. Errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = _Dashboard(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title=APP_TITLE,
        suppress_callback_exceptions=True,
        update_title="",  # no "Updating..." flicker in the tab on every live refresh
        on_error=on_error,
        # Brotli/gzip: plotly.js (dashboard/plotly_bundle.py) and Dash's own scripts shrink to a
        # third, which is what a phone on a school's Wi-Fi or mobile data waits for.
        compress=True,
    )
    app.server.config[DATA_KEY] = data
    # Every school's records are read while the first visitor is still on the way.
    climate = app.server.config[CLIMATE_KEY] = Climate(data)
    climate.warm()
    # A network-wide view is reused for one live tick: no tab could be shown anything newer.
    data.views.ttl_s = refresh_s
    for page in PAGES:
        module = importlib.import_module(f"dashboard.pages.{page}")
        dash.register_page(
            module.__name__,
            layout=module.layout,
            title=partial(page_title, module.PAGE["name"]),
            **module.PAGE,
        )
    app.layout = partial(shell.layout, refresh_s)
    harden(app)
    plotly_bundle.serve(app)
    return app
