"""`classnet import` on a messy real-world-style file (issue #15): every usable value stored,
every dropped one reported with its row number, whatever chunk it falls in."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.import_rows import Dropped
from gateway.importer import import_file
from ingest import open_store
from ingest.base import Store

T0 = int(datetime(2024, 6, 1, tzinfo=UTC).timestamp())
STATION = "fi-messy-01"
HEADER = "station,ts,temp_c,rh_pct,pressure_hpa,seq,notes"
FIELDS = ("temp_c", "rh_pct", "pressure_hpa")
CHUNK = 8  # rows per store write: the quirks below fall in five different chunks


def _time(i: int) -> str:
    """Row i's time, in the four ways loggers write it, in turn."""
    ts = T0 + 600 * i
    return [
        str(ts),
        str(ts * 1000),
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        datetime.fromtimestamp(ts, timezone(timedelta(hours=3))).isoformat(),
    ][i % 4]


def _clean(i: int) -> dict[str, str]:
    return {
        "station": STATION,
        "ts": _time(i),
        "temp_c": f"{10 + i * 0.5}",
        "rh_pct": f"{50 + i}",
        "pressure_hpa": f"{1000 + i}",
        "seq": str(i),
        "notes": "ok",
    }


# Row index -> (cells to change, fields dropped by reason, or the reason the row is refused).
QUIRKS: dict[int, tuple[dict[str, str], dict[str, str], str | None]] = {
    3: ({"temp_c": "M"}, {"temp_c": "missing_marker"}, None),
    5: ({"rh_pct": "---"}, {"rh_pct": "missing_marker"}, None),
    9: ({"pressure_hpa": "-9999"}, {"pressure_hpa": "out_of_range"}, None),
    11: ({"ts": ""}, {}, "no_ts"),
    14: ({"notes": "ok,extra"}, {}, "extra_cells"),  # an unquoted comma
    17: ({"ts": "2024-06-01 03:00"}, {}, "bad_ts"),  # no UTC offset: refused, never guessed
    20: (
        {"temp_c": "NA", "rh_pct": "abc"},
        {"temp_c": "missing_marker", "rh_pct": "wrong_type"},
        None,
    ),
    23: ({"station": ""}, {}, "bad_station"),
    26: ({"ts": "1998-07-01T12:00:00+02:00"}, {}, None),  # an archive from before 2020
    27: ({"ts": "899000000"}, {}, None),  # 1998-06-28, in Unix seconds
    # a second copy of row 2's reading, with an invalid temperature and a new humidity
    30: ({"ts": _time(2), "temp_c": "M", "rh_pct": "77"}, {"temp_c": "missing_marker"}, None),
    33: ({"temp_c": "1e400"}, {"temp_c": "wrong_type"}, None),
    36: ({"seq": "abc"}, {"seq": "wrong_type"}, None),
    38: ({"temp_c": "NaN", "pressure_hpa": ""}, {"temp_c": "missing_marker"}, None),
}
ROWS = 41


def _messy_csv(path: Path) -> None:
    lines = [HEADER]
    for i in range(ROWS):
        cells = _clean(i) | QUIRKS.get(i, ({}, {}, None))[0]
        lines.append(",".join(cells[c] for c in HEADER.split(",")))
    path.write_text("\n".join(lines) + "\n")


def _ts_ms(text: str) -> int:
    if text.isdigit():
        n = int(text)
        return n if n >= 10**11 else n * 1000
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def _expected() -> tuple[dict[int, dict[str, float]], set[tuple[int, str | None, str]]]:
    """What the store must hold ((ts_ms) -> field values) and every drop (row, field, reason)."""
    stored: dict[int, dict[str, float]] = {}
    dropped: set[tuple[int, str | None, str]] = set()
    for i in range(ROWS):
        changes, bad_fields, refused = QUIRKS.get(i, ({}, {}, None))
        line = i + 2  # the header is line 1
        if refused:
            dropped.add((line, None, refused))
            continue
        cells = _clean(i) | changes
        values = stored.setdefault(_ts_ms(cells["ts"]), {})
        for name in FIELDS:
            if name in bad_fields:
                dropped.add((line, name, bad_fields[name]))
            elif cells[name]:
                values[name] = float(cells[name])  # a later valid copy wins
        if "seq" in bad_fields:
            dropped.add((line, "seq", bad_fields["seq"]))
    return stored, dropped


@pytest.fixture(params=["sqlite", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'obs.db'}"
    else:
        server = request.getfixturevalue("influxdb")
        url = f"influxdb://127.0.0.1:{server.port}/{request.getfixturevalue('influx_db')}"
    s = open_store(url)
    yield s
    s.close()


def test_a_messy_file_keeps_every_usable_value_and_names_every_drop(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "logger-export.csv"
    _messy_csv(path)
    told: list[Dropped] = []
    seen: list[int] = []
    result = import_file(store, path, seen.append, told.append, chunk_rows=CHUNK)

    want_stored, want_dropped = _expected()
    assert {(d.row, d.field, d.reason) for d in told} == want_dropped
    assert all(d.detail.startswith(f"row {d.row}") for d in told)
    assert result.rows == ROWS and result.stored == len(want_stored) + 1  # row 30 rewrites row 2
    assert result.ignored_columns == {"notes"}
    assert seen[-1] == ROWS and len(seen) > ROWS // CHUNK  # progress on the way
    frame = store.read(datetime(1990, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
    got = {
        int(row.time.value // 1_000_000): {
            f: getattr(row, f) for f in FIELDS if not math.isnan(getattr(row, f))
        }
        for row in frame.itertuples()
    }
    assert got == want_stored
    assert set(frame["station"]) == {STATION}


def test_a_valid_stored_value_survives_an_invalid_copy_in_a_later_import(
    store: Store, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(f"station,ts,temp_c,rh_pct\n{STATION},{T0},21.5,60\n")
    second.write_text(f"station,ts,temp_c,rh_pct\n{STATION},{T0},M,61\n")
    import_file(store, first)
    result = import_file(store, second)
    assert result.dropped_fields == {"missing_marker": 1}
    frame = store.read(datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    assert (frame["temp_c"].tolist(), frame["rh_pct"].tolist()) == ([21.5], [61.0])


def test_jsonl_rows_are_checked_alone(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "sd.jsonl"
    path.write_text(
        f'{{"station": "{STATION}", "ts": "2024-06-01T12:00:00+08:00", "temp_c": "M"}}\n'
        + "[" * 50_000  # a recursion bomb: one row lost, not the file
        + "\n"
        + f'{{"station": "{STATION}", "ts": {T0}, "temp_c": 4.5, "rain_mm": [1]}}\n'
        + f'{{"station": "{STATION}", "temp_c": 4.5}}\n'  # no time: refused, never "now"
    )
    told: list[Dropped] = []
    result = import_file(store, path, on_dropped=told.append)
    assert [(d.row, d.field, d.reason) for d in told] == [
        (1, "temp_c", "missing_marker"),
        (2, None, "bad_json"),
        (3, "rain_mm", "wrong_type"),
        (4, None, "no_ts"),
    ]
    assert result.stored == 2
    rejects = store.rejects(limit=10)
    assert sorted(rejects["reason"]) == ["bad_json", "no_ts"]
