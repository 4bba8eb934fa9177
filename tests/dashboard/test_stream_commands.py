"""`classnet summary` (from bins, a few stations at a time) and `classnet export` (a station and a
window at a time) write what the one-shot computation over all raw rows gives."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import commands
from dashboard.core.actions import export_table, summary_table, utc_window, write_export
from gateway import cli
from ingest import open_store
from tests.dashboard.test_view import _bench


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('stream') / 'stream.db'}"
    return url, _bench().synthetic_store(url, n_stations=5, days=2.5)


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several parts even for a small store: 2 stations per summary read, 2-day export windows.
    monkeypatch.setattr(commands, "SUMMARY_GROUP", 2)
    monkeypatch.setattr(commands, "EXPORT_WINDOW", timedelta(days=2))


def span() -> tuple[date, date]:
    today = pd.Timestamp.now("UTC").date()
    return today - timedelta(days=3), today + timedelta(days=1)


def one_shot(url: str, fields: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = open_store(url, read_only=True)
    first, last = span()
    obs, meta = store.read(*utc_window(first, last), fields=fields), store.stations()
    store.close()
    return obs, meta


def test_summary_in_parts_equals_one_shot_from_raw(
    store_url: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, stations = store_url
    first, last = span()
    obs, meta = one_shot(url, ["temp_c", "rain_mm", "wind_gust_ms"])
    want = summary_table(obs, meta, first, last)
    args = ["summary", "--store", url, "--start", str(first), "--end", str(last)]
    assert cli.main([*args, "--format", "json"]) == 0
    got = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert got["station"].tolist() == want["station"].tolist()
    assert got["date"].tolist() == want["date"].dt.strftime("%Y-%m-%d").tolist()
    assert got["n_obs"].tolist() == want["n_obs"].tolist()
    for column in ("coverage", "temp_c_min", "temp_c_max", "temp_c_mean", "rain_mm_sum"):
        np.testing.assert_allclose(
            got[column].astype(float), want[column].round(4), atol=1.0001e-4, err_msg=column
        )
    assert cli.main([*args, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert text.count("station,date") == 1 and len(text.splitlines()) == len(want) + 1
    assert cli.main([*args, "--format", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(want) + 1 and len({len(line) for line in lines}) == 1  # aligned
    assert len(set(want["station"])) == len(stations)


@pytest.mark.parametrize("derived", [False, True])
def test_export_in_parts_equals_one_shot(
    store_url: tuple[str, list[str]],
    capsysbinary: pytest.CaptureFixture[bytes],
    derived: bool,
    tmp_path: Path,
) -> None:
    url, _ = store_url
    first, last = span()
    obs, meta = one_shot(url, None)
    want = io.BytesIO()
    write_export(export_table(obs, meta, first, last, derived=derived), "csv", want)
    args = ["export", "--store", url, "--start", str(first), "--end", str(last)]
    args += ["--derived"] if derived else []
    assert cli.main(args) == 0
    assert capsysbinary.readouterr().out == want.getvalue()
    if derived:
        return
    assert cli.main([*args, "--format", "parquet", "--output", str(tmp_path / "x.parquet")]) == 0
    back = pd.read_parquet(tmp_path / "x.parquet")
    table = export_table(obs, meta, first, last, derived=derived)
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
