"""The climate day table read from a store: the one place the climate layer touches storage.

A store that keeps 15-minute bins (issue #17) answers from them: a year of a school is 35,000
bins instead of 525,600 readings. Schools are read a few at a time (`reads.split_reads`), so a
network's whole history, which the records need, never sits in memory at once; a calibrated
school is read as raw rows (a correction applies before QC, and bins hold raw values).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from dashboard.core.actions import utc_window
from dashboard.core.bins import daily_summary_bins
from dashboard.core.calibration import apply_corrections
from dashboard.core.climate_days import climate_days, no_days
from dashboard.core.daily import CLIMATE_SPECS, daily_summary
from dashboard.core.resample import DEFAULT_MIN_COVERAGE
from dashboard.reads import split_reads
from ingest.base import KeepsBins, Store
from ingest.domain.calibration import Correction

# The observation fields the climate day table is made of.
CLIMATE_FIELDS: tuple[str, ...] = tuple(sorted({field for _, field, _ in CLIMATE_SPECS}))


def read_climate_days(
    store: Store,
    meta: pd.DataFrame,
    first: date,
    last: date,
    stations: Sequence[str],
    corrections: Sequence[Correction] = (),
) -> pd.DataFrame:
    """Climate days of `stations` for local dates `first`..`last` (`DAY_COLUMNS`), with the
    calibrations of stations.toml applied as every reader applies them (what is stored stays
    raw) and only QC-usable values summarised (`daily.daily_summary`)."""
    start, end = utc_window(first, last)
    summary = read_climate_summary(store, meta, start, end, stations, corrections)
    if summary.empty:
        return no_days()
    days = climate_days(summary)
    inside = (days["date"] >= pd.Timestamp(first)) & (days["date"] <= pd.Timestamp(last))
    return days[inside].reset_index(drop=True)


def read_climate_summary(
    store: Store,
    meta: pd.DataFrame,
    start: datetime,
    end: datetime,
    stations: Sequence[str],
    corrections: Sequence[Correction] = (),
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """`daily.daily_summary` with `CLIMATE_SPECS` of the readings in [start, end) (whole
    15-minute bins) of `stations`, in the order of `meta`; empty when none was stored."""
    fields = list(CLIMATE_FIELDS)
    calibrated = {c.station for c in corrections if c.field in fields}
    known = [s for s in stations if s in meta.index]
    from_bins, from_rows = split_reads(store, known, calibrated, start, end, len(fields))
    parts = []
    for group in from_bins:
        assert isinstance(store, KeepsBins)
        bins = store.read_bins(start, end, group, fields)
        if not bins.empty:
            parts.append(
                daily_summary_bins(bins, meta.loc[group], min_coverage, specs=CLIMATE_SPECS)
            )
    for group in from_rows:
        obs = apply_corrections(store.read(start, end, group, fields), corrections)
        if not obs.empty:
            parts.append(daily_summary(obs, meta.loc[group], min_coverage, specs=CLIMATE_SPECS))
    if not parts:
        return pd.DataFrame()
    summary = pd.concat(parts, ignore_index=True)
    order = {station: i for i, station in enumerate(meta.index)}
    rank = summary["station"].astype(str).map(order)
    return summary.iloc[rank.argsort(kind="stable").to_numpy()].reset_index(drop=True)
