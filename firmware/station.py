# The station's main loop: read the sensors every interval, keep each observation in the flash
# outbox, and send the outbox to the broker whenever it can, oldest first, in batches.
#
# Every hardware call goes through the `board` object (firmware/board.py on an ESP32 or a Pico W,
# tests/firmware/emu/board.py under the unix port). Lines starting "error wifi:", "error broker:"
# and "station <id> is online" are read by `classnet flash` to tell the teacher what happened.
import gc
import json

from firmware import clock, config, wire
from firmware.mqtt import CertificateError, MQTTClient, MQTTError
from firmware.outbox import Outbox
from firmware.sensors import driver_class, problem

VERSION = "1.0.0"
OFFLINE = b'{"state":"offline"}'
DRAIN_MARGIN_MS = 3000  # stop sending this long before the next reading is due
BACKOFF_MAX_MS = 60000
NTP_TIMEOUT_MS = 2000


def log(*parts):
    print(*parts)


class MqttUplink:
    """The Wi-Fi + MQTT way out. firmware/serial_uplink.py (USB serial to `classnet bridge`)
    offers the same methods."""

    def __init__(self, board, cfg, meta):
        self.board = board
        self.cfg = cfg
        self.meta = meta
        b = cfg["broker"]
        self.where = "%s:%d" % (b["host"], b["port"])
        self.status_topic = wire.topic(cfg["station"], "status")
        self.obs_topic = wire.topic(cfg["station"], "obs")
        self.client = MQTTClient(
            cfg["station"],
            b["host"],
            b["port"],
            b["username"],
            b["password"],
            keepalive=b["keepalive"],
            tls=b["tls"],
        )
        self.client.set_last_will(self.status_topic, OFFLINE, retain=True, qos=1)
        self.ping_ms = b["keepalive"] * 500
        self.ca = b["ca"]
        if b["tls"] and not self.ca:
            log(
                "warning broker: TLS without broker.ca: the link to %s is encrypted, but the "
                "station cannot tell that broker from an impostor; give `classnet flash --ca` "
                "the CA certificate that signed the broker's" % self.where
            )

    def network_up(self):
        if self.board.wifi_connected():
            return True
        wifi = self.cfg["wifi"]
        try:
            self.board.wifi_connect(wifi["ssid"], wifi.get("password") or "", 20000)
        except OSError as exc:
            log("error wifi: cannot join %r: %s" % (wifi["ssid"], exc))
            return False
        return True

    def _cadata(self):
        if self.ca and self.client.cadata is None:
            try:
                with open(self.ca, "rb") as f:
                    self.client.cadata = f.read()
            except OSError:
                raise CertificateError("there is no %s on the board" % self.ca) from None

    def connect(self, status):
        try:
            self._cadata()
            self.client.connect()
            self.client.publish(self.status_topic, status, retain=True, qos=1)
            self.client.publish(
                wire.topic(self.cfg["station"], "meta"), self.meta, retain=True, qos=1
            )
        except CertificateError as exc:
            self.close()
            raise OSError(
                "the TLS certificate check of the broker at %s failed: %s; broker.ca (%s) must be "
                "the CA that signed the broker's certificate for %s (`classnet flash --ca FILE`)"
                % (self.where, exc, self.ca, self.client.host)
            ) from None
        except (OSError, MQTTError) as exc:
            self.close()
            raise OSError(
                "cannot reach the broker at %s: %s" % (self.where, _reason(exc))
            ) from None

    def send_obs(self, lines):
        """Publish encoded observation lines (oldest first) as one message; return on PUBACK."""
        self.client.publish(self.obs_topic, wire.batch_parts(lines), qos=1)

    def send_status(self, status):
        """Publish the status again (retained, replacing the birth); return on PUBACK."""
        self.client.publish(self.status_topic, status, retain=True, qos=1)

    def ping(self):
        self.client.ping()

    def close(self):
        self.client.close()

    def sleep(self):
        # Deep sleep is a planned absence: DISCONNECT makes the broker drop the last will, so the
        # station is not shown offline between wakes. A dead battery still shows, by the age of
        # the last reading (late, then offline: dashboard/data.py).
        self.client.disconnect()


def _reason(exc):
    # MicroPython's OSError carries only an errno number; name the usual ones.
    code = exc.args[0] if exc.args else None
    names = {110: "timed out", 111: "connection refused", 113: "no route to host", 116: "timed out"}
    if isinstance(code, int) and code in names:
        return names[code]
    return str(exc) or exc.__class__.__name__


class Station:
    def __init__(self, board, cfg, max_readings=None):
        self.board = board
        self.cfg = cfg
        self.id = cfg["station"]
        self.max_readings = max_readings
        buf = cfg["buffer"]
        self.outbox = Outbox(buf["dir"], buf["capacity"], buf["segment"])
        self.capacity = buf["capacity"]
        self.batch = buf["batch"]
        self.clock = clock.Clock(board.time)
        self.ntp_at = None  # ticks of the next NTP attempt (None: now)
        self.sensors = []  # [class, config, driver or None]
        for s in cfg["sensors"]:
            cls = driver_class(s["type"])
            try:  # now, so counters (rain, wind) start with the first interval
                drv = cls(board, s)
            except Exception as exc:
                why = problem(cls, s, exc)
                log("sensor %s: %s (sending null, retrying each reading)" % (s["type"], why))
                drv = None
            self.sensors.append([cls, s, drv])
        self.seq = 0
        self.held = []  # (local time, observation) taken before the clock was known
        self.hold_expired = False  # waited the hold limit for a clock that never came
        # The stamp of the latest reading kept, from flash after a restart: a board back within
        # the second must not give its first reading the last one's second.
        self.last_ts = _stamp(self.outbox.newest)
        meta = self._birth()
        if cfg["transport"] == "serial":
            from firmware.serial_uplink import SerialUplink  # only a serial station loads it

            self.uplink = SerialUplink(board, cfg, meta, self.clock)
        else:
            self.uplink = MqttUplink(board, cfg, meta)
        self.reported = None  # the outbox level's mark in the status last sent
        self.connected = False
        self.retry_at = None
        self.backoff = 1000
        self.last_io = board.ticks_ms()
        self.online_said = False
        self.readings = 0
        self.wdt = None
        self.next_read = None  # ticks of the next reading, from start()

    def _birth(self):
        """The `meta` body; keeps the start of the `status` body, whose end (the outbox level)
        changes as readings wait and leave."""
        meta = {"firmware": VERSION, "sensors": [s["type"] for s in self.cfg["sensors"]]}
        for key, value in self.cfg["meta"].items():
            meta[key] = value
        meta.setdefault("exposure", "outdoor")
        status = {"state": "online"}
        for key in meta:
            if key != "siting":  # it does not change: the retained meta carries it once
                status[key] = meta[key]
        self.status_head = json.dumps(status).encode()[:-1]  # without the closing brace
        self.status_tail = ', "%s": %%d, "%s": %d}' % (wire.OUTBOX, wire.OUTBOX_MAX, self.capacity)
        return json.dumps(meta).encode()

    def _status(self):
        """The status body with the outbox level now; remembers the level's mark."""
        self.reported = self._level_mark()
        return self.status_head + (self.status_tail % self.outbox.waiting).encode()

    def _level_mark(self):
        # The quarter of the capacity the outbox is in: 0 under a quarter ... 4 full (dropping
        # the oldest).
        return min(4, 4 * self.outbox.waiting // self.capacity)

    def _level_changed(self):
        # The status goes again when the level moves into another quarter, and when a backlog
        # reported at a quarter or more has all gone: a few messages as an outage's backlog
        # drains (a batch a publish), never one per reading. A level under a quarter is otherwise
        # said only at connect: a station waking from deep sleep with its one new reading would
        # send its status twice per wake.
        mark = self._level_mark()
        return mark != self.reported and (mark > 0 or self.outbox.waiting == 0)

    # -- readings

    def _read_sensors(self):
        values = {}
        for entry in self.sensors:
            cls, scfg, drv = entry
            try:
                if drv is None:
                    drv = entry[2] = cls(self.board, scfg)
                got = drv.read()
            except Exception as exc:  # one broken sensor never stops the station
                log("sensor %s: %s (sending null)" % (scfg["type"], problem(cls, scfg, exc)))
                got = {}
                for name in cls.FIELDS:
                    got[name] = None
            for name in got:
                if name not in values:  # the first sensor listed wins a shared field
                    values[name] = got[name]
        if self.cfg["transport"] == "wifi":
            values["rssi_dbm"] = self.board.rssi()
        return values

    def take_reading(self):
        obs = wire.observation(None, self.seq, **self._read_sensors())
        self.seq += 1
        self.readings += 1
        if self.clock.synced:
            # Readings held for the clock go first: with the serial transport the time comes
            # from the bridge during connect(), not from _sync_time.
            self._release_held(force=False)
            self._keep(self.clock.now(), obs)
        elif self.hold_expired:
            # Holding longer would only make the gateway's arrival stamp later.
            self._keep(None, obs)
        else:
            self.held.append((self.board.time(), obs))
            self._release_held(force=False)

    def _keep(self, ts, obs):
        if ts is not None:
            ts = self.last_ts = clock.after(ts, self.last_ts, self.cfg["interval_s"])
            obs["ts"] = ts
        self.outbox.append(wire.line(obs))

    def _release_held(self, force):
        # Readings taken before the first NTP answer wait (in RAM, bounded) to be stamped; when
        # the clock stays unknown too long they all go without ts and the gateway stamps them;
        # until the clock is known, later readings then go at once (take_reading).
        hold = self.cfg["hold"]
        while self.held:
            local, obs = self.held[0]
            if self.clock.synced:
                self._keep(self.clock.utc(local), obs)
            elif force or self.hold_expired:
                self._keep(None, obs)
            elif len(self.held) > hold["max"] or self.board.time() - local > hold["max_s"]:
                self.hold_expired = True
                log("ntp: still no time; sending %d held readings without ts" % len(self.held))
                continue
            else:
                return
            self.held.pop(0)

    # -- network

    def _sync_time(self, now, deadline):
        b = self.board
        ntp = self.cfg["ntp"]
        if not ntp.get("host") or (self.ntp_at is not None and b.ticks_diff(now, self.ntp_at) < 0):
            return
        # A silent server costs the whole timeout: never let it push back the next reading
        # (with a short interval it would skip one). Too close to it: ask after that reading.
        wait_ms = min(NTP_TIMEOUT_MS, b.ticks_diff(deadline, now) - self._margin_ms())
        if wait_ms < 100:
            return
        try:
            self.clock.set(clock.query(ntp["host"], ntp["port"], wait_ms / 1000))
            self.ntp_at = b.ticks_add(now, ntp["resync_s"] * 1000)
            self._release_held(force=False)
        except (OSError, ValueError) as exc:
            log(
                "ntp: no time from %s: %s (retrying in %d s)"
                % (ntp["host"], _reason(exc), ntp["retry_s"])
            )
            self.ntp_at = b.ticks_add(now, ntp["retry_s"] * 1000)

    def _margin_ms(self):
        return min(DRAIN_MARGIN_MS, self.cfg["interval_s"] * 250)

    def _disconnect(self, why):
        log("error broker: %s" % why)
        self.uplink.close()
        self.connected = False
        self.retry_at = self.board.ticks_add(self.board.ticks_ms(), self.backoff)
        self.backoff = min(self.backoff * 2, BACKOFF_MAX_MS)

    def service_network(self, deadline):
        b = self.board
        now = b.ticks_ms()
        if self.retry_at is not None and b.ticks_diff(now, self.retry_at) < 0:
            return
        if not self.uplink.network_up():
            self.retry_at = b.ticks_add(now, self.backoff)
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_MS)
            self.connected = False
            return
        self._sync_time(now, deadline)
        if not self.connected:
            try:
                self.uplink.connect(self._status())
            except OSError as exc:
                self._disconnect(str(exc))
                return
            self.connected = True
            self.backoff = 1000
            self.last_io = b.ticks_ms()
            log("broker: connected to %s" % self.uplink.where)
        self.drain(deadline)
        if self.connected and b.ticks_diff(b.ticks_ms(), self.last_io) > self.uplink.ping_ms:
            self._io(self.uplink.ping)

    def _io(self, send, *args):
        """One exchange with the broker (or bridge); False when the link was lost by it."""
        try:
            send(*args)
        except (OSError, MQTTError) as exc:
            self._disconnect("lost the connection to %s: %s" % (self.uplink.where, _reason(exc)))
            return False
        self.last_io = self.board.ticks_ms()
        return True

    def drain(self, deadline):
        """Send the outbox oldest first, one batch at a time, until it is empty or the next
        reading is close: a week of backlog never delays a reading."""
        b = self.board
        margin = self._margin_ms()
        while self.connected and b.ticks_diff(deadline, b.ticks_ms()) > margin:
            lines, pos = self.outbox.peek(self.batch, 6144)
            if pos is None:
                return
            if lines and not self._io(self.uplink.send_obs, lines):
                return
            self.outbox.commit(pos)
            self.wdt.feed()
            if self._level_changed() and not self._io(self.uplink.send_status, self._status()):
                return
            if lines and not self.online_said:
                self.online_said = True
                log("station %s is online" % self.id)

    # -- the loop

    def run(self):
        self.start()
        while self.step():
            pass

    def start(self):
        """Start the watchdog and the reading schedule. run() calls it, then step() forever; so
        does a harness that must return to its host between passes (bench/firmware_heap.py on
        MicroPython's WebAssembly port, which collects garbage only then)."""
        self.wdt = self.board.watchdog(self.cfg["watchdog_s"] * 1000)
        self.next_read = self.board.ticks_ms()
        log("station %s: firmware %s, every %d s" % (self.id, VERSION, self.cfg["interval_s"]))

    def step(self):
        """One pass of the main loop: sensor ticks, the reading when due, the network, then sleep
        until the next thing to do (at most 1 s). False once `max_readings` are taken."""
        b = self.board
        cfg = self.cfg
        interval_ms = cfg["interval_s"] * 1000
        self.wdt.feed()
        now = b.ticks_ms()
        for entry in self.sensors:
            if entry[2] is not None and hasattr(entry[2], "tick"):
                entry[2].tick(now)
        if b.ticks_diff(now, self.next_read) >= 0:
            if self.max_readings is not None and self.readings >= self.max_readings:
                self._release_held(force=True)
                return False
            self.take_reading()
            gc.collect()
            self.next_read = b.ticks_add(self.next_read, interval_ms)
            if b.ticks_diff(now, self.next_read) >= 0:  # fell behind (a long outage): skip ahead
                self.next_read = b.ticks_add(now, interval_ms)
        self.service_network(self.next_read)
        if cfg["deep_sleep"] and (self.outbox.empty() or not self.connected):
            self._release_held(force=True)  # RAM does not survive deep sleep
            self.uplink.sleep()
            b.deepsleep(max(0, b.ticks_diff(self.next_read, b.ticks_ms())))
        wait = b.ticks_diff(self.next_read, b.ticks_ms())
        b.sleep_ms(min(1000, max(0, wait)))
        return True


def _stamp(line):
    """The `ts` of an outbox line, or None (no line, a torn one, or a reading sent unstamped)."""
    try:
        ts = json.loads(line)["ts"] if line else None
    except (ValueError, KeyError, TypeError):
        return None
    return ts if type(ts) in (int, float) else None


def main(board, path="config.json", max_readings=None):
    """Boot: load the config, run the station; on a crash, say why and reset the board."""
    try:
        cfg = config.load(path)
    except config.ConfigError as exc:
        log("error config: %s" % exc)
        return
    try:
        Station(board, cfg, max_readings).run()
    except KeyboardInterrupt:
        # Ctrl-C (a teacher's terminal, `classnet flash`): the REPL must stay usable although a
        # started watchdog cannot be stopped, so the board keeps feeding it until the next reset.
        board.stop_watchdog()
        log("station stopped (Ctrl-C); reset the board to start it again")
        raise
    except Exception as exc:
        log("error station: %s: %s (resetting in 10 s)" % (exc.__class__.__name__, exc))
        import sys

        if hasattr(sys, "print_exception"):
            sys.print_exception(exc)
        board.sleep_ms(10000)
        board.reset()
