"""Calibration corrections a coordinator keeps in `stations.toml`, with the date each applies from.

A correction maps what a station's sensor said onto the reference it was compared with:
`corrected = offset + slope × raw`. It is applied when data are read, never to what is stored, and
each one holds from its `from` moment until the next one for the same station and field, so a
later calibration day never rewrites what was read before it.

    [fi-tampere-01]
    lat = 61.45
    # ...
    [[fi-tampere-01.calibration]]
    field = "temp_c"
    from = 2026-12-01T08:00:00Z
    offset = -0.42
    slope = 1.013
    reference = "fi-tampere-ref"     # what it was compared with (optional, for the record)
    offset_u = 0.08                  # expanded uncertainty (k = 2), optional
    slope_u = 0.006
    residual_sd = 0.11               # spread left after the correction, optional
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import tomlkit

from firmware import wire
from ingest.domain.errors import UserError
from ingest.domain.station_file import read_stations_file

KEY = "calibration"
# Fields a linear correction makes sense for: rain is a count of tips, wind direction an angle.
CORRECTABLE = (
    "temp_c",
    "rh_pct",
    "pressure_hpa",
    "wind_speed_ms",
    "co2_ppm",
    "pm2_5_ugm3",
    "pm10_ugm3",
    "light_lux",
    "uv_index",
)
# A slope this far from 1 is a wrong unit or a broken sensor, not something to correct.
SLOPE_LIMITS = (0.5, 2.0)
_OPTIONAL = ("offset_u", "slope_u", "residual_sd")


@dataclass(frozen=True, slots=True)
class Correction:
    """`corrected = offset + slope × raw` for one station's field, from `valid_from` (UTC) on."""

    station: str
    field: str
    valid_from: datetime
    offset: float
    slope: float = 1.0
    reference: str | None = None
    offset_u: float | None = None
    slope_u: float | None = None
    residual_sd: float | None = None

    def apply(self, raw: float) -> float:
        """>>> Correction("fi-a", "temp_c", datetime(2026, 1, 1, tzinfo=UTC), -0.5, 1.1).apply(10)
        10.5
        """
        return self.offset + self.slope * raw

    def describe(self, raw: float | None = None) -> str:
        """How much the correction changes a value, in words a class can read.

        >>> c = Correction("fi-a", "temp_c", datetime(2026, 12, 1, 8, tzinfo=UTC), -0.42, 1.0)
        >>> c.describe()
        'temp_c −0.42 since 2026-12-01 08:00 UTC'
        """
        change = self.offset if raw is None else self.apply(raw) - raw
        text = f"{self.field} {_signed(change)}"
        if self.slope != 1.0 and raw is None:
            text += f" ×{self.slope:.3f}"
        return f"{text} since {self.valid_from:%Y-%m-%d %H:%M} UTC"


def _signed(value: float) -> str:
    return f"{'+' if value >= 0 else '−'}{abs(value):.2f}"


def _moment(value: Any) -> datetime | None:
    """A TOML date or date-time as an aware UTC datetime (a date means its UTC midnight)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def parse_corrections(station: str, entries: Any, where: str) -> tuple[list[Correction], list[str]]:
    """The `[[<station>.calibration]]` entries of one station, and every problem found in them."""
    if not isinstance(entries, list):
        return [], [f"{where}: calibration must be a list of tables ([[{station}.calibration]])"]
    found: list[Correction] = []
    errors: list[str] = []
    for i, entry in enumerate(entries, 1):
        at = f"{where} calibration #{i}"
        if not isinstance(entry, Mapping):
            errors.append(f"{at}: must be a table with field, from, offset, slope")
            continue
        field = entry.get("field")
        if field not in CORRECTABLE:
            errors.append(f"{at}: field={field!r} is not one of {', '.join(CORRECTABLE)}")
            continue
        valid_from = _moment(entry.get("from"))
        if valid_from is None:
            errors.append(f"{at} ({field}): from must be a date or date-time, e.g. 2026-12-01")
            continue
        offset, slope = _number(entry.get("offset", 0.0)), _number(entry.get("slope", 1.0))
        if offset is None:
            errors.append(f"{at} ({field}): offset must be a number")
            continue
        if slope is None or not SLOPE_LIMITS[0] <= slope <= SLOPE_LIMITS[1]:
            errors.append(
                f"{at} ({field}): slope={entry.get('slope')!r} must be a number within "
                f"{SLOPE_LIMITS[0]}..{SLOPE_LIMITS[1]} (further off is a broken sensor)"
            )
            continue
        reference = entry.get("reference")
        if reference is not None and not (
            isinstance(reference, str) and wire.is_station_id(reference)
        ):
            errors.append(f"{at} ({field}): reference={reference!r} is not a station id")
            continue
        extra = {name: _number(entry.get(name)) for name in _OPTIONAL}
        found.append(Correction(station, field, valid_from, offset, slope, reference, **extra))
    seen: set[tuple[str, datetime]] = set()
    for c in found:
        if (c.field, c.valid_from) in seen:
            errors.append(f"{where}: two calibrations of {c.field} from {c.valid_from.isoformat()}")
        seen.add((c.field, c.valid_from))
    return found, errors


def corrections_from(doc: Mapping[str, Any], source: str) -> list[Correction]:
    """Every correction in a parsed stations.toml; UserError listing every problem."""
    found: list[Correction] = []
    errors: list[str] = []
    for station, table in doc.items():
        if isinstance(table, Mapping) and KEY in table:
            got, problems = parse_corrections(station, table[KEY], f"{source} [{station}]")
            found.extend(got)
            errors.extend(problems)
    if errors:
        raise UserError("invalid calibration:\n  " + "\n  ".join(errors))
    return sorted(found, key=lambda c: (c.station, c.field, c.valid_from))


def load_corrections(path: Path | None) -> list[Correction]:
    """The corrections in a stations file (none when `path` is None)."""
    if path is None:
        return []
    doc = read_stations_file(path)
    return corrections_from(doc, str(path))


def write_corrections(path: Path, corrections: Iterable[Correction]) -> None:
    """Add corrections to a stations file, keeping the rest of it as the teacher wrote it
    (comments, order, spacing): tomlkit edits the document instead of re-serialising a dict.

    A correction with the same station, field and date as one in the file replaces it (running
    the same calibration twice does not stack); earlier ones stay, they still hold for the data
    read before this date.
    """
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        doc = tomlkit.parse(text)
    except OSError as exc:
        raise UserError(f"cannot read stations file {path}: {exc.strerror}") from None
    except tomlkit.exceptions.TOMLKitError as exc:
        raise UserError(f"{path}: not valid TOML ({exc}); fix it before writing") from None
    for c in corrections:
        if c.station not in doc:
            doc.add(tomlkit.nl())
            doc.add(c.station, tomlkit.table())
        table = doc[c.station]
        if KEY not in table:
            table.add(KEY, tomlkit.aot())
        entries = table[KEY]
        for i in reversed(range(len(entries))):
            old = entries[i]
            if old.get("field") == c.field and _moment(old.get("from")) == c.valid_from:
                del entries[i]
        entries.append(_entry(c))
    data = tomlkit.dumps(doc)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


def _entry(c: Correction) -> Any:
    entry = tomlkit.table()
    entry.add("field", c.field)
    entry.add("from", c.valid_from.replace(microsecond=0))
    entry.add("offset", round(c.offset, 4))
    entry.add("slope", round(c.slope, 5))
    if c.reference:
        entry.add("reference", c.reference)
    for name in _OPTIONAL:
        value = getattr(c, name)
        if value is not None:
            entry.add(name, round(value, 5))
    entry.add(tomlkit.nl())  # the next station's table keeps its blank line above
    return entry


def in_force(corrections: Sequence[Correction], station: str, field: str) -> list[Correction]:
    """The corrections of one station's field, oldest first."""
    return sorted(
        (c for c in corrections if c.station == station and c.field == field),
        key=lambda c: c.valid_from,
    )
