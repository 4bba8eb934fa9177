"""Calibration day: fit each station's sensor against a reference standing beside it, and apply
the corrections when data are read.

The fit is the Theil–Sen line (Sen 1968, "Estimates of the regression coefficient based on
Kendall's tau", JASA 63:1379): the slope is the median of the slopes between every pair of
readings, the offset the median of what is left, so one wet sensor or a child's warm hand on
the case moves it no more than one vote in a few thousand. Its uncertainty comes from a
moving-block bootstrap (Künsch 1989): weather makes neighbouring readings alike, so resampling
single readings would claim far too much certainty; resampling whole hours keeps that likeness.

Only usable values are fitted: readings QC flags (`ingest.domain.qc`) are set aside first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ingest.domain.calibration import CORRECTABLE, Correction
from ingest.domain.qc import qc_flags

# Readings are compared as means over this bin: stations sample at different moments.
BIN = "10min"
MIN_OVERLAP = timedelta(hours=3)
# Less variation than this over the day (5th to 95th percentile of the reference) cannot tell a
# slope from an offset: the line would pivot on noise. Roughly five times each sensor's typical
# stated accuracy (BME280: ±1 °C, ±3 %RH, ±1 hPa; SCD4x: ±50 ppm).
MIN_RANGE: Mapping[str, float] = {
    "temp_c": 3.0,
    "rh_pct": 10.0,
    "pressure_hpa": 3.0,
    "wind_speed_ms": 2.0,
    "co2_ppm": 200.0,
    "pm2_5_ugm3": 10.0,
    "pm10_ugm3": 10.0,
    "light_lux": 5000.0,
    "uv_index": 2.0,
}
BOOTSTRAP = 200
BLOCK = 6  # bins per bootstrap block: one hour of 10-minute bins
COVERAGE = 2.0  # expanded uncertainty, k = 2 (about 95 %)
_MAX_PAIRS = 40_000


@dataclass(frozen=True)
class Fit:
    """A fitted correction and how far to trust it. `*_u` are expanded uncertainties (k = 2);
    `spread_before`/`spread_after` the robust standard deviation of station − reference before
    and after correcting; `bias` the median of reference − station before correcting."""

    station: str
    field: str
    reference: str
    n: int
    offset: float
    slope: float
    offset_u: float
    slope_u: float
    bias: float
    spread_before: float
    spread_after: float
    low: float
    high: float

    def correction(self, valid_from: datetime) -> Correction:
        return Correction(
            self.station,
            self.field,
            valid_from,
            self.offset,
            self.slope,
            self.reference,
            self.offset_u,
            self.slope_u,
            self.spread_after,
        )


@dataclass(frozen=True)
class Refusal:
    """A fit not made, and the sentence saying why and what to do."""

    station: str
    field: str
    reason: str


def theil_sen(
    x: NDArray[np.float64], y: NDArray[np.float64], rng: np.random.Generator | None = None
) -> tuple[float, float]:
    """Slope and intercept of the Theil–Sen line through (x, y): median pairwise slope, then the
    median of y − slope·x. Beyond `_MAX_PAIRS` pairs a random sample of pairs is used.

    >>> x = np.arange(10.0); y = 2.0 + 0.5 * x; y[3] = 40.0   # one wild reading
    >>> [round(v, 6) for v in theil_sen(x, y)]
    [0.5, 2.0]
    """
    n = x.size
    if n * (n - 1) // 2 <= _MAX_PAIRS:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = rng or np.random.default_rng(0)
        i, j = rng.integers(0, n, _MAX_PAIRS), rng.integers(0, n, _MAX_PAIRS)
    dx = x[j] - x[i]
    usable = dx != 0
    slope = float(np.median((y[j] - y[i])[usable] / dx[usable]))
    return slope, float(np.median(y - slope * x))


def robust_sd(values: NDArray[np.float64]) -> float:
    """Standard deviation estimated from the median absolute deviation (×1.4826, exact for a
    normal distribution), so a few wild readings do not inflate it.

    >>> round(robust_sd(np.array([-1.0, 0.0, 1.0, 0.0, 100.0])), 4)
    1.4826
    """
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def aligned(obs: pd.DataFrame, station: str, reference: str, field: str) -> pd.DataFrame:
    """Bin means of `field` for `station` (x) and `reference` (y) where both have usable values."""
    usable = obs[obs["station"].isin([station, reference]) & obs[field].notna()]
    if usable.empty:
        return pd.DataFrame({"x": [], "y": []}, dtype="float64")
    flags = qc_flags(usable[["station", "time", field]])
    usable = usable[flags[f"{field}_qc"].to_numpy() == 0]
    binned = (
        usable.assign(bin=usable["time"].dt.floor(BIN))
        .groupby(["bin", "station"])[field]
        .mean()
        .unstack("station")
    )
    if station not in binned or reference not in binned:
        return pd.DataFrame({"x": [], "y": []}, dtype="float64")
    pair = binned[[station, reference]].dropna()
    return pd.DataFrame({"x": pair[station], "y": pair[reference]})


def fit(
    obs: pd.DataFrame,
    station: str,
    reference: str,
    field: str,
    min_overlap: timedelta = MIN_OVERLAP,
    seed: int = 0,
    offset_only: bool = False,
) -> Fit | Refusal:
    """Fit `reference ≈ offset + slope × station` for one field, or say why not. With
    `offset_only` the slope stays 1 and the offset is the median difference: what a day of
    little change (pressure on a calm day) can still tell, so no range is required."""
    pair = aligned(obs, station, reference, field)
    bin_width = pd.Timedelta(BIN).to_pytimedelta()
    overlap = bin_width * len(pair)
    if overlap < min_overlap:
        return Refusal(
            station,
            field,
            f"only {_hours(overlap)} of {field} readings at the same time as {reference} "
            f"(at least {_hours(min_overlap)} needed): leave the stations side by side longer",
        )
    x, y = pair["x"].to_numpy(np.float64), pair["y"].to_numpy(np.float64)
    low, high = (float(v) for v in np.percentile(y, [5, 95]))
    needed = MIN_RANGE.get(field, 0.0)
    if high - low < needed and not offset_only:
        return Refusal(
            station,
            field,
            f"{reference}'s {field} only ranged {high - low:.3g} ({low:.4g} to {high:.4g}); "
            f"at least {needed:g} is needed to tell a slope from an offset: calibrate over a "
            f"longer or more varied spell (a day and a night, a sunny day), or fit an offset "
            f"alone (--offset-only)",
        )
    rng = np.random.default_rng(seed)
    slope, offset = (1.0, float(np.median(y - x))) if offset_only else theil_sen(x, y, rng)
    boot = _bootstrap(x, y, rng, offset_only)
    return Fit(
        station=station,
        field=field,
        reference=reference,
        n=len(pair),
        offset=offset,
        slope=slope,
        offset_u=COVERAGE * float(np.std(boot[:, 1], ddof=1)),
        slope_u=COVERAGE * float(np.std(boot[:, 0], ddof=1)),
        bias=float(np.median(y - x)),
        spread_before=robust_sd(x - y),
        spread_after=robust_sd(offset + slope * x - y),
        low=low,
        high=high,
    )


def _bootstrap(
    x: NDArray[np.float64], y: NDArray[np.float64], rng: np.random.Generator, offset_only: bool
) -> NDArray[np.float64]:
    """(slope, offset) of `BOOTSTRAP` moving-block resamples of hour-long blocks."""
    n = x.size
    block = min(BLOCK, n)
    starts_per_sample = -(-n // block)
    out = np.empty((BOOTSTRAP, 2))
    for b in range(BOOTSTRAP):
        starts = rng.integers(0, n - block + 1, starts_per_sample)
        index = (starts[:, None] + np.arange(block)).ravel()[:n]
        if offset_only:
            out[b] = 1.0, np.median(y[index] - x[index])
        else:
            out[b] = theil_sen(x[index], y[index], rng)
    return out


def calibrate(
    obs: pd.DataFrame,
    reference: str,
    stations: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    min_overlap: timedelta = MIN_OVERLAP,
    offset_only: bool = False,
) -> list[Fit | Refusal]:
    """A fit or a refusal for every station (except the reference) and correctable field that
    the reference and the station both measured."""
    present = set(obs["station"].astype(str))
    if reference not in present:
        return [Refusal(reference, "-", f"reference {reference} has no readings in this period")]
    chosen = sorted(present - {reference}) if stations is None else list(stations)
    wanted = [f for f in (fields or CORRECTABLE) if f in obs and f in CORRECTABLE]
    out: list[Fit | Refusal] = []
    for station in chosen:
        if station not in present:
            out.append(Refusal(station, "-", f"{station} has no readings in this period"))
            continue
        rows = obs["station"] == station
        ref_rows = obs["station"] == reference
        for field in wanted:
            if obs.loc[rows, field].notna().any() and obs.loc[ref_rows, field].notna().any():
                out.append(fit(obs, station, reference, field, min_overlap, 0, offset_only))
    return out


def apply_corrections(obs: pd.DataFrame, corrections: Sequence[Correction]) -> pd.DataFrame:
    """`obs` with each reading corrected by the calibration in force at its time (the latest one
    whose date is not after it); readings before a station's first calibration stay as they
    were. Returns a new frame; `obs` is not changed.

    >>> from datetime import UTC
    >>> obs = pd.DataFrame({"station": "fi-a", "time": pd.to_datetime(
    ...     ["2026-01-01", "2026-02-01", "2026-03-01"], utc=True), "temp_c": [10.0, 10.0, 10.0]})
    >>> cal = [Correction("fi-a", "temp_c", datetime(2026, 1, 15, tzinfo=UTC), -1.0),
    ...        Correction("fi-a", "temp_c", datetime(2026, 2, 15, tzinfo=UTC), 0.5, 1.1)]
    >>> apply_corrections(obs, cal)["temp_c"].tolist()
    [10.0, 9.0, 11.5]
    """
    offset, slope = correction_terms(obs, corrections)
    if not offset:
        return obs
    out = obs.copy()
    for field in offset:
        out[field] = offset[field] + slope[field] * obs[field].to_numpy(np.float64)
    return out


def correction_terms(
    obs: pd.DataFrame, corrections: Sequence[Correction]
) -> tuple[dict[str, NDArray[np.float64]], dict[str, NDArray[np.float64]]]:
    """Per corrected field, the offset and slope in force for every row of `obs` (0 and 1 where
    none is)."""
    offset: dict[str, NDArray[np.float64]] = {}
    slope: dict[str, NDArray[np.float64]] = {}
    relevant = [c for c in corrections if c.field in obs]
    if not relevant or obs.empty:
        return offset, slope
    # Row positions per station in one pass (not one scan of every row per correction).
    rows_of = obs.groupby(obs["station"].astype(str), sort=False).indices
    t_ns = obs["time"].to_numpy("datetime64[ns]").astype(np.int64)
    groups: dict[tuple[str, str], list[Correction]] = {}
    for c in relevant:
        groups.setdefault((c.station, c.field), []).append(c)
    for (sid, field), group in groups.items():
        rows = rows_of.get(sid)
        if rows is None:
            continue
        group.sort(key=lambda c: c.valid_from)
        starts = np.array([pd.Timestamp(c.valid_from).value for c in group], dtype=np.int64)
        which = np.searchsorted(starts, t_ns[rows], side="right") - 1
        a = np.array([0.0] + [c.offset for c in group])[which + 1]
        b = np.array([1.0] + [c.slope for c in group])[which + 1]
        if field not in offset:
            offset[field], slope[field] = np.zeros(len(obs)), np.ones(len(obs))
        offset[field][rows] = a
        slope[field][rows] = b
    return offset, slope


def _hours(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def render_table(results: Sequence[Fit | Refusal]) -> str:
    """The fits as a table a class can read, then each refusal as a sentence.

    `reads` says how far off the station was (median of station − reference); the correction
    is `offset + slope × reading`, each with its ±uncertainty (about 95 %); `spread` is how much
    the station still scatters around the reference, before → after correcting.
    """
    fits = [r for r in results if isinstance(r, Fit)]
    lines: list[str] = []
    if fits:
        rows = [
            {
                "station": f.station,
                "field": f.field,
                "pairs": f.n,
                "reads": _reads(-f.bias),
                "offset": f"{f.offset:+.3f} ± {f.offset_u:.3f}",
                "slope": f"{f.slope:.4f} ± {f.slope_u:.4f}",
                "spread": f"{f.spread_before:.3f} → {f.spread_after:.3f}",
            }
            for f in fits
        ]
        lines.append(pd.DataFrame(rows).to_string(index=False))
    for r in results:
        if isinstance(r, Refusal):
            lines.append(f"{r.station} {r.field}: not fitted: {r.reason}")
    return "\n".join(lines) + "\n"


def _reads(difference: float) -> str:
    """>>> _reads(0.42), _reads(-0.1), _reads(0.0)
    ('0.42 high', '0.10 low', '0.00')
    """
    if round(difference, 2) == 0:
        return "0.00"
    return f"{abs(difference):.2f} {'high' if difference > 0 else 'low'}"
