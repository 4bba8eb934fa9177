"""How fast `classnet import` loads a logger's CSV into SQLite, and how much memory it takes.

    .venv/bin/python bench/importer.py [--rows 200000] [--messy 0.02]

Writes a CSV of one station at 1-minute steps (temperature, humidity, pressure, wind; times in
the four accepted forms, in turn), with a share `--messy` of cells replaced by `M`, then imports
it into a fresh SQLite store through `gateway.importer.import_file` (the function the command
calls) and prints rows/s and the peak Python allocation (tracemalloc, in a second run), which
should not grow with the file: rows are checked and written a chunk at a time.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from gateway.importer import import_file
from ingest import open_store

T0 = int(datetime(2015, 1, 1, tzinfo=UTC).timestamp())


def write_csv(path: Path, rows: int, messy: float) -> None:
    rng = random.Random(1)
    with path.open("w") as out:
        out.write("station,ts,temp_c,rh_pct,pressure_hpa,wind_speed_ms\n")
        for i in range(rows):
            ts = T0 + 60 * i
            when = [str(ts), str(ts * 1000), datetime.fromtimestamp(ts, UTC).isoformat()][i % 3]
            cells = [f"{rng.uniform(-10, 30):.1f}", f"{rng.uniform(20, 100):.0f}",
                     f"{rng.uniform(960, 1040):.1f}", f"{rng.uniform(0, 15):.1f}"]  # fmt: skip
            cells = ["M" if rng.random() < messy else c for c in cells]
            out.write(f"fi-bench-01,{when},{','.join(cells)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--messy", type=float, default=0.02)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logger.csv"
        write_csv(path, args.rows, args.messy)
        size = path.stat().st_size
        # Timed without tracemalloc (it slows allocation-heavy code several times), then again
        # into a fresh store with it, for the peak.
        store = open_store(f"sqlite:///{Path(folder) / 'timed.db'}")
        start = time.perf_counter()
        result = import_file(store, path)
        seconds = time.perf_counter() - start
        store.close()
        store = open_store(f"sqlite:///{Path(folder) / 'traced.db'}")
        tracemalloc.start()
        import_file(store, path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        store.close()
    dropped = sum(result.dropped_fields.values())
    print(f"rows {result.rows:,}  stored {result.stored:,}  fields dropped {dropped:,}")
    print(f"import: {seconds:.2f} s, {result.rows / seconds:,.0f} rows/s")
    print(f"peak Python allocation {peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB file")


if __name__ == "__main__":
    main()
