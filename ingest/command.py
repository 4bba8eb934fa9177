"""What every `classnet` command that touches a store shares: opening the store its `--store`
names and turning a store's failure into one sentence with the fix, and a progress line.

    with opened_store(args.store, read_only=True) as store:
        frame = store.read(...)

Commands are thin parsers over typed action functions (WeeWX's *_cmd / *_actions split); the
action takes an open `Store`, the parser opens it here, so tests call actions with a real store.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from ingest import open_store, parse_store_url
from ingest.base import Store, StoreError
from ingest.domain.errors import UserError

_HTTP_STATUS = re.compile(r": HTTP (\d{3})\b")


def advice(exc: StoreError) -> str:
    """The store's own message, and what the person at the keyboard can do about it."""
    text = str(exc)
    match = _HTTP_STATUS.search(text)
    status = int(match.group(1)) if match else None
    if status in (401, 403):
        return (
            f"{text}; the server refused the login: set CLASSNET_INFLUX_PASSWORD "
            "(influxdb://USER@host) or CLASSNET_INFLUX_TOKEN (influxdb2://) for a user who may "
            "use this database"
        )
    if status == 404 or "database not found" in text:
        return f"{text}; check the database (or bucket) name at the end of --store"
    if status is None and exc.retryable:
        return f"{text}; is the store running and reachable? check the host and port in --store"
    return text


@contextmanager
def opened_store(url: str, *, read_only: bool, create: bool = False) -> Iterator[Store]:
    """The store `url` names, closed on leaving the block. Only a writer asked to `create` makes
    a new SQLite file; otherwise a missing one is "no store at PATH" with the fix. Any
    StoreError raised inside the block becomes a UserError saying what failed and what to do."""
    parsed = parse_store_url(url)
    if not create and parsed.kind == "sqlite":
        # The reader's own check (ingest/sqlite.py) says it with the fix.
        read_only = read_only or not (parsed.path and parsed.path.is_file())
    try:
        store = open_store(parsed, read_only=read_only)
    except StoreError as exc:
        raise UserError(advice(exc)) from None
    try:
        yield store
    except StoreError as exc:
        raise UserError(advice(exc)) from None
    finally:
        store.close()


class Progress:
    """One self-overwriting line on a terminal (`\\r  12,000 rows`); nothing when stderr is a log
    file or a pipe, where a line per update would only be noise. Use as a context manager so the
    line is ended however the command ends."""

    def __init__(self, unit: str, total: int | None = None, out: TextIO | None = None) -> None:
        self.unit = unit
        self.total = total
        self.out = out or sys.stderr
        self.live = self.out.isatty()
        self.shown = False

    def __call__(self, done: int) -> None:
        if not self.live:
            return
        of = f"/{self.total:,}" if self.total is not None else ""
        print(f"\r  {done:,}{of} {self.unit}", end="", file=self.out, flush=True)
        self.shown = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            print(file=self.out, flush=True)
