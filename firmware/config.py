# The station's config.json: read, checked, defaults filled. Pure logic, shared by the firmware
# (at boot) and `classnet flash` (before uploading), so a mistake is caught on the teacher's PC
# with a sentence that says which key to fix, not on the board.
import json

from firmware import wire
from firmware.sensors import DRIVERS

# The station picks its uplink from this key: "wifi" (MQTT over Wi-Fi) or "serial" (USB serial to
# `classnet bridge` on a school computer, for stations that cannot join the Wi-Fi).
TRANSPORTS = ("wifi", "serial")

DEFAULTS = {
    "transport": "wifi",
    "interval_s": 300,
    "deep_sleep": False,
    "watchdog_s": 60,
    # retry_s: after an unanswered query. resync_s: after an answer.
    "ntp": {"host": "pool.ntp.org", "port": 123, "resync_s": 6 * 3600, "retry_s": 60},
    # 2304 lines: 8 days at a 5-minute interval (the issue asks for at least 7), about 450 KB.
    "buffer": {"dir": "outbox", "capacity": 2304, "segment": 144, "batch": 24},
    # Readings taken before the first NTP answer wait in RAM for the clock, at most this many and
    # this long; then they (and later ones, until the clock is known) go without ts.
    "hold": {"max": 24, "max_s": 3600},
    "meta": {},
    "sensors": [],
}
# Sensors that count pin interrupts over the interval; a board in deep sleep counts nothing.
PULSE_COUNTERS = ("rain", "anemometer")
# ca: a file on the board with the DER certificate of the CA that signed the broker's; without
# it a TLS link is encrypted but the broker unchecked (`classnet flash --ca` writes both).
BROKER_DEFAULTS = {
    "port": None,
    "tls": False,
    "ca": None,
    "username": None,
    "password": None,
    "keepalive": 60,
}


class ConfigError(ValueError):
    """Every problem found, joined in the message; `problems` keeps them apart (`classnet flash`
    adds its own and names the teacher's file)."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems) or [message]


def _merge(defaults, doc):
    out = {}
    for key, value in defaults.items():
        given = doc.get(key, value)
        if isinstance(value, dict) and isinstance(given, dict):
            given = _merge(value, given)
        out[key] = given
    for key, value in doc.items():
        if key not in out:
            out[key] = value
    return out


def validate(doc):
    """The config with defaults filled in, or ConfigError listing every problem."""
    if not isinstance(doc, dict):
        raise ConfigError("config.json must hold one JSON object")
    cfg = _merge(DEFAULTS, doc)
    problems = []
    if not wire.is_station_id(cfg.get("station")):
        problems.append(
            "station=%r must be a country code, a dash and a slug, e.g. fi-tampere-hervanta"
            % (cfg.get("station"),)
        )
    if cfg["transport"] not in TRANSPORTS:
        problems.append("transport=%r must be one of %s" % (cfg["transport"], TRANSPORTS))
    if cfg["transport"] == "wifi":
        wifi = cfg.get("wifi")
        if not isinstance(wifi, dict) or not wifi.get("ssid"):
            problems.append('wifi.ssid is missing: "wifi": {"ssid": "...", "password": "..."}')
        broker = cfg.get("broker")
        if not isinstance(broker, dict) or not broker.get("host"):
            problems.append('broker.host is missing: "broker": {"host": "mqtt.example.org"}')
        else:
            broker = _merge(BROKER_DEFAULTS, broker)
            if broker["port"] is None:
                broker["port"] = 8883 if broker["tls"] else 1883
            if not isinstance(broker["port"], int) or not 0 < broker["port"] < 65536:
                problems.append("broker.port=%r must be 1..65535" % (broker["port"],))
            ca = broker["ca"]
            if ca is not None and (not isinstance(ca, str) or not ca or not broker["tls"]):
                problems.append(
                    'broker.ca=%r must name the CA file on the board, with "tls": true' % (ca,)
                )
            cfg["broker"] = broker
    elif cfg["transport"] == "serial":
        # No network of its own: the bridge holds the broker login and sends the time.
        cfg["ntp"]["host"] = None
    interval = cfg["interval_s"]
    if not isinstance(interval, int) or not 1 <= interval <= 86400:
        problems.append("interval_s=%r must be whole seconds, 1..86400" % (interval,))
    buf = cfg["buffer"]
    for key in ("capacity", "segment", "batch"):
        if not isinstance(buf.get(key), int) or buf[key] < 1:
            problems.append("buffer.%s=%r must be a positive whole number" % (key, buf.get(key)))
    if isinstance(buf.get("batch"), int) and buf["batch"] > wire.MAX_BATCH:
        problems.append(
            "buffer.batch=%r is above the contract's %d" % (buf["batch"], wire.MAX_BATCH)
        )
    for section, key in (
        ("ntp", "resync_s"),
        ("ntp", "retry_s"),
        ("hold", "max"),
        ("hold", "max_s"),
    ):
        value = cfg[section].get(key) if isinstance(cfg[section], dict) else None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append("%s.%s=%r must be a positive whole number" % (section, key, value))
    exposure = cfg["meta"].get("exposure", "outdoor") if isinstance(cfg["meta"], dict) else None
    if exposure not in ("outdoor", "indoor"):
        problems.append("meta.exposure=%r must be 'outdoor' or 'indoor'" % (exposure,))
    if not isinstance(cfg["sensors"], list):
        problems.append("sensors must be a list")
    else:
        for i, sensor in enumerate(cfg["sensors"]):
            kind = sensor.get("type") if isinstance(sensor, dict) else None
            if kind not in DRIVERS:
                problems.append(
                    "sensor %d: type=%r is not one of %s"
                    % (i + 1, kind, ", ".join(sorted(DRIVERS)))
                )
            elif kind in ("rain", "anemometer", "vane", "dht22", "ds18b20", "battery") and (
                not isinstance(sensor.get("pin"), int)
            ):
                problems.append('sensor %d (%s) needs a GPIO number: "pin": 27' % (i + 1, kind))
            if cfg["deep_sleep"] and kind in PULSE_COUNTERS:
                problems.append(
                    "deep_sleep: sensor %d (%s) counts pulses only while the station is awake, "
                    "so it would report 0 after every sleep; set deep_sleep false or remove it"
                    % (i + 1, kind)
                )
    if problems:
        raise ConfigError("config.json: " + "; ".join(problems), problems)
    return cfg


def load(path="config.json"):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError:
        raise ConfigError("no %s on the board: run `classnet flash` to write one" % path) from None
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON (%s)" % (path, exc)) from None
    return validate(doc)
