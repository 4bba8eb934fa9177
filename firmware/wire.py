# The wire contract's shared facts (version 1): topics, station ids, fields and their ranges, and
# the encoding a station uses. Runs unchanged under MicroPython and CPython: the firmware, the
# simulators and the gateway's decoder (ingest/domain/contract.py) all read these tables, so a field
# is named and bounded in one place. See docs/protocol.md.
import json

VERSION = 1
TOPIC_PREFIX = "classnet/v1/"
KINDS = ("obs", "status", "meta")

MAX_MESSAGE_BYTES = 64 * 1024
MAX_BATCH = 500
TS_MIN = 1577836800  # 2020-01-01T00:00:00Z
TS_MAX_AHEAD_S = 600  # a station clock may run up to 10 min ahead of the gateway's
SEQ_MAX = 2**31

# field: (low, high, unit). Physically plausible ranges; a value outside is dropped, not clamped.
FIELDS = {
    "temp_c": (-60.0, 60.0, "°C"),
    "rh_pct": (0.0, 100.0, "%"),
    "pressure_hpa": (300.0, 1100.0, "hPa"),
    "wind_speed_ms": (0.0, 75.0, "m/s"),
    "wind_gust_ms": (0.0, 100.0, "m/s"),
    "wind_dir_deg": (0.0, 360.0, "°"),
    "rain_mm": (0.0, 500.0, "mm"),
    "light_lux": (0.0, 200000.0, "lx"),
    "uv_index": (0.0, 20.0, ""),
    "battery_v": (0.0, 30.0, "V"),
    "rssi_dbm": (-120.0, 0.0, "dBm"),
    "co2_ppm": (0.0, 10000.0, "ppm"),
    "pm2_5_ugm3": (0.0, 2000.0, "µg/m³"),
    "pm10_ugm3": (0.0, 2000.0, "µg/m³"),
}
FIELD_NAMES = tuple(FIELDS)

# Optional in a `status` (a v1 gateway that predates them ignores them as unknown fields): how
# many readings wait in the station's outbox, and how many it keeps before it drops the oldest.
OUTBOX = "outbox"
OUTBOX_MAX = "outbox_max"
COUNT_MAX = 2**31

_INF = float("inf")
_ID_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_REST = _ID_FIRST + "-"


def is_station_id(text):
    """True if `text` matches ^[a-z]{2}-[a-z0-9][a-z0-9-]{1,46}$ (written out: MicroPython's re
    has no {m,n} repetition)."""
    if not isinstance(text, str) or not 5 <= len(text) <= 50:
        return False
    if not ("a" <= text[0] <= "z" and "a" <= text[1] <= "z" and text[2] == "-"):
        return False
    if text[3] not in _ID_FIRST:
        return False
    return all(ch in _ID_REST for ch in text[4:])


def topic(station, kind):
    """The topic a station publishes `kind` ("obs", "status" or "meta") on."""
    if not is_station_id(station):
        raise ValueError("station id %r does not match the contract (e.g. fi-tampere-01)" % station)
    if kind not in KINDS:
        raise ValueError("kind %r is not one of %s" % (kind, ", ".join(KINDS)))
    return TOPIC_PREFIX + station + "/" + kind


def observation(ts, seq=None, **values):
    """One observation object as a dict, fields in contract order; unknown names are refused so a
    station cannot send what the gateway would drop. None means "sensor present, reading failed".
    """
    obs = {}
    if ts is not None:
        obs["ts"] = ts
    if seq is not None:
        obs["seq"] = seq
    for name in values:
        if name not in FIELDS:
            raise ValueError("%r is not a wire-contract field" % name)
    for name in FIELD_NAMES:
        if name in values:
            value = values[name]
            # NaN and infinities are not JSON (MicroPython would write a bare `nan`, which no
            # parser accepts and which would lose the whole message): a failed reading is null.
            if value is not None and (value != value or value in (_INF, -_INF)):
                value = None
            obs[name] = value
    return obs


def encode(observations):
    """The `obs` message body for one observation (a dict) or a backlog (a list of at most
    MAX_BATCH dicts), as UTF-8 bytes."""
    if isinstance(observations, list) and len(observations) > MAX_BATCH:
        raise ValueError(
            "%d observations in one message; at most %d" % (len(observations), MAX_BATCH)
        )
    return json.dumps(observations).encode()


def line(obs):
    """One observation as compact JSON bytes without a newline: a line of the station's outbox,
    and the body of a single-observation message."""
    return json.dumps(obs, separators=(",", ":")).encode()


def batch_parts(lines):
    """The `obs` body for already-encoded observation lines (oldest first), as pieces to send one
    after another: the single object for one line, else a JSON array, built without decoding
    the lines again. A board sends the pieces straight from the outbox's lines, so a backlog
    batch (~6 KB) never needs one buffer of its size: a board's heap after days of running may
    not hold one in a single free block (bench/firmware_heap.py found such a MemoryError)."""
    if not lines or len(lines) > MAX_BATCH:
        raise ValueError("%d observations in one message; 1 to %d" % (len(lines), MAX_BATCH))
    if len(lines) == 1:
        return [lines[0]]
    parts = [b"["]
    for item in lines:
        parts.append(item)
        parts.append(b",")
    parts[-1] = b"]"
    return parts


def batch(lines):
    """`batch_parts` as one body (for a computer: the serial bridge)."""
    return b"".join(batch_parts(lines))
