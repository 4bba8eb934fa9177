"""Decoding and validating what stations send, per the wire contract (docs/protocol.md).

Everything that arrives from MQTT, a serial bridge or an import file passes through here once;
downstream code trusts the `Topic`, `Observation` and `StationMeta` values it returns.

The one error this module raises is `ContractError` (a whole message rejected, with its reason).
A bad field or a bad element of a backlog array is not an error: it is dropped, and reported as a
`Problem` beside the good data, so one broken sensor never loses the others.
"""

from __future__ import annotations

import json
import math
import time
import zoneinfo
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from firmware import wire
from ingest.domain import siting as siting_rules
from ingest.domain.siting import Siting

__all__ = [
    "ContractError",
    "DecodedObs",
    "Observation",
    "Problem",
    "Reason",
    "StationMeta",
    "Topic",
    "check_meta",
    "check_value",
    "decode_meta",
    "decode_obs",
    "decode_status",
    "parse_topic",
]


class Reason(StrEnum):
    """Why something was rejected: the label counted in metrics and kept in dead letters."""

    # whole message
    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    NOT_UTF8 = "not_utf8"
    BAD_JSON = "bad_json"
    NOT_OBJECT = "not_object"
    TOO_MANY = "too_many_observations"
    STATION_MISMATCH = "station_mismatch"
    BAD_STATE = "bad_state"
    # a message the decoder itself failed on (a bug): kept as a dead letter, the batch goes on
    DECODE_ERROR = "decode_error"
    # one element of a backlog array
    BAD_TS = "bad_ts"
    BAD_ELEMENT = "bad_element"
    # one field
    OUT_OF_RANGE = "out_of_range"
    NOT_FINITE = "not_finite"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_FIELD = "unknown_field"
    BAD_META = "bad_meta"
    # a valid observation the store refused for good (beyond its retention policy, a field type
    # conflict): dead-lettered with the store's words, the rest of its batch stored
    STORE_REFUSED = "store_refused"


class ContractError(ValueError):
    """A whole message rejected; `str()` is a sentence naming the station and topic at fault."""

    def __init__(self, reason: Reason, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.reason = reason
        self.where = where
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Topic:
    """A checked `classnet/v1/<station>/<kind>` topic."""

    station: str
    kind: str

    def __str__(self) -> str:
        return f"{wire.TOPIC_PREFIX}{self.station}/{self.kind}"

    @property
    def where(self) -> str:
        return f"station {self.station} ({self})"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something dropped while the rest of the message was kept."""

    reason: Reason
    detail: str
    field: str | None = None
    index: int | None = None  # element of a backlog array, when the message was one


@dataclass(slots=True)
class Observation:
    station: str
    ts: float  # UTC Unix seconds
    values: dict[str, float | None]  # contract fields only; None = sensor present, reading failed
    seq: int | None = None
    stamped: bool = False  # True when the station sent no ts and the gateway stamped it


@dataclass(slots=True)
class DecodedObs:
    topic: Topic
    observations: list[Observation]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StationMeta:
    station: str
    name: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    elevation_m: float | None = None
    timezone: str | None = None
    sensors: tuple[str, ...] = ()
    firmware: str | None = None
    exposure: str | None = None
    siting: Siting | None = None
    # from a `status` only: readings waiting in the station's outbox, and its capacity
    outbox: int | None = None
    outbox_max: int | None = None


def parse_topic(topic: str) -> Topic:
    """Check a topic against the contract: `classnet/v1/<station>/(obs|status|meta)`."""
    parts = topic.split("/")
    if (
        len(parts) != 4
        or f"{parts[0]}/{parts[1]}/" != wire.TOPIC_PREFIX
        or parts[3] not in wire.KINDS
    ):
        raise ContractError(
            Reason.BAD_TOPIC,
            f"topic {topic[:120]!r}",
            "not classnet/v1/<station>/obs, /status or /meta",
        )
    if not wire.is_station_id(parts[2]):
        raise ContractError(
            Reason.BAD_TOPIC,
            f"topic {topic[:120]!r}",
            f"station id {parts[2][:60]!r} is not a country code, a dash and a slug "
            "(e.g. fi-tampere-hervanta)",
        )
    return Topic(parts[2], parts[3])


def _nan_marker(name: str) -> float:
    # NaN and Infinity are not JSON, yet some encoders write them. They become a NaN marker so
    # that only the field carrying one is dropped (not_finite), not the whole message.
    return math.nan


# One decoder for all messages: json.loads(..., parse_constant=) would build a new one each call.
_JSON = json.JSONDecoder(parse_constant=_nan_marker)


def _load_json(topic: Topic, payload: bytes) -> Any:
    if len(payload) > wire.MAX_MESSAGE_BYTES:
        raise ContractError(
            Reason.TOO_LARGE,
            topic.where,
            f"message of {len(payload)} bytes; at most {wire.MAX_MESSAGE_BYTES}",
        )
    if not payload.strip():
        raise ContractError(Reason.EMPTY, topic.where, "empty message")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(
            Reason.NOT_UTF8, topic.where, f"not UTF-8 at byte {exc.start}"
        ) from None
    try:
        return _JSON.decode(text)
    except RecursionError:
        raise ContractError(Reason.BAD_JSON, topic.where, "JSON nested too deeply") from None
    except ValueError as exc:
        raise ContractError(Reason.BAD_JSON, topic.where, f"not JSON ({exc})") from None


def check_value(name: str, value: Any) -> tuple[float | None, Reason | None, str]:
    """The stored value of one field, or the reason it is dropped and the sentence to say so."""
    if value is None:
        return None, None, ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, Reason.WRONG_TYPE, f"{name}={_short(value)} is not a number"
    low, high, unit = wire.FIELDS[name]
    if isinstance(value, float) and not math.isfinite(value):
        return None, Reason.NOT_FINITE, f"{name}={value} is not a finite number"
    if not low <= value <= high:
        return (
            None,
            Reason.OUT_OF_RANGE,
            f"{name}={_short(value)} outside {low:g}..{high:g} {unit}".rstrip(),
        )
    return float(value), None, ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decode_one(
    topic: Topic, item: Any, index: int | None, now: float, problems: list[Problem]
) -> Observation | None:
    at = topic.where if index is None else f"{topic.where} [{index}]"
    if not isinstance(item, dict):
        problems.append(
            Problem(
                Reason.BAD_ELEMENT,
                f"{at}: {_short(item)} is not an observation object",
                index=index,
            )
        )
        return None
    body_station = item.get("station")
    if body_station is not None and body_station != topic.station:
        raise ContractError(
            Reason.STATION_MISMATCH,
            topic.where,
            f"body says station {_short(body_station)}; a station publishes only its own readings",
        )
    stamped = False
    ts = item.get("ts")
    if ts is None:
        ts, stamped = now, True
    elif isinstance(ts, bool) or not isinstance(ts, int | float) or not _finite(ts):
        problems.append(
            Problem(
                Reason.BAD_TS,
                f"{at}: ts={_short(ts)} is not Unix seconds; observation dropped",
                "ts",
                index,
            )
        )
        return None
    elif not wire.TS_MIN <= ts <= now + wire.TS_MAX_AHEAD_S:
        problems.append(
            Problem(
                Reason.BAD_TS,
                f"{at}: ts={_short(ts)} outside 2020-01-01 .. now+10 min (station clock not set?); "
                "observation dropped",
                "ts",
                index,
            )
        )
        return None
    seq = item.get("seq")
    if seq is not None and (
        isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= wire.SEQ_MAX
    ):
        problems.append(
            Problem(
                Reason.WRONG_TYPE,
                f"{at}: seq={_short(seq)} is not a counter 0..2^31; field dropped",
                "seq",
                index,
            )
        )
        seq = None
    values: dict[str, float | None] = {}
    for name, value in item.items():
        bounds = _BOUNDS.get(name)
        if bounds is not None:
            kind = type(value)
            # Fast path for the common case; NaN fails both comparisons and takes the slow one.
            if (kind is float or kind is int) and bounds[0] <= value <= bounds[1]:
                values[name] = float(value)
                continue
            checked, reason, why = check_value(name, value)
            if reason is None:
                values[name] = checked
            else:
                problems.append(Problem(reason, f"{at}: {why}; field dropped", name, index))
        elif name not in _ENVELOPE:
            problems.append(
                Problem(
                    Reason.UNKNOWN_FIELD,
                    f"{at}: unknown field {name[:60]!r} ignored",
                    name[:60],
                    index,
                )
            )
    return Observation(topic.station, float(ts), values, seq, stamped)


def _finite(value: int | float) -> bool:
    """math.isfinite, but False for an integer too large for a float (10**400 is valid JSON, and
    math.isfinite raises OverflowError on it: found by tests/fuzz)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


_ENVELOPE = frozenset(("ts", "seq", "station"))
_BOUNDS = {name: (low, high) for name, (low, high, _) in wire.FIELDS.items()}


def decode_obs(topic: Topic | str, payload: bytes, now: float | None = None) -> DecodedObs:
    """Decode an `obs` message: one observation object or an array of up to 500.

    Raises ContractError when the whole message must be rejected (bad topic, not JSON, too large,
    station mismatch). Bad fields and bad array elements come back as `problems`.

    >>> d = decode_obs("classnet/v1/fi-tampere-01/obs", b'{"ts": 1763884800, "temp_c": 71.2}')
    >>> d.observations[0].values
    {}
    >>> print(d.problems[0].detail)  # doctest: +NORMALIZE_WHITESPACE
    station fi-tampere-01 (classnet/v1/fi-tampere-01/obs): temp_c=71.2 outside -60..60 °C;
    field dropped
    """
    if isinstance(topic, str):
        topic = parse_topic(topic)
    if topic.kind != "obs":
        raise ContractError(Reason.BAD_TOPIC, topic.where, "not an obs topic")
    now = time.time() if now is None else now
    doc = _load_json(topic, payload)
    problems: list[Problem] = []
    observations: list[Observation] = []
    if isinstance(doc, dict):
        obs = _decode_one(topic, doc, None, now, problems)
        if obs is not None:
            observations.append(obs)
    elif isinstance(doc, list):
        if not doc:
            raise ContractError(Reason.EMPTY, topic.where, "empty observation array")
        if len(doc) > wire.MAX_BATCH:
            raise ContractError(
                Reason.TOO_MANY,
                topic.where,
                f"{len(doc)} observations in one message; at most {wire.MAX_BATCH}",
            )
        for index, item in enumerate(doc):
            obs = _decode_one(topic, item, index, now, problems)
            if obs is not None:
                observations.append(obs)
    else:
        raise ContractError(
            Reason.NOT_OBJECT,
            topic.where,
            f"body is {type(doc).__name__}, not an observation object or array",
        )
    return DecodedObs(topic, observations, problems)


_EXPOSURES = ("outdoor", "indoor")


def _text(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


# Optional status fields and their lowest valid value (the highest is wire.COUNT_MAX).
_OUTBOX_LOW = {wire.OUTBOX: 0, wire.OUTBOX_MAX: 1}


def check_meta(
    station: str, doc: dict[str, Any], where: str, status: bool = False
) -> tuple[StationMeta, list[Problem]]:
    """Validate station metadata (from a `meta`/`status` message or stations.toml); `status`:
    the document is a `status` message, which may also carry the outbox level.

    Bad entries are dropped and reported; `where` names the source in each sentence.
    """
    problems: list[Problem] = []
    out: dict[str, Any] = {}

    def drop(name: str, why: str) -> None:
        problems.append(Problem(Reason.BAD_META, f"{where}: {name} {why}", name))

    for name, value in doc.items():
        if name == "name":
            if _text(value, 200) is None:
                drop(name, "must be text of 1..200 characters")
            else:
                out[name] = value
        elif name == "country":
            if not isinstance(value, str) or value.lower() != station[:2]:
                drop(
                    name,
                    f"={_short(value)} disagrees with the station id ({station[:2].upper()})",
                )
            else:
                out[name] = value.upper()
        elif name in ("lat", "lon", "elevation_m"):
            low, high = {"lat": (-90, 90), "lon": (-180, 180), "elevation_m": (-500, 9000)}[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                drop(name, f"={_short(value)} outside {low}..{high}")
            else:
                out[name] = float(value)
        elif name == "timezone":
            if not _is_timezone(value):
                drop(
                    name,
                    f"={_short(value)} is not an IANA time zone (e.g. 'Europe/Helsinki')",
                )
            else:
                out[name] = value
        elif name == "sensors":
            if not isinstance(value, list) or not all(_text(s, 40) for s in value):
                drop(name, "must be a list of sensor names")
            else:
                out[name] = tuple(value)
        elif name == "firmware":
            if _text(value, 40) is None:
                drop(name, "must be a version string")
            else:
                out[name] = value
        elif name == "exposure":
            if value not in _EXPOSURES:
                drop(name, f"={_short(value)} must be 'outdoor' or 'indoor'")
            else:
                out[name] = value
        elif name == siting_rules.KEY:
            # The rules of a [<station>.siting] table in stations.toml, sentence for sentence.
            found, errors = siting_rules.parse_siting(value, where)
            problems.extend(Problem(Reason.BAD_META, error, name) for error in errors)
            if found != Siting():
                out[name] = found
        elif status and name in _OUTBOX_LOW:
            low = _OUTBOX_LOW[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not low <= value <= wire.COUNT_MAX
            ):
                drop(name, f"must be a whole number {low}..{wire.COUNT_MAX}, not {_short(value)}")
            else:
                out[name] = value
        elif name not in ("state", "station"):
            problems.append(
                Problem(
                    Reason.UNKNOWN_FIELD,
                    f"{where}: unknown field {str(name)[:60]!r} ignored",
                    str(name)[:60],
                )
            )
    return StationMeta(station, **out), problems


def _is_timezone(value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 64:
        return False
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _load_object(topic: Topic, payload: bytes) -> dict[str, Any]:
    doc = _load_json(topic, payload)
    if not isinstance(doc, dict):
        raise ContractError(
            Reason.NOT_OBJECT, topic.where, f"body is {type(doc).__name__}, not an object"
        )
    body_station = doc.get("station")
    if body_station is not None and body_station != topic.station:
        raise ContractError(
            Reason.STATION_MISMATCH, topic.where, f"body says station {_short(body_station)}"
        )
    return doc


def decode_meta(topic: Topic | str, payload: bytes) -> tuple[StationMeta, list[Problem]]:
    """Decode a retained `meta` message."""
    if isinstance(topic, str):
        topic = parse_topic(topic)
    return check_meta(topic.station, _load_object(topic, payload), topic.where)


def decode_status(topic: Topic | str, payload: bytes) -> tuple[str, StationMeta, list[Problem]]:
    """Decode a retained `status` message: its state ("online"/"offline") and any metadata the
    station's birth message carried."""
    if isinstance(topic, str):
        topic = parse_topic(topic)
    doc = _load_object(topic, payload)
    state = doc.get("state")
    if state not in ("online", "offline"):
        raise ContractError(
            Reason.BAD_STATE, topic.where, f"state={_short(state)}; must be 'online' or 'offline'"
        )
    meta, problems = check_meta(topic.station, doc, topic.where, status=True)
    return state, meta, problems
