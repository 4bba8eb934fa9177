"""The simulated fleet: which station reads when, what it sends, with faults applied. No I/O.

`Fleet.window(a, b)` returns the messages of the simulated seconds [a, b) in the order stations
would send them; the runner (run.py) decides how fast simulated time passes and hands each
`Send` to a publisher. Same seed, same start, same flags → the same messages, byte for byte.

Station k reads every `interval_s` seconds at `start + phase_k + n·interval_s` (the phase spreads
10,000 stations over the minute instead of all at once); `seq` is n, the count since the run
(the simulated boot) began.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from firmware import wire
from simulators import classroom, faults, noise, towns
from simulators.classroom import Classroom
from simulators.faults import Fault
from simulators.weather import Weather

_CH_PHASE = 200
_SPIKES = (("temp_c", 20.0, 35.0), ("pressure_hpa", 40.0, 120.0), ("wind_gust_ms", 30.0, 60.0))
_MALFORMED = ("truncated", "not_utf8", "not_object", "empty")
_WRONG_TOPIC = ("unknown_kind", "upper_case_id", "extra_level")


@dataclass(frozen=True, slots=True)
class Send:
    """One thing a station does on the wire, at simulated time `t`.

    action "publish": publish `payload` on `topic` (QoS 1). "drop": cut the station's own
    connection without DISCONNECT, so the broker publishes its last will. "connect": open it again.
    `faults` says what was done on purpose, so a test can tell which messages must be rejected.
    """

    t: int
    station: str
    topic: str
    payload: bytes = b""
    retain: bool = False
    action: str = "publish"
    faults: tuple[dict[str, Any], ...] = ()

    def record(self) -> dict[str, Any]:
        """The JSON-ready line of the simulator's record of what it sent."""
        out: dict[str, Any] = {
            "t": self.t,
            "action": self.action,
            "station": self.station,
            "topic": self.topic,
        }
        if self.action == "publish":
            out["qos"] = 1
            out["retain"] = self.retain
            try:
                out["payload"] = self.payload.decode("utf-8")
            except UnicodeDecodeError:
                out["payload_hex"] = self.payload.hex()
        if self.faults:
            out["faults"] = list(self.faults)
        return out


@dataclass
class _State:
    """What a station remembers between windows."""

    backlog: list[dict[str, Any]] = field(default_factory=list)
    away: bool = False  # in an offline or dropped-will window
    # When it flushed a backlog (--outbox): its next reading after that second says the outbox
    # is empty (not one in the same second: the level would be said for no time at all).
    drained: int | None = None


class Fleet:
    """Simulated stations from `start` (Unix s) on, reading every `interval_s`."""

    def __init__(
        self,
        stations: tuple[towns.Station, ...],
        seed: int,
        start: int,
        interval_s: int = 60,
        fault_list: Iterable[Fault] = (),
        batch: bool = False,
    ) -> None:
        self.stations = stations
        self.ids = tuple(s.station for s in stations)
        self.seed = seed
        self.start = start
        n = len(stations)
        self.interval_s = np.full(n, interval_s, dtype=np.int64)
        phase = noise.uniform(seed, _CH_PHASE, np.arange(n), 0) * interval_s
        self.anchor = start + phase.astype(np.int64)
        self.weather = Weather(stations, towns.towns(), seed)
        # Classroom monitors (indoor stations) read the room, not the weather.
        self.indoor = np.array([s.exposure == "indoor" for s in stations], dtype=bool)
        self.classroom = Classroom(stations, seed)
        self.faults = [(f, faults.select(f, self.ids, seed)) for f in fault_list]
        # Readings a station's outbox keeps (--outbox), which it reports in its status; 0: it
        # reports none and keeps everything.
        self.outbox_max = np.zeros(n, dtype=np.int64)
        for fault, hit in self.faults:
            if fault.kind == "outbox":
                self.outbox_max[hit] = int(fault.value)
        # Backfill: every reading waits for the end of its window and goes out in arrays.
        self.batch = batch
        self._state = [_State() for _ in range(n)]
        self._stuck: dict[tuple[int, int], float] = {}

    @property
    def own_connection(self) -> NDArray[np.bool_]:
        """Stations that need a connection of their own (a last will the broker can fire)."""
        mask = np.zeros(len(self.ids), dtype=bool)
        for fault, hit in self.faults:
            if fault.kind == "dropped_will":
                mask |= hit
        return mask

    # -- what is sent ------------------------------------------------------------------------

    def meta(self, k: int) -> bytes:
        return json.dumps(towns.meta(self.stations[k])).encode()

    def birth(self, t: int, k: int) -> list[Send]:
        """Retained `meta` and the `status` birth {"state": "online", ...meta}."""
        station = self.ids[k]
        return [
            Send(t, station, wire.topic(station, "meta"), self.meta(k), retain=True),
            self._status(t, k),
        ]

    def _status(self, t: int, k: int) -> Send:
        """The retained status {"state": "online", ...meta}, with the outbox level (--outbox)."""
        station = self.ids[k]
        doc: dict[str, Any] = {"state": "online", **towns.meta(self.stations[k])}
        if self.outbox_max[k]:
            doc[wire.OUTBOX] = len(self._state[k].backlog)
            doc[wire.OUTBOX_MAX] = int(self.outbox_max[k])
        body = json.dumps(doc).encode()
        return Send(t, station, wire.topic(station, "status"), body, retain=True)

    def begin(self) -> list[Send]:
        """Every station's birth at the start of the run."""
        return [send for k in range(len(self.ids)) for send in self.birth(self.start, k)]

    def end(self, t: int) -> list[Send]:
        """A clean stop: each connected station says it is offline (a will fires only when a
        connection drops, so a station shutting down cleanly publishes it itself)."""
        offline = json.dumps({"state": "offline"}).encode()
        return [
            Send(t, s, wire.topic(s, "status"), offline, retain=True)
            for k, s in enumerate(self.ids)
            if not self._state[k].away
        ]

    def window(self, a: int, b: int) -> list[Send]:
        """The messages of simulated seconds [a, b), in sending order."""
        idx, ts, seq = self._due(a, b)
        values, names = self._readings(idx, ts)
        faulted = self._value_faults(idx, ts, values)
        sent_ts = self._skewed(idx, ts, faulted)
        columns = {name: col.tolist() for name, col in values.items()}
        # Steps run in time order, since a station leaving or coming back changes what its
        # readings do: (t, order within a second, station, step).
        steps: list[tuple[int, int, int, Callable[[], list[Send]]]] = []
        for fault, hit in self.faults:
            if fault.kind in ("offline", "dropped_will"):
                for k in np.flatnonzero(hit):
                    steps += self._transitions(fault, int(k), a, b)
        rows = zip(idx.tolist(), ts.tolist(), seq.tolist(), sent_ts.tolist(), strict=True)
        for i, (k, t, n, t_sent) in enumerate(rows):
            fields = names[bool(self.indoor[k])]
            obs = wire.observation(t_sent, n, **{name: columns[name][i] for name in fields})
            steps.append((t, 1, k, partial(self._observe, k, t, obs, faulted.get(i, []))))
        if self.batch:
            for k in sorted(set(idx.tolist())):
                steps.append((b, 2, k, partial(self._flush, b, k)))
        steps.sort(key=lambda step: step[:3])
        return [send for *_, step in steps for send in step()]

    def _readings(
        self, idx: NDArray[np.intp], ts: NDArray[np.int64]
    ) -> tuple[dict[str, NDArray[np.float64]], dict[bool, tuple[str, ...]]]:
        """Readings of every due row (NaN where a row's station has no such sensor) and the
        fields an outdoor (False) and an indoor (True) station sends."""
        inside = self.indoor[idx]
        interval = self.interval_s[idx]
        outdoor = self.weather.readings(idx[~inside], ts[~inside], interval[~inside])
        names = {False: tuple(outdoor), True: classroom.FIELDS}
        if not inside.any():
            return outdoor, names
        rooms = self.classroom.readings(idx[inside], ts[inside], interval[inside])
        values = {}
        for name in dict.fromkeys((*outdoor, *rooms)):
            column = np.full(idx.shape, np.nan)
            if name in outdoor:
                column[~inside] = outdoor[name]
            if name in rooms:
                column[inside] = rooms[name]
            values[name] = column
        return values, names

    # -- schedule ----------------------------------------------------------------------------

    def _due(self, a: int, b: int) -> tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.int64]]:
        """(station, ts, seq) of every reading in [a, b), in time order."""
        iv = self.interval_s
        first = np.maximum(-((self.anchor - a) // iv), 0)  # ceil((a - anchor) / iv), not < 0
        stop = np.maximum(-((self.anchor - b) // iv), 0)
        counts = np.maximum(stop - first, 0)
        idx = np.repeat(np.arange(len(iv)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        seq = first[idx] + offsets
        ts = self.anchor[idx] + seq * iv[idx]
        order = np.lexsort((idx, ts))
        return idx[order], ts[order], seq[order]

    # -- faults ------------------------------------------------------------------------------

    def _mask(
        self, fault: Fault, hit: NDArray[np.bool_], idx: NDArray[np.intp], ts: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        return hit[idx] & fault.active(ts - self.start)

    def _value_faults(
        self, idx: NDArray[np.intp], ts: NDArray[np.int64], values: dict[str, NDArray[np.float64]]
    ) -> dict[int, list[dict[str, Any]]]:
        """Stuck sensors and spikes, applied to `values` in place; per row, what was done."""
        done: dict[int, list[dict[str, Any]]] = {}
        for fault, hit in self.faults:
            if fault.kind == "stuck":
                for i in np.flatnonzero(self._mask(fault, hit, idx, ts)):
                    stuck = self._stuck_value(fault, int(idx[i]))
                    done.setdefault(int(i), []).append(
                        {
                            "fault": "stuck",
                            "field": fault.value,
                            "true": float(values[fault.value][i]),
                        }
                    )
                    values[fault.value][i] = stuck
            elif fault.kind == "spikes":
                rows = np.flatnonzero(
                    self._mask(fault, hit, idx, ts)
                    & (noise.uniform(self.seed, faults.CH_SHARE, idx, ts) < fault.share)
                )
                which = noise.uniform(self.seed, faults.CH_VARIANT, idx[rows], ts[rows])
                size = noise.uniform(self.seed, faults.CH_SIZE, idx[rows], ts[rows])
                for i, w, s in zip(rows, which, size, strict=True):
                    name, low, high = _SPIKES[int(w * len(_SPIKES))]
                    sign = 1.0 if name == "wind_gust_ms" or s >= 0.5 else -1.0
                    true = float(values[name][i])
                    values[name][i] = round(true + sign * (low + (high - low) * (2 * s % 1)), 1)
                    done.setdefault(int(i), []).append(
                        {"fault": "spike", "field": name, "true": true}
                    )
        return done

    def _stuck_value(self, fault: Fault, k: int) -> float:
        """The reading a stuck sensor repeats: its value at the first reading of the window."""
        key = (id(fault), k)
        if key not in self._stuck:
            at = self.start + fault.start_s
            iv = int(self.interval_s[k])
            n = max(-((int(self.anchor[k]) - at) // iv), 0)
            ts = np.array([int(self.anchor[k]) + n * iv], dtype=np.int64)
            reading = self.weather.readings(np.array([k]), ts, self.interval_s[[k]])
            self._stuck[key] = float(reading[fault.value][0])
        return self._stuck[key]

    def _skewed(
        self,
        idx: NDArray[np.intp],
        ts: NDArray[np.int64],
        done: dict[int, list[dict[str, Any]]],
    ) -> NDArray[np.int64]:
        sent = ts.copy()
        for fault, hit in self.faults:
            if fault.kind == "clock_skew":
                rows = np.flatnonzero(self._mask(fault, hit, idx, ts))
                sent[rows] += int(fault.value)
                for i in rows:
                    done.setdefault(int(i), []).append(
                        {"fault": "clock_skew", "skew_s": int(fault.value), "true_ts": int(ts[i])}
                    )
        return sent

    def _transitions(
        self, fault: Fault, k: int, a: int, b: int
    ) -> list[tuple[int, int, int, Callable[[], list[Send]]]]:
        """A station leaving at its window's start and coming back at its end, if in [a, b)."""
        out: list[tuple[int, int, int, Callable[[], list[Send]]]] = []
        leave = self.start + fault.start_s
        if a <= leave < b:
            out.append((leave, 0, k, partial(self._leave, leave, k, fault.kind)))
        if fault.end_s is not None and a <= self.start + fault.end_s < b:
            back = self.start + fault.end_s
            out.append((back, 0, k, partial(self._return, back, k, fault.kind)))
        return out

    def _leave(self, t: int, k: int, kind: str) -> list[Send]:
        self._state[k].away = True
        if kind != "dropped_will":
            return []
        station = self.ids[k]
        return [
            Send(
                t,
                station,
                wire.topic(station, "status"),
                action="drop",
                faults=({"fault": "dropped_will"},),
            )
        ]

    def _return(self, t: int, k: int, kind: str) -> list[Send]:
        self._state[k].away = False
        station = self.ids[k]
        sends = []
        if kind == "dropped_will":
            sends.append(Send(t, station, wire.topic(station, "status"), action="connect"))
        self._state[k].drained = t if self.outbox_max[k] else None
        return [*sends, *self.birth(t, k), *self._flush(t, k, kind)]

    def _flush(self, t: int, k: int, kind: str | None = None) -> list[Send]:
        """The station's backlog as arrays within the contract's limits: at most
        wire.MAX_BATCH observations and wire.MAX_MESSAGE_BYTES bytes each (500 full readings
        are about 120 kB, so the byte limit is the one that bites)."""
        backlog, self._state[k].backlog = self._state[k].backlog, []
        station = self.ids[k]
        marks = ({"fault": kind, "backlog": True},) if kind else ()
        sends: list[Send] = []
        chunk: list[dict[str, Any]] = []
        size = 2  # the array's brackets
        for obs in backlog:
            more = len(wire.encode(obs)) + 2  # ", " between elements
            if chunk and (len(chunk) == wire.MAX_BATCH or size + more > wire.MAX_MESSAGE_BYTES):
                sends.append(
                    Send(t, station, wire.topic(station, "obs"), wire.encode(chunk), faults=marks)
                )
                chunk, size = [], 2
            chunk.append(obs)
            size += more
        if chunk:
            sends.append(
                Send(t, station, wire.topic(station, "obs"), wire.encode(chunk), faults=marks)
            )
        return sends

    def _observe(
        self, k: int, t: int, obs: dict[str, Any], done: list[dict[str, Any]]
    ) -> list[Send]:
        """One reading: kept for later (away, backfill) or sent now, with message faults."""
        state = self._state[k]
        if state.away or self.batch:
            state.backlog.append(obs)
            if state.away and self.outbox_max[k] and len(state.backlog) > self.outbox_max[k]:
                del state.backlog[0]  # a full outbox drops its oldest reading
            return []
        station = self.ids[k]
        drained = []
        if state.drained is not None and t > state.drained:
            state.drained = None
            drained.append(self._status(t, k))
        topic, payload = wire.topic(station, "obs"), wire.encode(obs)
        marks = list(done)
        for fault, hit in self.faults:
            if not hit[k] or fault.kind not in ("malformed", "wrong_topic", "duplicates"):
                continue
            if not fault.active(np.array(t - self.start)):
                continue
            channel = faults.CH_SHARE + 10 * faults.KINDS.index(fault.kind)
            if float(noise.uniform(self.seed, channel, k, t)) >= fault.share:
                continue
            variant = float(noise.uniform(self.seed, channel + 1, k, t))
            if fault.kind == "malformed":
                name = _MALFORMED[int(variant * len(_MALFORMED))]
                payload = _malform(name, payload)
                marks.append({"fault": "malformed", "variant": name})
            elif fault.kind == "wrong_topic":
                name = _WRONG_TOPIC[int(variant * len(_WRONG_TOPIC))]
                topic = _wrong_topic(name, station)
                marks.append({"fault": "wrong_topic", "variant": name})
        first = Send(t, station, topic, payload, faults=tuple(marks))
        sends = [*drained, first]
        for fault, hit in self.faults:
            if fault.kind == "duplicates" and hit[k] and fault.active(np.array(t - self.start)):
                channel = faults.CH_SHARE + 10 * faults.KINDS.index("duplicates")
                if float(noise.uniform(self.seed, channel, k, t)) < fault.share:
                    sends.append(
                        Send(
                            t,
                            station,
                            topic,
                            payload,
                            faults=(*first.faults, {"fault": "duplicate"}),
                        )
                    )
        return sends


def _malform(variant: str, payload: bytes) -> bytes:
    if variant == "truncated":
        return payload[: len(payload) // 2]
    if variant == "not_utf8":
        return b"\xff\xfe" + payload[1:]
    if variant == "not_object":
        return json.dumps(payload.decode()).encode()
    return b""


def _wrong_topic(variant: str, station: str) -> str:
    if variant == "unknown_kind":
        return f"{wire.TOPIC_PREFIX}{station}/observation"
    if variant == "upper_case_id":
        return f"{wire.TOPIC_PREFIX}{station.upper()}/obs"
    return f"{wire.TOPIC_PREFIX}{station}/obs/extra"
