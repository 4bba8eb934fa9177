"""Local clock times against pandas' own zone conversion, across DST and odd offsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.core.frames import CoreInputError
from dashboard.core.localtime import ZoneTable, local_clock_time

from .conftest import make_meta

ZONES = ["Europe/Helsinki", "Asia/Kolkata", "Australia/Adelaide", "America/Santiago",
         "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/London"]  # fmt: skip


def test_offsets_match_pandas_every_seven_minutes_for_a_year() -> None:
    times = pd.date_range("2024-01-01", "2025-01-01", freq="7min", tz="UTC").as_unit("ns")
    table = ZoneTable.build(ZONES, int(times.asi8[0]), int(times.asi8[-1]))
    for code, zone in enumerate(ZONES):
        expected = (times.tz_convert(zone).tz_localize(None).asi8 - times.asi8) // 1_000_000_000
        got = table.offsets_for(np.full(len(times), code), times.asi8)
        assert (got == expected).all(), zone


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/London", "2024-03-31", 23),
        ("Europe/London", "2024-10-27", 25),
        ("Australia/Adelaide", "2024-04-07", 25),
        ("Australia/Adelaide", "2024-10-06", 23),
        ("America/Santiago", "2024-04-06", 25),  # clocks go back at midnight: Saturday is long
        ("America/Santiago", "2024-09-08", 23),
        ("Australia/Lord_Howe", "2024-10-06", 23.5),  # a half-hour DST shift
        ("Asia/Kolkata", "2024-03-31", 24),
    ],
)
def test_day_length_follows_dst(zone: str, day: str, hours: float) -> None:
    table = ZoneTable.build(
        [zone], pd.Timestamp("2024-01-01").value, pd.Timestamp("2025-01-01").value
    )
    local_day = np.array([pd.Timestamp(day).value // 86_400_000_000_000])
    assert table.day_length_s(np.array([0]), local_day)[0] == hours * 3600


def test_local_clock_time_half_hour_and_quarter_hour_offsets() -> None:
    meta = make_meta(
        in_kolkata={"timezone": "Asia/Kolkata"}, np_kathmandu={"timezone": "Asia/Kathmandu"}
    )
    obs = pd.DataFrame(
        {
            "station": ["in-kolkata", "np-kathmandu"],
            "time": pd.to_datetime(["2024-06-01 20:00"] * 2, utc=True),
        }
    )
    local = local_clock_time(obs, meta)
    assert list(local.astype(str)) == ["2024-06-02 01:30:00", "2024-06-02 01:45:00"]


def test_fall_back_hour_appears_twice() -> None:
    meta = make_meta(gb_x={"timezone": "Europe/London"})
    obs = pd.DataFrame(
        {
            "station": "gb-x",
            "time": pd.to_datetime(["2024-10-27 00:30", "2024-10-27 01:30"], utc=True),
        }
    )
    assert (local_clock_time(obs, meta).astype(str) == "2024-10-27 01:30:00").all()


def test_unknown_zone_says_how_to_fix() -> None:
    meta = make_meta(fi_x={"timezone": "Europe/Tampere"})
    obs = pd.DataFrame({"station": ["fi-x"], "time": pd.to_datetime(["2024-01-01"], utc=True)})
    with pytest.raises(CoreInputError, match="IANA"):
        local_clock_time(obs, meta)


def test_station_without_metadata_is_named() -> None:
    obs = pd.DataFrame(
        {"station": ["xx-nowhere"], "time": pd.to_datetime(["2024-01-01"], utc=True)}
    )
    with pytest.raises(CoreInputError, match=r"xx-nowhere.*stations\.toml"):
        local_clock_time(obs, make_meta(fi_x={}))


def test_naive_times_are_refused() -> None:
    obs = pd.DataFrame({"station": ["fi-x"], "time": pd.to_datetime(["2024-01-01"])})
    with pytest.raises(CoreInputError, match="UTC"):
        local_clock_time(obs, make_meta(fi_x={}))
