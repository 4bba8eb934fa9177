"""The climate day table read from a store: the one place the climate layer touches storage.

Today it reads observation rows and summarises them per local day with the core (coverage rule
included). When the stores keep daily aggregates (issue #17), this function reads those instead
and hands back the same `climate_days.DAY_COLUMNS`; nothing downstream changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from dashboard.core.actions import utc_window
from dashboard.core.calibration import apply_corrections
from dashboard.core.climate_days import DAY_COLUMNS, climate_days
from dashboard.core.daily import CLIMATE_SPECS, daily_summary
from ingest.base import Store
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
    obs = apply_corrections(
        store.read(start, end, list(stations), list(CLIMATE_FIELDS)), corrections
    )
    if obs.empty:
        return pd.DataFrame(columns=list(DAY_COLUMNS))
    known = meta.loc[meta.index.intersection(obs["station"].astype(str).unique())]
    days = climate_days(daily_summary(obs, known, specs=CLIMATE_SPECS))
    inside = (days["date"] >= pd.Timestamp(first)) & (days["date"] <= pd.Timestamp(last))
    return days[inside].reset_index(drop=True)
