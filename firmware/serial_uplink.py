# The USB serial way out (transport "serial"): for schools where the station cannot join the
# Wi-Fi. Each message goes as one frame (firmware/frame.py) to `classnet bridge` on the computer
# the board is plugged into; the bridge publishes it under this station's topics and acknowledges
# each frame only after the broker's PUBACK. The same methods as station.MqttUplink, so the
# station's loop, outbox and backoff are the same for both: a batch leaves the outbox only when
# every observation in it is acknowledged, and without an answer it stays, as when Wi-Fi is down.
import json

from firmware import frame

ACK_TIMEOUT_MS = 5000  # the bridge waits up to 3 s for a PUBACK before it gives up on a batch
PING_MS = 30000
MAX_REPLY = 128  # acknowledgement and time frames are about 40 bytes


class SerialUplink:
    def __init__(self, board, cfg, meta, clock):
        self.board = board
        self.station = cfg["station"].encode()
        self.meta = meta
        self.clock = clock  # set from the bridge's time frames: a serial station has no NTP
        self.where = "classnet bridge (USB serial)"
        self.ping_ms = PING_MS
        self.reader = frame.LineReader(MAX_REPLY)

    def network_up(self):
        return True

    def connect(self, status):
        # Whatever waited on the line (answers to an earlier try) is stale: a late time frame
        # would set the clock wrong.
        for _ in range(64):
            if not self.board.usb_read():
                break
        self.reader = frame.LineReader(MAX_REPLY)
        self._exchange([(b"s", b"-", status), (b"m", b"-", self.meta)], False)

    def send_obs(self, lines):
        """Send encoded observation lines (oldest first); return once all are acknowledged."""
        self._exchange([(b"o", _seq(line), line) for line in lines], False)

    def send_status(self, status):
        """The status again (the bridge publishes it retained); return once acknowledged."""
        self._exchange([(b"s", b"-", status)], False)

    def ping(self):
        """The bridge answers a ping with the time, which keeps the clock in step."""
        self._exchange([(b"p", None, b"{}")], True)

    def close(self):
        pass

    sleep = close  # the bridge holds the station's session and will: nothing to say

    def _exchange(self, messages, want_time):
        # Write every frame, then read answers until each frame is acknowledged (by seq and CRC)
        # and, for a ping, the time came; raise OSError when the bridge stays silent.
        b = self.board
        waiting = {}
        for kind, seq, body in messages:
            out = frame.encode(kind, self.station, body)
            if seq is not None:
                ack = seq + b":" + out[-9:-1]
                waiting[ack] = waiting.get(ack, 0) + 1
            b.usb_write(out)
        start = b.ticks_ms()
        while waiting or want_time:
            if b.ticks_diff(b.ticks_ms(), start) > ACK_TIMEOUT_MS:
                raise OSError(
                    "no answer from classnet bridge on USB serial within %d s (%d of %d frames "
                    "unacknowledged)"
                    % (ACK_TIMEOUT_MS // 1000, sum(waiting.values()), len(messages))
                )
            data = b.usb_read()
            if not data:
                b.sleep_ms(1)
                continue
            for line in self.reader.feed(data):
                try:
                    got = frame.decode(line)
                except frame.FrameError:
                    continue  # damaged on the way: the frame it answers is sent again
                if got is None:
                    continue
                kind, ident, body, _ = got
                if kind == b"a":
                    key = ident + b":" + body
                    if waiting.get(key):
                        waiting[key] -= 1
                        if not waiting[key]:
                            del waiting[key]
                elif kind == b"t" and ident == self.station:
                    self.clock.set(float(body.decode()))
                    want_time = False
                elif kind == b"r" and ident == self.station:
                    # Sending again will not help (the bridge holds another station's login):
                    # the station's loop logs this and keeps its readings.
                    raise OSError("classnet bridge refused: " + body.decode())


def _seq(line):
    seq = json.loads(line).get("seq")
    return b"-" if seq is None else b"%d" % seq
