"""`classnet rollup rebuild`: recompute the 15-minute bins from the raw observations."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta

from gateway.errors import UserError
from gateway.gateway_cmd import add_store_argument
from ingest import StoreError, open_store, parse_store_url


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-06-01") from exc


def _rebuild_cmd(args: argparse.Namespace) -> int:
    start = datetime.combine(args.start, datetime.min.time(), UTC) if args.start else None
    end = (
        datetime.combine(args.end + timedelta(days=1), datetime.min.time(), UTC)
        if args.end
        else None
    )
    if start and end and end <= start:
        raise UserError(f"--end {args.end} is before --start {args.start}: swap them")
    try:
        store = open_store(args.store)
        try:
            n = store.rebuild_rollups(start, end)
        finally:
            store.close()
    except StoreError as exc:
        raise UserError(str(exc)) from None
    span = f" from {args.start or 'the first'} to {args.end or 'the last'} UTC day"
    if parse_store_url(args.store).kind == "sqlite":
        print(f"{args.store}: {n:,} 15-minute bins recomputed{span}")
    else:
        print(
            f"{args.store}: bins are aggregated at query time; registry compacted ({n:,} stations)"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rollup",
        help="recompute the stores' 15-minute bins from raw observations",
        description="The gateway keeps the bins up to date as it writes; rebuild them after "
        "editing raw rows by hand or restoring a backup, or to check them (the result equals "
        "what the writes kept).",
    )
    actions = p.add_subparsers(dest="action", metavar="<action>", required=True)
    rebuild = actions.add_parser("rebuild", help="recompute bins (all, or of UTC days)")
    add_store_argument(rebuild)
    rebuild.add_argument("--start", type=_date, help="first UTC day, YYYY-MM-DD (default: all)")
    rebuild.add_argument("--end", type=_date, help="last UTC day, YYYY-MM-DD (default: all)")
    rebuild.set_defaults(func=_rebuild_cmd)
