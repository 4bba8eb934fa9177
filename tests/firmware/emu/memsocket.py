# An in-memory stand-in for the `socket` module, for heap runs only (heaprun.py installs it as
# sys.modules["socket"]): MicroPython's WebAssembly port has no sockets, and the unix port runs
# the same workload for comparable figures. TCP connections answer MQTT like a broker that
# accepts everything (CONNACK, PUBACK, PINGRESP); UDP answers SNTP with `now()`. It keeps no
# message: a payload is counted and dropped as it is written, so it costs the heap almost nothing.
# MQTT 3.1.1 section numbers as in firmware/mqtt.py.
import struct
import time

AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2
NTP_TO_UNIX = 2208988800

now = time.time  # heaprun.py sets the board's virtual clock
published = {}  # topic -> PUBLISH packets received


def getaddrinfo(host, port, af=0, kind=SOCK_STREAM):
    return [(AF_INET, kind, 0, "", (host, port))]


class socket:  # the name the firmware imports
    def __init__(self, af=AF_INET, kind=SOCK_STREAM):
        self.head = b""  # fixed and variable header of the packet being written
        self.skip = 0  # payload bytes of that packet still to come
        self.replies = b""

    def settimeout(self, seconds):
        pass

    def connect(self, addr):
        pass

    def close(self):
        pass

    # -- MQTT over TCP

    def write(self, data):
        view = memoryview(data)
        while len(view):
            if self.skip:
                n = min(self.skip, len(view))
                self.skip -= n
            else:
                n = self._missing()
                self.head += bytes(view[:n])
                if not self._missing():
                    self._answer()
            view = view[n:]
        return len(data)

    def _header(self):
        # 2.2: the type byte and the Remaining Length in 7-bit groups. Returns (bytes to hold
        # before answering, remaining length, fixed header length), or None while incomplete:
        # a whole packet, but of a PUBLISH (3.3) only up to its topic and packet id.
        size = shift = 0
        for i in range(1, min(len(self.head), 5)):
            size |= (self.head[i] & 0x7F) << shift
            shift += 7
            if not self.head[i] & 0x80:
                break
        else:
            return None
        fixed = i + 1
        if self.head[0] & 0xF0 != 0x30:
            return fixed + size, size, fixed
        if len(self.head) < fixed + 2:
            return fixed + 2, size, fixed
        topic_len = struct.unpack("!H", self.head[fixed : fixed + 2])[0]
        return fixed + 2 + topic_len + (2 if self.head[0] & 6 else 0), size, fixed

    def _missing(self):
        got = self._header()
        return 1 if got is None else got[0] - len(self.head)

    def _answer(self):
        need, size, fixed = self._header()
        kind = self.head[0] & 0xF0
        if kind == 0x30:
            topic_len = struct.unpack("!H", self.head[fixed : fixed + 2])[0]
            topic = self.head[fixed + 2 : fixed + 2 + topic_len].decode()
            published[topic] = published.get(topic, 0) + 1
            if self.head[0] & 6:  # QoS 1: PUBACK with the packet id (3.4)
                self.replies += b"\x40\x02" + self.head[need - 2 : need]
            self.skip = fixed + size - need
        elif kind == 0x10:  # 3.2: CONNACK, session not present, accepted
            self.replies += b"\x20\x02\x00\x00"
        elif kind == 0xC0:  # 3.13: PINGRESP
            self.replies += b"\xd0\x00"
        self.head = b""

    def read(self, n):
        out, self.replies = self.replies[:n], self.replies[n:]
        return out

    # -- SNTP over UDP

    def sendto(self, data, addr):
        t = now() + NTP_TO_UNIX
        secs = int(t)
        # RFC 4330 section 4: LI 0, version 4, mode 4 (server), stratum 1; transmit time last.
        self.replies = b"\x24\x01" + bytes(38) + struct.pack("!II", secs, int((t - secs) * 2**32))

    def recv(self, n):
        return self.read(n)
