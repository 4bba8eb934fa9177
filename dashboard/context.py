"""How a callback reaches the dashboard's data: through the Flask app serving the request, so
several dashboards (or test apps) never share a module-level store."""

from __future__ import annotations

from flask import current_app

from dashboard.data import Data


def data() -> Data:
    found = current_app.config["CLASSNET_DATA"]
    assert isinstance(found, Data)
    return found
