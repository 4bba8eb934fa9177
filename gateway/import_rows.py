"""One row of an imported file → one observation, checked cell by cell against the contract.

A file is not a live message: a logger's `M` or `---` in one cell says nothing about the other
cells of the row, or about the same column in other rows. So every cell is parsed on its own
(never a column-wide type guess): a bad cell drops that field of that row alone, a row without a
usable station or time is refused whole, and each of them names the file's row number.

Times may be Unix seconds, Unix milliseconds or ISO 8601 with a UTC offset, and may go back to
`ARCHIVE_TS_MIN`: the live gateway's 2020 floor (`wire.TS_MIN`) catches station clocks that were
never set, which is not a question for an archive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firmware import wire
from ingest.domain.contract import Reason, check_value

ARCHIVE_TS_MIN = 0  # 1970-01-01T00:00:00Z, the Unix epoch
# A number at least this large is milliseconds: as seconds it would be the year 5138, and as
# milliseconds it is 1973-03-03. (A millisecond time before that date: write it as ISO 8601.)
MS_FROM = 100_000_000_000
# What loggers and spreadsheets write for "no reading" (WMO/NOAA `M`, Davis `---`, R `NA`...).
MISSING_MARKERS = frozenset(("m", "-", "--", "---", "na", "n/a", "nan", "null", "none", "missing"))
ENVELOPE = ("station", "ts", "seq")

# Reasons of our own, besides the contract's (`ingest.domain.contract.Reason`).
MISSING_MARKER = "missing_marker"  # a field: the logger wrote "no reading"
NO_TS = "no_ts"  # a row: the time cell is empty
BAD_STATION = "bad_station"  # a row: no station, or not a station id
EXTRA_CELLS = "extra_cells"  # a row: more cells than the header names


@dataclass(frozen=True, slots=True)
class Dropped:
    """A field dropped from a row (`field` set), or a whole row refused (`field` None)."""

    row: int  # the file's line number, counted from 1 as an editor shows it
    station: str | None
    field: str | None
    reason: str
    detail: str  # a sentence naming the row, the station and the cell

    @property
    def refused_row(self) -> bool:
        return self.field is None


@dataclass(frozen=True, slots=True)
class Row:
    """The usable part of one row: UTC Unix milliseconds and the contract fields it carried."""

    station: str
    ts_ms: int
    seq: int | None
    values: dict[str, float]


class RowRefused(Exception):
    def __init__(self, reason: str, why: str) -> None:
        super().__init__(why)
        self.reason = reason


def parse_time(value: Any, now: float) -> float:
    """UTC Unix seconds from seconds, milliseconds or ISO 8601 with an offset.

    >>> parse_time("1718000000", 1.8e9), parse_time(1718000000123, 1.8e9)
    (1718000000.0, 1718000000.123)
    >>> parse_time("2024-06-10T06:13:20+00:00", 1.8e9), parse_time("1999-12-31T23:00Z", 1.8e9)
    (1718000000.0, 946681200.0)
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowRefused(NO_TS, "no time (the ts cell is empty); a reading needs its time")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RowRefused(Reason.BAD_TS, f"ts={_short(value)} is not a time")
    seconds = _number(value) if not isinstance(value, str) else _number_text(value.strip())
    if seconds is None:
        seconds = _iso(str(value).strip())
    elif abs(seconds) >= MS_FROM:
        seconds /= 1000
    if not ARCHIVE_TS_MIN <= seconds <= now + wire.TS_MAX_AHEAD_S:
        raise RowRefused(
            Reason.BAD_TS, f"ts={_short(value)} is outside 1970-01-01 .. now (a clock not set?)"
        )
    return seconds


def _iso(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowRefused(
            Reason.BAD_TS,
            f"ts={_short(text)} is not Unix seconds, milliseconds or ISO 8601 "
            "(2024-06-01T12:00:00+02:00)",
        ) from None
    if moment.tzinfo is None:
        raise RowRefused(
            Reason.BAD_TS,
            f"ts={_short(text)} has no UTC offset; add Z or the offset (+02:00) it was written in",
        )
    return moment.timestamp()


def _number(value: int | float) -> float | None:
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _number_text(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_row(row: int, record: dict[str, Any], now: float, dropped: list[Dropped]) -> Row | None:
    """The usable part of one row (None if it is refused); what is left out goes to `dropped`.
    Keys outside the contract are the caller's business (reported once per file)."""
    raw_station = record.get("station")
    station = raw_station.strip() if isinstance(raw_station, str) else raw_station
    try:
        if station is None or station == "":
            raise RowRefused(BAD_STATION, "no station (its station cell is empty)")
        if not wire.is_station_id(station):
            raise RowRefused(
                BAD_STATION,
                f"station {_short(station)} is not a station id (a country code, a dash and a "
                "slug, e.g. fi-tampere-hervanta)",
            )
        ts = parse_time(record.get("ts"), now)
    except RowRefused as exc:
        known = station if isinstance(station, str) and wire.is_station_id(station) else None
        dropped.append(
            Dropped(row, known, None, exc.reason, f"{_at(row, known)}: {exc}; row refused")
        )
        return None
    values: dict[str, float] = {}
    for name, cell in record.items():
        if name not in wire.FIELDS:
            continue
        value, reason, why = parse_cell(name, cell)
        if reason is not None:
            dropped.append(
                Dropped(row, station, name, reason, f"{_at(row, station)}: {why}; field dropped")
            )
        elif value is not None:
            values[name] = value
    return Row(station, round(ts * 1000), _seq(row, station, record.get("seq"), dropped), values)


def parse_cell(name: str, cell: Any) -> tuple[float | None, str | None, str]:
    """One field's value (None = absent), or the reason it is dropped and the sentence."""
    if cell is None:
        return None, None, ""
    if isinstance(cell, str):
        text = cell.strip()
        if not text:
            return None, None, ""
        if text.lower() in MISSING_MARKERS:
            return None, MISSING_MARKER, f"{name}={_short(text)} marks a missing reading"
        number = _number_text(text)
        if number is None:
            return None, Reason.WRONG_TYPE, f"{name}={_short(text)} is not a number"
        cell = number
    value, reason, why = check_value(name, cell)
    return value, (str(reason) if reason else None), why


def _seq(row: int, station: str, cell: Any, dropped: list[Dropped]) -> int | None:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    number = _number_text(cell.strip()) if isinstance(cell, str) else cell
    if (
        isinstance(number, int | float)
        and not isinstance(number, bool)
        and float(number).is_integer()
        and 0 <= number <= wire.SEQ_MAX
    ):
        return int(number)
    dropped.append(
        Dropped(
            row,
            station,
            "seq",
            Reason.WRONG_TYPE,
            f"{_at(row, station)}: seq={_short(cell)} is not a counter 0..2^31; field dropped",
        )
    )
    return None


def _at(row: int, station: str | None) -> str:
    return f"row {row} ({station})" if station else f"row {row}"


def refuse(row: int, reason: str, why: str) -> Dropped:
    """A whole row refused before its cells could be read (framing, JSON)."""
    return Dropped(row, None, None, reason, f"row {row}: {why}; row refused")
