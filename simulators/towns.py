"""The bundled school towns (towns.csv) and the simulated stations placed in them.

A fleet of n stations cycles through the towns, so 50 stations are one per town and 10,000 are
200 per town: `fi-tampere-01`, `pt-lisbon-01`, ..., `fi-tampere-02`, ... Each extra station in a
town sits a few kilometres from the centre, as the schools of one town do.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from firmware import wire


@dataclass(frozen=True, slots=True)
class Town:
    """A town and its climate normals (the units are in the names; see towns.csv)."""

    slug: str
    country: str
    name: str
    lat: float
    lon: float
    elevation_m: float
    timezone: str
    t_jan_c: float
    t_jul_c: float
    dtr_c: float
    rain_mm: float
    wet_months: tuple[int, ...]  # 1..12; empty when rain is spread evenly over the year
    dry_share: float
    rh_pct: float
    wind_ms: float


@dataclass(frozen=True, slots=True)
class Station:
    """One simulated station: where it is and which town's climate it has."""

    station: str
    town: int  # index into towns()
    number: int  # 1-based within its town
    name: str
    lat: float
    lon: float
    elevation_m: float
    timezone: str
    exposure: str = "outdoor"  # "indoor": a classroom monitor (wire contract, station meta)


def _months(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    first, last = (int(part) for part in text.split("-"))
    return tuple((first - 1 + k) % 12 + 1 for k in range((last - first) % 12 + 1))


@cache
def towns() -> tuple[Town, ...]:
    """The bundled towns, in the order of towns.csv."""
    text = resources.files(__package__).joinpath("towns.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    out = []
    for row in rows:
        out.append(
            Town(
                slug=row["slug"],
                country=row["country"],
                name=row["town"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                elevation_m=float(row["elevation_m"]),
                timezone=row["timezone"],
                t_jan_c=float(row["t_jan_c"]),
                t_jul_c=float(row["t_jul_c"]),
                dtr_c=float(row["dtr_c"]),
                rain_mm=float(row["rain_mm"]),
                wet_months=_months(row["wet_months"]),
                dry_share=float(row["dry_share"]),
                rh_pct=float(row["rh_pct"]),
                wind_ms=float(row["wind_ms"]),
            )
        )
    return tuple(out)


def station_id(town: Town, number: int) -> str:
    """`fi-tampere-01`: country, town, number within the town (wire-contract station id)."""
    station = f"{town.country.lower()}-{town.slug}-{number:02d}"
    if not wire.is_station_id(station):
        raise ValueError(f"towns.csv: {station!r} is not a contract station id; shorten the slug")
    return station


# How far (degrees) extra schools of one town sit from its centre: about 5 km.
_SPREAD_DEG = 0.05


def stations(n: int, only: tuple[str, ...] = ()) -> tuple[Station, ...]:
    """n stations cycling through the towns (or only the towns whose slugs are given)."""
    table = towns()
    chosen = [i for i, t in enumerate(table) if not only or t.slug in only]
    unknown = set(only) - {table[i].slug for i in chosen}
    if unknown:
        raise ValueError(
            f"unknown town(s) {', '.join(sorted(unknown))}; bundled: "
            + ", ".join(t.slug for t in table)
        )
    out = []
    for k in range(n):
        index = chosen[k % len(chosen)]
        town = table[index]
        number = k // len(chosen) + 1
        # A fixed spiral around the centre: the same station is always in the same place.
        angle = number * 2.399963  # golden angle, radians
        radius = _SPREAD_DEG * math.sqrt(number - 1) / 15
        out.append(
            Station(
                station=station_id(town, number),
                town=index,
                number=number,
                name=f"{town.name} school {number} (simulated)",
                lat=round(town.lat + radius * math.sin(angle), 4),
                lon=round(town.lon + radius * math.cos(angle), 4),
                elevation_m=town.elevation_m,
                timezone=town.timezone,
            )
        )
    return tuple(out)


def classrooms(fleet: tuple[Station, ...], n: int) -> tuple[Station, ...]:
    """Classroom monitors (indoor stations) in `n` schools spread evenly over `fleet` (so a fleet
    of Europe then Asia gets rooms on both sides), one room each: `fi-tampere-01-room1` sits in
    `fi-tampere-01`'s school, a separate station as the wire contract wants it."""
    if n > len(fleet):
        raise ValueError(f"--rooms {n}: only {len(fleet)} schools to put classroom monitors in")
    chosen = sorted({round(k * (len(fleet) - 1) / max(n - 1, 1)) for k in range(n)})
    return tuple(
        replace(
            s,
            station=f"{s.station}-room1",
            name=s.name.replace(" (simulated)", " classroom 1 (simulated)"),
            exposure="indoor",
        )
        for s in (fleet[k] for k in chosen)
    )


SENSORS = ("bme280", "rain", "wind", "light", "uv")
INDOOR_SENSORS = ("scd40", "sht40", "pms5003")
FIRMWARE = "simulator"


def meta(station: Station) -> dict[str, object]:
    """The station's `meta` document (wire contract, retained)."""
    return {
        "name": station.name,
        "country": station.station[:2].upper(),
        "lat": station.lat,
        "lon": station.lon,
        "elevation_m": station.elevation_m,
        "timezone": station.timezone,
        "sensors": list(INDOOR_SENSORS if station.exposure == "indoor" else SENSORS),
        "firmware": FIRMWARE,
        "exposure": station.exposure,
    }


def stations_toml(fleet: tuple[Station, ...]) -> str:
    """A stations.toml (ingest/domain/stations.py format) describing the fleet."""
    lines = ["# Simulated stations: written by `classnet simulate --write-stations`.", ""]
    for s in fleet:
        lines += [
            f"[{s.station}]",
            f'name = "{s.name}"',
            f"lat = {s.lat}",
            f"lon = {s.lon}",
            f"elevation_m = {s.elevation_m:g}",
            f'timezone = "{s.timezone}"',
            f'exposure = "{s.exposure}"',
            "public_exact_location = false",
            "",
        ]
    return "\n".join(lines)
