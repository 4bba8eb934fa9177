"""`classnet import`, `classnet rejects` and `classnet rebuild-bins`: load a file into the store;
show what was refused; recompute the store's 15-minute bins from its raw rows."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from gateway.import_rows import Dropped
from gateway.importer import ImportResult, import_file
from ingest.base import KeepsBins
from ingest.command import Progress, opened_store
from ingest.domain.errors import UserError
from ingest.url import add_store_argument

SHOWN_PROBLEMS = 20  # on the terminal; --problems FILE lists every one


def import_report(path: Path, result: ImportResult, not_shown: int) -> list[str]:
    """The closing summary: what was stored, dropped and refused, by reason."""
    lines = [f"{path}: {result.rows:,} rows read, {result.stored:,} observations stored"]
    if result.ignored_columns:
        lines.append(
            "  ignored columns (not contract fields): " + ", ".join(sorted(result.ignored_columns))
        )
    for reason, n in sorted(result.dropped_fields.items()):
        lines.append(f"  fields dropped ({reason}): {n:,}")
    for reason, n in sorted(result.refused_rows.items()):
        lines.append(f"  rows refused ({reason}): {n:,}")
    if not_shown:
        lines.append(f"  {not_shown:,} more not shown; --problems FILE lists every one")
    return lines


class _ProblemLog:
    """Where each dropped field and refused row goes: the first few to stderr, and every one
    to `target` (CSV) when given."""

    def __init__(self, target: Path | None) -> None:
        self.shown = 0
        self.hidden = 0
        self._out = target.open("w", newline="", encoding="utf-8") if target else None
        self._csv = csv.writer(self._out) if self._out else None
        if self._csv:
            self._csv.writerow(["row", "station", "field", "reason", "detail"])

    def __call__(self, problem: Dropped) -> None:
        if self._csv:
            self._csv.writerow(
                [
                    problem.row,
                    problem.station or "",
                    problem.field or "",
                    problem.reason,
                    problem.detail,
                ]
            )
        if self.shown < SHOWN_PROBLEMS:
            self.shown += 1
            # On a terminal, over the progress line; in a log, a plain line.
            start = "\r" if sys.stderr.isatty() else ""
            print(start + problem.detail, file=sys.stderr)
        elif not self._csv:
            self.hidden += 1

    def __enter__(self) -> _ProblemLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._out:
            self._out.close()


def _import_cmd(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise UserError(f"{path}: not found; give the .csv or .jsonl file to import")
    if args.problems is not None and not args.problems.parent.is_dir():
        raise UserError(f"--problems {args.problems}: no folder {args.problems.parent}")
    with (
        opened_store(args.store, read_only=False, create=True) as store,
        Progress("rows") as progress,
        _ProblemLog(args.problems) as problems,
    ):
        result = import_file(store, path, progress, problems)
        # The pages would compute the new rows' bins on every read until a gateway rolls them.
        while store.roll(budget_s=5.0):
            pass
    for line in import_report(path, result, problems.hidden):
        print(line)
    return 0 if result.complete else 1


def _rebuild_bins_cmd(args: argparse.Namespace) -> int:
    with opened_store(args.store, read_only=False) as store:
        if not isinstance(store, KeepsBins):
            raise UserError(f"{args.store} keeps no 15-minute bins")
        with Progress("stations left") as progress:
            store.rebuild_bins(progress)
    print(f"{args.store}: 15-minute bins rebuilt from the raw rows")
    return 0


def shown(text: str) -> str:
    r"""Stored text as it may go to a terminal: what a station sent can hold escape sequences
    that retitle or clear it, or bidi controls that reorder the line, so every character that
    is not printable is shown as its escape.

    >>> shown("ok \x1b]0;pwned\x07 \u202edone")
    'ok \\x1b]0;pwned\\x07 \\u202edone'
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _rejects_cmd(args: argparse.Namespace) -> int:
    with opened_store(args.store, read_only=True) as store:
        letters = store.rejects(args.station, args.limit)
        counts = store.reject_counts(station=args.station)
    if counts.empty:
        print("no rejects" + (f" for {args.station}" if args.station else ""))
        return 0
    print("rejected, by station and reason:")
    for row in counts.itertuples(index=False):
        print(f"  {shown(row.station):<30} {shown(row.reason):<24} {row.count:>8,}")
    if not letters.empty:
        print(f"\nlatest {len(letters)} rejected messages:")
    for row in letters.itertuples(index=False):
        when, station, reason = (
            f"{row.time:%Y-%m-%d %H:%M:%S}Z",
            shown(row.station),
            shown(row.reason),
        )
        print(f"  {when} {station} {reason}: {shown(row.detail)}")
        print(f"      payload: {shown(str(row.payload)[:200])}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="load observations from JSON Lines or CSV (with a station column)",
        description="Check and store observations from a file: an SD-card log or an export "
        "from another tool. Each cell is checked on its own: a bad cell drops that field of "
        "that row, a row without a usable station or time is refused (and kept as a dead "
        "letter, see `classnet rejects`), each named by its row number. Times: Unix seconds, "
        "milliseconds, or ISO 8601 with an offset, from 1970 on. Exit status 0: everything "
        "stored; 1: stored, but some fields were dropped or rows refused; 3: nothing done.",
    )
    add_store_argument(p)
    p.add_argument("file", type=Path, help=".csv (a header row) or .jsonl (one object per line)")
    p.add_argument(
        "--problems",
        type=Path,
        metavar="FILE",
        help="write every dropped field and refused row to FILE (CSV: row, station, field, "
        f"reason, detail); the terminal shows the first {SHOWN_PROBLEMS}",
    )
    p.set_defaults(func=_import_cmd)

    p = sub.add_parser(
        "rejects",
        help="show rejected messages and fields, for a station or all",
        description="Counts of rejected fields and messages by reason, and the latest "
        "dead-lettered messages with their reason and first 1 KiB.",
    )
    add_store_argument(p)
    p.add_argument("--station", metavar="ID", help="one station, e.g. ph-manila-01")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="messages shown (20)")
    p.set_defaults(func=_rejects_cmd)

    p = sub.add_parser(
        "rebuild-bins",
        help="recompute the store's 15-minute bins from its raw rows",
        description="Forget the 15-minute bins the pages read (Asia vs Europe, the leaderboard, "
        "classnet summary) and compute them again from every raw reading, with every QC check. "
        "The gateway keeps them up to date by itself; this is for a store whose bins are in "
        "doubt. The gateway may keep running meanwhile.",
    )
    add_store_argument(p)
    p.set_defaults(func=_rebuild_bins_cmd)
