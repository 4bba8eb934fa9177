"""`classnet dashboard` and `classnet demo`: thin parsers over `serve` and `run_demo`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.domain import stations as station_files
from ingest.domain.errors import UserError
from ingest.url import add_store_argument

if TYPE_CHECKING:
    from flask import Flask


THREADS = 16  # requests served at once; each holds a thread while it reads the store


def serve(store_url: str, stations: Path | None, host: str, port: int, refresh_s: float) -> int:
    from dashboard.app import create_app
    from dashboard.data import Data
    from ingest import StoreError, open_store
    from ingest.command import advice

    try:
        # InfluxDB is only reached on the first read: a server that is down shows as a banner
        # until it is back. A SQLite file that is not there is a mistake to say now.
        store = open_store(store_url, read_only=True)
    except StoreError as exc:
        raise UserError(advice(exc)) from None
    data = Data(store, station_files.resolve_path(stations))
    app = create_app(data, refresh_s=refresh_s)
    print(f"ClassNet dashboard on http://{host}:{port}/ reading {data.store.url}", flush=True)
    run_server(app.server, host, port)
    return 0


def run_server(server: Flask, host: str, port: int) -> None:
    """Serve with Waitress: a production WSGI server in pure Python, so it runs on a school's
    Windows PC too (gunicorn does not). Its threads serve the live refresh of open browsers."""
    import waitress

    waitress.serve(server, host=host, port=port, threads=THREADS, ident="classnet")


def _dashboard_cmd(args: argparse.Namespace) -> int:
    return serve(args.store, args.stations, args.host, args.port, args.refresh)


def _demo_cmd(args: argparse.Namespace) -> int:
    from dashboard.demo import run_demo

    return run_demo(args.data_dir, args.host, args.port, args.refresh, args.broker)


def _common(p: argparse.ArgumentParser, port: int) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=port, help=f"default {port}")
    p.add_argument(
        "--refresh", type=float, default=15.0, metavar="S", help="live refresh (default 15 s)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="the live dashboard students watch",
        description="Serve the ClassNet dashboard over a store (docs/dashboard.md).",
    )
    add_store_argument(p)
    station_files.add_argument(p)
    _common(p, 8050)
    p.set_defaults(func=_dashboard_cmd)

    p = sub.add_parser(
        "demo",
        help="everything on one machine: broker, gateway, 24 simulated schools, dashboard",
        description="Start an embedded broker, the gateway, a SQLite store, 24 simulated schools "
        "(the last 7 days, then live) and the dashboard. Ctrl-C stops it all; a second run "
        "reuses the data dir.",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("classnet-data"),
        help="where the store, broker and logs live (default ./classnet-data)",
    )
    p.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "amqtt"),
        default="auto",
        help="embedded broker: a private Mosquitto if installed (auto), else amqtt",
    )
    _common(p, 8050)
    p.set_defaults(func=_demo_cmd)
