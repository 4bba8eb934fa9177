"""The dashboard for a WSGI server, so several worker processes can serve one network:

    CLASSNET_STORE=influxdb://reader@db:8086/classnet \\
        gunicorn -w 4 -b 127.0.0.1:8050 'dashboard.wsgi:create_server()'

`CLASSNET_STATIONS` names a stations.toml; `CLASSNET_REFRESH_S` the live refresh (default 15).
Workers share nothing but the store, so any number of them can run behind one load balancer.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from ingest.domain.errors import UserError


def create_server() -> Flask:
    from dashboard.app import create_app
    from dashboard.data import Data
    from ingest import StoreError, open_store
    from ingest.command import advice
    from ingest.domain import stations

    url = os.environ.get("CLASSNET_STORE")
    if not url:
        raise UserError("set CLASSNET_STORE to the store URL, e.g. sqlite:///var/lib/classnet.db")
    path = os.environ.get("CLASSNET_STATIONS")
    try:
        store = open_store(url, read_only=True)
    except StoreError as exc:
        raise UserError(f"CLASSNET_STORE: {advice(exc)}") from None
    data = Data(store, stations.resolve_path(Path(path) if path else None))
    refresh_s = float(os.environ.get("CLASSNET_REFRESH_S", "15"))
    return create_app(data, refresh_s=refresh_s).server
