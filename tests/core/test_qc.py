"""QC flags: each check once, flags not deletions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.core.qc import CONSISTENCY, PERSISTENCE, QC_TABLE, RANGE, STEP, flag_labels, qc_flags

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
