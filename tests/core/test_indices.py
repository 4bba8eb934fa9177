"""Every ETCCDI index against xclim, the reference open-source implementation, on the same days.

The days come from observations through the core's daily summary (local days, DST, coverage),
so the comparison covers what a school would see: a multi-year synthetic series with outages and
DST in Helsinki, Manila and Kolkata, and the measured hourly year pvlib ships (TMY3, Greensboro NC).
TMY3's rain is not usable (months stitched from different years, 500 mm placeholders), so the
precipitation indices are checked on real rain too from a second measured source: four years of
daily Seattle weather (NOAA, 2012-2015) that the vega_datasets package ships. Those are daily
values, so they enter as climate days directly, not through the daily summary.

xclim runs with its missing-data check off (`check_missing="skip"`): its default ("any": one
missing day voids a period) is not ETCCDI's. Our periods that ETCCDI's rule voids are checked
separately against missing days counted here from the calendar.

Tolerance: counts (days) exactly; temperatures and precipitation within 1e-9 (relative), since
both sides sum the same float64 values, possibly in a different order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.core.climate_days import climate_days
from dashboard.core.daily import CLIMATE_SPECS, daily_summary
from dashboard.core.indices import INDICES, climate_indices

from .conftest import make_meta

# xclim 0.62 still reads offsets' `.name`, which pandas 3 deprecates: its noise, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:The 'name' property is deprecated")

xr = pytest.importorskip("xarray")
xclim = pytest.importorskip("xclim")
xi = pytest.importorskip("xclim.indices")

# ETCCDI short name -> (xclim function, its inputs, its arguments).
XCLIM = {
    "FD": (xi.frost_days, ("tn",), {"thresh": "0 degC"}),
    "ID": (xi.ice_days, ("tx",), {"thresh": "0 degC"}),
    "SU": (xi.tx_days_above, ("tx",), {"thresh": "25 degC", "op": ">"}),
    "TR": (xi.tn_days_above, ("tn",), {"thresh": "20 degC", "op": ">"}),
    "GSL": (
        xi.growing_season_length,
        ("tg",),
        {"thresh": "5 degC", "window": 6, "mid_date": "07-01", "op": ">"},
    ),
    "TXx": (xi.tx_max, ("tx",), {}),
    "TNn": (xi.tn_min, ("tn",), {}),
    "TXn": (xi.tx_min, ("tx",), {}),
    "TNx": (xi.tn_max, ("tn",), {}),
    "DTR": (xi.daily_temperature_range, ("tn", "tx"), {}),
    "Rx1day": (xi.max_1day_precipitation_amount, ("rr",), {}),
    "Rx5day": (xi.max_n_day_precipitation_amount, ("rr",), {"window": 5}),
    "CDD": (xi.maximum_consecutive_dry_days, ("rr",), {"thresh": "1 mm/d"}),
    "CWD": (xi.maximum_consecutive_wet_days, ("rr",), {"thresh": "1 mm/d"}),
    "SDII": (xi.daily_pr_intensity, ("rr",), {"thresh": "1 mm/d"}),
    "R10mm": (xi.wetdays, ("rr",), {"thresh": "10 mm/d"}),
    "R20mm": (xi.wetdays, ("rr",), {"thresh": "20 mm/d"}),
    "PRCPTOT": (xi.prcptot, ("rr",), {"thresh": "1 mm/d"}),
}
COLUMN = {"tx": "tx_c", "tn": "tn_c", "tg": "tg_c", "rr": "rr_mm"}
UNITS = {"tx": "degC", "tn": "degC", "tg": "degC", "rr": "mm/d"}
TEMPERATURE_INDICES = ("FD", "ID", "SU", "TR", "GSL", "TXx", "TNn", "TXn", "TNx", "DTR")
FREQ = {"month": "MS", "year": "YS"}


def test_every_index_has_an_xclim_counterpart() -> None:
    assert {index.name for index in INDICES} == set(XCLIM)


def _synthetic_obs(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three schools, 2021-03 .. 2023-12 hourly: seasons, a daily cycle, showers, outages."""
    meta = make_meta(
        fi_tampere={"timezone": "Europe/Helsinki", "interval_s": 3600},
        ph_manila={"timezone": "Asia/Manila", "interval_s": 3600},
        in_kolkata={"timezone": "Asia/Kolkata", "interval_s": 3600},
    )
    climate = {  # annual mean, seasonal half-range, daily half-range, wet-hour chance
        "fi-tampere": (5.0, 13.0, 4.0, 0.06),
        "ph-manila": (27.5, 2.0, 4.5, 0.05),
        "in-kolkata": (26.0, 6.0, 5.0, 0.04),
    }
    frames = []
    for station, (mean, season, day, wet) in climate.items():
        time = pd.date_range("2021-03-01", "2023-12-31 23:00", freq="1h", tz="UTC")
        doy = time.day_of_year.to_numpy()
        hour = time.hour.to_numpy()
        temp = (
            mean
            - season * np.cos(2 * np.pi * (doy - 15) / 365.25)
            - day * np.cos(2 * np.pi * (hour - 3) / 24)
            + rng.normal(0, 2.5, time.size).cumsum() % 7
            - 3.5
        )
        rain = np.where(rng.random(time.size) < wet, rng.gamma(0.6, 7.0, time.size), 0.0)
        keep = rng.random(time.size) > 0.05  # scattered lost messages
        # Short outages anywhere (a year may still pass), long ones outside 2022.
        for first, last, hours in [(0, time.size, (20, 100))] * 4 + [(0, 7000, (100, 500))] * 2:
            start = rng.integers(first, last - hours[1])
            keep[start : start + rng.integers(*hours)] = False
        frames.append(
            pd.DataFrame(
                {
                    "station": station,
                    "time": time,
                    "temp_c": temp,
                    "rain_mm": rain,
                    "wind_gust_ms": rng.gamma(2.0, 3.0, time.size),
                    "wind_dir_deg": rng.uniform(0, 360, time.size),
                }
            )[keep]
        )
    return pd.concat(frames, ignore_index=True), meta


@pytest.fixture(scope="module")
def synthetic_days() -> pd.DataFrame:
    obs, meta = _synthetic_obs(np.random.default_rng(2021))
    return climate_days(daily_summary(obs, meta, specs=CLIMATE_SPECS))


def _xclim_index(name: str, days: pd.DataFrame, freq: str) -> pd.Series:
    """xclim's value of index `name` per station and period start, on the same days."""
    func, inputs, kwargs = XCLIM[name]
    out = {}
    for station, rows in days.groupby("station"):
        rows = rows.set_index("date")
        start = pd.Timestamp(year=rows.index.min().year, month=1, day=1)
        end = pd.Timestamp(year=rows.index.max().year, month=12, day=31)
        calendar = pd.date_range(start, end, freq="D")
        arrays = [
            xr.DataArray(
                rows[COLUMN[key]].reindex(calendar).to_numpy(),
                coords={"time": calendar},
                dims="time",
                attrs={"units": UNITS[key]},
            )
            for key in inputs
        ]
        with xclim.set_options(check_missing="skip"):
            values = func(*arrays, freq=FREQ[freq], **kwargs)
        out[station] = values.to_series()
    return pd.concat(out, names=["station", "period"])


def _voided(days: pd.DataFrame, columns: tuple[str, ...], freq: str) -> pd.Series:
    """ETCCDI's rule counted here from the calendar: >3 missing days in a month, and for a year
    >15 missing days or any month voided."""
    out = {}
    for station, rows in days.groupby("station"):
        rows = rows.set_index("date")
        calendar = pd.date_range(
            f"{rows.index.min().year}-01-01", f"{rows.index.max().year}-12-31", freq="D"
        )
        missing = rows[list(columns)].reindex(calendar).isna().any(axis=1)
        monthly = missing.resample("MS").sum() > 3
        if freq == "month":
            out[station] = monthly
        else:
            out[station] = (missing.resample("YS").sum() > 15) | monthly.resample("YS").max()
    return pd.concat(out, names=["station", "period"])


def _inputs(name: str) -> tuple[str, ...]:
    return tuple(COLUMN[key] for key in XCLIM[name][1])


def _assert_equal_to_xclim(name: str, ours: pd.Series, days: pd.DataFrame, freq: str) -> None:
    theirs = _xclim_index(name, days, freq).reindex(ours.index)
    voided = _voided(days, _inputs(name), freq).reindex(ours.index)
    assert voided.notna().all()
    assert ours[voided.astype(bool)].isna().all(), f"{name}: computed a period ETCCDI voids"
    kept = ~voided.astype(bool)
    assert kept.sum() > 0, f"{name}: no {freq} passes the missing-data rule; the test is void"
    np.testing.assert_allclose(
        ours[kept].to_numpy(float),
        theirs[kept].to_numpy(float),
        rtol=1e-9,
        atol=0,
        err_msg=f"{name} per {freq} differs from xclim",
    )


def _cases(names: Sequence[str]) -> list[tuple[str, str]]:
    """Each index per month and per year; GSL is annual by definition."""
    return [(n, f) for n in names for f in ("month", "year") if (n, f) != ("GSL", "month")]


@pytest.mark.parametrize(("name", "freq"), _cases(list(XCLIM)))
def test_synthetic_series_with_gaps_and_dst_matches_xclim(
    synthetic_days: pd.DataFrame, name: str, freq: str
) -> None:
    # No TG exactly at GSL's 5 °C, where ETCCDI's "< 5" end and xclim's "not > 5" would differ.
    assert not (synthetic_days["tg_c"] == 5.0).any()
    ours = climate_indices(synthetic_days, freq)[name]
    _assert_equal_to_xclim(name, ours, synthetic_days, freq)


def test_synthetic_series_exercises_the_rules(synthetic_days: pd.DataFrame) -> None:
    """The data hit what the comparison is meant to cover: voided and kept periods, DST days
    of 23 and 25 hours, frost, ice, tropical nights, heavy rain."""
    yearly = climate_indices(synthetic_days, "year")
    monthly = climate_indices(synthetic_days, "month")
    assert monthly["FD"].isna().any() and monthly["FD"].notna().sum() > 60
    assert yearly["FD"].isna().any() and yearly["FD"].notna().sum() >= 3
    assert (synthetic_days["coverage"] < 1).mean() > 0.5
    assert (~synthetic_days["complete"]).any()
    assert yearly.loc["fi-tampere", "ID"].max() > 0
    assert yearly.loc["ph-manila", "TR"].max() > 100
    assert yearly["R20mm"].max() > 0
    fi = synthetic_days[synthetic_days["station"] == "fi-tampere"].set_index("date")
    assert fi.loc["2022-03-27", "complete"] and fi.loc["2022-10-30", "complete"]


@pytest.fixture(scope="module")
def pvlib_days() -> pd.DataFrame:
    pvlib = pytest.importorskip("pvlib")
    path = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
    data, meta = pvlib.iotools.read_tmy3(path, coerce_year=2021, map_variables=True)
    # TMY3 stamps the end of each hour in local standard time (UTC-5 all year).
    obs = pd.DataFrame(
        {
            "station": "us-greensboro",
            "time": data.index.tz_convert("UTC"),
            "temp_c": data["temp_air"].to_numpy(float),
        }
    )
    stations = make_meta(us_greensboro={"timezone": "Etc/GMT+5", "interval_s": 3600})
    days = climate_days(daily_summary(obs, stations, specs=CLIMATE_SPECS))
    assert meta["TZ"] == -5.0
    return days[days["date"].dt.year == 2021]


@pytest.mark.parametrize(("name", "freq"), _cases(TEMPERATURE_INDICES))
def test_pvlib_measured_year_matches_xclim(pvlib_days: pd.DataFrame, name: str, freq: str) -> None:
    days = pvlib_days
    assert len(days) == 365 and days["complete"].all()
    assert not (days["tg_c"] == 5.0).any()
    ours = climate_indices(days, freq)[name]
    _assert_equal_to_xclim(name, ours, days, freq)


@pytest.fixture(scope="module")
def seattle_days() -> pd.DataFrame:
    vega = pytest.importorskip("vega_datasets")
    daily = vega.local_data.seattle_weather()
    tx, tn = daily["temp_max"].to_numpy(float), daily["temp_min"].to_numpy(float)
    return pd.DataFrame(
        {
            "station": "us-seattle",
            "date": pd.to_datetime(daily["date"]),
            "tx_c": tx,
            "tn_c": tn,
            # No daily mean in the file: ETCCDI's fallback, the mean of the extremes.
            "tg_c": (tx + tn) / 2,
            "rr_mm": daily["precipitation"].to_numpy(float),
            "gust_ms": np.nan,
            "wind_dir_deg": np.nan,
            "coverage": 1.0,
            "complete": True,
        }
    )


# GSL is left out here: this file's TG (the mean of extremes in 0.1 °C steps) is exactly 5 °C on
# some days, where ETCCDI's season end ("TG < 5") and xclim's ("not TG > 5") rightly differ.
@pytest.mark.parametrize(("name", "freq"), _cases([n for n in XCLIM if n != "GSL"]))
def test_seattle_measured_years_match_xclim(
    seattle_days: pd.DataFrame, name: str, freq: str
) -> None:
    days = seattle_days
    assert len(days) == 4 * 365 + 1 and days["date"].is_unique
    # Real rain that exercises every precipitation index: wet spells, dry spells, heavy days.
    assert days["rr_mm"].max() > 50 and (days["rr_mm"] >= 20).sum() > 10
    ours = climate_indices(days, freq)[name]
    _assert_equal_to_xclim(name, ours, days, freq)
