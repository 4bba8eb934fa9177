"""Classroom monitors: CO₂, temperature, humidity and particulates indoors, on the school's own
timetable. A pure function of (seed, room, time), like the weather.

CO₂ follows the single-zone mass balance of a ventilated room (ASHRAE 62.1 / EN 16798-1 use the
same model): with people in the room the excess over outdoor air approaches a steady state
G·N / (Q) exponentially with the air-change rate λ; with nobody in it the excess decays at the
break's (windows open) or the night's rate. So CO₂ climbs through each lesson, drops in each break
and lunch, and is back near the outdoor 420 ppm by morning; weekends stay low.

Closed form per row: the excess at the start of each timetable segment is carried through the
day's segments in order (a school day has a dozen), so no state is kept between readings.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from simulators import noise
from simulators.towns import Station

FloatArray = NDArray[np.float64]

OUTDOOR_CO2_PPM = 420.0
FIELDS = ("temp_c", "rh_pct", "co2_ppm", "pm2_5_ugm3", "pm10_ugm3")

# A typical school day, local wall clock (hours): (start, end, occupied). Lessons of 45 minutes,
# short breaks with the windows open, a lunch break; the room is empty outside these hours.
TIMETABLE: tuple[tuple[float, float, bool], ...] = (
    (8.00, 8.75, True),
    (8.75, 8.917, False),
    (8.917, 9.667, True),
    (9.667, 10.0, False),
    (10.0, 10.75, True),
    (10.75, 10.917, False),
    (10.917, 11.667, True),
    (11.667, 12.417, False),  # lunch
    (12.417, 13.167, True),
    (13.167, 13.333, False),
    (13.333, 14.083, True),
)
# Air changes per hour: doors and windows shut in a lesson, opened in a break, the building's
# leakage at night (typical of naturally ventilated classrooms, e.g. the UK SAMHE study ranges).
_ACH_LESSON = 1.5
_ACH_BREAK = 5.0
_ACH_EMPTY = 0.5
_CH_ROOM, _CH_JITTER = 300, 301


def _offset_s(ts: int, zone: ZoneInfo) -> float:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _local_hours(
    rooms: tuple[Station, ...], idx: NDArray[np.intp], ts: NDArray[np.int64]
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Hour of the local day (0..24) and whether the local date is a school day (Mon–Fri)."""
    hours = np.zeros(ts.shape)
    school_day = np.zeros(ts.shape, dtype=bool)
    for k in np.unique(idx):
        rows = np.flatnonzero(idx == k)
        zone = ZoneInfo(rooms[int(k)].timezone)
        # One offset per half hour of UTC: zones change their offset on the hour or half hour.
        keys, inverse = np.unique(ts[rows] // 1800, return_inverse=True)
        offsets = np.array([_offset_s(int(key) * 1800, zone) for key in keys])[inverse]
        local = ts[rows] + offsets
        hours[rows] = np.mod(local, 86400) / 3600.0
        weekday = (local // 86400 + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
        school_day[rows] = weekday < 5
    return hours, school_day


def _excess_ppm(hours: FloatArray, school_day: NDArray[np.bool_], steady: FloatArray) -> FloatArray:
    """CO₂ above outdoor air at each local hour, carried through the day's timetable."""
    excess_at = np.zeros(hours.shape)  # at the start of the current segment
    result = np.zeros(hours.shape)
    done = ~school_day | (hours < TIMETABLE[0][0])
    # Before the first lesson the room has aired all night: nothing left from yesterday.
    for start, end, occupied in TIMETABLE:
        rate = _ACH_LESSON if occupied else _ACH_BREAK
        target = steady if occupied else 0.0
        inside = ~done & (hours < end)
        elapsed = np.where(inside, hours - start, end - start)
        value = target + (excess_at - target) * np.exp(-rate * elapsed)
        result = np.where(inside, value, result)
        done |= inside
        excess_at = np.where(done, excess_at, value)
    # After the last lesson: the empty room's slow decay until midnight.
    last_end = TIMETABLE[-1][1]
    result = np.where(done, result, excess_at * np.exp(-_ACH_EMPTY * (hours - last_end)))
    return result


class Classroom:
    """The indoor climate of simulated classroom monitors: `readings(idx, ts, interval_s)`."""

    def __init__(self, rooms: tuple[Station, ...], seed: int) -> None:
        self.rooms = rooms
        self.seed = seed
        n = len(rooms)
        # Rooms differ: class size and ventilation set the steady CO₂ excess (800–1600 ppm);
        # some rooms run warmer, some schools are air-conditioned (warm climates).
        self._steady = 800.0 + 800.0 * noise.uniform(seed, _CH_ROOM, np.arange(n), 0)
        self._base_c = 21.0 + 2.0 * noise.uniform(seed, _CH_ROOM, np.arange(n), 1)
        self._pm_base = 4.0 + 8.0 * noise.uniform(seed, _CH_ROOM, np.arange(n), 2)

    def readings(
        self, idx: NDArray[np.intp], ts: NDArray[np.int64], interval_s: NDArray[np.int64]
    ) -> dict[str, FloatArray]:
        """Readings (contract field names and units) of room `idx[i]` at `ts[i]`."""
        hours, school_day = _local_hours(self.rooms, idx, ts)
        steady = self._steady[idx]
        excess = _excess_ppm(hours, school_day, steady)
        jitter = noise.uniform(self.seed, _CH_JITTER, idx, ts) - 0.5
        occupancy: FloatArray = np.clip(excess / steady, 0.0, 1.0)  # how "lived in" the air is
        co2 = OUTDOOR_CO2_PPM + excess + 15.0 * jitter
        temp = self._base_c[idx] + 1.8 * occupancy + 0.1 * jitter
        rh = 40.0 + 12.0 * occupancy + 1.0 * jitter
        # Pupils stir up settled dust: coarse particles rise most while the room is in use. (At
        # least 3.5 µg/m³: the jitter never takes a reading below zero.)
        pm25 = self._pm_base[idx] * (1.0 + 0.8 * occupancy) + 1.0 * jitter
        pm10 = pm25 * 1.4 + 20.0 * occupancy + 2.0 * jitter
        return {
            "temp_c": np.round(temp, 1),
            "rh_pct": np.round(rh, 1),
            "co2_ppm": np.round(co2),
            "pm2_5_ugm3": np.round(pm25, 1),
            "pm10_ugm3": np.round(pm10, 1),
        }
