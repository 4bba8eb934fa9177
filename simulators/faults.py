"""Faults on demand: what each flag means, how it is written, and which stations it hits.

Every flag takes `STATIONS[=VALUE][@START[+DURATION]]`:

- STATIONS: station ids separated by commas (`fi-tampere-01,ph-manila-01`), `all`, or a share of
  the fleet (`5%`, the same stations for the same seed).
- VALUE: the fault's own parameter (below); each has a default.
- START, DURATION: when, counted from the start of the run (`90s`, `15m`, `2h`, `1d`); default
  from the start for the rest of the run.

The faults, each doing only what it names (VALUE and its default in brackets):

- `--offline`: nothing is sent in the window; the readings are kept and, when it ends, the
  station sends a new `status` birth and flushes them as arrays of at most 500 (a backlog flush).
- `--stuck` [field, temp_c]: that field repeats its value from the start of the window.
- `--spikes` [share of readings, 0.05]: one field of that share of readings jumps far off
  (temp_c by 20-35 °C, pressure_hpa by 40-120 hPa, or wind_gust_ms up by 30-60 m/s).
- `--clock-skew` [seconds, 900]: `ts` is off by that many seconds (positive: the clock is ahead).
- `--duplicates` [share of messages, 0.2]: published twice, byte for byte.
- `--malformed` [share of messages, 0.1]: the body is replaced by one the contract rejects: cut in
  half, not UTF-8, a JSON string, or empty.
- `--wrong-topic` [share of messages, 0.1]: sent to a topic outside the contract:
  `.../observation`, the station id in upper case, or `.../obs/extra`.
- `--dropped-will`: the station gets a connection of its own with a last will; at START that
  connection is cut without DISCONNECT, so the broker publishes the will `{"state":"offline"}`.
  At the end of the window it reconnects, sends a birth and flushes its backlog.
- `--outbox` [capacity, 2304]: not a fault but what a real station says: its `status` carries
  how many readings wait in its outbox (`outbox`) and that capacity (`outbox_max`). The birth
  after an offline or dropped-will window reports the backlog, and the station's next reading
  after that second reports 0 (a real station reports as it drains; this one flushes at once,
  and saying the level until its next reading lets `classnet alerts` see it). A backlog beyond
  the capacity loses its oldest readings, as the firmware's outbox does. Takes no window.

Message faults (duplicates, malformed, wrong topic) hit single live observations, not backlog
flushes, so a test can name the one reading each affected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from firmware import wire
from simulators import noise

KINDS = (
    "offline",
    "stuck",
    "spikes",
    "clock_skew",
    "duplicates",
    "malformed",
    "wrong_topic",
    "dropped_will",
    "outbox",
)
# The fault's parameter when the flag gives none.
DEFAULTS: dict[str, str] = {
    "stuck": "temp_c",
    "spikes": "0.05",
    "clock_skew": "900",
    "duplicates": "0.2",
    "malformed": "0.1",
    "wrong_topic": "0.1",
    "outbox": "2304",  # the firmware's default capacity (firmware/config.py)
}
_SHARE_KINDS = ("spikes", "duplicates", "malformed", "wrong_topic")
_UNITS_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SPEC = re.compile(r"^(?P<who>[^=@]+)(=(?P<value>[^@]+))?(@(?P<start>[^+]+)(\+(?P<dur>.+))?)?$")
# Hash channels; distinct from the weather's.
CH_SELECT, CH_SHARE, CH_VARIANT, CH_SIZE = 100, 101, 102, 103


class FaultError(ValueError):
    """A fault flag that cannot be understood; the message says how to write it."""


def parse_duration_s(text: str) -> int:
    """`90`, `90s`, `15m`, `2h`, `1d` → seconds.

    >>> parse_duration_s("15m"), parse_duration_s("1d")
    (900, 86400)
    """
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match:
        raise FaultError(f"{text!r} is not a duration (e.g. 90s, 15m, 2h, 1d)")
    return int(match.group(1)) * _UNITS_S[match.group(2)]


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault flag as given: which stations, its parameter, and its window (seconds from the
    start of the run; `end_s` None = until the run ends)."""

    kind: str
    who: str
    value: str
    start_s: int = 0
    end_s: int | None = None

    @property
    def share(self) -> float:
        return float(self.value)

    def active(self, offset_s: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of these times (seconds since the run started) fall in the fault's window."""
        inside = offset_s >= self.start_s
        return inside if self.end_s is None else inside & (offset_s < self.end_s)


def parse(kind: str, text: str) -> Fault:
    """A fault from its flag text, e.g. parse("offline", "fi-tampere-01@1h+30m").

    >>> parse("clock_skew", "5%=-3600@2h")
    Fault(kind='clock_skew', who='5%', value='-3600', start_s=7200, end_s=None)
    """
    flag = "--" + kind.replace("_", "-")
    match = _SPEC.match(text.strip())
    if kind not in KINDS or not match:
        raise FaultError(f"{flag} {text!r}: write STATIONS[=VALUE][@START[+DURATION]]")
    value = match.group("value") or DEFAULTS.get(kind, "")
    if kind in _SHARE_KINDS:
        try:
            ok = 0.0 < float(value) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            raise FaultError(f"{flag} {text!r}: VALUE must be a share of 0..1 (e.g. 0.05)")
    elif kind == "clock_skew" and not re.fullmatch(r"[+-]?\d+", value):
        raise FaultError(f"{flag} {text!r}: VALUE must be whole seconds (e.g. =900 or =-3600)")
    elif kind == "stuck" and value not in wire.FIELDS:
        raise FaultError(f"{flag} {text!r}: {value!r} is not a contract field (e.g. temp_c)")
    elif kind in ("offline", "dropped_will") and match.group("value"):
        raise FaultError(f"{flag} {text!r}: takes no =VALUE")
    elif kind == "outbox" and not (value.isdigit() and int(value) > 0):
        raise FaultError(f"{flag} {text!r}: CAPACITY must be a whole number of readings (=2304)")
    elif kind == "outbox" and match.group("start"):
        raise FaultError(f"{flag} {text!r}: takes no @START: it says what the station reports")
    start = parse_duration_s(match.group("start")) if match.group("start") else 0
    duration = match.group("dur")
    end = start + parse_duration_s(duration) if duration else None
    return Fault(kind, match.group("who").strip(), value, start, end)


def select(fault: Fault, station_ids: tuple[str, ...], seed: int) -> NDArray[np.bool_]:
    """The stations a fault hits, as a mask over the fleet."""
    n = len(station_ids)
    if fault.who == "all":
        return np.ones(n, dtype=bool)
    if fault.who.endswith("%"):
        try:
            share = float(fault.who[:-1]) / 100.0
        except ValueError:
            raise FaultError(f"{fault.who!r}: a share of the fleet is written like 5%") from None
        return noise.uniform(seed, CH_SELECT + KINDS.index(fault.kind), np.arange(n), 0) < share
    wanted = [w.strip() for w in fault.who.split(",")]
    unknown = [w for w in wanted if w not in station_ids]
    if unknown:
        raise FaultError(
            f"--{fault.kind.replace('_', '-')}: no station {', '.join(unknown)} in this fleet "
            f"(e.g. {station_ids[0]})"
        )
    return np.isin(np.array(station_ids), wanted)
