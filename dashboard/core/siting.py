"""Siting in comparisons: which stations a "well-sited only" comparison keeps, and the notes a
comparison carries when it mixes sitings that measure different things."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest.domain.siting import Siting, temperature_class, wind_class

# WMO-No. 8 Annex 1.B: up to class 3 the siting adds at most 1 °C to temperature and 50 % to
# wind; from class 4 on the site, not the weather, may explain a difference between schools.
WELL_SITED = 3
TEMPERATURE_FIELDS = frozenset({"temp_c", "apparent_temp_c", "rh_pct"})
WIND_FIELDS = frozenset({"wind_speed_ms", "wind_gust_ms", "wind_dir_deg"})


def siting_class(siting: Siting | None, variable: str) -> int | None:
    """The WMO siting class that applies to `variable` (None: no class for it, or not known).

    >>> siting_class(Siting(obstacle_height_m=10, obstacle_distance_m=60), "wind_speed_ms")
    3
    >>> siting_class(Siting(obstacle_height_m=10, obstacle_distance_m=60), "temp_c") is None
    True
    """
    if siting is None:
        return None
    if variable in TEMPERATURE_FIELDS:
        return temperature_class(siting)
    if variable in WIND_FIELDS:
        return wind_class(siting)
    return None


@dataclass(frozen=True)
class SitingView:
    kept: list[str]
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def siting_view(
    stations: Sequence[str], siting: Mapping[str, Siting], variable: str, well_sited: bool
) -> SitingView:
    """With `well_sited`, only stations of class 1..WELL_SITED for `variable` (an unknown class
    is left out too: it is not known to be well sited); quantities without a siting class keep
    every station. Notes: `roof_mixed` when wind from roofs is compared with wind at ground.

    >>> roof = Siting(mounting="roof", obstacle_height_m=3, obstacle_distance_m=10)
    >>> yard = Siting(mounting="ground", obstacle_height_m=20, obstacle_distance_m=30)
    >>> view = siting_view(["fi-a", "fi-b", "fi-c"], {"fi-a": roof, "fi-b": yard},
    ...                    "wind_speed_ms", well_sited=False)
    >>> view.kept, view.notes
    (['fi-a', 'fi-b', 'fi-c'], ['roof_mixed'])
    >>> siting_view(["fi-a", "fi-b", "fi-c"], {"fi-a": roof, "fi-b": yard},
    ...             "wind_speed_ms", well_sited=True).left_out
    ['fi-b', 'fi-c']
    """
    kept, left_out = list(stations), []
    if well_sited and (variable in TEMPERATURE_FIELDS or variable in WIND_FIELDS):
        good = [s for s in kept if (siting_class(siting.get(s), variable) or 99) <= WELL_SITED]
        left_out = [s for s in kept if s not in good]
        kept = good
    notes = []
    mountings = {siting[s].mounting for s in kept if s in siting and siting[s].mounting}
    if variable in WIND_FIELDS and "roof" in mountings and len(mountings) > 1:
        notes.append("roof_mixed")
    return SitingView(kept, left_out, notes)
