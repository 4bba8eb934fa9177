"""The raw rows reads keep between refreshes (ingest/recent_rows.py), over rows held in memory:
after any sequence of live, late and replaced readings and spans moving on (or back), the rows
of a span are those read anew, each school's reading before the span included. The same on a
real InfluxDB: tests/ingest/test_influx_bins.py."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ingest.recent_rows import RecentRows

MINUTE = 60_000
STATIONS = ["a", "b", "c", "d"]


class Rows:
    """Readings as a store keeps them (a reading again at the same time replaces it) and the
    marks of each write, stamped in order."""

    def __init__(self) -> None:
        self.rows = pd.DataFrame({"station": [], "t": [], "temp_c": []})
        self.marks: list[tuple[int, str, int, int]] = []

    def write(self, station: str, times: Sequence[int], value: float) -> None:
        new = pd.DataFrame({"station": station, "t": list(times), "temp_c": value})
        joined = pd.concat([self.rows, new], ignore_index=True)
        self.rows = joined.drop_duplicates(["station", "t"], keep="last")
        self.marks.append((len(self.marks) + 1, station, min(times), max(times)))

    def frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values(["station", "t"], ignore_index=True)
        return pd.DataFrame(
            {
                "station": rows["station"].astype(str),
                "time": pd.to_datetime(rows["t"].astype("int64"), unit="ms", utc=True),
                "temp_c": rows["temp_c"].astype(float),
            }
        )

    def between(
        self, stations: Sequence[str], lo: int, hi: int, fields: Sequence[str]
    ) -> pd.DataFrame:
        r = self.rows
        return self.frame(r[r["station"].isin(list(stations)) & (r["t"] >= lo) & (r["t"] < hi)])

    def context(
        self, stations: Sequence[str], span: tuple[int, int], fields: Sequence[str]
    ) -> pd.DataFrame:
        r = self.rows[self.rows["station"].isin(list(stations))]
        before = r[r["t"] < span[0]].sort_values("t").groupby("station").tail(1)
        inside = r[(r["t"] >= span[0]) & (r["t"] < span[1])]
        return self.frame(pd.concat([before, inside]))

    def marks_since(self, since: int | None) -> tuple[int, dict[str, tuple[int, int]]]:
        newest = self.marks[-1][0] if self.marks else 0
        if since is None:
            return newest, {}
        spans: dict[str, tuple[int, int]] = {}
        for _, station, a, b in (m for m in self.marks if m[0] > since):
            known = spans.get(station, (a, b))
            spans[station] = (min(known[0], a), max(known[1], b))
        return newest, spans


def test_kept_rows_are_those_read_anew_under_any_writes_and_spans() -> None:
    rng = np.random.default_rng(17)
    store = Rows()
    recent = RecentRows(store.context, store.between, store.marks_since)
    now = 600 * MINUTE
    for station in STATIONS:
        store.write(station, range(0, now, MINUTE), 10.0)
    for _ in range(200):
        now += MINUTE
        for station in STATIONS:
            if rng.random() < 0.8:  # live
                store.write(station, [now], float(rng.integers(0, 30)))
        if rng.random() < 0.1:  # late or replaced, somewhere in the last ten hours
            at = int(rng.integers(now - 600 * MINUTE, now)) // MINUTE * MINUTE + 30_000
            store.write(str(rng.choice(STATIONS)), [at, at + MINUTE], -1.0)
        if rng.random() < 0.05:  # a clock ahead: a reading the spans reach only later
            store.write(
                str(rng.choice(STATIONS)), [now + int(rng.integers(90, 200)) * MINUTE], 99.0
            )
        asked = sorted(rng.choice(STATIONS, size=int(rng.integers(1, 5)), replace=False))
        back = int(rng.choice([120, 135, 150, 300])) * MINUTE  # mostly on, sometimes back
        span = (now - back, now + int(rng.integers(1, 90)) * MINUTE)
        got = recent(list(asked), span, ["temp_c"])
        expected = store.context(list(asked), span, ["temp_c"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
