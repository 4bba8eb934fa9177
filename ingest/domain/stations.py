"""Station metadata a coordinator keeps in `stations.toml`, and the registry frame built from it.

Metadata also arrives in stations' retained `meta` messages; where both exist the file wins, so a
coordinator can correct a school's coordinates or time zone without touching its station. A
station's siting is merged key by key: the file's `[<station>.siting]` keys over the station's.

    # stations.toml: one table per station id
    [fi-tampere-hervanta]
    name = "Hervanta Upper Secondary School"
    lat = 61.45
    lon = 23.85
    elevation_m = 140
    timezone = "Europe/Helsinki"
    exposure = "outdoor"              # or "indoor" for a classroom monitor
    public_exact_location = false     # true: show the exact position on the public map
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from firmware import wire
from ingest.domain import calibration, contacts, siting
from ingest.domain.asem import country_of, region_of
from ingest.domain.contract import StationMeta, check_meta
from ingest.domain.errors import UserError

DEFAULT_PATH = Path("stations.toml")
COLUMNS = (
    "name",
    "country",
    "region",
    "lat",
    "lon",
    "elevation_m",
    "timezone",
    "exposure",
    "public_exact_location",
    "siting",  # a `Siting`, or None where nobody described the site
)
# Keys only a coordinator's file may set (they are not part of what a station says about itself).
_FILE_ONLY = ("public_exact_location", calibration.KEY, contacts.KEY)
# A table holding only these describes a station whose position comes from its own `meta`.
_CARE_ONLY = frozenset({calibration.KEY, siting.KEY, contacts.KEY})


def add_argument(parser: argparse.ArgumentParser) -> None:
    """`--stations FILE`, the same on every command that needs metadata."""
    parser.add_argument(
        "--stations",
        type=Path,
        default=None,
        metavar="FILE",
        help="station metadata (name, position, time zone); default ./stations.toml when it exists",
    )


def resolve_path(path: Path | None) -> Path | None:
    """The metadata file a command should read: the one given, else ./stations.toml if present."""
    if path is not None:
        if not path.is_file():
            raise UserError(f"stations file {path} not found (leave out --stations to use none)")
        return path
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def parse_stations(text: str, source: str = "stations.toml") -> list[tuple[StationMeta, bool]]:
    """Validate a stations.toml text strictly: every problem is reported at once, none skipped.

    Returns (metadata, public_exact_location) per station.
    """
    text, errors = _without_repeated_tables(text, source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        errors.append(f"{source}: not valid TOML ({exc})")
        raise UserError("invalid station metadata:\n  " + "\n  ".join(errors)) from None
    out: list[tuple[StationMeta, bool]] = []
    for station, table in doc.items():
        where = f"{source} [{station}]"
        if not wire.is_station_id(station):
            errors.append(f"{where}: not a station id (country code, dash, slug: fi-tampere-01)")
            continue
        if not isinstance(table, dict):
            errors.append(f"{where}: must be a table of name, lat, lon, elevation_m, timezone")
            continue
        if region_of(country_of(station)) is None:
            errors.append(f"{where}: {station[:2].upper()} is not an ASEM partner country")
        exact = table.get("public_exact_location", False)
        if not isinstance(exact, bool):
            errors.append(f"{where}: public_exact_location must be true or false")
        meta, problems = check_meta(
            station, {k: v for k, v in table.items() if k not in _FILE_ONLY}, where
        )
        errors.extend(p.detail for p in problems)
        if calibration.KEY in table:
            errors.extend(calibration.parse_corrections(station, table[calibration.KEY], where)[1])
        if contacts.KEY in table:
            errors.extend(contacts.parse_contact(table[contacts.KEY], where)[1])
        for required in ("lat", "lon", "timezone"):
            if set(table) <= _CARE_ONLY:
                break
            if getattr(meta, required) is None and required not in table:
                errors.append(f"{where}: {required} is missing")
        out.append((meta, exact is True))
    if errors:
        raise UserError("invalid station metadata:\n  " + "\n  ".join(errors))
    return out


_TABLE = re.compile(r"^\s*\[\s*\"?([^\[\]\"]+?)\"?\s*\]\s*(#.*)?$")


def _without_repeated_tables(text: str, source: str) -> tuple[str, list[str]]:
    """The text with the second and later `[station]` tables of one station blanked out (line
    numbers kept), and a sentence for each. TOML refuses the whole file over one repeated table,
    which would hide every other mistake in it."""
    first: dict[str, int] = {}
    errors: list[str] = []
    lines = text.splitlines(keepends=True)
    skipping = False
    for number, line in enumerate(lines, start=1):
        match = _TABLE.match(line)
        if match:
            name = match.group(1).strip()
            skipping = name in first
            if skipping:
                errors.append(
                    f"{source} line {number}: [{name}] again (first on line {first[name]}); "
                    "a station id is given once: merge the two tables or rename one"
                )
            else:
                first[name] = number
        if skipping:
            lines[number - 1] = "\n"
    return "".join(lines), errors


def registry_frame(entries: Iterable[tuple[StationMeta, bool]]) -> pd.DataFrame:
    """Station metadata as a frame indexed by station id, with the region derived from the id."""
    rows: dict[str, dict[str, Any]] = {}
    for meta, exact in entries:
        country = country_of(meta.station)
        rows[meta.station] = {
            "name": meta.name,
            "country": country,
            "region": region_of(country),
            "lat": meta.lat,
            "lon": meta.lon,
            "elevation_m": meta.elevation_m,
            "timezone": meta.timezone,
            "exposure": meta.exposure,
            "public_exact_location": exact,
            "siting": meta.siting,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    frame.index.name = "station"
    return frame


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    # Defaults are applied after merging, or a default in the file would hide what a station said.
    out = frame.copy()
    out["name"] = out["name"].fillna(pd.Series(out.index, index=out.index))
    out["exposure"] = out["exposure"].fillna("outdoor")
    out["public_exact_location"] = out["public_exact_location"].fillna(False).astype(bool)
    return out


def _file_entries(path: Path | None) -> pd.DataFrame:
    if path is None:
        return registry_frame([])
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read stations file {path}: {exc.strerror}") from None
    return registry_frame(parse_stations(text, str(path)))


def load_stations(path: Path | None) -> pd.DataFrame:
    """The registry frame of a stations file alone (empty when `path` is None)."""
    return _with_defaults(_file_entries(path))


def merged_registry(from_stations: pd.DataFrame, path: Path | None) -> pd.DataFrame:
    """What stations said about themselves (a `registry_frame`), overridden value by value by the
    coordinator's file."""
    from_file = _file_entries(path)
    if from_stations.empty:
        return _with_defaults(from_file)
    if from_file.empty:
        return _with_defaults(from_stations)
    combined = from_file.combine_first(from_stations).reindex(columns=list(COLUMNS))
    combined["siting"] = [
        siting.merge(_sited(over), _sited(under))
        for over, under in zip(
            from_file["siting"].reindex(combined.index).tolist(),
            from_stations["siting"].reindex(combined.index).tolist(),
            strict=True,
        )
    ]
    return _with_defaults(combined)


def _sited(value: object) -> siting.Siting | None:
    return value if isinstance(value, siting.Siting) else None
