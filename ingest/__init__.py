"""The storage boundary: observations in, pandas frames out (see ingest/base.py for the shapes).

store = open_store("sqlite:///var/lib/classnet/obs.db")
store.write(batch)
frame = store.read(start, end, stations=["fi-tampere-01"], fields=["temp_c"])
"""

from __future__ import annotations

from ingest.base import Store, StoreError
from ingest.batch import Batch
from ingest.dead_letters import DeadLetterLimits
from ingest.url import StoreURL, parse_store_url

__all__ = ["Batch", "Store", "StoreError", "StoreURL", "open_store", "parse_store_url"]


def open_store(
    url: str | StoreURL, read_only: bool = False, dead_letters: DeadLetterLimits | None = None
) -> Store:
    """The store a `--store` URL names. Secrets come from the environment (ingest/url.py).

    `read_only` is for readers (the dashboard, summaries): every write is refused.
    `dead_letters`: how many a writer keeps (ingest/dead_letters.py; the defaults if None).
    """
    parsed = parse_store_url(url) if isinstance(url, str) else url
    if parsed.kind == "sqlite":
        from ingest.sqlite import SQLiteStore

        assert parsed.path is not None
        return SQLiteStore(parsed.path, read_only=read_only, dead_letters=dead_letters)
    from ingest.influx import InfluxStore

    return InfluxStore(parsed, read_only=read_only, dead_letters=dead_letters)
