"""`classnet summary`, `classnet export` and `classnet calibrate`: thin parsers over the core
(`dashboard.core.actions`, `dashboard.core.calibration`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from dashboard.core import calibration
from dashboard.core.actions import (
    SUMMARY_FIELDS,
    ExportWriter,
    export_table,
    render_summary,
    summary_rows,
    summary_table,
    utc_window,
    without_timezone,
)
from dashboard.core.bins import daily_summary_bins
from dashboard.core.frames import CoreInputError
from dashboard.reads import station_groups
from firmware import wire
from ingest.base import KeepsBins
from ingest.command import Progress, opened_store
from ingest.domain import stations
from ingest.domain.calibration import Correction, load_corrections, write_corrections
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

    cal = subparsers.add_parser(
        "calibrate",
        help="calibration day: fit each station against a reference beside it",
        description="Fit, per station and field, `corrected = offset + slope × reading` against "
        "a reference station that stood beside them; print the table; with --write, add the "
        "corrections to stations.toml (applied when data are read, never to what is stored).",
    )
    add_store_argument(cal)
    cal.add_argument("--reference", required=True, metavar="ID", help="the reference station")
    cal.add_argument(
        "--start", required=True, type=_moment, help="UTC start: 2026-12-01 or 2026-12-01T08:00"
    )
    cal.add_argument(
        "--end", required=True, type=_end_moment, help="UTC end (a date: to the end of that day)"
    )
    cal.add_argument(
        "--station", nargs="+", action="extend", metavar="ID", help="only these stations"
    )
    cal.add_argument("--field", nargs="+", action="extend", metavar="NAME", help="only these")
    cal.add_argument(
        "--from",
        dest="valid_from",
        type=_moment,
        help="when the corrections apply from (default: --start)",
    )
    cal.add_argument(
        "--min-hours",
        type=float,
        default=calibration.MIN_OVERLAP.total_seconds() / 3600,
        help="least side-by-side time to fit (default %(default)g)",
    )
    cal.add_argument(
        "--offset-only",
        action="store_true",
        help="fit an offset alone (slope 1): for a spell with too little change for a slope",
    )
    cal.add_argument("--write", action="store_true", help="add the corrections to stations.toml")
    cal.add_argument("--report", type=Path, metavar="HTML", help="write the classroom report")
    cal.add_argument("--lang", default="en", help="report language: en, fi, fil")
    stations.add_argument(cal)
    cal.set_defaults(func=run_calibrate)


def _moment(text: str) -> datetime:
    """A UTC moment from a date (its UTC midnight) or a date-time (UTC unless it says)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or date-time like 2026-12-01 or 2026-12-01T08:00"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _end_moment(text: str) -> datetime:
    """Like `_moment`, but a date alone means the end of that day (an inclusive last date)."""
    moment = _moment(text)
    return moment + timedelta(days=1) if "T" not in text and " " not in text else moment


@dataclass(frozen=True)
class Part:
    """Some stations' observations as stored (`obs`), or their 15-minute bins (`binned`: read
    when asked for, the store keeps them and no station of the part has a calibration of the
    fields), with the station metadata and the calibrations to apply."""

    obs: pd.DataFrame
    meta: pd.DataFrame
    corrections: list[Correction]
    binned: bool = False


def load_in_parts(
    args: argparse.Namespace, fields: list[str] | None, bins: bool = False
) -> Iterator[Part]:
    """The observations of a summary or an export, a few stations at a time
    (`dashboard.reads.station_groups`): a month of 500 schools is 21.6 M rows, 8.6 GB read at
    once (issue #17). Each part holds some observations; nothing stored in that window (or for
    those stations) is a sentence saying so, not an empty table."""
    try:
        start, end = utc_window(args.start, args.end)
    except CoreInputError as exc:
        raise UserError(str(exc)) from None
    path = stations.resolve_path(args.stations)
    corrections = load_corrections(path)
    found = False
    with opened_store(args.store, read_only=True) as store:
        meta = store.stations(path)
        # Sorted: the parts of a summary or an export follow one another by station.
        wanted = sorted(args.station or meta.index)
        # One read for a store with no registry: it names no stations to group.
        groups = station_groups(wanted, start, end) if wanted else [args.station]
        with Progress("stations", total=len(wanted)) as progress:
            done = 0
            calibrated = {c.station for c in corrections if fields is None or c.field in fields}
            for group in groups:
                binned = (
                    bins and isinstance(store, KeepsBins) and not calibrated.intersection(group)
                )
                if binned:
                    assert isinstance(store, KeepsBins)
                    obs = store.read_bins(start, end, group, fields)
                else:
                    obs = store.read(start, end, group, fields)
                if len(groups) > 1:
                    done += len(group)
                    progress(done)
                if not obs.empty:
                    found = True
                    yield Part(obs, meta, corrections, binned)
    if not found:
        which = f"station {', '.join(args.station)}" if args.station else "any station"
        raise UserError(
            f"no observations from {which} for local dates {args.start} .. {args.end} in "
            f"{args.store}; check the dates and station ids (classnet rejects shows what was "
            "refused)"
        )


def _note_unzoned(names: list[str], what: str) -> None:
    if names:
        print(
            f"note: {', '.join(names)} {'has' if len(names) == 1 else 'have'} no time zone "
            f"(no meta message, not in stations.toml): {what}",
            file=sys.stderr,
        )


def run_summary(args: argparse.Namespace) -> int:
    # Daily summaries are per station: a few stations at a time give the same table, in the
    # same order (by station, then date), in bounded memory.
    tables, unzoned = [], []
    for part in load_in_parts(args, list(SUMMARY_FIELDS), bins=True):
        meta = part.meta
        obs = part.obs if part.binned else calibration.apply_corrections(part.obs, part.corrections)
        missing = without_timezone(obs, meta)
        unzoned += missing
        obs = obs[~obs["station"].astype(str).isin(missing)]
        if obs.empty:
            continue
        try:
            if part.binned:
                tables.append(summary_rows(daily_summary_bins(obs, meta), args.start, args.end))
            else:
                tables.append(summary_table(obs, meta, args.start, args.end))
        except CoreInputError as exc:
            raise UserError(str(exc)) from None
    _note_unzoned(sorted(unzoned), "left out, a local day needs one; add it to stations.toml")
    if not tables:
        raise UserError("no station with a time zone to summarise; add them to stations.toml")
    table = pd.concat([t for t in tables if len(t)] or tables[:1], ignore_index=True)
    sys.stdout.write(render_summary(table, args.format))
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.output is not None and not args.output.parent.is_dir():
        raise UserError(
            f"cannot write {args.output}: no folder {args.output.parent}; choose another --output"
        )
    fields = [*wire.FIELD_NAMES, "seq"] if args.seq else None
    unzoned: list[str] = []
    try:
        with _export_output(args.output) as out, ExportWriter(args.format, out) as writer:
            # A few stations at a time (issue #17: a year of 500 schools is 262 M rows). Every
            # part has a `<field>_raw` column for each field calibrated at a station exported.
            raw_fields: set[str] | None = None
            for part in load_in_parts(args, fields):
                if raw_fields is None:
                    chosen = args.station or [c.station for c in part.corrections]
                    raw_fields = {c.field for c in part.corrections if c.station in chosen}
                unzoned += without_timezone(part.obs, part.meta)
                table = export_table(
                    part.obs,
                    part.meta,
                    args.start,
                    args.end,
                    derived=args.derived,
                    corrections=part.corrections,
                    raw_fields=raw_fields,
                )
                writer.write(table)
    except CoreInputError as exc:
        raise UserError(str(exc)) from None
    _note_unzoned(sorted(unzoned), "exported by UTC dates, local_time left empty")
    return 0


@contextmanager
def _export_output(path: Path | None) -> Iterator[BinaryIO]:
    """Standard output, or `path` written whole or not at all: the export goes to a file beside
    it that replaces it only once complete, so a failed export (a store gone mid-way, nothing
    to export) neither leaves half a file nor destroys an earlier export of the same name."""
    if path is None:
        yield sys.stdout.buffer
        return
    if path.exists() and not path.is_file():  # /dev/null, a named pipe: written in place
        with _opened(path) as out:
            yield out
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        with _opened(partial) as out:
            yield out
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    try:
        out = path.open("wb")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}; choose another --output") from None
    with out:
        try:
            yield out
        except OSError as exc:  # a full disk, a folder gone
            raise UserError(
                f"cannot write {path}: {exc.strerror}; choose another --output"
            ) from None


def run_calibrate(args: argparse.Namespace) -> int:
    if args.end <= args.start:
        raise UserError(f"--end {args.end:%Y-%m-%d %H:%M} is not after --start: swap them")
    path = stations.resolve_path(args.stations)
    wanted = None if args.station is None else [args.reference, *args.station]
    with opened_store(args.store, read_only=True) as store:
        try:
            obs = store.read(args.start, args.end, wanted, None)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    # Fit on what the stations said, not on what an earlier calibration made of it.
    results = calibration.calibrate(
        obs,
        args.reference,
        args.station,
        args.field,
        min_overlap=timedelta(hours=args.min_hours),
        offset_only=args.offset_only,
    )
    sys.stdout.write(calibration.render_table(results))
    fits = [r for r in results if isinstance(r, calibration.Fit)]
    if not fits:
        raise UserError(f"nothing fitted against {args.reference}; see the reasons above")
    valid_from = args.valid_from or args.start
    if args.report is not None:
        from dashboard.calibration_report import write_report

        write_report(args.report, obs, fits, args.lang)
        print(f"classroom report written to {args.report}")
    if args.write:
        target = path or stations.DEFAULT_PATH
        write_corrections(target, [f.correction(valid_from) for f in fits])
        load_corrections(target)  # what was written reads back, or the teacher hears now
        print(
            f"{len(fits)} correction(s) written to {target}, applying from "
            f"{valid_from:%Y-%m-%d %H:%M} UTC"
        )
    return 0
