"""Classroom monitors: CO₂ on the school's own timetable, as a teacher would see it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from firmware import wire
from simulators import towns
from simulators.classroom import OUTDOOR_CO2_PPM, Classroom

# Monday 2025-03-03 and the Saturday after.
MONDAY, SATURDAY = datetime(2025, 3, 3), datetime(2025, 3, 8)


def _day(room: towns.Station, day: datetime) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every minute of `day` on the room's wall clock: (local hours, readings)."""
    start = int(day.replace(tzinfo=ZoneInfo(room.timezone)).timestamp())
    ts = np.arange(start, start + 86400, 60, dtype=np.int64)
    model = Classroom((room,), seed=3)
    zeros = np.zeros(ts.shape, dtype=np.intp)
    return (ts - start) / 3600, model.readings(zeros, ts, np.full(ts.shape, 60))


def _room(town: str) -> towns.Station:
    return towns.classrooms(towns.stations(1, (town,)), 1)[0]


@pytest.mark.parametrize("town", ["tampere", "manila"])  # UTC+2 and UTC+8: the school's own clock
def test_co2_climbs_in_lessons_and_falls_in_breaks_on_local_time(town: str) -> None:
    hours, r = _day(_room(town), MONDAY)
    co2 = r["co2_ppm"]

    def at(h: float) -> float:
        return float(co2[np.argmin(np.abs(hours - h))])

    assert at(7.5) < OUTDOOR_CO2_PPM + 40  # aired overnight
    assert at(8.7) > at(8.05) + 300  # the first lesson fills the room
    assert at(9.65) > at(8.7)  # and the next lesson more
    assert at(9.95) < at(9.65) - 150  # the break airs it
    assert at(12.4) < at(11.65) - 300  # lunch airs it more
    assert max(co2) > 1000
    assert at(23.5) < at(14.0) - 300  # falling through the evening


def test_weekends_and_nights_stay_near_outdoor_air() -> None:
    _, r = _day(_room("tampere"), SATURDAY)
    assert r["co2_ppm"].max() < OUTDOOR_CO2_PPM + 40
    assert set(r) == {"temp_c", "rh_pct", "co2_ppm", "pm2_5_ugm3", "pm10_ugm3"}


def test_particulates_rise_while_the_room_is_used() -> None:
    hours, r = _day(_room("seoul"), MONDAY)
    lessons = (hours > 10.2) & (hours < 10.7)
    night = hours < 5
    assert r["pm10_ugm3"][lessons].mean() > r["pm10_ugm3"][night].mean() + 10
    assert r["pm2_5_ugm3"][lessons].mean() > r["pm2_5_ugm3"][night].mean()


def test_room_ids_are_contract_ids_and_indoor() -> None:
    fleet = towns.stations(24)
    rooms = towns.classrooms(fleet, 4)
    assert len({r.station for r in rooms}) == 4
    assert all(towns.meta(r)["exposure"] == "indoor" for r in rooms)
    assert all(r.station.endswith("-room1") and wire.is_station_id(r.station) for r in rooms)
