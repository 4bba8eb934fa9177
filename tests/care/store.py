"""Writing simulated side-by-side readings into a real store, as the gateway would."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest import Store
from ingest.batch import OBS_COLUMNS, Batch, registry_from_obs


def write_obs(store: Store, obs: pd.DataFrame) -> None:
    """`obs` in the read() shape (station, time, fields) stored as one batch."""
    frame = pd.DataFrame({"station": obs["station"].astype(object)})
    frame["ts_ms"] = obs["time"].to_numpy("datetime64[ms]").astype(np.int64)
    for name in OBS_COLUMNS[2:]:
        frame[name] = obs[name].to_numpy(np.float64) if name in obs else np.nan
    batch = Batch(obs=frame, created_ms=int(frame["ts_ms"].max()))
    batch.registry = registry_from_obs(frame)
    store.write(batch)
