# UTC time for the station: SNTP (RFC 4330) and a clock kept as an offset to the board's own
# seconds counter, so it works whatever epoch the port uses (ESP32: 2000, rp2 and unix: 1970).
# Pure logic: the packet maths run under CPython; query() needs a `socket` module (both have one).
import struct
import time

NTP_TO_UNIX = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def request():
    """A 48-byte SNTP client request: LI 0, version 3, mode 3 (client)."""
    return b"\x1b" + bytes(47)


def unix_time(reply):
    """UTC Unix seconds from a server reply's transmit timestamp (RFC 4330 section 4)."""
    if len(reply) < 48:
        raise ValueError("SNTP reply of %d bytes is too short" % len(reply))
    mode = reply[0] & 0x07
    stratum = reply[1]
    if mode != 4 or stratum == 0:
        raise ValueError("not a usable SNTP server reply (mode %d, stratum %d)" % (mode, stratum))
    secs, frac = struct.unpack("!II", reply[40:48])
    return secs - NTP_TO_UNIX + frac / 4294967296


def query(host, port=123, timeout_s=2):
    import socket

    addr = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0][-1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout_s)
        sock.sendto(request(), addr)
        return unix_time(sock.recv(64))
    finally:
        sock.close()


class Clock:
    def __init__(self, local=time.time):
        self.local = local  # the board's seconds counter, any epoch
        self.offset = None

    @property
    def synced(self):
        return self.offset is not None

    def set(self, unix):
        self.offset = unix - self.local()

    def now(self):
        """UTC Unix seconds (int), or None until the first sync."""
        return None if self.offset is None else int(self.local() + self.offset + 0.5)

    def utc(self, local_time):
        """UTC for a moment read earlier from the local counter (readings held before sync)."""
        return None if self.offset is None else int(local_time + self.offset + 0.5)


SMALL_STEP_S = 60  # a clock set back by up to this much (or an interval) was only a little off


def after(ts, last, interval_s):
    """The stamp for a reading taken after the one stamped `last` (None: none yet).

    The store keeps one point per station and second, so a reading stamped with an earlier
    reading's second would replace it. A clock set back a little (a time answer that arrived
    late, a board back within the second of its last reading) gives one second after `last`
    instead; a clock that was further off is believed.
    """
    if last is not None and ts <= last and last - ts <= max(interval_s, SMALL_STEP_S):
        return last + 1
    return ts
