"""Air moisture from temperature and relative humidity (Bolton 1980), below every component:
quality control (ingest/domain/qc.py) checks the dew point against the temperature, and the
comparison core derives it for the dashboard and exports (dashboard/core/derived.py).

Element-wise on numpy arrays or pandas Series; NaN where an input is missing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

# Bolton (1980) fit to the saturation vapour pressure over liquid water.
_BOLTON_E0_HPA = 6.112
_BOLTON_A = 17.67
_BOLTON_B_C = 243.5


def _f64(values: ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def saturation_vapour_pressure_hpa(temp_c: ArrayLike) -> FloatArray:
    """Saturation vapour pressure over liquid water.

    Source: Bolton, D. (1980), The computation of equivalent potential temperature,
    Mon. Wea. Rev. 108, 1046-1053, eq. 10 (within 0.1 % of Wexler for -30..35 °C).

    Formula: e_s = 6.112 hPa · exp(17.67 · T / (T + 243.5)), T in °C.

    >>> round(float(saturation_vapour_pressure_hpa(20.0)), 2)
    23.37
    """
    temp = _f64(temp_c)
    return _BOLTON_E0_HPA * np.exp(_BOLTON_A * temp / (temp + _BOLTON_B_C))


def vapour_pressure_hpa(temp_c: ArrayLike, rh_pct: ArrayLike) -> FloatArray:
    """Partial pressure of water vapour from temperature and relative humidity.

    Source: WMO-No. 8 (2018), Part I, Annex 4.B: e = U/100 · e_w(T), with e_w from Bolton (1980).

    Formula: e = RH/100 · e_s(T).

    >>> round(float(vapour_pressure_hpa(20.0, 50.0)), 2)
    11.68
    """
    return _f64(rh_pct) / 100.0 * saturation_vapour_pressure_hpa(temp_c)


def dewpoint_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> FloatArray:
    """Dew point: the temperature at which the air's vapour would saturate it.

    Source: Bolton (1980) eq. 10 inverted, as in MetPy `dewpoint` (Unidata/MetPy, calc/thermo.py).

    Formula: Td = 243.5 · ln(e/6.112) / (17.67 − ln(e/6.112)), e in hPa; RH = 0 gives NaN.

    >>> round(float(dewpoint_c(20.0, 50.0)), 2)
    9.27
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(vapour_pressure_hpa(temp_c, rh_pct) / _BOLTON_E0_HPA)
        result = _BOLTON_B_C * log_ratio / (_BOLTON_A - log_ratio)
    return np.where(np.isfinite(result), result, np.nan)
