"""Solar position against NREL SPA (Reda & Andreas 2004, via pvlib 0.16.1 `spa_python`), an
independent algorithm accurate to 0.0003°; values written in, pvlib is not a test dependency.
Sunrise/sunset references are the instants SPA's geometric elevation crosses -0.8333°."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dashboard.core import solar

PLACES = {
    "greenwich": (51.4769, 0.0),
    "singapore": (1.2966, 103.8520),
    "kolkata": (22.5726, 88.3639),
    "tampere": (61.4981, 23.7610),
    "adelaide": (-34.9285, 138.6007),
    "lisbon": (38.7223, -9.1393),
}

# (UTC time, place, SPA apparent elevation °), all above the horizon.
SPA_ELEVATION = [
    ("2024-06-20 12:00", "greenwich", 61.967),
    ("2024-06-20 12:00", "kolkata", 10.638),
    ("2024-06-20 12:00", "tampere", 48.738),
    ("2024-03-20 06:30", "greenwich", 3.764),
    ("2024-03-20 06:30", "singapore", 70.460),
    ("2024-03-20 06:30", "adelaide", 28.608),
    ("2024-12-21 03:15", "singapore", 53.992),
    ("2024-12-21 03:15", "adelaide", 76.648),
    ("2024-09-01 17:45", "greenwich", 8.573),
]


@pytest.mark.parametrize(("time", "place", "spa_deg"), SPA_ELEVATION)
def test_sun_elevation_matches_spa(time: str, place: str, spa_deg: float) -> None:
    lat, lon = PLACES[place]
    result = solar.sun_elevation_deg(pd.DatetimeIndex([time], tz="UTC"), lat, lon)[0]
    assert result == pytest.approx(spa_deg, abs=0.03)


def test_equation_of_time_matches_spa() -> None:
    times = pd.DatetimeIndex(["2024-06-20 12:00", "2024-03-20 06:30", "2024-12-21 03:15"], tz="UTC")
    np.testing.assert_allclose(
        solar.equation_of_time_min(times), [-1.702, -7.373, 1.893], atol=0.05
    )


# (local date, place, sunrise UTC, sunset UTC) from SPA.
SPA_SUN_TIMES = [
    ("2024-06-20", "tampere", "2024-06-20 00:41:34", "2024-06-20 20:11:45"),
    ("2024-12-21", "singapore", "2024-12-20 23:01:14", "2024-12-21 11:04:14"),
    ("2024-03-20", "kolkata", "2024-03-20 00:10:28", "2024-03-20 12:17:42"),
    ("2024-10-06", "adelaide", "2024-10-05 20:15:11", "2024-10-06 08:52:43"),
    ("2024-10-27", "lisbon", "2024-10-27 06:58:30", "2024-10-27 17:41:42"),
]


@pytest.mark.parametrize(("day", "place", "sunrise", "sunset"), SPA_SUN_TIMES)
def test_sunrise_and_sunset_within_a_minute_of_spa(
    day: str, place: str, sunrise: str, sunset: str
) -> None:
    lat, lon = PLACES[place]
    times = solar.sun_times(pd.DatetimeIndex([day]), lat, lon).iloc[0]
    assert abs(times["sunrise"] - pd.Timestamp(sunrise, tz="UTC")) < pd.Timedelta("60s")
    assert abs(times["sunset"] - pd.Timestamp(sunset, tz="UTC")) < pd.Timedelta("60s")
    expected_h = (pd.Timestamp(sunset) - pd.Timestamp(sunrise)) / pd.Timedelta("1h")
    assert times["day_length_h"] == pytest.approx(expected_h, abs=2 / 60)


def test_polar_night_has_no_sunrise() -> None:
    # Tromsø at the December solstice: SPA finds no sunrise (polar night).
    times = solar.sun_times(pd.DatetimeIndex(["2024-12-21"]), 69.6492, 18.9553).iloc[0]
    assert pd.isna(times["sunrise"]) and pd.isna(times["sunset"])
    assert times["day_length_h"] == 0.0


def test_polar_day_lasts_24_hours() -> None:
    times = solar.sun_times(pd.DatetimeIndex(["2024-06-21"]), 69.6492, 18.9553).iloc[0]
    assert times["day_length_h"] == 24.0 and pd.isna(times["sunrise"])


def test_solar_noon_is_twelve_local_solar_time() -> None:
    lat, lon = PLACES["kolkata"]
    noon = solar.sun_times(pd.DatetimeIndex(["2024-03-20"]), lat, lon)["solar_noon"]
    solar_clock = solar.local_solar_time(pd.DatetimeIndex(noon), lon)[0]
    assert abs(solar_clock - pd.Timestamp("2024-03-20 12:00")) < pd.Timedelta("1s")


def test_local_solar_time_follows_longitude() -> None:
    t = pd.DatetimeIndex(["2024-06-20 00:00"], tz="UTC")
    east, west = solar.local_solar_time(t, 90.0)[0], solar.local_solar_time(t, -90.0)[0]
    assert east - west == pd.Timedelta("12h")


TROMSO = (69.6492, 18.9553, "Europe/Oslo")
# Refraction 34′ + semidiameter 16′: the sun's upper limb on the horizon (SPA's h0′ = −0.8333°).
HORIZON_DEG = -0.8333


def _spa_events(day: pd.Timestamp, lat: float, lon: float, zone: str) -> dict[str, list]:
    """Where NREL SPA's (pvlib) geometric elevation, every minute of the local day, crosses the
    horizon: an independent reference that needs no sunrise formula."""
    warnings.simplefilter("ignore")
    from pvlib.solarposition import spa_python

    start = day.tz_localize(zone)
    times = pd.date_range(start, start + pd.Timedelta(days=1), freq="1min", inclusive="left")
    above = (spa_python(times, lat, lon)["elevation"] > HORIZON_DEG).to_numpy()
    rises = times[1:][above[1:] & ~above[:-1]].tz_convert("UTC")
    sets = times[1:][~above[1:] & above[:-1]].tz_convert("UTC")
    return {"sunrise": list(rises), "sunset": list(sets), "up": bool(above.all()),
            "down": bool((~above).all())}  # fmt: skip


@pytest.mark.parametrize(
    "days",
    [
        ("2024-05-10", "2024-05-24"),
        ("2024-07-20", "2024-08-01"),
        ("2024-11-22", "2024-11-30"),
        ("2024-01-10", "2024-01-19"),
    ],
    ids=["polar-day-begins", "polar-day-ends", "polar-night-begins", "polar-night-ends"],
)
def test_events_at_the_edge_of_polar_day_and_night_match_spa(days: tuple[str, str]) -> None:
    lat, lon, zone = TROMSO
    dates = pd.date_range(*days)
    ours = solar.sun_times(dates, lat, lon, [zone] * len(dates))
    for i, day in enumerate(dates):
        spa = _spa_events(day, lat, lon, zone)
        for event in ("sunrise", "sunset"):
            got = ours[event].iloc[i]
            if not spa[event]:
                assert pd.isna(got), f"{day.date()}: phantom {event} {got}"
                continue
            # SPA's events on this local date (a grazing day can have two sunsets: 00:01, 23:52).
            assert pd.notna(got), f"{day.date()}: {event} missing, SPA has {spa[event]}"
            nearest = min(abs((got - ref).total_seconds()) for ref in spa[event])
            assert nearest <= 180, f"{day.date()}: {event} {got} vs SPA {spa[event]}"
            assert got.tz_convert(zone).date() == day.date()  # it happens on that date
        assert ours["up_all_day"].iloc[i] == spa["up"], day.date()
        assert ours["down_all_day"].iloc[i] == spa["down"], day.date()


def test_tromso_2024_05_17_has_no_phantom_sunset_at_22_40_utc() -> None:
    lat, lon, zone = TROMSO
    dates = pd.DatetimeIndex(["2024-05-17", "2024-05-18"])
    times = solar.sun_times(dates, lat, lon, [zone, zone])
    # The 17th's only sunset is the 16th's solar day ending at 00:09 local; the sun then stays up
    # (SPA's lowest elevation that night is −0.75°, above the −0.83° horizon).
    assert times["sunset"].iloc[0].tz_convert(zone).strftime("%Y-%m-%d %H:%M") in (
        "2024-05-17 00:09", "2024-05-17 00:10", "2024-05-17 00:11", "2024-05-17 00:12",
    )  # fmt: skip
    assert pd.isna(times["sunset"].iloc[1]) and pd.isna(times["sunrise"].iloc[1])
    assert bool(times["up_all_day"].iloc[1])
