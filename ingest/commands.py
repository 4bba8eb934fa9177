"""`classnet import` and `classnet rejects`: load a file into the store; show what was refused."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli import UserError
from gateway.gateway_cmd import add_store_argument
from ingest import StoreError, open_store
from ingest.importer import import_file


def _progress(rows: int) -> None:
    if sys.stderr.isatty():  # a progress line in a terminal; nothing in a log file
        print(f"\r  {rows:,} rows", end="", file=sys.stderr, flush=True)


def _import_cmd(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise UserError(f"{path} not found")
    try:
        store = open_store(args.store)
        try:
            result = import_file(store, path, _progress)
        finally:
            store.close()
    except StoreError as exc:
        raise UserError(str(exc)) from None
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"{path}: {result.rows:,} rows, {result.stored:,} observations stored")
    for reason, n in sorted(result.rejects.items()):
        print(f"  rejected ({reason}): {n:,}")
    return 0 if not result.rejects else 1


def shown(text: str) -> str:
    r"""Stored text as it may go to a terminal: what a station sent can hold escape sequences
    that retitle or clear it, or bidi controls that reorder the line, so every character that
    is not printable is shown as its escape.

    >>> shown("ok \x1b]0;pwned\x07 \u202edone")
    'ok \\x1b]0;pwned\\x07 \\u202edone'
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _rejects_cmd(args: argparse.Namespace) -> int:
    try:
        store = open_store(args.store)
        try:
            letters = store.rejects(args.station, args.limit)
            counts = store.reject_counts(station=args.station)
        finally:
            store.close()
    except StoreError as exc:
        raise UserError(str(exc)) from None
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
        description="Validate and store observations from a file: an SD-card log or an export "
        "from another tool. Rows the contract refuses are counted and dead-lettered.",
    )
    add_store_argument(p)
    p.add_argument("file", type=Path, help=".jsonl (one object per line) or .csv")
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
