"""`classnet spool`: what waits in a gateway's spool, and sending the batches the store refused
for good (kept in `refused/` with the store's reason) again once the cause is fixed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.spool import (
    BAD,
    DEFAULT_DIR,
    REFUSED,
    decode,
    forget,
    pending_batches,
    set_aside_batches,
)
from ingest import StoreError
from ingest.base import Store
from ingest.command import Progress, opened_store
from ingest.domain.errors import UserError
from ingest.url import add_store_argument


@dataclass
class Replayed:
    batches: int = 0
    observations: int = 0


def replay_refused(
    directory: Path, store: Store, progress: Callable[[int], None] | None = None
) -> Replayed:
    """Write the batches in `refused/` to `store`, oldest first, removing each once stored.
    Stops at the first one the store still refuses (StoreError naming the file); it and the
    ones after it stay."""
    items = set_aside_batches(directory, REFUSED)
    done = Replayed()
    for item in items:
        batch = decode(item.path.read_bytes())
        try:
            store.write(batch)
        except StoreError as exc:
            raise StoreError(
                f"{item.path}: the store still refuses this batch ({exc}); it and the "
                f"{len(items) - done.batches - 1} after it stay in {REFUSED}/",
                retryable=exc.retryable,
            ) from None
        forget(item)
        done.batches += 1
        done.observations += len(batch)
        if progress is not None:
            progress(done.batches)
    return done


def describe(directory: Path) -> list[str]:
    """Lines saying what waits in the spool at `directory` and what was set aside."""
    if not directory.is_dir():
        raise UserError(f"no spool at {directory}; give the gateway's --spool-dir")
    waiting = pending_batches(directory)
    size = sum(p.stat().st_size for p in waiting)
    lines = [f"spool {directory}: {len(waiting)} batches ({size:,} bytes) waiting to drain"]
    for folder, what in ((REFUSED, "refused by the store"), (BAD, "unreadable")):
        items = set_aside_batches(directory, folder)
        if not items:
            continue
        lines.append(f"{len(items)} {what}, in {directory / folder}:")
        for item in items:
            at = datetime.fromtimestamp(item.path.stat().st_mtime, UTC)
            why = item.why or "no reason recorded"
            lines.append(f"  {item.path.name}  set aside {at:%Y-%m-%d %H:%M}Z: {why}")
        if folder == REFUSED:
            lines.append(
                "  once the cause is fixed: classnet spool --replay --store URL "
                f"--spool-dir {directory}"
            )
    return lines


def _spool_cmd(args: argparse.Namespace) -> int:
    if not args.replay:
        for line in describe(args.spool_dir):
            print(line)
        return 0
    if not (args.spool_dir / REFUSED).is_dir():
        raise UserError(f"nothing to replay: no {REFUSED}/ in {args.spool_dir}")
    with opened_store(args.store, read_only=False) as store, Progress("batches") as progress:
        done = replay_refused(args.spool_dir, store, progress)
    print(f"replayed {done.batches} batches ({done.observations:,} observations) to {args.store}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spool",
        help="show what waits in a gateway's spool; replay batches the store refused",
        description="Without --replay: the batches waiting to drain and those set aside "
        f"({REFUSED}/: refused for good by the store, with its reason; {BAD}/: unreadable). "
        f"With --replay: write the {REFUSED}/ batches to the store, oldest first.",
    )
    p.add_argument(
        "--spool-dir",
        type=Path,
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"the gateway's --spool-dir (default ./{DEFAULT_DIR})",
    )
    p.add_argument("--replay", action="store_true", help=f"send the {REFUSED}/ batches again")
    add_store_argument(p, "sqlite:classnet.db")
    p.set_defaults(func=_spool_cmd)
