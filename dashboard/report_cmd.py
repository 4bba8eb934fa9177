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
    without_timezone,
    write_export,
)
from dashboard.core.frames import CoreInputError
from firmware import wire
from ingest.command import opened_store
from ingest.domain import stations
from ingest.domain.errors import UserError
from ingest.url import add_store_argument


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-06-01") from exc


def _station(text: str) -> str:
    if not wire.is_station_id(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a station id (a country code, a dash and a slug, "
            "e.g. fi-tampere-hervanta)"
        )
    return text


def _common(parser: argparse.ArgumentParser) -> None:
    add_store_argument(parser)
    parser.add_argument("--start", required=True, type=_date, help="first local date, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=_date, help="last local date, YYYY-MM-DD")
    parser.add_argument(
        "--station",
        dest="station",
        nargs="+",
        action="extend",
        type=_station,
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
    export.add_argument("--seq", action="store_true", help="add each station's message counter")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument(
        "--output", "-o", type=Path, help="file to write (default: standard output)"
    )
    export.set_defaults(func=run_export)


def load(args: argparse.Namespace, fields: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The observations and station metadata a summary or export asks for; nothing stored in
    that window (or for those stations) is a sentence saying so, not an empty table."""
    try:
        start, end = utc_window(args.start, args.end)
    except CoreInputError as exc:
        raise UserError(str(exc)) from None
    with opened_store(args.store, read_only=True) as store:
        meta = store.stations(stations.resolve_path(args.stations))
        obs = store.read(start, end, args.station, fields)
    if obs.empty:
        which = f"station {', '.join(args.station)}" if args.station else "any station"
        raise UserError(
            f"no observations from {which} for local dates {args.start} .. {args.end} in "
            f"{args.store}; check the dates and station ids (classnet rejects shows what was "
            "refused)"
        )
    return obs, meta


def _note_unzoned(names: list[str], what: str) -> None:
    if names:
        print(
            f"note: {', '.join(names)} {'has' if len(names) == 1 else 'have'} no time zone "
            f"(no meta message, not in stations.toml): {what}",
            file=sys.stderr,
        )


def run_summary(args: argparse.Namespace) -> int:
    obs, meta = load(args, list(SUMMARY_FIELDS))
    unzoned = without_timezone(obs, meta)
    _note_unzoned(unzoned, "left out, a local day needs one; add it to stations.toml")
    obs = obs[~obs["station"].astype(str).isin(unzoned)]
    if obs.empty:
        raise UserError("no station with a time zone to summarise; add them to stations.toml")
    try:
        table = summary_table(obs, meta, args.start, args.end)
    except CoreInputError as exc:
        raise UserError(str(exc)) from None
    sys.stdout.write(render_summary(table, args.format))
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.output is not None and not args.output.parent.is_dir():
        raise UserError(
            f"cannot write {args.output}: no folder {args.output.parent}; choose another --output"
        )
    obs, meta = load(args, [*wire.FIELD_NAMES, "seq"] if args.seq else None)
    _note_unzoned(without_timezone(obs, meta), "exported by UTC dates, local_time left empty")
    try:
        table = export_table(obs, meta, args.start, args.end, derived=args.derived)
    except CoreInputError as exc:
        raise UserError(str(exc)) from None
    if args.output is None:
        write_export(table, args.format, sys.stdout.buffer)
        return 0
    try:
        with args.output.open("wb") as out:
            write_export(table, args.format, out)
    except OSError as exc:
        raise UserError(
            f"cannot write {args.output}: {exc.strerror}; choose another --output"
        ) from None
    return 0
