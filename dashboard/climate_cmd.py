"""`classnet report`: a thin parser over `dashboard.report_actions` (a school's monthly or yearly
climate summary as a table, CSV or one-page PDF; docs/climate.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.core.frames import CoreInputError
from dashboard.i18n import LANGUAGES
from dashboard.report_actions import FORMATS, build_report, parse_period, render_report
from ingest.command import opened_store
from ingest.domain import stations
from ingest.domain.errors import UserError
from ingest.url import add_store_argument


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def run_report(args: argparse.Namespace) -> int:
    period = parse_period(args.month or args.year)
    if (args.month is None) != (period.month is None):
        raise UserError(
            f"--month wants YYYY-MM and --year wants YYYY (got {args.month or args.year})"
        )
    if args.output is not None and not args.output.parent.is_dir():
        raise UserError(
            f"cannot write {args.output}: no folder {args.output.parent}; choose another --output"
        )
    with opened_store(args.store, read_only=True) as store:
        try:
            report, meta = build_report(
                store, args.station, period, stations.resolve_path(args.stations)
            )
        except CoreInputError as exc:
            raise UserError(str(exc)) from None
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
        raise UserError(f"cannot write {output}: {exc.strerror}; choose another --output") from None
