"""Deterministic randomness as a function of (seed, station, time), not of call order.

The weather at a station is a pure function of the seed, the station's number and the time, so a
live run, an accelerated run and a backfill of the same hours send the same readings, and a station
that was offline flushes exactly what it would have sent. Two tools:

- `uniform`: white noise from a counter-based hash (SplitMix64, Steele et al., "Fast splittable
  pseudorandom number generators", OOPSLA 2014), for what changes every reading (gusts, spikes).
- `Smooth`: a stationary random process with unit variance made of K sinusoids with random
  frequencies in a band and random phases (Rice's sum-of-sinusoids method), for what persists
  (pressure systems, rain spells, wind direction). Its correlation time is set by the band.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # SplitMix64's finaliser; uint64 arithmetic wraps modulo 2^64, as the algorithm intends.
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def uniform(seed: int, channel: int, station: ArrayLike, counter: ArrayLike) -> NDArray[np.float64]:
    """Uniform [0, 1) numbers, one per (station, counter) pair, fixed by seed and channel.

    >>> a = uniform(1, 7, [0, 1, 2], [1700000000] * 3)
    >>> b = uniform(1, 7, [0, 1, 2], [1700000000] * 3)
    >>> bool(((a >= 0) & (a < 1)).all()), bool((a == b).all())
    (True, True)
    """
    with np.errstate(over="ignore"):
        key = _mix(np.asarray(np.uint64(seed & 0xFFFFFFFF) * _GOLDEN + np.uint64(channel)))
        x = _mix(key ^ (np.asarray(station, dtype=np.uint64) * _GOLDEN))
        x = _mix(x ^ np.asarray(np.asarray(counter, dtype=np.int64), dtype=np.uint64))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class Smooth:
    """A unit-variance random process per station: sqrt(2/K) Σ cos(ω_k t + φ_k).

    Periods are drawn log-uniformly between `shortest_s` and `longest_s` (scalars or one value per
    station), so the process wanders on those time scales. Deterministic per (seed, channel,
    station): the same station behaves the same in a fleet of 10 or of 10,000.
    """

    K = 8

    def __init__(
        self,
        seed: int,
        channel: int,
        n_stations: int,
        shortest_s: ArrayLike,
        longest_s: ArrayLike,
    ) -> None:
        stations = np.repeat(np.arange(n_stations), self.K)
        k = np.tile(np.arange(self.K), n_stations)
        u_freq = uniform(seed, channel, stations, k).reshape(n_stations, self.K)
        u_phase = uniform(seed, channel + 1000, stations, k).reshape(n_stations, self.K)
        lo = np.log(np.broadcast_to(np.asarray(shortest_s, dtype=np.float64), (n_stations,)))
        hi = np.log(np.broadcast_to(np.asarray(longest_s, dtype=np.float64), (n_stations,)))
        periods = np.exp(lo[:, None] + (hi - lo)[:, None] * u_freq)
        self._omega = 2.0 * np.pi / periods
        self._phase = 2.0 * np.pi * u_phase

    def __call__(self, station: NDArray[np.intp], t: NDArray[np.float64]) -> NDArray[np.float64]:
        """The process for each station at each time (arrays of equal length)."""
        angle = self._omega[station] * t[:, None] + self._phase[station]
        return np.sqrt(2.0 / self.K) * np.cos(angle).sum(axis=1)
