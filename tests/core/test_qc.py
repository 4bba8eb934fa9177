"""QC flags: each check once, flags not deletions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.domain.qc import (
    CONSISTENCY,
    PERSISTENCE,
    QC_TABLE,
    RANGE,
    STEP,
    flag_labels,
    qc_flags,
    screen,
    usable,
)

from .conftest import series


def test_every_threshold_has_a_source() -> None:
    assert all(check.source for check in QC_TABLE.values())
    assert all(check.low < check.high for check in QC_TABLE.values())


def test_range_flags_but_keeps_the_value() -> None:
    obs = series("fi-a", "2024-06-01", 3, temp_c=[10.0, -85.0, 10.1])
    flags = qc_flags(obs)
    assert flags["temp_c_qc"].tolist()[1] & RANGE
    assert obs["temp_c"].iloc[1] == -85.0


def test_single_spike_flags_only_the_spike() -> None:
    obs = series("fi-a", "2024-06-01", 5, temp_c=[10.0, 10.2, 16.0, 10.3, 10.4])
    assert qc_flags(obs)["temp_c_qc"].tolist() == [0, 0, STEP, 0, 0]


def test_lasting_step_flags_the_jump() -> None:
    obs = series("fi-a", "2024-06-01", 5, temp_c=[10.0, 10.0, 15.0, 15.1, 15.2])
    assert qc_flags(obs)["temp_c_qc"].tolist() == [0, 0, STEP, 0, 0]


def test_no_step_check_across_a_long_gap() -> None:
    obs = series("fi-a", "2024-06-01", 2, freq="30min", temp_c=[10.0, 16.0])
    assert qc_flags(obs)["temp_c_qc"].tolist() == [0, 0]


def test_no_step_check_across_stations() -> None:
    obs = pd.concat(
        [series("fi-a", "2024-06-01", 2, temp_c=10.0), series("sg-b", "2024-06-01", 2, temp_c=30.0)]
    )
    assert (qc_flags(obs.reset_index(drop=True))["temp_c_qc"] == 0).all()


def test_stuck_sensor_flags_the_whole_stuck_hour() -> None:
    moving = 10 + np.sin(np.arange(60) / 5)
    stuck = np.full(70, 12.34)
    obs = series("fi-a", "2024-06-01", 190, temp_c=np.r_[moving, stuck, moving])
    flags = qc_flags(obs)["temp_c_qc"].to_numpy()
    assert (flags[60:130] & PERSISTENCE).all()
    assert not (flags[:59] & PERSISTENCE).any() and not (flags[131:] & PERSISTENCE).any()


def test_short_flat_stretch_is_not_persistence() -> None:
    obs = series("fi-a", "2024-06-01", 100, temp_c=np.r_[np.linspace(5, 9, 60), np.full(40, 9.0)])
    assert not (qc_flags(obs)["temp_c_qc"] & PERSISTENCE).any()


def test_gust_below_mean_wind_flags_both() -> None:
    obs = series("fi-a", "2024-06-01", 2, wind_speed_ms=[4.0, 4.0], wind_gust_ms=[6.0, 3.0])
    flags = qc_flags(obs)
    assert flags["wind_speed_ms_qc"].tolist() == [0, CONSISTENCY]
    assert flags["wind_gust_ms_qc"].tolist() == [0, CONSISTENCY]


def test_dewpoint_above_temperature_flags_temperature_and_humidity() -> None:
    obs = series("fi-a", "2024-06-01", 2, temp_c=[20.0, 20.0], rh_pct=[99.0, 101.0])
    flags = qc_flags(obs)
    assert flags["temp_c_qc"].tolist() == [0, CONSISTENCY]
    assert flags["rh_pct_qc"].tolist() == [0, CONSISTENCY | RANGE]


def test_flags_follow_the_input_row_order(rng: np.random.Generator) -> None:
    obs = series("fi-a", "2024-06-01", 5, temp_c=[10.0, 10.2, 16.0, 10.3, 10.4])
    shuffled = obs.sample(frac=1.0, random_state=3)
    assert qc_flags(shuffled)["temp_c_qc"].to_dict() == qc_flags(obs)["temp_c_qc"].to_dict()


def test_missing_values_are_not_flagged() -> None:
    obs = series("fi-a", "2024-06-01", 90, temp_c=np.nan)
    assert (qc_flags(obs)["temp_c_qc"] == 0).all()


def test_labels_are_readable() -> None:
    assert list(flag_labels(np.array([0, RANGE | CONSISTENCY], np.uint8))) == [
        "",
        "range+consistency",
    ]


def test_every_row_cites_where_in_its_source() -> None:
    for field, check in QC_TABLE.items():
        assert check.cites, field
        if check.step is not None:
            assert "maximum allowed variability" in check.cites, field
        if check.persistence is not None:
            assert "minimum required variability" in check.cites, field


def test_step_limits_come_from_one_column_of_the_source() -> None:
    # Zahumenský (2004) "suspect" limits: 3 °C, 10 %, 0.5 hPa, 10 m/s (its "erroneous" wind is 20).
    steps = {f: QC_TABLE[f].step for f in ("temp_c", "rh_pct", "pressure_hpa", "wind_speed_ms")}
    assert steps == {"temp_c": 3.0, "rh_pct": 10.0, "pressure_hpa": 0.5, "wind_speed_ms": 10.0}
    obs = series("fi-a", "2024-06-01", 3, wind_speed_ms=[2.0, 14.0, 14.5])
    assert qc_flags(obs)["wind_speed_ms_qc"].tolist() == [0, STEP, 0]


def test_foggy_morning_is_not_a_stuck_humidity_sensor() -> None:
    obs = series("fi-a", "2024-06-01", 180, rh_pct=np.full(180, 97.0))
    assert not (qc_flags(obs)["rh_pct_qc"] & PERSISTENCE).any()
    stuck = series("fi-a", "2024-06-01", 180, rh_pct=np.full(180, 80.0))
    assert (qc_flags(stuck)["rh_pct_qc"] & PERSISTENCE).all()


def test_calm_night_is_not_a_stuck_anemometer() -> None:
    calm = series("fi-a", "2024-06-01", 180, wind_speed_ms=0.0, wind_dir_deg=180.0)
    flags = qc_flags(calm)
    assert not (flags["wind_speed_ms_qc"] & PERSISTENCE).any()
    assert not (flags["wind_dir_deg_qc"] & PERSISTENCE).any()
    stuck = series("fi-a", "2024-06-01", 180, wind_speed_ms=2.0, wind_dir_deg=180.0)
    flags = qc_flags(stuck)
    assert (flags["wind_speed_ms_qc"] & PERSISTENCE).all()
    assert (flags["wind_dir_deg_qc"] & PERSISTENCE).all()


def test_hourly_station_gets_range_and_consistency_only() -> None:
    temps = np.r_[np.full(12, 20.0), 27.0, 20.0, 99.0]
    flags = qc_flags(series("fi-a", "2024-06-01", 15, freq="1h", temp_c=temps))["temp_c_qc"]
    assert flags.tolist() == [0] * 14 + [RANGE]


def test_usable_is_present_and_unflagged() -> None:
    values = np.array([20.0, 45.0, np.nan, 19.0])
    assert usable(values, np.array([0, STEP, 0, CONSISTENCY])).tolist() == [
        True, False, False, False,
    ]  # fmt: skip


def test_screen_sets_flagged_values_aside_and_counts_them() -> None:
    obs = series("fi-a", "2024-06-01", 5, temp_c=[10.0, 10.1, 45.0, 10.2, 10.3],
                 rain_mm=[0.0, 0.2, 60.0, 0.0, 0.0])  # fmt: skip
    screened = screen(obs)
    assert np.isnan(screened.obs["temp_c"].iloc[2]) and np.isnan(screened.obs["rain_mm"].iloc[2])
    assert screened.n_flagged.tolist() == [0, 0, 2, 0, 0]
    assert obs["temp_c"].iloc[2] == 45.0  # the caller's frame keeps the raw value


def test_rain_limit_is_per_minute_of_the_report() -> None:
    # 40 mm/min (the source's intensity limit): 60 mm in a one-minute report is an error, 46 mm
    # in an hourly report a real downpour (one hour of the TMY3 Greensboro year).
    minute = series("fi-a", "2024-06-01", 3, rain_mm=[0.0, 60.0, 0.2])
    assert qc_flags(minute)["rain_mm_qc"].tolist() == [0, RANGE, 0]
    hourly = series("fi-a", "2024-06-01", 3, freq="1h", rain_mm=[0.0, 46.0, 3000.0])
    assert qc_flags(hourly)["rain_mm_qc"].tolist() == [0, 0, RANGE]


def test_persistence_matches_a_brute_force_reference(rng: np.random.Generator) -> None:
    from ingest.domain.qc import PERSISTENCE_WINDOW_S, _persistent

    for _ in range(20):
        n = 300
        axis = np.cumsum(rng.choice([60, 60, 60, 120, 900], n)).astype(np.int64)
        values = np.round(rng.normal(10, 0.05, n), 1)
        values[rng.random(n) < 0.05] = np.nan
        values[100:180] = 12.3  # a stuck stretch
        got = _persistent(values, axis, 0.1)
        want = np.zeros(n, bool)
        for i in range(n):
            inside = (axis >= axis[i] - PERSISTENCE_WINDOW_S) & (axis <= axis[i])
            v = values[inside & ~np.isnan(values)]
            span = axis[i] - axis[np.flatnonzero(inside)[0]]
            if v.size >= 6 and span >= 0.9 * PERSISTENCE_WINDOW_S and v.max() - v.min() < 0.1:
                want[inside] = True
        np.testing.assert_array_equal(got, want & ~np.isnan(values))


def test_flags_for_chosen_fields_equal_those_of_all_fields(rng: np.random.Generator) -> None:
    n = 400
    obs = series("fi-a", "2024-06-01", n, temp_c=rng.normal(10, 2, n),
                 rh_pct=rng.uniform(90, 101, n), wind_dir_deg=90.0,
                 wind_speed_ms=np.r_[np.zeros(200), np.full(200, 3.0)],
                 wind_gust_ms=rng.uniform(0, 6, n), rain_mm=rng.exponential(5, n))  # fmt: skip
    everything = qc_flags(obs)
    for fields in (["temp_c"], ["wind_dir_deg"], ["wind_gust_ms"], ["rain_mm"]):
        some = qc_flags(obs, fields)
        assert set(fields) <= {c.removesuffix("_qc") for c in some}
        pd.testing.assert_frame_equal(some, everything[some.columns])


def test_a_station_with_one_reading_is_checked_like_any_other() -> None:
    # A school's first reading alone in a frame (a new station, one row imported from a file).
    obs = series("fi-a", "2024-06-01", 1, temp_c=99.0, rh_pct=50.0)
    assert qc_flags(obs)["temp_c_qc"].tolist() == [RANGE]
