"""`classnet summary` and `classnet export`: thin parsers over `dashboard.core.actions`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.core.actions import (
    SUMMARY_FIELDS,
    export_table,
    render_summary,
    summary_table,
    utc_window,
    write_export,
)
from dashboard.core.frames import CoreInputError
from dashboard.i18n import LANGUAGES
from dashboard.report_actions import FORMATS, build_report, parse_period, render_report
from ingest import open_store
from ingest.domain import stations
from ingest.domain.errors import UserError
from ingest.url import add_store_argument


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

    report = subparsers.add_parser(
        "report",
        help="a school's monthly or yearly climate summary (NOAA style)",
        description="Daily (or monthly) lines of high, low and mean temperature, rain, strongest "
        "gust and prevailing wind, the period's line, extremes and counted days; incomplete days "
        "and months marked (docs/climate.md).",
    )
    add_store_argument(report)
    report.add_argument("--station", required=True, metavar="ID", help="the school's station id")
    when = report.add_mutually_exclusive_group(required=True)
    when.add_argument("--month", metavar="YYYY-MM", help="a calendar month of local days")
    when.add_argument("--year", metavar="YYYY", help="a calendar year of local days")
    report.add_argument("--format", choices=FORMATS, default="table")
    report.add_argument("--lang", choices=sorted(LANGUAGES), default="en", help="language")
    report.add_argument(
        "--output", "-o", type=Path, help="file to write (default: standard output)"
    )
    stations.add_argument(report)
    report.set_defaults(func=run_report)


def _load(args: argparse.Namespace, fields: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = open_store(args.store, read_only=True)
    try:
        meta = store.stations(stations.resolve_path(args.stations))
        start, end = utc_window(args.start, args.end)
        return store.read(start, end, args.station, fields), meta
    finally:
        store.close()


def run_summary(args: argparse.Namespace) -> int:
    try:
        obs, meta = _load(args, list(SUMMARY_FIELDS))
        sys.stdout.write(
            render_summary(summary_table(obs, meta, args.start, args.end), args.format)
        )
    except CoreInputError as exc:
        raise UserError(str(exc)) from exc
    return 0


def run_report(args: argparse.Namespace) -> int:
    period = parse_period(args.month or args.year)
    if (args.month is None) != (period.month is None):
        raise UserError(
            f"--month wants YYYY-MM and --year wants YYYY (got {args.month or args.year})"
        )
    try:
        report, meta = build_report(
            args.store, args.station, period, stations.resolve_path(args.stations)
        )
    except CoreInputError as exc:
        raise UserError(str(exc)) from exc
    _write(render_report(report, meta, args.format, args.lang), args.output)
    return 0


def _write(content: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}; choose another --output") from exc


def run_export(args: argparse.Namespace) -> int:
    try:
        obs, meta = _load(args, None)
        table = export_table(obs, meta, args.start, args.end, derived=args.derived)
    except CoreInputError as exc:
        raise UserError(str(exc)) from exc
    if args.output is None:
        write_export(table, args.format, sys.stdout.buffer)
        return 0
    try:
        with args.output.open("wb") as out:
            write_export(table, args.format, out)
    except OSError as exc:
        raise UserError(
            f"cannot write {args.output}: {exc.strerror}; choose another --output"
        ) from exc
    return 0
