# Frames on a station's USB serial line (transport "serial"; `classnet bridge` on the other end).
#
# A frame is one line: a prefix, a kind letter, an id, the body, a star and a CRC-32 in hex:
#
#     #cn:o:fi-tampere-01:{"ts":1763884800,"seq":42,"temp_c":21.4}*cfa54f18\n
#
# The CRC (IEEE 802.3, as binascii and zlib compute it) covers "kind:id:body". The same line
# carries the board's debug prints and REPL noise, so a reader takes a frame from a prefix on and
# ignores text before it; anything without a prefix is not a frame, and a frame whose CRC does not
# match is corrupt. Corrupt frames are never acknowledged, so the station sends them again.
#
#   station -> bridge   s (status, birth)  m (meta)  o (one observation)  p (ping, body {})
#                       id: the station id; body: the JSON the station would publish over MQTT
#   bridge -> station   a (acknowledgement)  id: the observation's seq ("-" for s and m frames)
#                                            body: the CRC of the frame it acknowledges
#                       t (time)             id: the station id; body: UTC Unix seconds
#                       r (refused)          id: the station id the frame named; body: why
#                                            (a bridge publishes only for its login's station)
#
# Only printable ASCII goes to the station: a Ctrl-C byte would stop its program.
# Pure logic over bytes: runs unchanged under MicroPython and CPython. See docs/protocol.md.
import binascii

PREFIX = b"#cn:"
STATION_KINDS = b"smop"
BRIDGE_KINDS = b"atr"


class FrameError(ValueError):
    """A line that holds a frame prefix but no intact frame (bad CRC, truncated, malformed)."""


def crc(data):
    """The 8 lower-case hex digits of data's CRC-32.

    crc(b"123456789") == b"cbf43926"  (the CRC-32 check value, e.g. the zlib documentation)
    """
    # binascii.crc32 is in the ESP32 and rp2 builds (MICROPY_PY_BINASCII_CRC32, "extra features")
    return b"%08x" % (binascii.crc32(data) & 0xFFFFFFFF)


def encode(kind, ident, body):
    """One frame as bytes, newline included. kind: one letter; ident and body: bytes."""
    inner = kind + b":" + ident + b":" + body
    return PREFIX + inner + b"*" + crc(inner) + b"\n"


def decode(line):
    """(kind, id, body, crc) of the frame in a line (bytes without its newline), or None when the
    line holds no frame prefix. Raises FrameError when it holds a prefix but no intact frame.

    A body may itself contain the prefix, so each occurrence is tried from the last one back.
    """
    at = line.rfind(PREFIX)
    if at < 0:
        return None
    while at >= 0:
        star = line.rfind(b"*")
        inner = line[at + len(PREFIX) : star]
        got = line[star + 1 :]
        if star > at and len(got) == 8 and crc(inner) == got:
            parts = inner.split(b":", 2)
            if len(parts) == 3 and len(parts[0]) == 1:
                return parts[0], parts[1], parts[2], got
        at = line.rfind(PREFIX, 0, at)
    raise FrameError("bad frame (checksum or format)")


class LineReader:
    """Splits a byte stream into lines, at most `max_line` bytes each: a longer one (a runaway
    print, line noise) is skipped up to its newline and counted in `overlong`, so the buffer stays
    bounded whatever arrives."""

    def __init__(self, max_line):
        self.max_line = max_line
        self.buf = b""
        self.skipping = False
        self.overlong = 0

    def feed(self, data):
        """The complete lines in `data` (after what came before), without "\\r\\n"."""
        buf = self.buf + data if self.buf else data
        lines = []
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            if self.skipping:
                self.skipping = False
            elif nl - start > self.max_line:
                self.overlong += 1
            else:
                lines.append(buf[start:nl].rstrip(b"\r"))
            start = nl + 1
        rest = buf[start:]
        if len(rest) > self.max_line:
            if not self.skipping:
                self.overlong += 1
                self.skipping = True
            rest = b""
        self.buf = rest
        return lines
