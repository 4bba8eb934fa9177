"""Row order for time series kept by station and time: stores hand rows back sorted, so the
common case is a check, not a sort."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def sort_order(keys: NDArray[np.int64]) -> NDArray[np.intp] | None:
    """Stable order that sorts `keys`, or None when they are sorted already (the store's order)."""
    if keys.size < 2 or bool(np.all(keys[1:] >= keys[:-1])):
        return None
    return np.argsort(keys, kind="stable")
