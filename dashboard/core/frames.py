"""Shared shapes: mapping observation rows to their station's metadata, and time as int64.

Observations are long (`station`, `time` in UTC, one column per wire-contract field); station
metadata is indexed by station id with `lat, lon, elevation_m, timezone, region, exposure`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from firmware import wire

# Every numeric field of the wire contract, in contract order: the contract's own table.
FIELDS: tuple[str, ...] = wire.FIELD_NAMES

NS_PER_S = 1_000_000_000
S_PER_DAY = 86_400


class CoreInputError(ValueError):
    """Input the core cannot work with; the message says what, where and how to fix it."""


@dataclass(frozen=True)
class StationRows:
    """Observation rows keyed to their station: `codes[i]` indexes `meta` for row `i`."""

    codes: NDArray[np.int32]
    meta: pd.DataFrame


def station_rows(obs: pd.DataFrame, meta: pd.DataFrame) -> StationRows:
    """Factorise `obs.station` and align `meta` to the codes, failing on unknown stations."""
    station = obs["station"]
    if isinstance(station.dtype, pd.CategoricalDtype):
        # Categorical input (what a columnar store hands back) needs no hashing of 21 M strings.
        codes = station.cat.codes.to_numpy().astype(np.int32)
        ids = pd.Index(station.cat.categories.astype(str))
    else:
        raw_codes, uniques = pd.factorize(station, sort=True)
        codes = raw_codes.astype(np.int32)
        ids = pd.Index(uniques.astype(str))
    missing = ids.difference(meta.index)
    if len(missing):
        listed = ", ".join(missing[:5])
        raise CoreInputError(
            f"no metadata for station(s) {listed}"
            f"{' …' if len(missing) > 5 else ''}: add them to stations.toml or the registry"
        )
    return StationRows(codes=codes, meta=meta.reindex(ids))


def time_ns(times: pd.Series | pd.DatetimeIndex | NDArray[np.datetime64]) -> NDArray[np.int64]:
    """UTC instants as int64 nanoseconds since the Unix epoch (no copy for ns input)."""
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        raise CoreInputError(
            "observation times are naive: the store and wire contract give UTC; "
            "localise them with .dt.tz_localize('UTC')"
        )
    return index.as_unit("ns").asi8
