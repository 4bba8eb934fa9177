"""`classnet summary` and `classnet export`: thin parsers over `dashboard.core.actions`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from dashboard.core.actions import (
    SUMMARY_FIELDS,
    export_table,
    render_summary_parts,
    summary_of_bins,
    utc_window,
    write_export_parts,
)
from dashboard.core.frames import CoreInputError
from dashboard.data import store_bins
from gateway import stations
from gateway.errors import UserError
from ingest import Store, open_store


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-06-01") from exc


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="store URL, e.g. sqlite:///classnet.db")
    parser.add_argument("--start", required=True, type=_date, help="first local date, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=_date, help="last local date, YYYY-MM-DD")
    parser.add_argument(
        "--station",
        dest="station",
        nargs="+",
        action="extend",
        metavar="ID",
        help="only these stations",
    )
    stations.add_argument(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = subparsers.add_parser("summary", help="daily summaries per station and local day")
    _common(summary)
    summary.add_argument("--format", choices=["csv", "table", "json"], default="table")
    summary.set_defaults(func=run_summary)

    export = subparsers.add_parser("export", help="observations for a spreadsheet project")
    _common(export)
    export.add_argument(
        "--derived",
        action="store_true",
        help="add dew point, sea-level pressure, feels-like, QC flags",
    )
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument(
        "--output", "-o", type=Path, help="file to write (default: standard output)"
    )
    export.set_defaults(func=run_export)


# Stations per read of `summary` (their bins) and windows of `export` (one station's rows):
# what one step holds in memory, whatever the length of the range or the size of the network.
SUMMARY_GROUP = 20
EXPORT_WINDOW = timedelta(days=30)
# QC's step and persistence tests look at neighbours up to an hour away (dashboard/core/qc.py):
# each export window is read with that much on either side.
QC_MARGIN = timedelta(hours=1)


def _chosen(args: argparse.Namespace, meta: pd.DataFrame) -> list[str]:
    return list(args.station) if args.station else [str(s) for s in meta.index]


def _summary_parts(
    store: Store, args: argparse.Namespace, meta: pd.DataFrame
) -> Iterator[pd.DataFrame]:
    start, end = utc_window(args.start, args.end)
    chosen = _chosen(args, meta)
    unknown = [s for s in chosen if s not in meta.index]
    if unknown:
        raise CoreInputError(
            f"no metadata for station(s) {', '.join(unknown[:5])}: add them to stations.toml "
            "or the registry"
        )
    for i in range(0, len(chosen), SUMMARY_GROUP):
        group = meta.loc[chosen[i : i + SUMMARY_GROUP]]
        bins = store_bins(store, start, end, group, SUMMARY_FIELDS, hours="local")
        if not bins.empty:
            yield summary_of_bins(bins, meta, args.start, args.end)


def _export_parts(
    store: Store, args: argparse.Namespace, meta: pd.DataFrame
) -> Iterator[pd.DataFrame]:
    start, end = utc_window(args.start, args.end)
    margin = QC_MARGIN if args.derived else timedelta(0)
    for station in _chosen(args, meta):
        at = start
        while at < end:
            upto = min(at + EXPORT_WINDOW, end)
            obs = store.read(at - margin, upto + margin, [station])
            if not obs.empty:
                table = export_table(obs, meta, args.start, args.end, derived=args.derived)
                inside = (table["time"] >= at) & (table["time"] < upto)
                yield table[inside.to_numpy()].reset_index(drop=True)
            at = upto


def run_summary(args: argparse.Namespace) -> int:
    store = open_store(args.store, read_only=True)
    try:
        meta = store.stations(stations.resolve_path(args.stations))
        for text in render_summary_parts(_summary_parts(store, args, meta), args.format):
            sys.stdout.write(text)
    except CoreInputError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.close()
    return 0


def run_export(args: argparse.Namespace) -> int:
    store = open_store(args.store, read_only=True)
    try:
        meta = store.stations(stations.resolve_path(args.stations))
        parts = _export_parts(store, args, meta)
        if args.output is None:
            write_export_parts(parts, args.format, sys.stdout.buffer)
            return 0
        try:
            with args.output.open("wb") as out:
                write_export_parts(parts, args.format, out)
        except OSError as exc:
            raise UserError(
                f"cannot write {args.output}: {exc.strerror}; choose another --output"
            ) from exc
    except CoreInputError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.close()
    return 0
