"""The Dash app: a shell (navigation, language, units, live tick) around one module per page.

Pages register themselves with `dash.register_page` when imported, which Dash allows only after
the app exists; their `@callback`s attach to the first app created in the process (one dashboard
per process, as `classnet dashboard` runs it; tests start it as a subprocess).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import dash
from dash import Dash

from dashboard import shell
from dashboard.data import Data
from dashboard.i18n import t

ASSETS = Path(__file__).with_name("assets")
PAGES = ("now", "compare", "regions", "leaderboard", "classrooms", "stations")
DATA_KEY = "CLASSNET_DATA"


def create_app(data: Data, refresh_s: float = 15.0) -> Dash:
    # The live refresh makes a request every few seconds per browser: one INFO line each would
    # bury the demo's own messages. Errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title=t("app.title"),
        suppress_callback_exceptions=True,
        update_title="",  # no "Updating..." flicker in the tab on every live refresh
    )
    app.server.config[DATA_KEY] = data
    # A network-wide view is reused for one live tick: no tab could be shown anything newer.
    data.views.ttl_s = refresh_s
    for page in PAGES:
        module = importlib.import_module(f"dashboard.pages.{page}")
        dash.register_page(module.__name__, layout=module.layout, **module.PAGE)
    app.layout = shell.layout(refresh_s)
    return app
