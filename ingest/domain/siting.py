"""How a station is sited, from the `[<station>.siting]` table of stations.toml or the `siting`
object of the station's own `meta` (the same keys and rules; the file wins key by key), and its
siting class (1 best … 5 worst) for air temperature and for wind after WMO-No. 8 (2018), Part I,
Chapter 1, Annex 1.B "Siting classifications for surface observing stations on land" (the same
text as ISO 19289:2014).

    [fi-tampere-01.siting]
    height_m = 1.5               # sensor height above the ground
    surface = "grass"            # below the station: grass (< 10 cm), long_grass (< 25 cm),
                                 #   bare_soil, artificial (asphalt, concrete, a roof)
    heat_source_distance_m = 35  # to the nearest building wall, car park, concrete or water
    shaded_below_sun_deg = 5     # shade reaches the station only when the sun is lower than this
    radiation_shield = true      # a ventilated or louvred shield around the sensor
    mounting = "ground"          # ground (a post in the yard), wall, roof
    wind_height_m = 6            # anemometer height above the ground
    obstacle_height_m = 9        # tallest obstacle around the anemometer (trees, buildings)
    obstacle_distance_m = 60     # and how far away it is
    photo = "https://example.org/our-station.jpg"

Only what a school can measure with a tape and a protractor is asked; where the Annex needs
more (area fractions of heat sources, roughness length) the simplification is named in the
docstring of the classifying function. A class is None when the information does not allow one.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY = "siting"
SURFACES = ("grass", "long_grass", "bare_soil", "artificial")
MOUNTINGS = ("ground", "wall", "roof")
_NUMBERS: dict[str, tuple[float, float]] = {
    "height_m": (0.0, 200.0),
    "heat_source_distance_m": (0.0, 100_000.0),
    "shaded_below_sun_deg": (0.0, 90.0),
    "wind_height_m": (0.0, 200.0),
    "obstacle_height_m": (0.0, 1000.0),
    "obstacle_distance_m": (0.0, 100_000.0),
}


@dataclass(frozen=True, slots=True)
class Siting:
    """What a coordinator wrote about a station's site; None where they did not say."""

    height_m: float | None = None
    surface: str | None = None
    heat_source_distance_m: float | None = None
    shaded_below_sun_deg: float | None = None
    radiation_shield: bool | None = None
    mounting: str | None = None
    wind_height_m: float | None = None
    obstacle_height_m: float | None = None
    obstacle_distance_m: float | None = None
    photo: str | None = None


def parse_siting(table: Any, where: str) -> tuple[Siting, list[str]]:
    """A `[<station>.siting]` table (or a meta message's `siting` object), and every problem in
    it (bad entries are left out)."""
    if not isinstance(table, Mapping):
        return Siting(), [
            f"{where}: siting must be a table of keys ([<station>.siting] in stations.toml, "
            '"siting": {...} in meta)'
        ]
    values: dict[str, Any] = {}
    errors: list[str] = []
    unknown: list[str] = []
    for name, value in table.items():
        at = f"{where} siting.{name}"
        # A station writes this: what it sent is quoted, never at any length.
        shown = reprlib.repr(value)
        if name in _NUMBERS:
            low, high = _NUMBERS[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and low <= value <= high)
            ):
                errors.append(f"{at}={shown} must be a number within {low:g}..{high:g}")
            else:
                values[name] = float(value)
        elif name == "surface" and value not in SURFACES:
            errors.append(f"{at}={shown} must be one of {', '.join(SURFACES)}")
        elif name == "mounting" and value not in MOUNTINGS:
            errors.append(f"{at}={shown} must be one of {', '.join(MOUNTINGS)}")
        elif name == "radiation_shield" and not isinstance(value, bool):
            errors.append(f"{at} must be true or false")
        elif name == "photo" and not (
            isinstance(value, str) and value.startswith(("https://", "http://"))
        ):
            errors.append(f"{at} must be a web link (https://…)")
        elif name in ("surface", "mounting", "radiation_shield", "photo"):
            values[name] = value
        elif name not in _NUMBERS:
            unknown.append(reprlib.repr(name).strip("'"))
    known = f"(known: {', '.join(Siting.__slots__)})"
    if len(unknown) == 1:
        errors.append(f"{where} siting.{unknown[0]}: unknown siting key {known}")
    elif unknown:  # one sentence, however many a station sends
        names = ", ".join(unknown[:3]) + (", …" if len(unknown) > 3 else "")
        errors.append(f"{where} siting: {len(unknown)} unknown keys ({names}) {known}")
    return Siting(**values), errors


def temperature_class(s: Siting) -> int | None:
    """Siting class for air temperature (and humidity), WMO-No. 8 Annex 1.B.1.

    The Annex, in short (the heat sources are "artificial heat sources and reflective surfaces
    (buildings, concrete surfaces, car parks, etc.)" and expanses of water):

    - Class 1: flat land, slope under 19°; natural low vegetation (< 10 cm); more than 100 m
      from heat sources and water; no shade when the sun is higher than 5°.
    - Class 2: as class 1, but more than 30 m from heat sources and water; no shade when the
      sun is higher than 7°.
    - Class 3: natural low vegetation (< 25 cm); more than 10 m from heat sources and water; no
      shade when the sun is higher than 7° (siting may add up to 1 °C of uncertainty).
    - Class 4: heat sources closer, covering less than 50 % of the ground within 10 m and less
      than 30 % within 3 m; no shade when the sun is higher than 20° (up to 2 °C).
    - Class 5: not meeting class 4 (up to 5 °C).

    Simplified here: the Annex's area fractions (a heat source counts at classes 1–3 when it
    covers more than 10 % of the surrounding circle, 5 % of the annulus, 1 % of the inner
    circle) become the distance to the nearest one; an artificial surface right below the
    sensor is taken as covering more than 30 % within 3 m (class 5). The Annex assumes a
    radiation screen: a sensor without one is class 5. School yards are taken as flat (slope
    under 19°): a school on a steep slope should say so in its photo and notes.

    >>> temperature_class(Siting(surface="grass", heat_source_distance_m=120,
    ...     shaded_below_sun_deg=3, radiation_shield=True))
    1
    >>> temperature_class(Siting(surface="grass", heat_source_distance_m=12,
    ...     shaded_below_sun_deg=15, radiation_shield=True))
    4
    >>> temperature_class(Siting(surface="grass", heat_source_distance_m=50)) is None
    True
    """
    if s.radiation_shield is False:
        return 5
    if None in (s.surface, s.heat_source_distance_m, s.shaded_below_sun_deg, s.radiation_shield):
        return None
    distance, shade = float(s.heat_source_distance_m or 0), float(s.shaded_below_sun_deg or 0)
    if s.surface == "artificial":
        return 5
    low_vegetation = s.surface == "grass"
    if low_vegetation and distance > 100 and shade <= 5:
        return 1
    if low_vegetation and distance > 30 and shade <= 7:
        return 2
    if distance > 10 and shade <= 7:
        return 3
    if shade <= 20:
        return 4
    return 5


def wind_class(s: Siting) -> int | None:
    """Siting class for surface wind, WMO-No. 8 Annex 1.B.3, for an anemometer with obstacles
    of height h (above the ground) at distance d:

    - Class 1: d ≥ 30 h (and roughness length ≤ 0.1 m);
    - Class 2: d ≥ 10 h (roughness ≤ 0.25 m; siting may add up to 30 % uncertainty);
    - Class 3: d ≥ 5 h (up to 50 %);
    - Class 4: d ≥ 2.5 h, and no obstacle wider than 60° and higher than 10 m within 40 m
      (more than 50 %);
    - Class 5: not meeting class 4 (uncertainty cannot be stated).
    Single obstacles lower than 4 m may be ignored (classes 1–2).

    Simplified here: one obstacle, the tallest, stands for all of them; roughness and the
    thin-obstacle rule (15 widths for masts and thin trees higher than 8 m) are not asked. An
    anemometer on a roof is classed by the same rule, and comparisons still note it: the
    building itself bends the wind over the roof in a way no distance rule describes.

    >>> wind_class(Siting(obstacle_height_m=5, obstacle_distance_m=160))
    1
    >>> wind_class(Siting(obstacle_height_m=10, obstacle_distance_m=60))
    3
    >>> wind_class(Siting(obstacle_height_m=3, obstacle_distance_m=5))   # too low to count
    1
    >>> wind_class(Siting(obstacle_height_m=12, obstacle_distance_m=20))
    5
    """
    h, d = s.obstacle_height_m, s.obstacle_distance_m
    if h is None or d is None:
        return None
    if h < 4:
        return 1
    ratio = d / h
    for klass, needed in ((1, 30.0), (2, 10.0), (3, 5.0), (4, 2.5)):
        if ratio >= needed:
            return klass
    return 5


def merge(over: Siting | None, under: Siting | None) -> Siting | None:
    """`over` key by key, `under` where `over` says nothing: a coordinator's file over what the
    station says in its meta.

    >>> merge(Siting(surface="artificial"), Siting(surface="grass", height_m=1.5))
    Siting(height_m=1.5, surface='artificial', heat_source_distance_m=None, \
shaded_below_sun_deg=None, radiation_shield=None, mounting=None, wind_height_m=None, \
obstacle_height_m=None, obstacle_distance_m=None, photo=None)
    """
    if over is None or under is None:
        return under if over is None else over
    return Siting(
        **{
            name: getattr(under, name) if getattr(over, name) is None else getattr(over, name)
            for name in Siting.__slots__
        }
    )


def to_json(siting: Siting) -> str:
    """The keys a siting says, as the registry keeps them (parse_siting reads them back)."""
    said = {name: getattr(siting, name) for name in Siting.__slots__}
    return json.dumps({k: v for k, v in said.items() if v is not None}, separators=(",", ":"))
